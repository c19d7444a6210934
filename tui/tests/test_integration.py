"""Integration: a real run of the collection's site.yml from the app against a real target.

Skipped unless WSGI_TUI_INTEGRATION is set. CI is expected to start the demo target first
(``scripts/containers.sh demo-up``). Optional: WSGI_TUI_INTEGRATION_INVENTORY (default
``inventory/demo``) and WSGI_TUI_INTEGRATION_HOST (default: the first host of wsgi_servers).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from wsgi_console.app import WsgiConsole
from wsgi_console.screens.live import LiveScreen

from .conftest import wait_for

REPO = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not os.environ.get("WSGI_TUI_INTEGRATION"),
        reason="set WSGI_TUI_INTEGRATION=1 (after scripts/containers.sh demo-up) to run",
    ),
]


async def test_check_run_of_site_yml_against_demo_target(
    make_app: Callable[..., WsgiConsole],
) -> None:
    inventory = REPO / os.environ.get("WSGI_TUI_INTEGRATION_INVENTORY", "inventory/demo")
    assert (REPO / "site.yml").is_file(), "the collection's site.yml is missing"
    app = make_app(inventory=inventory, project_dir=REPO)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_for(pilot, lambda: app.inventory is not None, timeout=120)
        assert app.inventory is not None and app.inventory.ok, app.inventory.errors
        hosts = app.inventory.target_hosts(None)
        assert hosts, "no host in wsgi_servers"
        host = os.environ.get("WSGI_TUI_INTEGRATION_HOST", hosts[0])
        app.selected_targets[:] = [host]
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("ctrl+s")  # check + diff is the default mode
        await pilot.pause()
        assert isinstance(app.screen, LiveScreen)
        run_id = app.viewed_run or ""
        await wait_for(pilot, lambda: app.runs[run_id].finished is not None, timeout=1200)
        await pilot.pause(0.3)
        state = app.runs[run_id]
        agg = state.aggregate
        assert agg.stats is not None, agg.errors
        assert agg.matches_stats()
        assert set(agg.summary()) == {host}
        totals = agg.summary()[host]
        assert totals.unreachable == 0 and totals.ok > 0
        await pilot.press("2")
        await pilot.pause()
        table = app.screen.query_one("#hosts", DataTable)
        row = table.get_row(host)
        assert [str(c) for c in row[2:7]] == [
            str(totals.ok),
            str(totals.changed),
            str(totals.failed),
            str(totals.unreachable),
            str(totals.skipped),
        ]
        summary = str(app.screen.query_one("#summary", Static).render())
        assert f"ok={totals.ok}" in summary
        record = app.history.get_run(run_id)
        assert record is not None and record.hosts[host] == totals
