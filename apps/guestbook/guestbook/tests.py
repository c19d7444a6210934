import importlib.util
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest import mock
from wsgiref.util import setup_testing_defaults

from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import SimpleTestCase, TestCase, override_settings
from django.urls import include, path, reverse, set_script_prefix

from .models import Message

PROJECT_DIR = Path(__file__).resolve().parent.parent  # the directory of manage.py
STATIC_DIR = Path(__file__).resolve().parent / "static" / "guestbook"
SETTINGS_FILE = PROJECT_DIR / "guestbook_site" / "settings.py"
CONTRACT = [
    "DJANGO_SECRET_KEY",
    "DJANGO_DEBUG",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    "DJANGO_DATA_DIR",
    "DJANGO_STATIC_ROOT",
    "DJANGO_STATIC_URL",
    "DJANGO_MEDIA_ROOT",
    "DJANGO_MEDIA_URL",
    "DJANGO_LOG_LEVEL",
]


def _fail(request):
    raise RuntimeError("a bug in a view (test)")


# A URLconf for the error-page tests only (override_settings(ROOT_URLCONF=__name__)): the
# site's own URLs plus a view that fails. The deployed site has no such URL.
urlpatterns = [
    path("test-server-error/", _fail),
    path("", include("guestbook_site.urls")),
]


def call_wsgi(method, path, script_name, data=b"", cookie=""):
    """Run one request through the project's real wsgi.py application, as
    mod_wsgi or gunicorn would, with the app mounted at script_name."""
    from guestbook_site.wsgi import application

    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path,
        "HTTP_HOST": "testserver",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(data)),
        "HTTP_COOKIE": cookie,
    }
    setup_testing_defaults(environ)
    environ["wsgi.input"].write(data)
    environ["wsgi.input"].seek(0)
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = int(status.split()[0])
        captured["headers"] = headers

    # Like django.test.Client: keep the test's transaction open across the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        result = application(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            result.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        set_script_prefix("/")
    return captured["status"], captured["headers"], body.decode()


