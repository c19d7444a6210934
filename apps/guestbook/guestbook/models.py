from django.db import models


class Message(models.Model):
    name = models.CharField(max_length=80)
    text = models.TextField(max_length=2000)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Newest first; the id breaks ties between messages saved in the same instant.
        ordering = ["-created", "-id"]

    def __str__(self):
        return f"{self.name}: {self.text[:40]}"
