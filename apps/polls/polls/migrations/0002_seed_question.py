"""Data migration: seed one question so that a fresh deployment has a poll."""

from django.db import migrations
from django.utils import timezone

QUESTION = "Which WSGI stack do you deploy with?"
CHOICES = ["Apache + mod_wsgi", "Nginx + Gunicorn", "Something else"]


def seed_question(apps, schema_editor):
    Question = apps.get_model("polls", "Question")
    Choice = apps.get_model("polls", "Choice")
    db = schema_editor.connection.alias
    question = Question.objects.using(db).create(question_text=QUESTION, pub_date=timezone.now())
    Choice.objects.using(db).bulk_create(
        [Choice(question=question, choice_text=text) for text in CHOICES]
    )


def unseed_question(apps, schema_editor):
    Question = apps.get_model("polls", "Question")
    db = schema_editor.connection.alias
    # Deletes the seeded question's choices too (on_delete=CASCADE).
    Question.objects.using(db).filter(question_text=QUESTION).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("polls", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed_question, unseed_question),
    ]
