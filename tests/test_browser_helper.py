"""The browser helper (wsgi_testlib.browser) against small local HTTP and HTTPS servers on the
loopback: it must see console errors, uncaught exceptions, failed requests and pages that scroll
sideways, tell an expected 404 page from a broken one, send the site's Host header, reach only
the names it was given, trust a test CA it is given and no other, and keep screenshots.
Needs Debian's chromium and libnss3-tools (scripts/system-deps.sh installs both)."""

from __future__ import annotations

import datetime
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from playwright.sync_api import Error as PlaywrightError
from wsgi_testlib.browser import DESKTOP, MOBILE, Browser, Origin

SITE = "site.test"
OTHER = "other.test"  # not given to the browser: must not resolve

HEAD = '<meta name="viewport" content="width=device-width, initial-scale=1"><title>t</title>'


def html(body: str) -> tuple[int, str, str]:
    return 200, "text/html", f"<!DOCTYPE html><html lang=en><head>{HEAD}</head><body>{body}"


PAGES: dict[str, tuple[int, str, str]] = {
    "/": html("<h1>ok</h1>"),
    "/console": html("<h1>c</h1><script>console.error('boom')</script>"),
    "/throws": html("<h1>t</h1><script>null.x()</script>"),
    "/missing-image": html('<h1>m</h1><img src="/nothing.png" alt="">'),
    "/other-host": html(f'<h1>o</h1><img src="http://{OTHER}/x.png" alt="">'),
    "/wide": html(f"<h1>w</h1><p>{'w' * 300}</p>"),
    "/wrapped": html(f"<h1>w</h1><p style='overflow-wrap: anywhere'>{'w' * 300}</p>"),
    "/gone": (404, "text/html", f"<html lang=en><head>{HEAD}</head><h1>Not here</h1>"),
    "/inaccessible": (
        200,
        "text/html",
        '<html><body><input name="q"><img src="/favicon.ico"><h1>a</h1><h1>b</h1>',
    ),
    # A fetch that is still running when the test navigates away, or that the page cancels.
    "/slow-fetch": html("<h1>s</h1><script>onload = () => fetch('/slow')</script>"),
    "/cancelled-fetch": html(
        "<h1>c</h1><script>const c = new AbortController(); fetch('/slow', {signal: c.signal})"
        ".catch(() => {}); setTimeout(() => c.abort(), 200)</script>"
    ),
    # Chromium asks every site for one (without it every page logs a 404).
    "/favicon.ico": (200, "image/svg+xml", '<svg xmlns="http://www.w3.org/2000/svg"/>'),
}


class _Handler(BaseHTTPRequestHandler):
    hosts: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.hosts.append(self.headers.get("Host", ""))
        if self.path == "/slow":
            time.sleep(3)
        status, content_type, body = PAGES.get(self.path, (404, "text/plain", "no such page"))
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def http_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def browser(http_server: ThreadingHTTPServer, artifacts: Path) -> Iterator[Browser]:
    origin = Origin("127.0.0.1", port=http_server.server_address[1])
    with Browser(origin, [SITE], artifacts=artifacts) as chromium:
        yield chromium


def test_clean_page_at_both_sizes_with_screenshots(browser: Browser, artifacts: Path) -> None:
    _Handler.hosts.clear()
    for viewport in (DESKTOP, MOBILE):
        with browser.tabs(viewport) as tab:
            tab.open(SITE, "/")
            check = tab.check("clean")
            assert check.problems == [], str(check)
            assert check.status == 200
            assert check.viewport_width == viewport.width
            assert check.screenshot == artifacts / f"clean-{viewport.name}.png"
            assert check.screenshot.read_bytes().startswith(b"\x89PNG")
    port = browser.origin.port
    assert _Handler.hosts and set(_Handler.hosts) == {f"{SITE}:{port}"}


def test_console_error_is_reported(browser: Browser) -> None:
    with browser.tabs(DESKTOP) as tab:
        tab.open(SITE, "/console")
        check = tab.check("console", screenshot=False)
    url = browser.origin.url(SITE, "/console")
    assert check.problems == [f"console error: boom ({url})"]


def test_uncaught_exception_is_reported(browser: Browser) -> None:
    with browser.tabs(DESKTOP) as tab:
        tab.open(SITE, "/throws")
        check = tab.check("throws", screenshot=False)
    assert any("uncaught" in e and "null" in e for e in check.console_errors), check


def test_missing_resource_is_a_failed_request(browser: Browser) -> None:
    with browser.tabs(DESKTOP) as tab:
        tab.open(SITE, "/missing-image")
        check = tab.check("missing", screenshot=False)
    url = browser.origin.url(SITE, "/nothing.png")
    assert check.failed_requests == [f"GET {url}: HTTP 404"]
    assert check.console_errors and "404" in check.console_errors[0]


