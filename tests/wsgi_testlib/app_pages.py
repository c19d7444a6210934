"""The example apps in a real browser: every page, as a visitor goes through them.

Shared by the browser tests of both stacks (molecule/*/tests/test_browser.py). Each tour opens
the pages of one app in one `Tab` (one viewport size), does what a visitor does (signs the
guestbook with a 300-letter word, votes, follows a dead link), and returns the `Findings`: one
`PageCheck` per page (console errors, failed requests, horizontal scrolling, a screenshot).
Assertions about what a page must show are made on the way; layout and error problems are
collected so that one failure lists every page that has one.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from .browser import Browser, Findings, Tab, Viewport
from .flows import poll_results

# A URL followed by 300 letters: no break opportunity in the letters.
LONG_WORD = "https://example.org/" + "w" * 300

# Runs in the page: does every element matching the selector fit inside its own box?
_FITS_JS = """selector => [...document.querySelectorAll(selector)].map(
  el => ({text: el.textContent.slice(0, 60), scroll: el.scrollWidth, client: el.clientWidth}))"""


@dataclass(frozen=True)
class ExampleSites:
    """The names (and hello's prefix) the example apps are deployed under."""

    hello: str = "departamentos.centro.intranet"
    hello_path: str = "/test"
    guestbook: str = "guestbook.example.org"
    polls: str = "poll.example.org"

    @property
    def names(self) -> list[str]:
        return [self.hello, self.guestbook, self.polls]


def _label(site: str, page: str) -> str:
    return f"{site.split('.')[0]}-{page}"


def _assert_fits(tab: Tab, selector: str) -> None:
    boxes = tab.page.evaluate(_FITS_JS, selector)
    assert boxes, f"nothing matches {selector} on {tab.page.url}"
    for box in boxes:
        assert box["scroll"] <= box["client"], f"{selector} overflows its box: {box}"


def _computed(tab: Tab, selector: str, prop: str) -> str:
    value = tab.page.eval_on_selector(
        selector, "(el, prop) => getComputedStyle(el).getPropertyValue(prop)", prop
    )
    return str(value)


def _assert_icon(tab: Tab, path: str) -> None:
    """The page's site answers `path` with the SVG icon (fetched by the page itself, so
    through the browser's network stack, to its own origin)."""
    status, content_type = tab.page.evaluate(
        "async path => { const r = await fetch(path, {cache: 'no-store'});"
        " return [r.status, r.headers.get('content-type')]; }",
        path,
    )
    assert status == 200 and str(content_type).startswith("image/svg+xml"), (
        f"{tab.page.url} {path}: HTTP {status} {content_type}"
    )


# ----------------------------------------------------------------------------------- hello


def tour_hello(browser: Browser, viewport: Viewport, sites: ExampleSites) -> Findings:
    found = Findings()
    host, prefix = sites.hello, sites.hello_path
    with browser.tabs(viewport) as tab:
        response = tab.open(host, prefix)
        assert response is not None
        assert response.headers["content-type"].startswith("text/html"), response.headers
        greeting = tab.page.inner_text("h1")
        assert greeting.startswith("Hello"), greeting
        # The stylesheets came from the site's static alias and apply.
        assert _computed(tab, "body", "overflow-wrap") == "anywhere"
        assert _computed(tab, ".greeting", "font-size") == "36px"
        assert f"SCRIPT_NAME={prefix}" in tab.page.inner_text("pre")
        _assert_icon(tab, f"{prefix}/favicon.ico")
        _assert_icon(tab, f"{prefix}/static/favicon.svg")
        found.add(tab.check(_label(host, "html")))

        tab.open(host, f"{prefix}/{LONG_WORD[-300:]}")
        _assert_fits(tab, "pre")
        found.add(tab.check(_label(host, "long-path")))
    return found


# ------------------------------------------------------------------------------- guestbook


def tour_guestbook(browser: Browser, viewport: Viewport, sites: ExampleSites) -> Findings:
    found = Findings()
    host = sites.guestbook
    name = f"Browser {viewport.name} {uuid.uuid4().hex[:6]}"
    with browser.tabs(viewport) as tab:
        tab.open(host, "/")
        assert tab.page.inner_text("h1") == "Guestbook"
        _assert_icon(tab, "/favicon.ico")
        found.add(tab.check(_label(host, "index")))

        # A message with a very long word: it wraps, the page does not get wider.
        tab.page.fill("#id_name", name)
        tab.page.fill("#id_text", f"A long word: {LONG_WORD}\nand a second line.")
        with tab.navigation():
            tab.page.click("button[type=submit]")
        assert "Thank you" in tab.page.inner_text("[role=status]")
        newest = tab.page.locator("article.message").first
        assert newest.locator(".message-author").inner_text() == name
        assert LONG_WORD in newest.locator(".message-text").inner_text()
        _assert_fits(tab, ".message-text")
        found.add(tab.check(_label(host, "posted")))

        # What the server says about a bad form (the browser's own checks switched off).
        tab.page.eval_on_selector("form.sign", "form => { form.noValidate = true; }")
        tab.page.fill("#id_name", "")
        tab.page.fill("#id_text", "no name given")
        with tab.navigation():
            tab.page.click("button[type=submit]")
        assert "This field is required." in tab.page.inner_text("#id_name_error")
        assert tab.page.get_attribute("#id_name", "aria-invalid") == "true"
        assert _computed(tab, ".errorlist", "list-style-type") == "none"
        found.add(tab.check(_label(host, "form-errors")))

        tab.open(host, "/no-such-page/", expect_status=404)
        assert tab.page.inner_text("h1") == "Page not found"
        found.add(tab.check(_label(host, "404")))
    return found


# ----------------------------------------------------------------------------------- polls


def tour_polls(browser: Browser, viewport: Viewport, sites: ExampleSites) -> Findings:
    found = Findings()
    host = sites.polls
    with browser.tabs(viewport) as tab:
        tab.open(host, "/")
        assert tab.page.inner_text("h1") == "Polls"
        _assert_icon(tab, "/favicon.ico")
        found.add(tab.check(_label(host, "index")))

        with tab.navigation():
            tab.page.click(".poll h2 a")
        found.add(tab.check(_label(host, "question")))

        tab.page.eval_on_selector("form.vote", "form => { form.noValidate = true; }")
        with tab.navigation():
            tab.page.click("button[type=submit]")
        assert "didn't select a choice" in tab.page.inner_text("[role=alert]")
        found.add(tab.check(_label(host, "no-choice")))

        with tab.navigation():
            tab.page.click("text=See the results")
        before = poll_results(tab.page.content())

        with tab.navigation():
            tab.page.click("text=Vote again")
        first = tab.page.locator(".choice label").first
        choice = first.inner_text().strip()
        first.click()  # the label selects its radio button
        assert tab.page.locator(".choice input").first.is_checked()
        with tab.navigation():
            tab.page.click("button[type=submit]")
        assert tab.page.url.endswith("/results/"), tab.page.url
        after = poll_results(tab.page.content())
        assert after[choice] == before[choice] + 1, (before, after)
        assert sum(after.values()) == sum(before.values()) + 1
        shares = tab.page.locator("td.share").all_inner_texts()
        assert all(re.fullmatch(r"\d{1,3}%", s) for s in shares), shares
        found.add(tab.check(_label(host, "results")))

        tab.open(host, "/999999/", expect_status=404)
        assert tab.page.inner_text("h1") == "Page not found"
        found.add(tab.check(_label(host, "404")))
    return found


# ------------------------------------------------------------------------------ 500 pages

# Django's configured 500 handler, called on the target itself: the page a failing view shows.
SERVER_ERROR_PY = (
    "import json; from django.test import RequestFactory; from django.urls import get_resolver; "
    "r = get_resolver().resolve_error_handler(500)(RequestFactory().get('/')); "
    "print(json.dumps({'status': r.status_code, 'body': r.content.decode()}))"
)


def server_error_command(site: str) -> list[str]:
    """The command that renders a deployed Django site's 500 page, run as its app user (its
    output's last line is JSON: status and body)."""
    manage = f"/srv/wsgi/{site}/bin/manage"
    return ["runuser", "-u", f"wsgi-{site}", "--", manage, "shell", "--no-imports", "-c"] + [
        SERVER_ERROR_PY
    ]


def parse_server_error(output: str) -> tuple[int, str]:
    answer = json.loads(output.strip().splitlines()[-1])
    return int(answer["status"]), str(answer["body"])


def tour_server_errors(
    browser: Browser,
    viewport: Viewport,
    sites: ExampleSites,
    render: Callable[[str], tuple[int, str]],
) -> Findings:
    """The 500 pages of the Django sites, as rendered by the deployed code (`render(site)`),
    shown by the browser as a page of that site: with the site's real stylesheets and icon."""
    found = Findings()
    with browser.tabs(viewport) as tab:
        for site, host in (("guestbook", sites.guestbook), ("polls", sites.polls)):
            status, body = render(site)
            assert status == 500, status
            # A page of the site (its 404 page), then the 500 page in its place.
            tab.open(host, "/a-page-that-failed/", expect_status=404)
            tab.replace_content(body)
            assert tab.page.inner_text("h1") == "Something went wrong"
            assert _computed(tab, "body", "overflow-wrap") == "anywhere"  # theme.css applies
            found.add(tab.check(_label(host, "500")))
    return found
