from django import forms

from .models import Message


class MessageForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # "Your name", not "Your name:"
        super().__init__(*args, **kwargs)

    class Meta:
        model = Message
        fields = ["name", "text"]
        labels = {"name": "Your name", "text": "Message"}
        help_texts = {
            "name": "Shown above your message.",
            "text": "Up to 2,000 characters. Line breaks are kept.",
        }
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
            "text": forms.Textarea(attrs={"rows": 5}),
        }
