"""The example apps over HTTPS in a real browser (Debian's Chromium, headless), on both stacks:
the CA of each site's certificate trusted (Pebble's root for the ACME guestbook, the local CA for
hello, the test root for the provided polls certificate), every page without a certificate or
console error, its CSS applied; the guestbook signed, its admin login opened; a vote counted."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import acme_ca
import pytest
from wsgi_testlib.app_pages import ExampleSites, tour_guestbook, tour_hello, tour_polls
from wsgi_testlib.browser import VIEWPORTS, Browser, Origin, screenshots_dir
from wsgi_testlib.web import container_ip

EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
DESKTOP = VIEWPORTS[0]


@pytest.fixture(autouse=True)
def _targets_only(host) -> None:  # noqa: ANN001
    if "wsgi_servers" not in host.ansible.get_variables().get("group_names", []):
        pytest.skip("Pebble's container")


def _sites(host) -> ExampleSites:  # noqa: ANN001
    zone = host.ansible.get_variables()["wsgi_test_zone"]
    return ExampleSites(
        hello=f"departamentos.{zone}", guestbook=f"guestbook.{zone}", polls=f"poll.{zone}"
    )


@pytest.fixture
def chromium(host) -> Iterator[Callable[[Path], Browser]]:  # noqa: ANN001
    """A browser that trusts one CA (a PEM file), for the host's sites over HTTPS."""
    name = host.backend.get_hostname()
    opened: list[Browser] = []

    def start(ca: Path) -> Browser:
        origin = Origin(container_ip(name), scheme="https", ca_cert=ca)
        browser = Browser(origin, _sites(host).names, artifacts=screenshots_dir() / f"tls-{name}")
        browser.start()
        opened.append(browser)
        return browser

    yield start
    for browser in opened:
        browser.close()


def test_guestbook_over_acme_https_and_its_admin_login(host, chromium) -> None:  # noqa: ANN001
    sites = _sites(host)
    browser = chromium(acme_ca.pebble_root(host))
    tour_guestbook(browser, DESKTOP, sites).assert_clean()
    with browser.tabs(DESKTOP) as tab:
        response = tab.open(sites.guestbook, "/admin/login/")
        assert response is not None and response.headers.get("strict-transport-security")
        assert tab.page.url.startswith(f"https://{sites.guestbook}/")
        # The admin's CSS applies (its header is coloured): static files over HTTPS.
        header = tab.page.eval_on_selector("#header", "el => getComputedStyle(el).backgroundColor")
        assert header not in ("", "rgba(0, 0, 0, 0)", "transparent"), header
        # Console errors, failed requests, certificate errors (Django's own admin markup is not
        # held to the example apps' accessibility checks).
        problems = tab.check("guestbook-admin-login").problems
        assert not [p for p in problems if not p.startswith("accessibility:")], problems


def test_hello_over_the_local_ca(host, chromium) -> None:  # noqa: ANN001
    browser = chromium(EPHEMERAL / "wsgi-ca" / "ca.pem")
    tour_hello(browser, DESKTOP, _sites(host)).assert_clean()


def test_polls_over_a_provided_certificate(host, chromium) -> None:  # noqa: ANN001
    browser = chromium(EPHEMERAL / "pki" / "root.pem")
    tour_polls(browser, DESKTOP, _sites(host)).assert_clean()
