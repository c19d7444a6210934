from django.contrib import admin
from django.urls import include, path
from guestbook.views import favicon

urlpatterns = [
    path("admin/", admin.site.urls),
    path("favicon.ico", favicon, name="favicon"),
    path("", include("guestbook.urls")),
]
