"""Pilot tests (App.run_test) of each flow of the app."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from textual.command import CommandList
from textual.widgets import DataTable, Input, Static, Tree

from wsgi_console.app import WsgiConsole
from wsgi_console.events import RunAggregate
from wsgi_console.runspec import RunSpec
from wsgi_console.screens.history import HistoryScreen
from wsgi_console.screens.inventory import InventoryScreen
from wsgi_console.screens.live import HOST_ROWS_PER_TICK, LiveScreen
from wsgi_console.screens.run_setup import RunSetupScreen

from .conftest import BROKEN_INV, CANCEL_CUT_SHORT, PROD_INV, wait_for

SIZE = (140, 44)
AppFactory = Callable[..., WsgiConsole]


def tree_labels(app: WsgiConsole) -> list[str]:
    tree = app.screen.query_one("#inv-tree", Tree)
    out: list[str] = []

    def walk(node: Any) -> None:
        for child in node.children:
            out.append(child.label.plain)
            walk(child)

    walk(tree.root)
    return out


async def started(pilot: Any, app: WsgiConsole) -> None:
    await wait_for(pilot, lambda: app.inventory is not None)
    await pilot.pause()


async def finish(pilot: Any, app: WsgiConsole, run_id: str, timeout: float = 90) -> None:
    await wait_for(pilot, lambda: app.runs[run_id].finished is not None, timeout)
    await pilot.pause(0.2)


async def test_browse_inventory(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        assert isinstance(app.screen, InventoryScreen)
        labels = tree_labels(app)
        assert any(label.startswith("wsgi_servers") for label in labels)
        assert any(label.startswith("demo-web1") for label in labels)
        assert any(label.startswith("shop") for label in labels)
        # Highlighting a host shows its sites.
        tree = app.screen.query_one("#inv-tree", Tree)
        tree.focus()
        for _ in range(3):
            await pilot.press("down")
        await pilot.pause()
        table = app.screen.query_one("#sites", DataTable)
        assert table.row_count >= 1
        status = str(app.screen.query_one("#inv-status", Static).render())
        assert "3 hosts" in status


async def test_filter_box(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("slash")
        assert app.focused is app.screen.query_one("#filter", Input)
        await pilot.press(*"blog")
        await pilot.pause()
        labels = tree_labels(app)
        hosts = [lbl.split()[0] for lbl in labels if lbl.startswith("demo-")]
        assert hosts == ["demo-web2"]
        await pilot.press("escape")
        await pilot.pause()
        assert len([lbl for lbl in tree_labels(app) if lbl.startswith("demo-")]) == 3


async def test_select_targets_then_run_setup_preview(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        tree = app.screen.query_one("#inv-tree", Tree)
        tree.focus()
        # Move the cursor to the edge group and select it with s.
        line = next(
            i for i in range(50) if (n := tree.get_node_at_line(i)) and n.data == ("group", "edge")
        )
        tree.cursor_line = line
        await pilot.press("s")
        await pilot.pause()
        assert app.selected_targets == ["edge"]
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, RunSetupScreen)
        assert app.screen.query_one("#targets", Input).value == "edge"
        preview = str(app.screen.query_one("#preview", Static).render())
        assert "Target hosts (1)" in preview and "demo-edge1" in preview
        assert "--limit edge" in preview


async def test_extra_vars_validated_before_launch(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("n")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RunSetupScreen)
        screen.query_one("#extra", Input).value = "apache_listen_port=eighty"
        await pilot.pause()
        assert "expected int" in str(screen.query_one("#preview", Static).render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, RunSetupScreen), "launch refused"
        assert not app.runs
        screen.query_one("#extra", Input).value = "apache_listen_port=8080 db_password=zzzz9999"
        await pilot.pause()
        preview = str(screen.query_one("#preview", Static).render())
        assert "zzzz9999" not in preview and "********" in preview


async def test_launch_check_run_and_per_host_results(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        app.selected_targets[:] = ["web"]
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, LiveScreen)
        run_id = app.viewed_run
        assert run_id is not None
        await finish(pilot, app, run_id)
        state = app.runs[run_id]
        assert state.status == "successful"
        assert state.aggregate.matches_stats()
        await pilot.press("2")  # the Hosts tab
        await pilot.pause()
        hosts = app.screen.query_one("#hosts", DataTable)
        assert sorted(str(k.value) for k in hosts.rows) == ["demo-web1", "demo-web2"]
        summary = str(app.screen.query_one("#summary", Static).render())
        assert "successful" in summary and "hosts 2" in summary
        record = app.history.get_run(run_id)
        assert record is not None and record.mode == "check" and record.status == "successful"
        assert record.event_count == state.aggregate.event_count > 0
        tasks = app.screen.query_one("#tasks", DataTable)
        assert tasks.row_count >= 5


async def test_cancel_run_and_leaving_the_screen_keeps_it(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("n")
        await pilot.pause()
        app.screen.query_one("#extra", Input).value = "fixture_slow=true"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        run_id = app.viewed_run
        assert run_id is not None
        state = app.runs[run_id]
        await wait_for(
            pilot, lambda: any(t.name.startswith("Slow") for t in state.aggregate.tasks.values())
        )
        # Leaving the live screen does not stop the run.
        await pilot.press("i")
        await pilot.pause(0.5)
        assert isinstance(app.screen, InventoryScreen)
        assert state.running
        await pilot.press("l")
        await pilot.pause()
        asked = time.monotonic()
        await pilot.press("c")
        await wait_for(pilot, lambda: state.finished is not None, timeout=CANCEL_CUT_SHORT)
        print(f"the cancel took {time.monotonic() - asked:.2f} s")  # reported, not a timed test
        assert state.status == "canceled"
        record = app.history.get_run(run_id)
        assert record is not None and record.status == "canceled"


async def test_history_replay_and_relaunch_failed(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("n")
        await pilot.pause()
        app.screen.query_one("#extra", Input).value = "fixture_fail_host=demo-web2"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        run_id = app.viewed_run
        assert run_id is not None
        await finish(pilot, app, run_id)
        live = app.screen
        assert app.runs[run_id].status == "failed"
        failures = live.query_one("#failures", DataTable)
        assert failures.display and failures.row_count == 1
        assert "preflight failed on demo-web2" in str(failures.get_row_at(0)[2])
        # The tasks table shows failures first.
        first_task = live.query_one("#tasks", DataTable).get_row_at(0)
        assert "failed" in str(first_task[0])

        await pilot.press("h")
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)
        runs = app.screen.query_one("#runs", DataTable)
        assert runs.row_count == 1
        assert "1/3 hosts failed" in str(runs.get_row_at(0)[5])

        # Replay in the live view.
        del app.runs[run_id]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LiveScreen)
        replayed = app.runs[run_id]
        assert replayed.replay and replayed.aggregate.failed_hosts() == ["demo-web2"]
        assert "replay" in str(app.screen.query_one("#summary", Static).render())

        # Relaunch only failed/unreachable hosts.
        await pilot.press("h")
        await pilot.pause()
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, RunSetupScreen)
        assert app.screen.query_one("#targets", Input).value == "demo-web2"
        app.screen.query_one("#extra", Input).value = ""
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        new_id = app.viewed_run
        assert new_id != run_id
        await finish(pilot, app, new_id or "")
        assert set(app.runs[new_id or ""].aggregate.summary()) == {"demo-web2"}
        record = app.history.get_run(new_id or "")
        assert record is not None and record.parent_id == run_id
        assert record.note == "relaunch failed/unreachable"


async def test_check_to_apply_requires_production_confirmation(
    make_app: AppFactory,
) -> None:
    app = make_app(inventory=PROD_INV)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        assert app.inventory is not None and app.inventory.is_production
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        run_id = app.viewed_run or ""
        await finish(pilot, app, run_id)
        assert app.runs[run_id].status == "successful"
        await pilot.press("a")  # check → apply, from the live view
        await pilot.pause()
        setup = app.screen
        assert isinstance(setup, RunSetupScreen)
        assert setup.query_one("#mode-apply").value  # type: ignore[attr-defined]
        confirm = setup.query_one("#confirm", Input)
        assert confirm.display
        assert "PRODUCTION" in str(setup.query_one("#preview", Static).render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is setup, "apply refused without confirmation"
        confirm.value = "wrong"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is setup
        confirm.value = "production"
        await pilot.press("ctrl+s")
        await pilot.pause()
        apply_id = app.viewed_run or ""
        assert apply_id != run_id
        await finish(pilot, app, apply_id)
        record = app.history.get_run(apply_id)
        assert record is not None and record.mode == "apply" and record.parent_id == run_id
        # The matrix shows the successful deploy.
        await pilot.press("m")
        await pilot.pause()
        info = str(app.screen.query_one("#matrix-info", Static).render())
        assert "2/2 deployed" in info


async def test_inventory_error_is_shown_not_raised(make_app: AppFactory) -> None:
    app = make_app(inventory=BROKEN_INV)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        status = str(app.screen.query_one("#inv-status", Static).render())
        assert "Inventory error" in status


async def test_inventory_reloads_when_it_changes(make_app: AppFactory, tmp_path: Any) -> None:
    import shutil

    from .conftest import DEMO_INV

    inv = tmp_path / "inv"
    shutil.copytree(DEMO_INV, inv)
    app = make_app(inventory=inv, watch_inventory=True)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        first = app.inventory
        hosts = inv / "hosts.yml"
        hosts.write_text(hosts.read_text().replace("demo-edge1:", "demo-edge9:"))
        await wait_for(
            pilot, lambda: app.inventory is not first and app.inventory is not None, timeout=30
        )
        assert app.inventory is not None and "demo-edge9" in app.inventory.hosts
        assert any(lbl.startswith("demo-edge9") for lbl in tree_labels(app))


async def test_theme_toggle_and_command_palette(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        assert app.theme == "textual-dark"
        await pilot.press("t")
        assert app.theme == "textual-light"
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in ("New run", "History", "Deployment matrix", "Cancel run", "Inventory"):
            assert title in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"History")
        # The palette searches in a worker: Enter picks a command once one is highlighted.
        await wait_for(
            pilot,
            lambda: any(c.highlighted is not None for c in app.screen.query(CommandList)),
            10.0,
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), 10.0)


def big_run_events(hosts: list[str]) -> list[dict[str, Any]]:
    """One play, two tasks over ``hosts`` (the second fails on every 50th host), and the stats."""
    events: list[dict[str, Any]] = [
        {"event": "playbook_on_play_start", "event_data": {"play": "Big", "play_uuid": "p"}},
    ]
    for number in (1, 2):
        task = {"task": f"Task {number}", "task_uuid": f"t{number}"}
        base = {"play": "Big", "play_uuid": "p", **task}
        events.append({"event": "playbook_on_task_start", "event_data": base})
        for index, host in enumerate(hosts):
            if number == 2 and index % 50 == 0:
                data = {**base, "host": host, "res": {"msg": "boom"}}
                events.append({"event": "runner_on_failed", "event_data": data})
            else:
                data = {**base, "host": host, "res": {"changed": number == 1}}
                events.append({"event": "runner_on_ok", "event_data": data})
    stats = {
        "ok": {h: 2 - (i % 50 == 0) for i, h in enumerate(hosts)},
        "changed": {h: 1 for h in hosts},
        "failures": {h: 1 for i, h in enumerate(hosts) if i % 50 == 0},
        "processed": {h: 1 for h in hosts},
    }
    events.append({"event": "playbook_on_stats", "event_data": stats})
    return events


async def test_hosts_tab_of_a_big_run_fills_in_bounded_slices(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    hosts = [f"node{i:04d}" for i in range(15 * HOST_ROWS_PER_TICK + 17)]
    written: list[int] = []  # Hosts-table rows added by each UI tick's catch-up
    catch_up = LiveScreen.catch_up

    def counting_catch_up(screen: LiveScreen) -> bool:
        table = next(screen.query("#hosts").results(DataTable), None)
        before = table.row_count if table is not None else 0
        done = catch_up(screen)
        written.append((table.row_count if table is not None else 0) - before)
        return done

    monkeypatch.setattr(LiveScreen, "catch_up", counting_catch_up)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        spec = RunSpec(inventory=app.inventory_path, project_dir=app.project_dir, check=False)
        agg = RunAggregate()
        agg.add_many(big_run_events(hosts))
        app.history.start_run("big", spec, "demo", spec.command_line(), app.redactor())
        app.history.add_events("big", big_run_events(hosts), app.redactor(), 0)
        app.history.finish_run("big", "failed", 2, agg)
        app.replay("big")
        await pilot.pause()
        await pilot.press("2")
        table = app.screen.query_one("#hosts", DataTable)
        await wait_for(pilot, lambda: table.row_count == len(hosts), timeout=30)
        # A bounded slice of rows per tick (and one when the tab is activated): the UI stays
        # responsive while a big table fills.
        assert max(written) == HOST_ROWS_PER_TICK
        assert len([n for n in written if n]) >= len(hosts) // HOST_ROWS_PER_TICK - 2
        assert [str(key.value) for key in table.rows] == hosts  # in name order
        assert [str(c) for c in table.get_row("node0000")[2:5]] == ["1", "1", "1"]
        assert [str(c) for c in table.get_row("node0001")[2:5]] == ["2", "1", "0"]
        summary = str(app.screen.query_one("#summary", Static).render())
        failed = len(hosts[::50])
        assert f"hosts {len(hosts)}" in summary and f"failed={failed}" in summary
        assert f"{failed} host(s) failed" in summary
