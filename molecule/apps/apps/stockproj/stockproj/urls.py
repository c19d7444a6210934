"""
URL configuration for stockproj project.
"""
from django.contrib import admin
from django.urls import path

from votes import views

urlpatterns = [
    path('admin/', admin.site.urls),
    path('', views.results),
    path('vote/<slug:choice>/', views.vote),
]
