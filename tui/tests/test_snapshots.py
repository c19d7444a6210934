"""Snapshot tests (pytest-textual-snapshot) of the main screens at the sizes the console is
laid out for: 130x40 (the README screenshots), 100x30 and 200x50.

Update the SVGs after an intended change with ``pytest tests/test_snapshots.py --snapshot-update``
(and look at them: ``python docs/make_screenshots.py`` renders the README's from the same code).
"""

from __future__ import annotations

from typing import Any

import pytest

from .snapshot_support import SCREENS, SIZE, SIZES, make_app


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("name", sorted(SCREENS))
def test_main_screen(name: str, size: str, snap_compare: Any) -> None:
    assert snap_compare(make_app(), run_before=SCREENS[name], terminal_size=SIZES[size])


def test_inventory_light_theme(snap_compare: Any) -> None:
    assert snap_compare(
        make_app(theme="textual-light"), run_before=SCREENS["inventory"], terminal_size=SIZE
    )
