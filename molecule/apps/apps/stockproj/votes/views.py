from django.db.models import Count
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import Vote


def results(request):
    counts = dict(Vote.objects.values_list("choice").annotate(n=Count("id")))
    return JsonResponse({"votes": counts})


@csrf_exempt
@require_POST
def vote(request, choice):
    Vote.objects.create(choice=choice)
    return results(request)
