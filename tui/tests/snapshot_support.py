"""Deterministic app instances for snapshot tests and README screenshots.

Fixtures are copied to a fixed path and the history is seeded with fixed ids and times, so the
rendered screens do not depend on the machine, the clock or the checkout location.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from wsgi_console.app import WsgiConsole
from wsgi_console.deployed import DeployedRecord, HostState, StatusReading, save_reading
from wsgi_console.events import RunAggregate
from wsgi_console.history import History
from wsgi_console.inventory import load_inventory
from wsgi_console.matrix import sites_for_run
from wsgi_console.redact import Redactor
from wsgi_console.runspec import Action, RunSpec

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
BASE = Path("/tmp/wsgi-console-snapshot")
SIZE = (130, 40)
# The widths the console is laid out for (issue 15): the narrowest and a wide terminal.
SIZES = {"130x40": SIZE, "100x30": (100, 30), "200x50": (200, 50)}
FAILED_RUN = "20260105-093000-c0ffee"
DEPLOY_RUN = "20260104-180000-d3ploy"
CHECK_RUN = "20260104-175500-cafe01"


def use_utc() -> None:
    os.environ["TZ"] = "UTC"
    time.tzset()


def prepare() -> tuple[Path, Path, Path]:
    """Copy fixtures to BASE and seed the history; returns (inventory, project, data dir)."""
    use_utc()
    if BASE.exists():
        shutil.rmtree(BASE)
    inventory = BASE / "inventory" / "demo"
    project = BASE / "project"
    data = BASE / "data"
    shutil.copytree(FIXTURES / "inventories" / "demo", inventory)
    shutil.copytree(FIXTURES / "project", project)
    data.mkdir(parents=True)
    seed_history(data, inventory, project)
    seed_reading(data, inventory)
    return inventory, project, data


def seed_reading(data: Path, inventory: Path) -> None:
    """A reading of the hosts' deployed-state records: one current, one drifted, one host
    without records, one host that did not answer."""

    def record(site: str, stack: str, mode: str | None, release: str) -> DeployedRecord:
        return DeployedRecord(
            site=site,
            state="present",
            stack=stack,
            mode=mode,
            release=release,
            deployed_at="2026-01-04T18:01:40Z",
            deployed_by="ops@bastion",
            run_id=DEPLOY_RUN,
        )

    reading = StatusReading(read_at=1767610000.0, status="failed")
    reading.hosts["demo-web1"] = HostState(
        "demo-web1",
        {
            "hello": record("hello", "apache_mod_wsgi", "daemon", "20260104-1801"),
            "shop": record("shop", "nginx_gunicorn", None, "20260104-1801"),
        },
    )
    reading.hosts["demo-web2"] = HostState(
        "demo-web2", {"blog": record("blog", "nginx_gunicorn", None, "20251220-0900")}
    )
    reading.hosts["demo-edge1"] = HostState("demo-edge1", error="unreachable: no route to host")
    save_reading(data, str(inventory.resolve()), reading)


def seed_history(data: Path, inventory: Path, project: Path) -> None:
    hist = History(data / "history.sqlite3")
    inv = load_inventory(inventory)
    red = Redactor(inv.secret_values)
    hosts = inv.target_hosts(None)

    def stats(fail: dict[str, int]) -> RunAggregate:
        agg = RunAggregate()
        agg.add(
            {
                "event": "playbook_on_stats",
                "event_data": {
                    "ok": {h: 9 for h in hosts},
                    "changed": {h: 3 for h in hosts},
                    "failures": fail,
                    "processed": {h: 1 for h in hosts},
                },
            }
        )
        return agg

    check = RunSpec(inventory=str(inventory), project_dir=str(project))
    hist.start_run(
        CHECK_RUN,
        check,
        inv.name,
        check.command_line(red),
        red,
        sites=sites_for_run(inv, check, hosts),
        user="ops",
        started=1767548100.0,
    )
    hist.finish_run(CHECK_RUN, "successful", 0, stats({}), finished=1767548160.0)

    apply = check.as_apply()
    hist.start_run(
        DEPLOY_RUN,
        apply,
        inv.name,
        apply.command_line(red),
        red,
        sites=sites_for_run(inv, apply, hosts),
        user="ops",
        started=1767549600.0,
        parent_id=CHECK_RUN,
        note="apply of check run",
    )
    hist.finish_run(DEPLOY_RUN, "failed", 2, stats({"demo-web2": 1}), finished=1767549700.0)

    failed = RunSpec(
        inventory=str(inventory),
        project_dir=str(project),
        action=Action.DEPLOY_SITES,
        sites=("hello",),
        targets=("web",),
        check=False,
    )
    hist.start_run(
        FAILED_RUN,
        failed,
        inv.name,
        failed.command_line(red),
        red,
        user="ops",
        started=1767605400.0,
    )
    events: list[dict[str, Any]] = json.loads((FIXTURES / "events" / "mixed.json").read_text())
    hist.add_events(FAILED_RUN, events, red, 0)
    agg = RunAggregate()
    agg.add_many(events)
    hist.finish_run(FAILED_RUN, "failed", 4, agg, finished=1767605460.0)
    hist.close()


def make_app(theme: str = "textual-dark") -> WsgiConsole:
    inventory, project, data = prepare()
    app = WsgiConsole(inventory, data_dir=data, project_dir=project, watch_inventory=False)
    app.engine.run_by = "ops@bastion"  # the preview shows wsgi_run_by: not this machine's
    app._initial_theme = theme  # type: ignore[attr-defined]
    return app


async def settle(pilot: Any) -> None:
    app = pilot.app
    deadline = time.monotonic() + 60
    while app.inventory is None and time.monotonic() < deadline:
        await pilot.pause(0.05)
    theme = getattr(app, "_initial_theme", None)
    if theme:
        app.theme = theme
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def show_inventory(pilot: Any) -> None:
    await settle(pilot)
    tree = pilot.app.screen.query_one("#inv-tree")
    tree.focus()
    for _ in range(3):
        await pilot.press("down")
    await pilot.pause()


async def show_run_setup(pilot: Any) -> None:
    await settle(pilot)
    pilot.app.selected_targets[:] = ["web"]
    await pilot.press("n")
    await pilot.pause()
    pilot.app.screen.query_one("#extra").value = "apache_listen_port=8080"
    await pilot.pause()


async def show_live_replay(pilot: Any) -> None:
    await settle(pilot)
    pilot.app.replay(FAILED_RUN)
    await pilot.pause()
    await pilot.pause()


async def show_history(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("h")
    await pilot.pause()


async def show_matrix(pilot: Any) -> None:
    await settle(pilot)
    await pilot.press("m")
    await pilot.pause()


SCREENS = {
    "inventory": show_inventory,
    "run_setup": show_run_setup,
    "live": show_live_replay,
    "history": show_history,
    "matrix": show_matrix,
}
