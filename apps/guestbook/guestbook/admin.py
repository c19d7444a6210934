from django.contrib import admin

from .models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["name", "created", "text"]
    search_fields = ["name", "text"]
    date_hierarchy = "created"
