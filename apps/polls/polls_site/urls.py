from django.contrib import admin
from django.urls import include, path
from polls.views import favicon

urlpatterns = [
    path("admin/", admin.site.urls),
    path("favicon.ico", favicon, name="favicon"),
    # The polls app is the whole site: "/" is the polls index.
    path("", include("polls.urls")),
]
