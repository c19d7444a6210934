from pathlib import Path

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods, require_safe

from .forms import MessageForm
from .models import Message

# The index page shows at most this many messages, newest first.
MESSAGES_SHOWN = 100
FAVICON = Path(__file__).resolve().parent / "static" / "guestbook" / "favicon.svg"


@require_http_methods(["GET", "HEAD", "POST"])
def index(request):
    if request.method == "POST":
        form = MessageForm(request.POST)
        if form.is_valid():
            message = form.save()
            messages.success(request, f"Thank you, {message.name}: your message is on the page.")
            # Post/Redirect/Get: a reload of the page does not post twice.
            return redirect("guestbook:index")
    else:
        form = MessageForm()
    entries = Message.objects.all()[:MESSAGES_SHOWN]
    context = {"form": form, "entries": entries, "total": Message.objects.count()}
    return render(request, "guestbook/index.html", context)


@require_safe
@cache_control(max_age=86400, public=True)
def favicon(request):
    """/favicon.ico, for clients that ask for it (the pages name the SVG icon themselves)."""
    return HttpResponse(FAVICON.read_bytes(), content_type="image/svg+xml")
