from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .forms import MessageForm
from .models import Message

# The index page shows at most this many messages, newest first.
MESSAGES_SHOWN = 100


@require_http_methods(["GET", "HEAD", "POST"])
def index(request):
    if request.method == "POST":
        form = MessageForm(request.POST)
        if form.is_valid():
            form.save()
            # Post/Redirect/Get: a reload of the page does not post twice.
            return redirect("guestbook:index")
    else:
        form = MessageForm()
    entries = Message.objects.all()[:MESSAGES_SHOWN]
    return render(request, "guestbook/index.html", {"form": form, "entries": entries})
