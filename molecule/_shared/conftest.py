"""Shared by every scenario's tests: puts tests/ (wsgi_testlib) on the path, and fixtures."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))

from wsgi_testlib.web import Site, target_address  # noqa: E402


@pytest.fixture
def address(host) -> str:  # noqa: ANN001 - testinfra's host fixture
    return target_address(host)


@pytest.fixture
def site(address: str) -> Callable[[str], Site]:
    def make(domain: str) -> Site:
        return Site(address, domain)

    return make


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001 - pytest's reporter
    """The reports some scenarios print at the end: every bad-input kind tried with its verdict
    and message (safety, test_1_hostile_input), fault recovery (safety, test_3_faults), requests
    served and failed through each kind of redeploy (releases, test_releases)."""
    report = getattr(sys.modules.get("test_1_hostile_input"), "REPORT", None)
    if report:
        terminalreporter.section(f"bad input: {len(report)} kinds tried")
        for number, (kind, verdict, message) in enumerate(report, 1):
            terminalreporter.write_line(f"{number:3}. {kind}")
            terminalreporter.write_line(f"     {verdict}: {message[:300]}")
    faults = getattr(sys.modules.get("test_3_faults"), "FAULT_REPORT", None)
    if faults:
        terminalreporter.section("fault recovery under load (4 clients)")
        for line in faults:
            terminalreporter.write_line(line)
    tls = getattr(sys.modules.get("test_tls"), "REPORT", None)
    if tls:
        terminalreporter.section("certificate renewal under load (4 clients over HTTPS)")
        for line in tls:
            terminalreporter.write_line(line)
    releases = getattr(sys.modules.get("test_releases"), "REPORT", None)
    if releases:
        terminalreporter.section("redeploys under load (4 clients per host)")
        for line in releases:
            terminalreporter.write_line(line)
