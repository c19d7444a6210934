"""Settings for the polls_site project.

Every deployment-specific value comes from an environment variable; nothing
secret lives in the repository:

DJANGO_SECRET_KEY            required, no fallback
DJANGO_DEBUG                 1/true/yes/on (any case) -> True; default False
DJANGO_ALLOWED_HOSTS         comma-separated; default none
DJANGO_CSRF_TRUSTED_ORIGINS  comma-separated origins with scheme; default none
DJANGO_DATA_DIR              directory of db.sqlite3; default <project>/data
DJANGO_STATIC_ROOT           default <project>/staticfiles
DJANGO_STATIC_URL            default /static/
DJANGO_MEDIA_ROOT            default <project>/media
DJANGO_MEDIA_URL             default /media/
DJANGO_LOG_LEVEL             default WARNING; logs go to stderr
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# The directory that holds manage.py.
BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name):
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def env_path(name, default):
    value = os.environ.get(name, "").strip()
    return Path(value) if value else default


def env_url(name, default):
    value = os.environ.get(name, "").strip() or default
    return value if value.endswith("/") else value + "/"


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY.strip():
    raise ImproperlyConfigured(
        "The DJANGO_SECRET_KEY environment variable is not set (or empty). "
        "Set it to a long random string, e.g. the output of "
        "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )

DEBUG = env_bool("DJANGO_DEBUG")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "polls.apps.PollsConfig",
]

MIDDLEWARE = [
    "polls.middleware.CrossOriginOpenerPolicyOverHttpsOnly",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "polls_site.urls"
WSGI_APPLICATION = "polls_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite in a directory the WSGI processes can write to (SQLite also creates
# its -wal/-shm files there). WAL plus IMMEDIATE transactions let several
# worker processes write without "database is locked" errors.
_DEFAULT_DATA_DIR = BASE_DIR / "data"
DATA_DIR = env_path("DJANGO_DATA_DIR", _DEFAULT_DATA_DIR)
if DATA_DIR == _DEFAULT_DATA_DIR:  # local development convenience only
    DATA_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "db.sqlite3",
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# The web server serves these directories itself (collectstatic fills STATIC_ROOT).
STATIC_ROOT = env_path("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles")
STATIC_URL = env_url("DJANGO_STATIC_URL", "/static/")
MEDIA_ROOT = env_path("DJANGO_MEDIA_ROOT", BASE_DIR / "media")
MEDIA_URL = env_url("DJANGO_MEDIA_URL", "/media/")

# Behind a reverse proxy on plain HTTP: trust X-Forwarded-Proto only to tell
# whether the client used HTTPS (the proxy must set or strip it), never trust
# X-Forwarded-Host, and do not force HTTPS.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = False
SESSION_COOKIE_HTTPONLY = True
# On a site with HTTPS (the web server redirects HTTP), the cookies are sent over HTTPS only.
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE")
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

LOG_LEVEL = os.environ.get("DJANGO_LOG_LEVEL", "").strip().upper() or "WARNING"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "{levelname} {name}: {message}", "style": "{"}},
    # StreamHandler writes to stderr, which mod_wsgi and gunicorn capture.
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False}},
}
