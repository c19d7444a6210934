"""wsgi-console: an admin TUI for the WSGI deployment playbook collection."""

__version__ = "0.1.0"