def test_a_request_cancelled_by_navigating_away_is_not_a_failure(browser: Browser) -> None:
    """Chromium cancels what the previous page still loads (net::ERR_ABORTED: a favicon, a
    fetch) when the tab navigates: not the server's failure. A page that cancels its own
    request without navigating is still reported."""
    with browser.tabs(DESKTOP) as tab:
        tab.open(SITE, "/slow-fetch")
        tab.page.wait_for_timeout(300)  # the fetch has started
        tab.open(SITE, "/")
        assert tab.check("navigated", screenshot=False).failed_requests == []
        tab.open(SITE, "/cancelled-fetch")
        tab.page.wait_for_timeout(600)
        failed = tab.check("cancelled", screenshot=False).failed_requests
    assert failed == [f"GET {browser.origin.url(SITE, '/slow')}: net::ERR_ABORTED"], failed


def test_names_not_given_do_not_resolve(browser: Browser) -> None:
    with browser.tabs(DESKTOP) as tab:
        tab.open(SITE, "/other-host")
        check = tab.check("other", screenshot=False)
    assert len(check.failed_requests) == 1, check
    assert f"http://{OTHER}/x.png" in check.failed_requests[0]
    assert "ERR_NAME_NOT_RESOLVED" in check.failed_requests[0]


def test_horizontal_scroll_is_found_and_wrapping_fixes_it(browser: Browser) -> None:
    with browser.tabs(MOBILE) as tab:
        tab.open(SITE, "/wide")
        wide = tab.check("wide", screenshot=False)
        tab.open(SITE, "/wrapped")
        wrapped = tab.check("wrapped", screenshot=False)
    assert wide.document_width > wide.viewport_width == MOBILE.width
    assert any("scrolls horizontally" in p and "p (right edge" in p for p in wide.problems), wide
    assert wrapped.problems == [], str(wrapped)


def test_an_expected_error_page_is_fine_an_unexpected_one_is_not(browser: Browser) -> None:
    with browser.tabs(DESKTOP) as tab:
        tab.open(SITE, "/gone", expect_status=404)
        check = tab.check("gone", screenshot=False)
        assert check.problems == [], str(check)
        assert check.status == 404
        with pytest.raises(AssertionError, match="HTTP 404, expected 200"):
            tab.open(SITE, "/no-such-page")


def test_replace_content_keeps_the_origin(browser: Browser) -> None:
    with browser.tabs(DESKTOP) as tab:
        tab.open(SITE, "/gone", expect_status=404)
        tab.replace_content(html('<h1>Replaced</h1><img src="/nothing.png" alt="">')[2])
        check = tab.check("replaced", screenshot=False)
        assert tab.page.inner_text("h1") == "Replaced"
    assert check.url == browser.origin.url(SITE, "/gone")
    assert check.failed_requests == [f"GET {browser.origin.url(SITE, '/nothing.png')}: HTTP 404"]


def test_missing_accessibility_basics_are_reported(browser: Browser) -> None:
    with browser.tabs(MOBILE) as tab:
        tab.open(SITE, "/inaccessible")
        check = tab.check("inaccessible", screenshot=False)
    assert check.accessibility == [
        "no lang attribute on <html>",
        "no viewport meta",
        "no <title>",
        "2 <h1> elements, not one",
        "input q has no label",
        "img /favicon.ico has no alt",
    ]
    assert [p for p in check.problems if p.startswith("accessibility: ")] == [
        f"accessibility: {a}" for a in check.accessibility
    ]


# ---------------------------------------------------------------------------- HTTPS


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A test CA and a certificate for SITE signed by it: (ca.pem, site.pem, site.key)."""
    now = datetime.datetime.now(datetime.UTC)

    def build(
        subject: str, issuer: str, key: ec.EllipticCurvePrivateKey
    ) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        build("wsgi test CA", "wsgi test CA", ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    site_key = ec.generate_private_key(ec.SECP256R1())
    site = (
        build(SITE, "wsgi test CA", site_key)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(SITE)]), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "site.pem", directory / "site.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(site.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        site_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    ca, cert, key = _certificates(tmp_path_factory.mktemp("tls"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], ca
    server.shutdown()
    server.server_close()


def test_https_with_the_test_ca(https_server: tuple[int, Path]) -> None:
    port, ca = https_server
    origin = Origin("127.0.0.1", scheme="https", port=port, ca_cert=ca)
    assert origin.url(SITE, "/") == f"https://{SITE}:{port}/"
    with Browser(origin, [SITE], screenshots=False) as chromium, chromium.tabs(DESKTOP) as tab:
        tab.open(SITE, "/")
        check = tab.check("https")
        assert check.problems == [], str(check)
        assert tab.page.evaluate("window.isSecureContext") is True


def test_https_without_the_ca_is_refused(https_server: tuple[int, Path]) -> None:
    port, _ = https_server
    origin = Origin("127.0.0.1", scheme="https", port=port)
    with Browser(origin, [SITE], screenshots=False) as chromium, chromium.tabs(DESKTOP) as tab:
        with pytest.raises(PlaywrightError, match="ERR_CERT_AUTHORITY_INVALID"):
            tab.open(SITE, "/")
