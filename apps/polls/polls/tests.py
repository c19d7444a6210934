import datetime
import html
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
from django.utils import timezone

from .models import Question

PROJECT_DIR = Path(__file__).resolve().parent.parent  # the directory of manage.py
STATIC_DIR = Path(__file__).resolve().parent / "static" / "polls"
SETTINGS_FILE = PROJECT_DIR / "polls_site" / "settings.py"
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
    path("", include("polls_site.urls")),
]

_ROW_RE = re.compile(
    r'<th scope="row"><span class="choice-text">(.+?)</span>.*?'
    r'<td class="votes">(\d+)</td>\s*<td class="share">(\d+)%</td>',
    re.S,
)


def results_table(content):
    """{choice: (votes, percent)} of a results page, in the page's order."""
    if isinstance(content, bytes):
        content = content.decode()
    return {html.unescape(c): (int(v), int(p)) for c, v, p in _ROW_RE.findall(content)}


def call_wsgi(method, path, script_name, data=b"", cookie=""):
    """Run one request through the project's real wsgi.py application, as
    mod_wsgi or gunicorn would, with the app mounted at script_name."""
    from polls_site.wsgi import application

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


SEEDED = "Which WSGI stack do you deploy with?"
SEEDED_CHOICES = ["Apache + mod_wsgi", "Nginx + Gunicorn", "Something else"]


def create_question(question_text, days):
    """A question published `days` from now (negative: in the past)."""
    time = timezone.now() + datetime.timedelta(days=days)
    return Question.objects.create(question_text=question_text, pub_date=time)


class SeedMigrationTests(TestCase):
    def test_seeded_question_present_after_migrations(self):
        question = Question.objects.get(question_text=SEEDED)
        self.assertLessEqual(question.pub_date, timezone.now())
        self.assertEqual(
            [c.choice_text for c in question.choice_set.all()],
            SEEDED_CHOICES,
        )
        self.assertEqual({c.votes for c in question.choice_set.all()}, {0})

    def test_seeded_question_on_index(self):
        response = self.client.get("/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, SEEDED)
        self.assertContains(response, 'href="/static/polls/style.css"')
        self.assertContains(response, 'href="/static/polls/theme.css"')
        self.assertContains(
            response, '<link rel="icon" href="/static/polls/favicon.svg" type="image/svg+xml">'
        )
        self.assertContains(response, '<html lang="en">')
        self.assertContains(response, '<meta name="viewport" content="width=device-width')
        for name in ("theme.css", "style.css", "favicon.svg"):
            self.assertTrue((STATIC_DIR / name).is_file(), name)

    def test_index_shows_the_votes_of_each_question(self):
        question = Question.objects.get(question_text=SEEDED)
        response = self.client.get("/")
        self.assertContains(response, "<span>0 votes</span>", html=True)
        question.choice_set.filter(choice_text="Something else").update(votes=1)
        self.assertContains(self.client.get("/"), "<span>1 vote</span>", html=True)
        question.choice_set.update(votes=2)
        self.assertContains(self.client.get("/"), "<span>6 votes</span>", html=True)
        self.assertContains(response, f'href="/{question.id}/results/"')


class QuestionModelTests(TestCase):
    def test_was_published_recently(self):
        now = timezone.now()
        cases = [
            (datetime.timedelta(days=30), False),
            (-datetime.timedelta(days=1, seconds=1), False),
            (-datetime.timedelta(hours=23, minutes=59, seconds=59), True),
        ]
        for delta, expected in cases:
            with self.subTest(delta=delta):
                question = Question(pub_date=now + delta)
                self.assertIs(question.was_published_recently(), expected)


class IndexViewTests(TestCase):
    def setUp(self):
        Question.objects.all().delete()

    def test_no_questions(self):
        response = self.client.get(reverse("polls:index"))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "No polls are available.")
        self.assertQuerySetEqual(response.context["latest_question_list"], [])

    def test_past_question(self):
        question = create_question("Past question.", days=-30)
        response = self.client.get(reverse("polls:index"))
        self.assertQuerySetEqual(response.context["latest_question_list"], [question])

    def test_future_question_not_listed(self):
        create_question("Future question.", days=30)
        response = self.client.get(reverse("polls:index"))
        self.assertContains(response, "No polls are available.")
        self.assertNotContains(response, "Future question.")

    def test_newest_first_and_at_most_five(self):
        questions = [create_question(f"Q{i}", days=-i) for i in range(1, 8)]
        response = self.client.get(reverse("polls:index"))
        self.assertQuerySetEqual(response.context["latest_question_list"], questions[:5])


