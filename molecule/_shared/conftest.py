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
