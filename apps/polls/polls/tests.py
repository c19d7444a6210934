import datetime
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest import mock
from wsgiref.util import setup_testing_defaults

from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import SimpleTestCase, TestCase
from django.urls import reverse, set_script_prefix
from django.utils import timezone

from .models import Question

PROJECT_DIR = Path(__file__).resolve().parent.parent  # the directory of manage.py
SETTINGS_FILE = PROJECT_DIR / "polls_site" / "settings.py"
CONTRACT = [
    "DJANGO_SECRET_KEY",
    "DJANGO_DEBUG",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    "DJANGO_DATA_DIR",
    "DJANGO_STATIC_ROOT",
    "DJANGO_STATIC_URL",
    "DJANGO_MEDIA_ROOT",
    "DJANGO_MEDIA_URL",
    "DJANGO_LOG_LEVEL",
]


def call_wsgi(method, path, script_name, data=b"", cookie=""):
    """Run one request through the project's real wsgi.py application, as
    mod_wsgi or gunicorn would, with the app mounted at script_name."""
    from polls_site.wsgi import application

    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path,
        "HTTP_HOST": "testserver",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(data)),
        "HTTP_COOKIE": cookie,
    }
    setup_testing_defaults(environ)
    environ["wsgi.input"].write(data)
    environ["wsgi.input"].seek(0)
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = int(status.split()[0])
        captured["headers"] = headers

    # Like django.test.Client: keep the test's transaction open across the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        result = application(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            result.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        set_script_prefix("/")
    return captured["status"], captured["headers"], body.decode()


SEEDED = "Which WSGI stack do you deploy with?"
SEEDED_CHOICES = ["Apache + mod_wsgi", "Nginx + Gunicorn", "Something else"]


def create_question(question_text, days):
    """A question published `days` from now (negative: in the past)."""
    time = timezone.now() + datetime.timedelta(days=days)
    return Question.objects.create(question_text=question_text, pub_date=time)


class SeedMigrationTests(TestCase):
    def test_seeded_question_present_after_migrations(self):
        question = Question.objects.get(question_text=SEEDED)
        self.assertLessEqual(question.pub_date, timezone.now())
        self.assertEqual(
            [c.choice_text for c in question.choice_set.all()],
            SEEDED_CHOICES,
        )
        self.assertEqual({c.votes for c in question.choice_set.all()}, {0})

    def test_seeded_question_on_index(self):
        response = self.client.get("/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, SEEDED)
        self.assertContains(response, 'href="/static/polls/style.css"')


class QuestionModelTests(TestCase):
    def test_was_published_recently(self):
        now = timezone.now()
        cases = [
            (datetime.timedelta(days=30), False),
            (-datetime.timedelta(days=1, seconds=1), False),
            (-datetime.timedelta(hours=23, minutes=59, seconds=59), True),
        ]
        for delta, expected in cases:
            with self.subTest(delta=delta):
                question = Question(pub_date=now + delta)
                self.assertIs(question.was_published_recently(), expected)


class IndexViewTests(TestCase):
    def setUp(self):
        Question.objects.all().delete()

    def test_no_questions(self):
        response = self.client.get(reverse("polls:index"))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "No polls are available.")
        self.assertQuerySetEqual(response.context["latest_question_list"], [])

    def test_past_question(self):
        question = create_question("Past question.", days=-30)
        response = self.client.get(reverse("polls:index"))
        self.assertQuerySetEqual(response.context["latest_question_list"], [question])

    def test_future_question_not_listed(self):
        create_question("Future question.", days=30)
        response = self.client.get(reverse("polls:index"))
        self.assertContains(response, "No polls are available.")
        self.assertNotContains(response, "Future question.")

    def test_newest_first_and_at_most_five(self):
        questions = [create_question(f"Q{i}", days=-i) for i in range(1, 8)]
        response = self.client.get(reverse("polls:index"))
        self.assertQuerySetEqual(response.context["latest_question_list"], questions[:5])


class DetailAndResultsViewTests(TestCase):
    def test_future_question_is_404(self):
        future = create_question("Future question.", days=5)
        for name in ("polls:detail", "polls:results"):
            with self.subTest(name=name):
                response = self.client.get(reverse(name, args=(future.id,)))
                self.assertEqual(response.status_code, 404)

    def test_detail_shows_vote_form(self):
        question = Question.objects.get(question_text=SEEDED)
        response = self.client.get(reverse("polls:detail", args=(question.id,)))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, f'action="/{question.id}/vote/"')
        self.assertContains(response, 'name="csrfmiddlewaretoken"')
        self.assertContains(response, 'type="radio" name="choice"', 3)
        for text in SEEDED_CHOICES:
            self.assertContains(response, text)

    def test_results_page(self):
        question = Question.objects.get(question_text=SEEDED)
        question.choice_set.filter(choice_text="Nginx + Gunicorn").update(votes=1)
        question.choice_set.filter(choice_text="Something else").update(votes=2)
        response = self.client.get(reverse("polls:results", args=(question.id,)))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Apache + mod_wsgi -- 0 votes")
        self.assertContains(response, "Nginx + Gunicorn -- 1 vote<")
        self.assertContains(response, "Something else -- 2 votes")

    def test_unknown_question_is_404(self):
        self.assertEqual(self.client.get("/999999/").status_code, 404)