class GuestbookViewTests(TestCase):
    def test_get_shows_form(self):
        response = self.client.get(reverse("guestbook:index"))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "<h1>Guestbook</h1>", html=True)
        self.assertContains(response, 'method="post"')
        self.assertContains(response, 'name="csrfmiddlewaretoken"')
        self.assertContains(response, 'name="name"')
        self.assertContains(response, 'name="text"')
        self.assertContains(response, 'href="/static/guestbook/style.css"')
        self.assertContains(response, "No messages yet")

    def test_page_is_accessible_html(self):
        response = self.client.get("/")
        self.assertContains(response, '<html lang="en">')
        self.assertContains(response, '<meta name="viewport" content="width=device-width')
        self.assertContains(response, '<a class="skip-link" href="#content">')
        self.assertContains(response, '<main id="content"')
        # Every input has a visible label tied to it, and its hint is announced with it.
        self.assertContains(response, '<label for="id_name">Your name</label>', html=True)
        self.assertContains(response, '<label for="id_text">Message</label>', html=True)
        self.assertContains(response, 'aria-describedby="id_name_helptext"')
        self.assertContains(response, 'autocomplete="name"')
        self.assertContains(response, 'maxlength="80" required')
        self.assertContains(response, '<button type="submit" class="btn">')

    def test_page_uses_the_shared_look_and_icon(self):
        response = self.client.get("/")
        for href in ("guestbook/theme.css", "guestbook/style.css"):
            self.assertContains(response, f'<link rel="stylesheet" href="/static/{href}">')
            self.assertTrue((STATIC_DIR / Path(href).name).is_file())
        self.assertContains(
            response, '<link rel="icon" href="/static/guestbook/favicon.svg" type="image/svg+xml">'
        )

    def test_long_words_are_wrapped(self):
        """A 300-letter word must not widen the page: the message text may break anywhere."""
        word = "https://example.org/" + "x" * 300
        self.client.post("/", {"name": "Wide", "text": f"look: {word}"})
        response = self.client.get("/")
        self.assertContains(response, f'<p class="message-text">look: {word}</p>', html=True)
        style = (STATIC_DIR / "style.css").read_text()
        rule = re.search(r"\.message-text \{([^}]*)\}", style)
        self.assertIsNotNone(rule)
        self.assertIn("overflow-wrap: anywhere;", rule.group(1))
        theme = (STATIC_DIR / "theme.css").read_text()
        self.assertRegex(theme, r"\nbody \{[^}]*overflow-wrap: anywhere;")

    def test_post_thanks_the_visitor_once(self):
        response = self.client.post("/", {"name": "Fay <3", "text": "hi"}, follow=True)
        self.assertContains(
            response,
            '<p class="alert alert-success" role="status">'
            "Thank you, Fay &lt;3: your message is on the page.</p>",
            html=True,
        )
        self.assertNotContains(self.client.get("/"), "Thank you")

    def test_field_errors_are_tied_to_their_fields(self):
        response = self.client.post("/", {"name": "", "text": "t" * 2001})
        self.assertContains(response, 'aria-invalid="true"', 2)
        self.assertContains(response, '<ul class="errorlist" id="id_name_error">')
        self.assertContains(response, '<ul class="errorlist" id="id_text_error">')
        self.assertContains(response, 'aria-describedby="id_name_helptext id_name_error"')

    def test_message_count_and_cap(self):
        Message.objects.bulk_create(Message(name=f"n{i}", text="t") for i in range(102))
        response = self.client.get("/")
        self.assertContains(response, '<span class="count">(102)</span>', html=True)
        self.assertContains(response, "The newest 100 of 102 messages.")
        self.assertContains(response, '<article class="card message">', 100)

    def test_post_creates_message_and_redirects(self):
        response = self.client.post("/", {"name": "Alice", "text": "Hello there"})
        self.assertRedirects(response, reverse("guestbook:index"))
        self.assertEqual(response.status_code, 302)
        message = Message.objects.get()
        self.assertEqual((message.name, message.text), ("Alice", "Hello there"))
        self.assertIsNotNone(message.created)

    def test_message_listed_after_post(self):
        response = self.client.post("/", {"name": "Bob", "text": "Nice site"}, follow=True)
        self.assertEqual(response.redirect_chain, [("/", 302)])
        self.assertContains(response, "Bob")
        self.assertContains(response, "Nice site")
        self.assertNotContains(response, "No messages yet")

    def test_messages_newest_first(self):
        Message.objects.create(name="first", text="one")
        Message.objects.create(name="second", text="two")
        content = self.client.get("/").content.decode()
        self.assertLess(content.index("second"), content.index("first"))

    def test_output_is_escaped(self):
        payload = "<script>alert('x')</script>"
        self.client.post("/", {"name": payload, "text": payload + "\nline 2"})
        response = self.client.get("/")
        self.assertNotContains(response, "<script>")
        # The name, in the thanks and above the message, and the text.
        self.assertContains(response, "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;", 3)
        self.assertContains(response, "<br>line 2")

    def test_invalid_post_rerenders_with_errors(self):
        response = self.client.post("/", {"name": "", "text": "no name given"})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "This field is required.")
        self.assertContains(response, "no name given")  # the input is kept
        self.assertFalse(Message.objects.exists())

    def test_too_long_fields_rejected(self):
        response = self.client.post("/", {"name": "n" * 81, "text": "t" * 2001})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Ensure this value has at most 80 characters")
        self.assertContains(response, "Ensure this value has at most 2000 characters")
        self.assertFalse(Message.objects.exists())

    def test_csrf_is_enforced(self):
        client = self.client_class(enforce_csrf_checks=True)
        response = client.post("/", {"name": "Eve", "text": "forged"})
        self.assertEqual(response.status_code, 403)
        self.assertFalse(Message.objects.exists())

    def test_other_methods_not_allowed(self):
        self.assertEqual(self.client.put("/").status_code, 405)

    def test_security_headers(self):
        response = self.client.get("/")
        self.assertEqual(response["X-Frame-Options"], "DENY")
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")

    def test_cross_origin_opener_policy_over_https_only(self):
        # Browsers ignore it on plain HTTP and log a console error on every page.
        self.assertNotIn("Cross-Origin-Opener-Policy", self.client.get("/"))
        response = self.client.get("/", secure=True)
        self.assertEqual(response["Cross-Origin-Opener-Policy"], "same-origin")
        response = self.client.get("/", headers={"x-forwarded-proto": "https"})
        self.assertEqual(response["Cross-Origin-Opener-Policy"], "same-origin")


class FaviconTests(TestCase):
    def test_favicon_is_served(self):
        response = self.client.get("/favicon.ico")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "image/svg+xml")
        self.assertIn("max-age=86400", response["Cache-Control"])
        self.assertEqual(response.content, (STATIC_DIR / "favicon.svg").read_bytes())
        self.assertEqual(self.client.head("/favicon.ico").status_code, 200)
        self.assertEqual(self.client.post("/favicon.ico").status_code, 405)


