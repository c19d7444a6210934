from django.db import models


class Vote(models.Model):
    choice = models.CharField(max_length=20)
    created = models.DateTimeField(auto_now_add=True)