class DetailAndResultsViewTests(TestCase):
    def test_future_question_is_404(self):
        future = create_question("Future question.", days=5)
        for name in ("polls:detail", "polls:results"):
            with self.subTest(name=name):
                response = self.client.get(reverse(name, args=(future.id,)))
                self.assertEqual(response.status_code, 404)

    def test_detail_shows_vote_form(self):
        question = Question.objects.get(question_text=SEEDED)
        response = self.client.get(reverse("polls:detail", args=(question.id,)))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, f'action="/{question.id}/vote/"')
        self.assertContains(response, 'name="csrfmiddlewaretoken"')
        self.assertContains(response, 'type="radio" name="choice"', 3)
        for text in SEEDED_CHOICES:
            self.assertContains(response, text)
        # Every radio button has its label, the group its legend, the button its look.
        for n in (1, 2, 3):
            self.assertContains(response, f'id="choice{n}" value=')
            self.assertContains(response, f'<label for="choice{n}">')
        self.assertContains(response, "<legend>Your answer</legend>", html=True)
        self.assertContains(response, '<button type="submit" class="btn">Vote</button>', html=True)
        self.assertContains(response, f"<h1>{SEEDED}</h1>", html=True)

    def test_results_page(self):
        question = Question.objects.get(question_text=SEEDED)
        question.choice_set.filter(choice_text="Nginx + Gunicorn").update(votes=1)
        question.choice_set.filter(choice_text="Something else").update(votes=2)
        response = self.client.get(reverse("polls:results", args=(question.id,)))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            results_table(response.content),
            {"Apache + mod_wsgi": (0, 0), "Nginx + Gunicorn": (1, 33), "Something else": (2, 67)},
        )
        self.assertEqual(list(results_table(response.content)), SEEDED_CHOICES)
        self.assertContains(response, "3 votes so far.")
        self.assertContains(response, '<th scope="col" class="num">Votes</th>', html=True)
        self.assertContains(response, '<span class="fill" style="width: 67%">', html=False)
        self.assertContains(response, f"<h1>{SEEDED}</h1>", html=True)

    def test_results_without_votes(self):
        question = Question.objects.get(question_text=SEEDED)
        response = self.client.get(reverse("polls:results", args=(question.id,)))
        self.assertEqual(set(results_table(response.content).values()), {(0, 0)})
        self.assertContains(response, "0 votes so far.")

    def test_results_percentages_are_rounded(self):
        question = Question.objects.get(question_text=SEEDED)
        for text, votes in zip(SEEDED_CHOICES, (1, 1, 1), strict=True):
            question.choice_set.filter(choice_text=text).update(votes=votes)
        response = self.client.get(reverse("polls:results", args=(question.id,)))
        self.assertEqual(set(results_table(response.content).values()), {(1, 33)})
        question.choice_set.filter(choice_text="Something else").update(votes=0)
        question.choice_set.filter(choice_text="Apache + mod_wsgi").update(votes=7)
        response = self.client.get(reverse("polls:results", args=(question.id,)))
        self.assertEqual(
            results_table(response.content),
            {"Apache + mod_wsgi": (7, 88), "Nginx + Gunicorn": (1, 12), "Something else": (0, 0)},
        )

    def test_choice_text_is_escaped_in_results(self):
        question = Question.objects.get(question_text=SEEDED)
        question.choice_set.create(choice_text="<b>bold</b>", votes=1)
        response = self.client.get(reverse("polls:results", args=(question.id,)))
        self.assertNotContains(response, "<b>bold</b>")
        self.assertEqual(results_table(response.content)["<b>bold</b>"], (1, 100))

    def test_unknown_question_is_404(self):
        self.assertEqual(self.client.get("/999999/").status_code, 404)


class SecurityHeaderTests(TestCase):
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


