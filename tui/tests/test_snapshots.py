"""Snapshot tests (pytest-textual-snapshot) of the main screens at a fixed size.

Update the SVGs after an intended change with ``pytest tests/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from typing import Any

import pytest

from .snapshot_support import SCREENS, SIZE, make_app


@pytest.mark.parametrize("name", sorted(SCREENS))
def test_main_screen(name: str, snap_compare: Any) -> None:
    assert snap_compare(make_app(), run_before=SCREENS[name], terminal_size=SIZE)


def test_inventory_light_theme(snap_compare: Any) -> None:
    assert snap_compare(
        make_app(theme="textual-light"), run_before=SCREENS["inventory"], terminal_size=SIZE
    )
