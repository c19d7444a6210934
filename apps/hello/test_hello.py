"""Call hello.wsgi's application() with a fake WSGI environ (run with pytest)."""

import re
import runpy
from html.parser import HTMLParser
from pathlib import Path
from wsgiref.util import setup_testing_defaults

import pytest

SCRIPT = Path(__file__).resolve().with_name("hello.wsgi")
STATIC = SCRIPT.with_name("static")
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def application():
    return runpy.run_path(str(SCRIPT))["application"]


def call(application, **environ):
    setup_testing_defaults(environ)
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = status
        captured["headers"] = dict(headers)

    body = b"".join(application(environ, start_response))
    return captured["status"], captured["headers"], body


def test_hello_world(application):
    status, headers, body = call(application, SCRIPT_NAME="", PATH_INFO="/")
    assert status == "200 OK"
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["Content-Length"] == str(len(body))
    assert body == b"Hello World!\nSCRIPT_NAME=\nPATH_INFO=/\n"


def test_mount_prefix_is_echoed(application):
    _, _, body = call(application, SCRIPT_NAME="/hello", PATH_INFO="/a/b")
    lines = body.decode().splitlines()
    assert lines == ["Hello World!", "SCRIPT_NAME=/hello", "PATH_INFO=/a/b"]


def test_non_ascii_path(application):
    # PEP 3333: the server decodes the raw path bytes as latin-1.
    path = "/caf\u00e9".encode().decode("latin-1")
    _, _, body = call(application, SCRIPT_NAME="", PATH_INFO=path)
    assert "PATH_INFO=/caf\u00e9\n" in body.decode("utf-8")


def test_mod_wsgi_process_group_is_echoed(application):
    _, _, body = call(
        application, SCRIPT_NAME="", PATH_INFO="/", **{"mod_wsgi.process_group": "hi"}
    )
    assert body.decode().splitlines()[-1] == "PROCESS_GROUP=hi"


def test_mod_wsgi_embedded_mode_is_echoed_as_an_empty_group(application):
    _, _, body = call(application, SCRIPT_NAME="", PATH_INFO="/", **{"mod_wsgi.process_group": ""})
    assert body.decode().splitlines()[-1] == "PROCESS_GROUP="


# ---------------------------------------------------------------- HTML or plain text


@pytest.mark.parametrize(
    "accept",
    [
        None,  # no Accept header at all
        "*/*",  # curl, python-requests, wget
        "text/plain",
        "text/plain, text/html;q=0.5",
        "text/html;q=0, */*",
        "text/html;q=oops",
        "application/json",
    ],
)
def test_plain_text_unless_html_is_asked_for(application, accept):
    environ = {"SCRIPT_NAME": "/test", "PATH_INFO": ""}
    if accept is not None:
        environ["HTTP_ACCEPT"] = accept
    status, headers, body = call(application, **environ)
    assert status == "200 OK"
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["Vary"] == "Accept"
    assert body.startswith(b"Hello World!\nSCRIPT_NAME=/test\n")


@pytest.mark.parametrize(
    "accept",
    [BROWSER_ACCEPT, "text/html", "application/xhtml+xml", "text/html, text/plain;q=0.9"],
)
def test_html_when_the_client_prefers_it(application, accept):
    status, headers, body = call(application, SCRIPT_NAME="/test", PATH_INFO="", HTTP_ACCEPT=accept)
    assert status == "200 OK"
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Content-Length"] == str(len(body))
    assert headers["Vary"] == "Accept"
    assert body.startswith(b"<!DOCTYPE html>")


def test_format_parameter_overrides_the_accept_header(application):
    _, headers, body = call(
        application, PATH_INFO="/", QUERY_STRING="format=text", HTTP_ACCEPT=BROWSER_ACCEPT
    )
    assert headers["Content-Type"].startswith("text/plain")
    assert body.startswith(b"Hello World!\n")
    _, headers, _ = call(application, PATH_INFO="/", QUERY_STRING="format=html")
    assert headers["Content-Type"].startswith("text/html")