class VoteViewTests(TestCase):
    def setUp(self):
        self.question = Question.objects.get(question_text=SEEDED)
        self.choice = self.question.choice_set.get(choice_text="Nginx + Gunicorn")
        self.url = reverse("polls:vote", args=(self.question.id,))

    def test_vote_increments_and_redirects_to_results(self):
        response = self.client.post(self.url, {"choice": self.choice.id})
        self.assertRedirects(response, reverse("polls:results", args=(self.question.id,)))
        self.client.post(self.url, {"choice": self.choice.id})
        self.choice.refresh_from_db()
        self.assertEqual(self.choice.votes, 2)
        response = self.client.get(response.url)
        self.assertContains(response, "Nginx + Gunicorn -- 2 votes")

    def test_vote_without_choice_shows_error(self):
        for data in ({}, {"choice": ""}, {"choice": "abc"}, {"choice": "999999"}):
            with self.subTest(data=data):
                response = self.client.post(self.url, data)
                self.assertEqual(response.status_code, 200)
                self.assertContains(response, "You didn&#x27;t select a choice.")
        self.assertEqual(sum(c.votes for c in self.question.choice_set.all()), 0)

    def test_choice_of_another_question_rejected(self):
        other = create_question("Other?", days=-1)
        other_choice = other.choice_set.create(choice_text="Elsewhere")
        response = self.client.post(self.url, {"choice": other_choice.id})
        self.assertContains(response, "You didn&#x27;t select a choice.")
        other_choice.refresh_from_db()
        self.assertEqual(other_choice.votes, 0)

    def test_vote_requires_post(self):
        self.assertEqual(self.client.get(self.url).status_code, 405)

    def test_vote_on_future_question_is_404(self):
        future = create_question("Future?", days=3)
        choice = future.choice_set.create(choice_text="Later")
        response = self.client.post(reverse("polls:vote", args=(future.id,)), {"choice": choice.id})
        self.assertEqual(response.status_code, 404)

    def test_csrf_is_enforced(self):
        client = self.client_class(enforce_csrf_checks=True)
        response = client.post(self.url, {"choice": self.choice.id})
        self.assertEqual(response.status_code, 403)


class MountPrefixTests(TestCase):
    """The WSGI server sets SCRIPT_NAME when the app lives below a URL prefix."""

    def test_links_and_redirects_use_the_prefix(self):
        question = Question.objects.get(question_text=SEEDED)
        status, _, body = call_wsgi("GET", "/", "/polls")
        self.assertEqual(status, 200)
        self.assertIn(f'href="/polls/{question.id}/"', body)

        status, headers, body = call_wsgi("GET", f"/{question.id}/", "/polls")
        self.assertEqual(status, 200)
        self.assertIn(f'action="/polls/{question.id}/vote/"', body)

        # A real browser round trip: CSRF cookie from the GET, token from the form.
        cookie = next(v for k, v in headers if k == "Set-Cookie").split(";")[0]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
        choice = question.choice_set.first()
        data = f"csrfmiddlewaretoken={token}&choice={choice.id}".encode()
        status, headers, _ = call_wsgi("POST", f"/{question.id}/vote/", "/polls", data, cookie)
        self.assertEqual(status, 302)
        self.assertEqual(dict(headers)["Location"], f"/polls/{question.id}/results/")
        choice.refresh_from_db()
        self.assertEqual(choice.votes, 1)


class AdminTests(TestCase):
    def test_admin_requires_login(self):
        response = self.client.get("/admin/")
        self.assertRedirects(response, "/admin/login/?next=/admin/")

    def test_question_with_inline_choices(self):
        from django.contrib.auth.models import User

        admin = User.objects.create_superuser("admin", "admin@example.com", "pw")
        self.client.force_login(admin)
        question = Question.objects.get(question_text=SEEDED)
        response = self.client.get(reverse("admin:polls_question_change", args=(question.id,)))
        self.assertContains(response, "Apache + mod_wsgi")
        self.assertContains(response, 'name="choice_set-TOTAL_FORMS"')
        response = self.client.get(reverse("admin:polls_question_changelist"))
        self.assertContains(response, SEEDED)


def load_settings(**env):
    """Execute a fresh copy of settings.py with exactly these DJANGO_* variables."""
    with mock.patch.dict(os.environ):
        for name in CONTRACT:
            os.environ.pop(name, None)
        os.environ.update({"DJANGO_SECRET_KEY": "test", "DJANGO_DATA_DIR": "/srv/data"})
        os.environ.update(env)
        spec = importlib.util.spec_from_file_location("settings_under_test", SETTINGS_FILE)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