@override_settings(DEBUG=False)
class ErrorPageTests(TestCase):
    """Django's own 404 and 500 handlers with DEBUG off render the site's styled templates."""

    def assert_styled(self, response):
        self.assertContains(
            response,
            '<link rel="stylesheet" href="/static/guestbook/theme.css">',
            status_code=response.status_code,
        )
        self.assertContains(
            response, '<a class="brand" href="/">', status_code=response.status_code
        )
        self.assertContains(
            response,
            '<a class="btn" href="/">Back to the guestbook</a>',
            status_code=response.status_code,
            html=True,
        )

    def test_404_page(self):
        response = self.client.get("/no-such-page/<b>")
        self.assertEqual(response.status_code, 404)
        self.assertTemplateUsed(response, "404.html")
        self.assertContains(response, '<h1 id="error-heading">Page not found</h1>', status_code=404)
        self.assertContains(response, "<code>/no-such-page/%3Cb%3E</code>", status_code=404)
        self.assertNotContains(response, "<b>", status_code=404)
        self.assert_styled(response)

    @override_settings(ROOT_URLCONF=__name__)
    def test_500_page(self):
        self.client.raise_request_exception = False
        with self.assertLogs("django.request", "ERROR"):
            response = self.client.get("/test-server-error/")
        self.assertEqual(response.status_code, 500)
        self.assertTemplateUsed(response, "500.html")
        self.assertContains(response, "Something went wrong", status_code=500)
        self.assertNotContains(response, "RuntimeError", status_code=500)
        self.assert_styled(response)

    @override_settings(ROOT_URLCONF=__name__)
    def test_500_page_through_the_wsgi_application(self):
        # Importing the WSGI module sets Django up again, which reconfigures logging: first.
        import guestbook_site.wsgi  # noqa: F401

        with self.assertLogs("django.request", "ERROR"):
            status, headers, body = call_wsgi("GET", "/test-server-error/", "/guestbook")
        self.assertEqual(status, 500)
        self.assertEqual(dict(headers)["Content-Type"], "text/html; charset=utf-8")
        self.assertIn("Something went wrong", body)
        self.assertIn('<a class="btn" href="/guestbook/">', body)


class MountPrefixTests(TestCase):
    """The WSGI server sets SCRIPT_NAME when the app lives below a URL prefix."""

    def test_links_and_redirects_use_the_prefix(self):
        status, headers, body = call_wsgi("GET", "/", "/guestbook")
        self.assertEqual(status, 200)
        self.assertIn('action="/guestbook/"', body)

        # A real browser round trip: CSRF cookie from the GET, token from the form.
        cookie = next(v for k, v in headers if k == "Set-Cookie").split(";")[0]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
        data = f"csrfmiddlewaretoken={token}&name=Carol&text=mounted".encode()
        status, headers, _ = call_wsgi("POST", "/", "/guestbook", data, cookie)
        self.assertEqual(status, 302)
        self.assertEqual(dict(headers)["Location"], "/guestbook/")
        self.assertTrue(Message.objects.filter(name="Carol").exists())


class AdminTests(TestCase):
    def test_admin_requires_login(self):
        response = self.client.get("/admin/")
        self.assertRedirects(response, "/admin/login/?next=/admin/")

    def test_message_registered(self):
        from django.contrib.auth.models import User

        admin = User.objects.create_superuser("admin", "admin@example.com", "pw")
        self.client.force_login(admin)
        Message.objects.create(name="Dora", text="in the admin")
        response = self.client.get(reverse("admin:guestbook_message_changelist"))
        self.assertContains(response, "Dora")


def load_settings(**env):
    """Execute a fresh copy of settings.py with exactly these DJANGO_* variables."""
    with mock.patch.dict(os.environ):
        for name in CONTRACT:
            os.environ.pop(name, None)
        os.environ.update({"DJANGO_SECRET_KEY": "test", "DJANGO_DATA_DIR": "/srv/data"})
        os.environ.update(env)
        spec = importlib.util.spec_from_file_location("settings_under_test", SETTINGS_FILE)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


