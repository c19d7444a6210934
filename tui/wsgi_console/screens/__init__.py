"""Screens of the wsgi-console app."""
