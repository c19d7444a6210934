"""Screenshots of the example apps for the README (docs/screenshots/), from a deployed target.

    .venv/bin/python scripts/app_screenshots.py wsgi-demo-apache      # after `make demo`

Opens the pages with the browser tests' machinery (Debian's Chromium, the sites' real names
mapped to the container's address) at 1280 and 375 px, and fails on any console error, failed
request or horizontal scroll, like the tests. Only looks: it posts and votes nothing, so the
pages show whatever the target holds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "tests"))

from wsgi_testlib.app_pages import ExampleSites  # noqa: E402
from wsgi_testlib.browser import DESKTOP, MOBILE, Browser, Findings, Origin  # noqa: E402
from wsgi_testlib.web import container_ip  # noqa: E402


def take(browser: Browser, sites: ExampleSites) -> Findings:
    found = Findings()
    for viewport in (DESKTOP, MOBILE):
        with browser.tabs(viewport) as tab:
            tab.open(sites.guestbook, "/")
            found.add(tab.check("guestbook"))  # the whole page: the messages too
            tab.open(sites.polls, "/")
            with tab.navigation():
                tab.page.click(".poll-meta a")  # the first poll's results
            found.add(tab.check("polls-results", full_page=False))
            if viewport is DESKTOP:
                tab.open(sites.hello, sites.hello_path)
                found.add(tab.check("hello", full_page=False))
            else:
                tab.open(sites.polls, "/42/", expect_status=404)
                found.add(tab.check("not-found", full_page=False))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("container", help="a deployed target, e.g. wsgi-demo-apache")
    parser.add_argument("--out", type=Path, default=PROJECT / "docs" / "screenshots")
    args = parser.parse_args()
    sites = ExampleSites()
    origin = Origin(container_ip(args.container))
    with Browser(origin, sites.names, artifacts=args.out) as browser:
        found = take(browser, sites)
    for check in found.checks:
        print(check.screenshot or "-", str(check))
    return 1 if found.problems else 0


if __name__ == "__main__":
    sys.exit(main())