class SettingsTests(SimpleTestCase):
    def run_manage_check(self, **env):
        clean = {k: v for k, v in os.environ.items() if k not in CONTRACT}
        clean.pop("DJANGO_SETTINGS_MODULE", None)
        with tempfile.TemporaryDirectory() as data_dir:
            clean.update(DJANGO_DATA_DIR=data_dir, **env)
            return subprocess.run(
                [sys.executable, "manage.py", "check"],
                cwd=PROJECT_DIR,
                env=clean,
                capture_output=True,
                text=True,
                timeout=120,
            )

    def test_missing_secret_key_is_improperly_configured(self):
        for env in ({}, {"DJANGO_SECRET_KEY": ""}, {"DJANGO_SECRET_KEY": "  "}):
            with self.subTest(env=env):
                result = self.run_manage_check(**env)
                self.assertNotEqual(result.returncode, 0)
                self.assertIn("ImproperlyConfigured", result.stderr)
                self.assertIn("DJANGO_SECRET_KEY", result.stderr)

    def test_check_passes_with_secret_key(self):
        result = self.run_manage_check(DJANGO_SECRET_KEY="a-throwaway-key")
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_debug_parsing(self):
        self.assertIs(load_settings().DEBUG, False)
        for value in ["1", "true", "TRUE", "Yes", "on", " On "]:
            with self.subTest(value=value):
                self.assertIs(load_settings(DJANGO_DEBUG=value).DEBUG, True)
        for value in ["", "0", "false", "no", "off", "2", "enabled"]:
            with self.subTest(value=value):
                self.assertIs(load_settings(DJANGO_DEBUG=value).DEBUG, False)

    def test_allowed_hosts_parsing(self):
        self.assertEqual(load_settings().ALLOWED_HOSTS, [])
        self.assertEqual(load_settings(DJANGO_ALLOWED_HOSTS="").ALLOWED_HOSTS, [])
        self.assertEqual(
            load_settings(DJANGO_ALLOWED_HOSTS=" a.example , ,b.example,,").ALLOWED_HOSTS,
            ["a.example", "b.example"],
        )
        self.assertEqual(load_settings(DJANGO_ALLOWED_HOSTS="*").ALLOWED_HOSTS, ["*"])

    def test_csrf_trusted_origins_parsing(self):
        self.assertEqual(load_settings().CSRF_TRUSTED_ORIGINS, [])
        origins = "https://a.example, http://b.example:8080"
        self.assertEqual(
            load_settings(DJANGO_CSRF_TRUSTED_ORIGINS=origins).CSRF_TRUSTED_ORIGINS,
            ["https://a.example", "http://b.example:8080"],
        )

    def test_paths_and_urls(self):
        s = load_settings()
        self.assertEqual(s.DATABASES["default"]["NAME"], Path("/srv/data/db.sqlite3"))
        self.assertEqual(s.STATIC_ROOT, PROJECT_DIR / "staticfiles")
        self.assertEqual(s.STATIC_URL, "/static/")
        self.assertEqual(s.MEDIA_ROOT, PROJECT_DIR / "media")
        self.assertEqual(s.MEDIA_URL, "/media/")
        s = load_settings(
            DJANGO_STATIC_ROOT="/srv/static",
            DJANGO_STATIC_URL="/app/static",
            DJANGO_MEDIA_ROOT="/srv/media",
            DJANGO_MEDIA_URL="/app/media/",
        )
        self.assertEqual(s.STATIC_ROOT, Path("/srv/static"))
        self.assertEqual(s.STATIC_URL, "/app/static/")
        self.assertEqual(s.MEDIA_ROOT, Path("/srv/media"))
        self.assertEqual(s.MEDIA_URL, "/app/media/")

    def test_log_level(self):
        self.assertEqual(load_settings().LOGGING["root"]["level"], "WARNING")
        s = load_settings(DJANGO_LOG_LEVEL="info")
        self.assertEqual(s.LOGGING["root"]["level"], "INFO")
        self.assertEqual(s.LOGGING["loggers"]["django"]["level"], "INFO")

    def test_proxy_security_defaults(self):
        s = load_settings()
        self.assertEqual(s.SECURE_PROXY_SSL_HEADER, ("HTTP_X_FORWARDED_PROTO", "https"))
        self.assertIs(s.USE_X_FORWARDED_HOST, False)
        self.assertIs(s.SESSION_COOKIE_HTTPONLY, True)
        self.assertEqual(s.X_FRAME_OPTIONS, "DENY")
        self.assertIs(s.SECURE_CONTENT_TYPE_NOSNIFF, True)
        self.assertFalse(getattr(s, "SECURE_SSL_REDIRECT", False))
