"""Shared fixtures: fixture inventories/project, a fresh data dir, an app factory."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

TUI = Path(__file__).resolve().parents[1]
if str(TUI) not in sys.path:  # running from the repo root without `pip install -e tui`
    sys.path.insert(0, str(TUI))

from wsgi_console.app import WsgiConsole  # noqa: E402

FIXTURES = TUI / "tests" / "fixtures"
EVENTS = FIXTURES / "events"
DEMO_INV = FIXTURES / "inventories" / "demo"
PROD_INV = FIXTURES / "inventories" / "production"
BROKEN_INV = FIXTURES / "inventories" / "broken"
# The fixture project's slow task sleeps 30 s: a cancelled run that ends within this many seconds
# was cut short by the cancel (what a cancel test asserts; its time is printed, not asserted).
CANCEL_CUT_SHORT = 15.0
PROJECT = FIXTURES / "project"


def load_events(name: str) -> list[dict[str, Any]]:
    return json.loads((EVENTS / f"{name}.json").read_text())


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def make_app(data_dir: Path) -> Callable[..., WsgiConsole]:
    def factory(inventory: Path = DEMO_INV, **kwargs: Any) -> WsgiConsole:
        kwargs.setdefault("data_dir", data_dir)
        kwargs.setdefault("project_dir", PROJECT)
        kwargs.setdefault("watch_inventory", False)
        return WsgiConsole(inventory, **kwargs)

    return factory


async def wait_for(pilot: Any, condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Let the app run until ``condition()`` holds (or fail after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)