class VoteViewTests(TestCase):
    def setUp(self):
        self.question = Question.objects.get(question_text=SEEDED)
        self.choice = self.question.choice_set.get(choice_text="Nginx + Gunicorn")
        self.url = reverse("polls:vote", args=(self.question.id,))

    def test_vote_increments_and_redirects_to_results(self):
        response = self.client.post(self.url, {"choice": self.choice.id})
        self.assertRedirects(response, reverse("polls:results", args=(self.question.id,)))
        self.client.post(self.url, {"choice": self.choice.id})
        self.choice.refresh_from_db()
        self.assertEqual(self.choice.votes, 2)
        response = self.client.get(response.url)
        self.assertEqual(results_table(response.content)["Nginx + Gunicorn"], (2, 100))

    def test_vote_without_choice_shows_error(self):
        for data in ({}, {"choice": ""}, {"choice": "abc"}, {"choice": "999999"}):
            with self.subTest(data=data):
                response = self.client.post(self.url, data)
                self.assertEqual(response.status_code, 200)
                self.assertContains(response, "You didn&#x27;t select a choice.")
                self.assertContains(response, 'role="alert" id="vote-error"')
                self.assertContains(response, '<fieldset aria-describedby="vote-error">')
        self.assertEqual(sum(c.votes for c in self.question.choice_set.all()), 0)

    def test_choice_of_another_question_rejected(self):
        other = create_question("Other?", days=-1)
        other_choice = other.choice_set.create(choice_text="Elsewhere")
        response = self.client.post(self.url, {"choice": other_choice.id})
        self.assertContains(response, "You didn&#x27;t select a choice.")
        other_choice.refresh_from_db()
        self.assertEqual(other_choice.votes, 0)

    def test_vote_requires_post(self):
        self.assertEqual(self.client.get(self.url).status_code, 405)

    def test_vote_on_future_question_is_404(self):
        future = create_question("Future?", days=3)
        choice = future.choice_set.create(choice_text="Later")
        response = self.client.post(reverse("polls:vote", args=(future.id,)), {"choice": choice.id})
        self.assertEqual(response.status_code, 404)

    def test_csrf_is_enforced(self):
        client = self.client_class(enforce_csrf_checks=True)
        response = client.post(self.url, {"choice": self.choice.id})
        self.assertEqual(response.status_code, 403)


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
        status = response.status_code
        self.assertContains(
            response, '<link rel="stylesheet" href="/static/polls/theme.css">', status_code=status
        )
        self.assertContains(response, '<a class="brand" href="/">', status_code=status)
        self.assertContains(
            response,
            '<a class="btn" href="/">See all polls</a>',
            status_code=status,
            html=True,
        )

    def test_404_page(self):
        future = create_question("Future question.", days=5)
        for url in ("/no-such-page/<b>", f"/{future.id}/", "/999999/results/"):
            with self.subTest(url=url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 404)
                self.assertTemplateUsed(response, "404.html")
                self.assertContains(
                    response, '<h1 id="error-heading">Page not found</h1>', status_code=404
                )
                self.assertNotContains(response, "<b>", status_code=404)
                self.assert_styled(response)
        self.assertContains(response, "<code>/999999/results/</code>", status_code=404)

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
        import polls_site.wsgi  # noqa: F401

        with self.assertLogs("django.request", "ERROR"):
            status, headers, body = call_wsgi("GET", "/test-server-error/", "/polls")
        self.assertEqual(status, 500)
        self.assertEqual(dict(headers)["Content-Type"], "text/html; charset=utf-8")
        self.assertIn("Something went wrong", body)
        self.assertIn('<a class="btn" href="/polls/">', body)


class MountPrefixTests(TestCase):
    """The WSGI server sets SCRIPT_NAME when the app lives below a URL prefix."""

    def test_links_and_redirects_use_the_prefix(self):
        question = Question.objects.get(question_text=SEEDED)
        status, _, body = call_wsgi("GET", "/", "/polls")
        self.assertEqual(status, 200)
        self.assertIn(f'href="/polls/{question.id}/"', body)

        status, headers, body = call_wsgi("GET", f"/{question.id}/", "/polls")
        self.assertEqual(status, 200)
        self.assertIn(f'action="/polls/{question.id}/vote/"', body)

        # A real browser round trip: CSRF cookie from the GET, token from the form.
        cookie = next(v for k, v in headers if k == "Set-Cookie").split(";")[0]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
        choice = question.choice_set.first()
        data = f"csrfmiddlewaretoken={token}&choice={choice.id}".encode()
        status, headers, _ = call_wsgi("POST", f"/{question.id}/vote/", "/polls", data, cookie)
        self.assertEqual(status, 302)
        self.assertEqual(dict(headers)["Location"], f"/polls/{question.id}/results/")
        choice.refresh_from_db()
        self.assertEqual(choice.votes, 1)


class AdminTests(TestCase):
    def test_admin_requires_login(self):
        response = self.client.get("/admin/")
        self.assertRedirects(response, "/admin/login/?next=/admin/")

    def test_question_with_inline_choices(self):
        from django.contrib.auth.models import User

        admin = User.objects.create_superuser("admin", "admin@example.com", "pw")
        self.client.force_login(admin)
        question = Question.objects.get(question_text=SEEDED)
        response = self.client.get(reverse("admin:polls_question_change", args=(question.id,)))
        self.assertContains(response, "Apache + mod_wsgi")
        self.assertContains(response, 'name="choice_set-TOTAL_FORMS"')
        response = self.client.get(reverse("admin:polls_question_changelist"))
        self.assertContains(response, SEEDED)


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