class SettingsTests(SimpleTestCase):
    def run_manage_check(self, **env):
        clean = {k: v for k, v in os.environ.items() if k not in CONTRACT}
        clean.pop("DJANGO_SETTINGS_MODULE", None)
        with tempfile.TemporaryDirectory() as data_dir:
            clean.update(DJANGO_DATA_DIR=data_dir, **env)
            return subprocess.run(
                [sys.executable, "manage.py", "check"],
                cwd=PROJECT_DIR,
                env=clean,
                capture_output=True,
                text=True,
                timeout=120,
            )

    def test_missing_secret_key_is_improperly_configured(self):
        for env in ({}, {"DJANGO_SECRET_KEY": ""}, {"DJANGO_SECRET_KEY": "  "}):
            with self.subTest(env=env):
                result = self.run_manage_check(**env)
                self.assertNotEqual(result.returncode, 0)
                self.assertIn("ImproperlyConfigured", result.stderr)
                self.assertIn("DJANGO_SECRET_KEY", result.stderr)

    def test_check_passes_with_secret_key(self):
        result = self.run_manage_check(DJANGO_SECRET_KEY="a-throwaway-key")
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_debug_parsing(self):
        self.assertIs(load_settings().DEBUG, False)
        for value in ["1", "true", "TRUE", "Yes", "on", " On "]:
            with self.subTest(value=value):
                self.assertIs(load_settings(DJANGO_DEBUG=value).DEBUG, True)
        for value in ["", "0", "false", "no", "off", "2", "enabled"]:
            with self.subTest(value=value):
                self.assertIs(load_settings(DJANGO_DEBUG=value).DEBUG, False)

    def test_allowed_hosts_parsing(self):
        self.assertEqual(load_settings().ALLOWED_HOSTS, [])
        self.assertEqual(load_settings(DJANGO_ALLOWED_HOSTS="").ALLOWED_HOSTS, [])
        self.assertEqual(
            load_settings(DJANGO_ALLOWED_HOSTS=" a.example , ,b.example,,").ALLOWED_HOSTS,
            ["a.example", "b.example"],
        )
        self.assertEqual(load_settings(DJANGO_ALLOWED_HOSTS="*").ALLOWED_HOSTS, ["*"])

    def test_csrf_trusted_origins_parsing(self):
        self.assertEqual(load_settings().CSRF_TRUSTED_ORIGINS, [])
        origins = "https://a.example, http://b.example:8080"
        self.assertEqual(
            load_settings(DJANGO_CSRF_TRUSTED_ORIGINS=origins).CSRF_TRUSTED_ORIGINS,
            ["https://a.example", "http://b.example:8080"],
        )

    def test_paths_and_urls(self):
        s = load_settings()
        self.assertEqual(s.DATABASES["default"]["NAME"], Path("/srv/data/db.sqlite3"))
        self.assertEqual(s.STATIC_ROOT, PROJECT_DIR / "staticfiles")
        self.assertEqual(s.STATIC_URL, "/static/")
        self.assertEqual(s.MEDIA_ROOT, PROJECT_DIR / "media")
        self.assertEqual(s.MEDIA_URL, "/media/")
        s = load_settings(
            DJANGO_STATIC_ROOT="/srv/static",
            DJANGO_STATIC_URL="/app/static",
            DJANGO_MEDIA_ROOT="/srv/media",
            DJANGO_MEDIA_URL="/app/media/",
        )
        self.assertEqual(s.STATIC_ROOT, Path("/srv/static"))
        self.assertEqual(s.STATIC_URL, "/app/static/")
        self.assertEqual(s.MEDIA_ROOT, Path("/srv/media"))
        self.assertEqual(s.MEDIA_URL, "/app/media/")

    def test_log_level(self):
        self.assertEqual(load_settings().LOGGING["root"]["level"], "WARNING")
        s = load_settings(DJANGO_LOG_LEVEL="info")
        self.assertEqual(s.LOGGING["root"]["level"], "INFO")
        self.assertEqual(s.LOGGING["loggers"]["django"]["level"], "INFO")

    def test_proxy_security_defaults(self):
        s = load_settings()
        self.assertEqual(s.SECURE_PROXY_SSL_HEADER, ("HTTP_X_FORWARDED_PROTO", "https"))
        self.assertIs(s.USE_X_FORWARDED_HOST, False)
        self.assertIs(s.SESSION_COOKIE_HTTPONLY, True)
        self.assertEqual(s.X_FRAME_OPTIONS, "DENY")
        self.assertIs(s.SECURE_CONTENT_TYPE_NOSNIFF, True)
        self.assertFalse(getattr(s, "SECURE_SSL_REDIRECT", False))
