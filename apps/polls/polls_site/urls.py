from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    # The polls app is the whole site: "/" is the polls index.
    path("", include("polls.urls")),
]