class _Page(HTMLParser):
    """The bits of the HTML page the tests look at."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag, **attrs):
        wanted = attrs.items()
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in wanted)]


def html(application, **environ):
    _, _, body = call(application, HTTP_ACCEPT=BROWSER_ACCEPT, **environ)
    page = _Page()
    page.feed(body.decode())
    return page, body.decode()


def test_html_page_is_a_complete_accessible_document(application):
    page, body = html(application, SCRIPT_NAME="/test", PATH_INFO="")
    assert page.find("html", lang="en")
    assert page.find("meta", name="viewport", content="width=device-width, initial-scale=1")
    assert page.find("meta", charset="utf-8")
    assert re.search(r'<h1 class="greeting">Hello World!</h1>', body)
    assert page.find("main", id="content")
    assert page.find("a", href="#content")  # skip link
    assert all(img.get("alt") is not None for img in page.find("img"))
    # The plain-text variant is on the page too, for curl users.
    assert "SCRIPT_NAME=/test\n" in body and "$ curl http://127.0.0.1/test\n" in body


def test_html_page_uses_the_static_files_below_its_prefix(application):
    page, _ = html(application, SCRIPT_NAME="/test", PATH_INFO="/some/page")
    sheets = [a["href"] for a in page.find("link", rel="stylesheet")]
    assert sheets == ["/test/static/theme.css", "/test/static/hello.css"]
    assert page.find("link", rel="icon", href="/test/static/favicon.svg", type="image/svg+xml")
    for url in [*sheets, "/test/static/favicon.svg"]:
        assert (STATIC / url.removeprefix("/test/static/")).is_file(), url
    page, _ = html(application, SCRIPT_NAME="", PATH_INFO="/")
    assert [a["href"] for a in page.find("link", rel="stylesheet")][0] == "/static/theme.css"


def test_html_page_shows_the_request_facts(application):
    _, body = html(
        application,
        SCRIPT_NAME="/test",
        PATH_INFO="/caf\u00e9".encode().decode("latin-1"),
        SERVER_SOFTWARE="gunicorn/23.0.0",
        **{"mod_wsgi.process_group": "hello"},
    )
    assert "<dd><code>/test</code></dd>" in body
    assert "<dd><code>/caf\u00e9</code></dd>" in body
    assert "<dd>gunicorn/23.0.0</dd>" in body
    assert "<dd><code>hello</code> (daemon mode)</dd>" in body
    _, body = html(application, PATH_INFO="/", **{"mod_wsgi.process_group": ""})
    assert "embedded in Apache" in body


def test_html_page_escapes_what_the_client_sent(application):
    _, body = html(
        application,
        PATH_INFO="/<script>alert(1)</script>",
        HTTP_HOST='evil"><script>x</script>',
    )
    assert "<script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_long_words_wrap_in_the_shared_stylesheet():
    theme = (STATIC / "theme.css").read_text()
    body_rule = re.search(r"\nbody \{(.*?)\n\}", theme, re.S)
    assert body_rule and "overflow-wrap: anywhere;" in body_rule.group(1)
    assert re.search(r"\npre \{[^}]*white-space: pre-wrap;", theme)


def test_favicon_is_answered_by_the_app(application):
    status, headers, body = call(application, SCRIPT_NAME="/test", PATH_INFO="/favicon.ico")
    assert status == "200 OK"
    assert headers["Content-Type"] == "image/svg+xml"
    assert body == (STATIC / "favicon.svg").read_bytes()
    assert body.startswith(b"<svg ")


def test_static_files_are_not_served_by_the_app(application):
    """They belong to the web server's static alias; one that reaches the app says so."""
    status, headers, body = call(
        application, SCRIPT_NAME="/test", PATH_INFO="/static/theme.css", HTTP_ACCEPT="text/css"
    )
    assert status == "404 Not Found"
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert b"static alias" in body
    # Only that directory: any other path below the prefix is echoed.
    _, _, body = call(application, SCRIPT_NAME="/test", PATH_INFO="/statics")
    assert body.startswith(b"Hello World!\n")
