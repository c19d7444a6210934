"""The collection's Django settings layer: any project's own settings, plus the deployment contract.

Installed by Ansible (role wsgi_app) next to each Django site's WSGI entry file; the site's
environment file names it as DJANGO_SETTINGS_MODULE and names the project's own settings module in
WSGI_DJANGO_PROJECT_SETTINGS (a stock `django-admin startproject` settings.py, or one module of a
settings package such as `mysite.settings.production`). It imports that module, then applies what
the deployment decides, from the environment file:

- SECRET_KEY (from Vault), DEBUG off, ALLOWED_HOSTS and CSRF_TRUSTED_ORIGINS from the site's names;
- STATIC_ROOT/URL, MEDIA_ROOT/URL where the web server serves them;
- DATABASES: the site's database (DJANGO_DB_* from its `database`) when it has one; otherwise a
  SQLite database the project keeps outside the data dir (e.g. under BASE_DIR, the root-owned
  code) is moved into the data dir (same file name), the only place the app may write;
- HTTPS: secure cookies for TLS sites, SECURE_PROXY_SSL_HEADER behind a proxy (Nginx sets
  X-Forwarded-Proto itself); logging of warnings and errors to stderr (the journal under Gunicorn,
  Apache's error log under mod_wsgi) when the project configures none.

A site whose project reads the environment itself opts out with `django_layer: false`.
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import Any


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _list(name: str) -> list[str]:
    return [item.strip() for item in _env(name).split(",") if item.strip()]


def _project_settings() -> dict[str, Any]:
    module = _env("WSGI_DJANGO_PROJECT_SETTINGS")
    if not module:
        raise RuntimeError("WSGI_DJANGO_PROJECT_SETTINGS is not set (the site's environment file)")
    return {k: v for k, v in vars(import_module(module)).items() if k.isupper()}


def _databases(project: dict[str, Any], data_dir: str) -> dict[str, Any]:
    engine = _env("DJANGO_DB_ENGINE")
    sslmode = _env("DJANGO_DB_SSLMODE")
    if engine:
        return {
            "default": {
                "ENGINE": engine,
                "NAME": _env("DJANGO_DB_NAME"),
                "USER": _env("DJANGO_DB_USER"),
                "PASSWORD": os.environ.get("DJANGO_DB_PASSWORD", ""),
                "HOST": _env("DJANGO_DB_HOST"),
                "PORT": _env("DJANGO_DB_PORT"),
                "OPTIONS": {"sslmode": sslmode} if sslmode else {},
                "CONN_MAX_AGE": 60,
            }
        }
    databases = {alias: dict(conf) for alias, conf in (project.get("DATABASES") or {}).items()}
    if not databases:
        databases = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}
    for conf in databases.values():
        name = str(conf.get("NAME") or "")
        if conf.get("ENGINE", "").endswith("sqlite3") and name and name != ":memory:":
            real = os.path.realpath(name)
            if not real.startswith(os.path.realpath(data_dir) + os.sep):
                conf["NAME"] = os.path.join(data_dir, os.path.basename(name))
    return databases


def _logging(project: dict[str, Any]) -> dict[str, Any] | None:
    if project.get("LOGGING"):
        return None
    level = _env("DJANGO_LOG_LEVEL", "WARNING").upper() or "WARNING"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"stderr": {"class": "logging.StreamHandler"}},
        "root": {"handlers": ["stderr"], "level": level},
    }


def contract(project: dict[str, Any]) -> dict[str, Any]:
    """The settings the deployment decides, over the project's own."""
    data_dir = _env("DJANGO_DATA_DIR")
    secret = os.environ.get("DJANGO_SECRET_KEY", "")
    if not secret:
        raise RuntimeError("DJANGO_SECRET_KEY is not set (the site's environment file)")
    out: dict[str, Any] = {
        "SECRET_KEY": secret,
        "DEBUG": _env("DJANGO_DEBUG", "0") in ("1", "true", "True", "yes"),
        "ALLOWED_HOSTS": _list("DJANGO_ALLOWED_HOSTS"),
        "CSRF_TRUSTED_ORIGINS": _list("DJANGO_CSRF_TRUSTED_ORIGINS"),
        "DATABASES": _databases(project, data_dir) if data_dir else project.get("DATABASES"),
    }
    for setting in ("STATIC_ROOT", "STATIC_URL", "MEDIA_ROOT", "MEDIA_URL"):
        if _env(f"DJANGO_{setting}"):
            out[setting] = _env(f"DJANGO_{setting}")
    for setting in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        if _env(f"DJANGO_{setting}") == "1":
            out[setting] = True
    if _env("DJANGO_SESSION_COOKIE_SECURE") == "1":
        # A TLS site: its web server sends HSTS and redirects HTTP to HTTPS itself, so Django's
        # deployment checks for those two are answered.
        silenced = list(project.get("SILENCED_SYSTEM_CHECKS") or [])
        out["SILENCED_SYSTEM_CHECKS"] = silenced + ["security.W004", "security.W008"]
    if _env("WSGI_BEHIND_PROXY") == "1":
        out["SECURE_PROXY_SSL_HEADER"] = ("HTTP_X_FORWARDED_PROTO", "https")
    logging = _logging(project)
    if logging:
        out["LOGGING"] = logging
    return out


_project = _project_settings()
globals().update(_project)
globals().update(contract(_project))
