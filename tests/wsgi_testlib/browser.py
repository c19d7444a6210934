"""A real browser for the tests: Debian's Chromium (headless), driven by Playwright.

One `Browser` reaches a set of site names on one target address: Chromium resolves each name to
that address itself (`--host-resolver-rules`), so every request carries the site's real Host
header, and sub-resources (stylesheets, icons) are fetched from the same site as they would be
for a visitor. A `Tab` is one page at one viewport size; it records every console error, page
error and failed request (network failures and HTTP errors) from the moment it opens, and
`Tab.check()` measures the page in front of it: the document's width against the viewport's,
the errors since the previous check, accessibility basics (lang, viewport meta, title, one h1,
labelled form controls, alt texts), and a screenshot kept as a test artifact.

Scheme, port and CA are parameters of `Origin`, so HTTPS with a test CA works the same way: the
CA goes into a throwaway NSS database that only this browser uses.

Never downloads a browser (no `playwright install`): Chromium comes from Debian's packages
(`apt-get install chromium`, see scripts/system-deps.sh).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from playwright.sync_api import Browser as PlaywrightBrowser
from playwright.sync_api import (
    BrowserContext,
    ConsoleMessage,
    Frame,
    Page,
    Playwright,
    Request,
    Response,
    sync_playwright,
)

PROJECT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("WSGI_CHROMIUM", "/usr/bin/chromium"))
# Headless in a container or CI: no sandbox (root), no GPU, and nothing the browser would fetch
# on its own (component updates, sync, safe browsing lists): the only traffic is the test's.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
)


@dataclass(frozen=True)
class Viewport:
    name: str
    width: int
    height: int


DESKTOP = Viewport("desktop", 1280, 800)
MOBILE = Viewport("mobile", 375, 812)
NARROW = Viewport("narrow", 320, 640)  # the narrowest phones still in use
VIEWPORTS = (DESKTOP, MOBILE, NARROW)


def screenshots_dir() -> Path:
    """Where screenshots are kept: $WSGI_TEST_LOGS/screenshots, else .test-logs/screenshots."""
    logs = os.environ.get("WSGI_TEST_LOGS")
    return (Path(logs) if logs else PROJECT / ".test-logs") / "screenshots"


@dataclass(frozen=True)
class Origin:
    """Where the sites are: every site name resolves to `address`."""

    address: str
    scheme: str = "http"
    port: int | None = None  # None: the scheme's default port
    ca_cert: Path | None = None  # PEM of a CA to trust (HTTPS with a test CA)

    def url(self, host: str, path: str = "/") -> str:
        default = {"http": 80, "https": 443}.get(self.scheme)
        port = "" if self.port in (None, default) else f":{self.port}"
        return f"{self.scheme}://{host}{port}{path}"


@dataclass
class PageCheck:
    """What `Tab.check()` found on one page."""

    label: str
    url: str
    status: int | None
    title: str
    document_width: int
    viewport_width: int
    console_errors: list[str]
    failed_requests: list[str]
    overflowing: list[str]  # elements reaching past the viewport's right edge
    accessibility: list[str]  # missing basics: lang, viewport, title, one h1, labels, alt texts
    screenshot: Path | None

    @property
    def problems(self) -> list[str]:
        found = [f"console error: {e}" for e in self.console_errors]
        found += [f"failed request: {r}" for r in self.failed_requests]
        found += [f"accessibility: {a}" for a in self.accessibility]
        if self.document_width > self.viewport_width:
            found.append(
                f"scrolls horizontally: document {self.document_width} px wide in a "
                f"{self.viewport_width} px viewport (too wide: {', '.join(self.overflowing)})"
            )
        return found

    def __str__(self) -> str:
        where = f"{self.label} ({self.url}, HTTP {self.status})"
        if not self.problems:
            return f"{where}: ok"
        return f"{where}:\n  " + "\n  ".join(self.problems)


# Runs in the page: the layout numbers and, when the page is too wide, the culprits.
_MEASURE_JS = """() => {
  const root = document.documentElement;
  const body = document.body || root;  // an image or SVG document has no body
  const limit = root.clientWidth;
  const culprits = [];
  if (Math.max(root.scrollWidth, body.scrollWidth) > limit) {
    // Elements whose box or content reaches past the right edge; the innermost ones only.
    const right = el => {
      const box = el.getBoundingClientRect();
      return Math.max(box.right, box.left + el.scrollWidth);
    };
    const wide = [...body.querySelectorAll('*')].filter(el => right(el) > limit + 0.5);
    for (const el of wide.filter(el => !wide.some(other => other !== el && el.contains(other)))) {
      const cls = el.className && typeof el.className === 'string'
        ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
      culprits.push(`${el.tagName.toLowerCase()}${cls} (right edge ${Math.round(right(el))})`);
      if (culprits.length === 5) break;
    }
  }
  // Accessibility basics of an HTML page.
  const a11y = [];
  if (document.contentType === 'text/html') {
    if (!root.getAttribute('lang')) a11y.push('no lang attribute on <html>');
    if (!document.querySelector('meta[name=viewport]')) a11y.push('no viewport meta');
    if (!document.title.trim()) a11y.push('no <title>');
    const h1 = document.querySelectorAll('h1').length;
    if (h1 !== 1) a11y.push(`${h1} <h1> elements, not one`);
    const controls = 'input:not([type=hidden]), select, textarea';
    for (const el of document.querySelectorAll(controls)) {
      if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label')) {
        a11y.push(`${el.tagName.toLowerCase()} ${el.name || el.id || ''} has no label`);
      }
    }
    for (const img of document.querySelectorAll('img:not([alt])')) {
      a11y.push(`img ${img.getAttribute('src')} has no alt`);
    }
  }
  return {width: Math.max(root.scrollWidth, body.scrollWidth), viewport: limit, culprits, a11y};
}"""

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class Tab:
    """One page at one viewport, recording console errors and failed requests as they happen."""

    def __init__(self, browser: Browser, context: BrowserContext, viewport: Viewport) -> None:
        self.browser = browser
        self.viewport = viewport
        self.context = context
        self.page: Page = context.new_page()
        self.status: int | None = None
        self._console: list[str] = []
        self._failed: list[str] = []
        # Requests the browser cancelled (net::ERR_ABORTED), with the number of main-frame
        # navigations when they started: one the tab navigated away from (a favicon or a fetch
        # of the previous page still in flight) is the browser's doing, not a failure; the
        # others are failed requests (decided at check time, once the navigation committed).
        self._navigations = 0
        self._started: dict[int, int] = {}
        self._aborted: list[tuple[int, str]] = []
        # Documents that are meant to answer with an error status (a 404 page): url -> status.
        self._expected: dict[str, int] = {}
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self._console.append(f"uncaught {error}"))
        self.page.on("requestfailed", self._on_request_failed)
        self.page.on("response", self._on_response)
        self.page.on("request", self._on_request)
        self.page.on("requestfinished", lambda request: self._started.pop(id(request), None))
        self.page.on("framenavigated", self._on_navigated)

    # -- recording

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        where = message.location.get("url", "")
        # Chromium logs "Failed to load resource: the server responded with a status of 404"
        # for every error response, also for a document that is meant to be one.
        if where in self._expected and message.text.startswith("Failed to load resource"):
            return
        self._console.append(f"{message.text} ({where})" if where else message.text)

    def _on_request(self, request: Request) -> None:
        self._started[id(request)] = self._navigations

    def _on_navigated(self, frame: Frame) -> None:
        if frame == self.page.main_frame:
            self._navigations += 1

    def _on_request_failed(self, request: Request) -> None:
        failure = f"{request.method} {request.url}: {request.failure}"
        started = self._started.pop(id(request), self._navigations)
        if request.failure == "net::ERR_ABORTED" and not request.is_navigation_request():
            self._aborted.append((started, failure))
        else:
            self._failed.append(failure)

    def _on_response(self, response: Response) -> None:
        request = response.request
        if request.is_navigation_request() and request.frame == self.page.main_frame:
            self.status = response.status
        if response.status < 400:
            return
        if self._expected.get(response.url) == response.status and request.is_navigation_request():
            return
        self._failed.append(f"{request.method} {response.url}: HTTP {response.status}")

    # -- navigating

    def url(self, host: str, path: str = "/") -> str:
        return self.browser.origin.url(host, path)

    def open(self, host: str, path: str = "/", *, expect_status: int = 200) -> Response | None:
        """Load a page and wait until it and its sub-resources are loaded."""
        url = self.url(host, path)
        if expect_status >= 400:
            self._expected[url] = expect_status
        response = self.page.goto(url, wait_until="load")
        assert response is not None, f"no response for {url}"
        self.status = response.status
        assert response.status == expect_status, (
            f"{url}: HTTP {response.status}, expected {expect_status}"
        )
        return response

    def replace_content(self, body: str) -> None:
        """Put `body` in place of the document in front of the tab, keeping its URL and origin:
        its stylesheets, images and links load from the site as if the site had sent it (for a
        page a test cannot make the server show, e.g. its 500 page, rendered elsewhere).

        The document stays the one the site sent (a fulfilled request would be a document from
        nowhere, which Chromium's private network checks forbid to load from the site)."""
        self.page.set_content(body, wait_until="load")

    @contextmanager
    def navigation(self, expect_status: int = 200) -> Iterator[None]:
        """Wrap an action that loads a new page (a click on a link or a submit button)."""
        with self.page.expect_navigation(wait_until="load") as info:
            yield
        response = info.value
        assert response is not None
        self.status = response.status
        assert response.status == expect_status, (
            f"{response.url}: HTTP {response.status}, expected {expect_status}"
        )

    # -- checking

    def check(self, label: str, *, full_page: bool = True, screenshot: bool = True) -> PageCheck:
        """Measure the page in front of the tab, screenshot it (the whole page, or what the
        viewport shows), and hand over what was recorded since the previous check (the records
        start afresh)."""
        measured: dict[str, Any] = self.page.evaluate(_MEASURE_JS)
        self._failed += [f for started, f in self._aborted if started == self._navigations]
        self._aborted = []
        shot = self.browser.screenshot_path(f"{label}-{self.viewport.name}") if screenshot else None
        if shot is not None:
            self.page.screenshot(path=str(shot), full_page=full_page)
        result = PageCheck(
            label=label,
            url=self.page.url,
            status=self.status,
            title=self.page.title(),
            document_width=int(measured["width"]),
            viewport_width=int(measured["viewport"]),
            console_errors=self._console,
            failed_requests=self._failed,
            overflowing=list(measured["culprits"]),
            accessibility=list(measured["a11y"]),
            screenshot=shot,
        )
        self._console, self._failed = [], []
        return result

    def close(self) -> None:
        self.context.close()


# One Playwright driver per process, shared by every Browser (the sync API allows one per thread).
_driver: Playwright | None = None
_driver_users = 0


def _acquire_driver() -> Playwright:
    global _driver, _driver_users
    if _driver is None:
        _driver = sync_playwright().start()
    _driver_users += 1
    return _driver


def _release_driver() -> None:
    global _driver, _driver_users
    _driver_users -= 1
    if _driver_users == 0 and _driver is not None:
        _driver.stop()
        _driver = None


class Browser:
    """Headless Chromium that resolves the given site names to `origin.address`.

    Use as a context manager; `tab(viewport)` opens a page. Screenshots go to `artifacts`
    (default: `screenshots_dir()`), none are kept with `screenshots=False`. Any other name
    fails to resolve: a page can only reach the sites under test.
    """

    def __init__(
        self,
        origin: Origin,
        names: Iterable[str],
        *,
        artifacts: Path | None = None,
        screenshots: bool = True,
        executable: Path = CHROMIUM,
    ) -> None:
        self.origin = origin
        self.names = sorted(set(names))
        self.artifacts: Path | None = (artifacts or screenshots_dir()) if screenshots else None
        self.executable = executable
        self._playwright: Playwright | None = None
        self._browser: PlaywrightBrowser | None = None
        self._home: tempfile.TemporaryDirectory[str] | None = None

    # -- lifecycle

    def __enter__(self) -> Browser:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        if not self.executable.exists():
            raise FileNotFoundError(
                f"{self.executable} not found: apt-get install chromium (scripts/system-deps.sh)"
            )
        if self.artifacts is not None:
            self.artifacts.mkdir(parents=True, exist_ok=True)
        # A HOME of its own: Chromium's NSS database (the trusted CA, if any) and caches stay
        # out of the user's, and every run starts from nothing.
        self._home = tempfile.TemporaryDirectory(prefix="wsgi-browser-")
        if self.origin.ca_cert is not None:
            trust_ca(Path(self._home.name), self.origin.ca_cert)
        rules = [f"MAP {name} {self.origin.address}" for name in self.names]
        rules.append("MAP * ~NOTFOUND")
        args = [*CHROMIUM_ARGS, f"--host-resolver-rules={', '.join(rules)}"]
        self._playwright = _acquire_driver()
        self._browser = self._playwright.chromium.launch(
            executable_path=str(self.executable),
            args=args,
            env={**os.environ, "HOME": self._home.name},
        )

    def close(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._browser = None
        if self._playwright is not None:
            _release_driver()
            self._playwright = None
        if self._home is not None:
            self._home.cleanup()
            self._home = None

    # -- pages

    def tab(self, viewport: Viewport) -> Tab:
        assert self._browser is not None, "Browser not started"
        context = self._browser.new_context(
            viewport={"width": viewport.width, "height": viewport.height},
            is_mobile=viewport.width < 600,
            has_touch=viewport.width < 600,
            device_scale_factor=1,
            locale="en-US",
            timezone_id="UTC",
        )
        context.set_default_timeout(30_000)
        return Tab(self, context, viewport)

    @contextmanager
    def tabs(self, viewport: Viewport) -> Iterator[Tab]:
        tab = self.tab(viewport)
        try:
            yield tab
        finally:
            tab.close()

    def screenshot_path(self, name: str) -> Path | None:
        if self.artifacts is None:
            return None
        return self.artifacts / f"{_UNSAFE_NAME.sub('_', name)}.png"


def trust_ca(home: Path, ca_cert: Path) -> None:
    """Make `ca_cert` a trusted root for a Chromium whose HOME is `home` (its NSS database,
    `~/.pki/nssdb`; certutil is in Debian's libnss3-tools)."""
    certutil = shutil.which("certutil")
    if certutil is None:
        raise FileNotFoundError("certutil not found: apt-get install libnss3-tools")
    db = home / ".pki" / "nssdb"
    db.mkdir(parents=True)
    subprocess.run([certutil, "-d", f"sql:{db}", "-N", "--empty-password"], check=True)
    subprocess.run(
        [certutil, "-d", f"sql:{db}", "-A", "-t", "C,,", "-n", "wsgi-test-ca", "-i", str(ca_cert)],
        check=True,
    )


@dataclass
class Findings:
    """Checks collected over a tour, to fail once with every problem listed."""

    checks: list[PageCheck] = field(default_factory=list)

    def add(self, check: PageCheck) -> PageCheck:
        self.checks.append(check)
        return check

    @property
    def problems(self) -> list[str]:
        return [str(c) for c in self.checks if c.problems]

    def assert_clean(self) -> None:
        assert self.checks, "no page was checked"
        assert not self.problems, "\n".join(self.problems)
