"""The example apps in a real browser behind Nginx + Gunicorn: headless Chromium (Debian's) opens
every page of every app at 1280, 375 and 320 px, signs the guestbook with a 300-letter word, votes,
follows a dead link, and shows each Django site's 500 page; no page may log a console error,
fail a request, or scroll sideways. Screenshots: $WSGI_TEST_LOGS/screenshots/<host>/.

Also runs on its own against any deployed container (testinfra's docker backend):
    pytest --hosts=docker://CONTAINER molecule/nginx/tests/test_browser.py
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator

import pytest
from wsgi_testlib.app_pages import (
    ExampleSites,
    parse_server_error,
    server_error_command,
    tour_guestbook,
    tour_hello,
    tour_polls,
    tour_server_errors,
)
from wsgi_testlib.browser import VIEWPORTS, Browser, Origin, Viewport, screenshots_dir
from wsgi_testlib.web import container_ip

SITES = ExampleSites()  # the names of molecule/nginx/group_vars/wsgi_servers/sites.yml


@pytest.fixture(scope="module")
def browser(host) -> Iterator[Browser]:  # noqa: ANN001 - testinfra's host fixture
    name = host.backend.get_hostname()
    origin = Origin(container_ip(name))
    with Browser(origin, SITES.names, artifacts=screenshots_dir() / name) as chromium:
        yield chromium


viewports = pytest.mark.parametrize("viewport", VIEWPORTS, ids=[v.name for v in VIEWPORTS])


@viewports
def test_hello_page(browser: Browser, viewport: Viewport) -> None:
    tour_hello(browser, viewport, SITES).assert_clean()


@viewports
def test_guestbook_pages(browser: Browser, viewport: Viewport) -> None:
    tour_guestbook(browser, viewport, SITES).assert_clean()


@viewports
def test_polls_pages(browser: Browser, viewport: Viewport) -> None:
    tour_polls(browser, viewport, SITES).assert_clean()


@viewports
def test_server_error_pages(host, browser: Browser, viewport: Viewport) -> None:  # noqa: ANN001
    def render(site: str) -> tuple[int, str]:
        return parse_server_error(host.check_output(shlex.join(server_error_command(site))))

    tour_server_errors(browser, viewport, SITES, render).assert_clean()
