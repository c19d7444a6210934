from pathlib import Path

from django.db.models import F, Sum
from django.db.models.functions import Coalesce
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views import generic
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST, require_safe

from .models import Choice, Question

FAVICON = Path(__file__).resolve().parent / "static" / "polls" / "favicon.svg"


def published_questions():
    """Questions whose publication date is not in the future."""
    return Question.objects.filter(pub_date__lte=timezone.now())


class IndexView(generic.ListView):
    template_name = "polls/index.html"
    context_object_name = "latest_question_list"

    def get_queryset(self):
        """Return the last five published questions (not including future ones), each with
        its number of votes."""
        return (
            published_questions()
            .annotate(total_votes=Coalesce(Sum("choice__votes"), 0))
            .order_by("-pub_date")[:5]
        )


class DetailView(generic.DetailView):
    model = Question
    template_name = "polls/detail.html"

    def get_queryset(self):
        """Excludes any questions that aren't published yet."""
        return published_questions()


def results_table(question):
    """(choices with their share of the votes in whole percent, total votes)."""
    choices = list(question.choice_set.all())
    total = sum(choice.votes for choice in choices)
    rows = [
        {"choice": choice, "percent": round(100 * choice.votes / total) if total else 0}
        for choice in choices
    ]
    return rows, total


class ResultsView(generic.DetailView):
    model = Question
    template_name = "polls/results.html"

    def get_queryset(self):
        return published_questions()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["results"], context["total"] = results_table(self.object)
        return context


@require_POST
def vote(request, question_id):
    question = get_object_or_404(published_questions(), pk=question_id)
    try:
        selected_choice = question.choice_set.get(pk=request.POST["choice"])
    except (KeyError, ValueError, Choice.DoesNotExist):
        # Redisplay the question voting form.
        return render(
            request,
            "polls/detail.html",
            {"question": question, "error_message": "You didn't select a choice."},
        )
    # F() lets the database do the increment: no lost votes under concurrency.
    selected_choice.votes = F("votes") + 1
    selected_choice.save(update_fields=["votes"])
    # Always redirect after a successful POST, so that the Back button
    # cannot post the same vote twice.
    return HttpResponseRedirect(reverse("polls:results", args=(question.id,)))


@require_safe
@cache_control(max_age=86400, public=True)
def favicon(request):
    """/favicon.ico, for clients that ask for it (the pages name the SVG icon themselves)."""
    return HttpResponse(FAVICON.read_bytes(), content_type="image/svg+xml")
