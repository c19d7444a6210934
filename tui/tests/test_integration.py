"""Integration: a real apply of the collection's site.yml, launched from the app, against a real
target: a throwaway systemd container this test starts (and always removes).

It runs in the normal test suite whenever a Docker engine answers and the image
``wsgi-systemd:bookworm`` exists (``scripts/containers.sh images``), and is skipped with the
reason otherwise; ``WSGI_TUI_INTEGRATION=0`` skips it on purpose.

Why an apply and not a check run: on a fresh host a check run skips or fakes most of the
deployment, while an apply of one plain WSGI site (about 90 s: packages, Apache, mod_wsgi, the
site) produces real ``changed`` results and handlers, and ends with a site that answers, so
what the live view shows is compared with a playbook that really did something.

Then, on the same target: the deployment matrix reads the deployed-state records from the host
(playbooks/status.yml through ansible-runner), and a second apply is cancelled in the middle of
its deploy play (the run, the host and the task in flight end up cancelled, the host is offered
for "relaunch unfinished").

Time budget: a run (the first apply, the second one up to its deploy play, the cancel) fails
only when it stops making progress (no event for STALL_TIMEOUT seconds), not after a fixed time,
so a slow machine gives a slow run, not a red one; RUN_LIMIT is only a last resort against a
hung run. Whether the cancel cut the run short is read from the run (cancelled, no recap), not
from how long it took.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from textual.widgets import DataTable, Input, Static

from wsgi_console.app import WsgiConsole
from wsgi_console.runs import RunState
from wsgi_console.screens.history import HistoryScreen
from wsgi_console.screens.live import LiveScreen
from wsgi_console.screens.matrix import MatrixScreen
from wsgi_console.screens.run_setup import RunSetupScreen
from wsgi_console.screens.widgets import MarkedRadioButton

from .conftest import wait_for
from .docker_target import docker_client, systemd_target

REPO = Path(__file__).resolve().parents[2]
HOST = "tui-it-target"
STALL_TIMEOUT = 300  # seconds without any event: the run is stuck (the slowest task: apt)
RUN_LIMIT = 3600  # seconds: a last resort (the apply takes about 90 s on an idle machine)
RECORDS = "/var/lib/wsgi-deploy/sites"
# The playbook_on_stats keys, in the order of the live view's Hosts columns.
STATS_COLUMNS = {
    "ok": "ok",
    "changed": "changed",
    "failures": "failed",
    "dark": "unreachable",
    "skipped": "skipped",
    "rescued": "rescued",
    "ignored": "ignored",
}

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def target() -> Iterator[Any]:
    if os.environ.get("WSGI_TUI_INTEGRATION") == "0":
        pytest.skip("WSGI_TUI_INTEGRATION=0")
    client, reason = docker_client()
    if client is None:
        pytest.skip(f"integration test needs Docker: {reason}")
    try:
        with systemd_target(client) as container:
            yield container
    finally:
        client.close()


def write_inventory(directory: Path, container_name: str) -> Path:
    """One host (the container, through the Docker connection) serving one plain WSGI site."""
    inventory = directory / "inventory"
    inventory.mkdir()
    hosts = {
        "all": {
            "children": {
                "wsgi_servers": {
                    "hosts": {
                        HOST: {
                            "ansible_connection": "community.docker.docker",
                            "ansible_host": container_name,
                            "ansible_user": "root",
                        }
                    },
                    "vars": {
                        "wsgi_source_base_dir": str(REPO / "apps"),
                        "wsgi_sites": [
                            {
                                "name": "hello",
                                "domain": "departamentos.centro.intranet",
                                "path": "/test",
                                "source": {"path": "hello"},
                                "entry": "hello.wsgi",
                            }
                        ],
                    },
                }
            }
        }
    }
    (inventory / "hosts.yml").write_text(yaml.safe_dump(hosts, sort_keys=False))
    return inventory


async def wait_for_run(pilot: Any, state: RunState) -> None:
    """Until the run ends; fails only if it stops making progress (see the module doc)."""
    await wait_for_progress(pilot, state, lambda: state.finished is not None)


async def wait_for_progress(pilot: Any, state: RunState, done: Callable[[], bool]) -> None:
    """Until ``done()``; fails only if the run stops making progress (see the module doc)."""
    started = last_change = time.monotonic()
    seen = -1
    while not done():
        count = state.aggregate.event_count
        now = time.monotonic()
        if count != seen:
            seen, last_change = count, now
        assert now - last_change < STALL_TIMEOUT, f"no event for {STALL_TIMEOUT} s:\n" + "\n".join(
            state.aggregate.log[-30:]
        )
        assert now - started < RUN_LIMIT, f"run still going after {RUN_LIMIT} s"
        await pilot.pause(0.2)


async def launch_apply(pilot: Any, app: WsgiConsole) -> RunState:
    await pilot.press("n")
    await pilot.pause()
    assert isinstance(app.screen, RunSetupScreen)
    app.screen.query_one("#mode-apply", MarkedRadioButton).value = True
    await pilot.pause()
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert isinstance(app.screen, LiveScreen)
    return app.runs[app.viewed_run or ""]


def playbook_stats(events: Iterable[dict[str, Any]]) -> dict[str, list[int]]:
    """Per host, the playbook's own recap (its playbook_on_stats event), in STATS_COLUMNS order."""
    stats = [e["event_data"] for e in events if e.get("event") == "playbook_on_stats"]
    assert len(stats) == 1, "the run has no (or several) playbook_on_stats event(s)"
    data = stats[0]
    hosts = set(data.get("processed") or {})
    for key in STATS_COLUMNS:
        hosts |= set(data.get(key) or {})
    return {
        host: [int((data.get(key) or {}).get(host, 0)) for key in STATS_COLUMNS] for host in hosts
    }


async def test_apply_of_site_yml_from_the_app_against_a_real_target(
    target: Any, make_app: Callable[..., WsgiConsole], tmp_path: Path
) -> None:
    assert (REPO / "site.yml").is_file(), "the collection's site.yml is missing"
    inventory = write_inventory(tmp_path, target.name)
    app = make_app(inventory=inventory, project_dir=REPO)
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_for(pilot, lambda: app.inventory is not None, timeout=120)
        assert app.inventory is not None and app.inventory.ok, app.inventory.errors
        assert app.inventory.target_hosts(None) == [HOST]

        # Run setup: the full site.yml on the one host, as an apply; launch.
        app.selected_targets[:] = [HOST]
        state = await launch_apply(pilot, app)
        run_id = state.run_id
        assert state.spec.mode == "apply" and state.spec.playbook == "site.yml"
        await wait_for_run(pilot, state)
        await pilot.pause(0.3)
        log_tail = "\n".join(state.aggregate.log[-60:])
        assert state.status == "successful" and state.rc == 0, log_tail

        # The playbook's own recap, from the runner's events as stored for this run.
        stats = playbook_stats(app.history.iter_events(run_id))
        assert set(stats) == {HOST}, stats
        expected = stats[HOST]
        ok, changed, failed, unreachable = expected[:4]
        assert ok > 0 and changed > 0 and failed == 0 and unreachable == 0, expected

        # What the live screen shows: the summary line and the host's row in the Hosts tab.
        summary = str(app.screen.query_one("#summary", Static).render())
        assert "finished: successful" in summary and "apply" in summary, summary
        assert "hosts 1" in summary and f"ok={ok}" in summary, summary
        assert f"changed={changed}" in summary and "failed=0" in summary, summary
        assert "unreachable=0" in summary and "stats ✔" in summary, summary
        await pilot.press("2")
        hosts = app.screen.query_one("#hosts", DataTable)
        await wait_for(pilot, lambda: hosts.row_count == 1, timeout=10)
        row = hosts.get_row(HOST)
        assert str(row[0]) == HOST
        assert "changed" in str(row[1])  # the host's worst status: no failure
        assert [int(str(cell)) for cell in row[2:9]] == expected

        # The run is in the history, with the same per-host results.
        record = app.history.get_run(run_id)
        assert record is not None and record.status == "successful" and record.mode == "apply"
        assert {h: list(t.as_dict().values()) for h, t in record.hosts.items()} == stats
        await pilot.press("h")
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)
        runs = app.screen.query_one("#runs", DataTable)
        assert runs.row_count == 1
        assert "successful (1 hosts)" in " ".join(str(cell) for cell in runs.get_row_at(0))
        # The playbooks got the run's id and operator (they record them on the host).
        assert f'"wsgi_run_id":"{run_id}"' in record.command, record.command

        # And the deployment is real: the site answers on the target.
        answer = target.exec_run(
            ["curl", "-sS", "-H", "Host: departamentos.centro.intranet", "http://127.0.0.1/test/"]
        )
        body = answer.output.decode(errors="replace")
        assert answer.exit_code == 0 and "Hello World!" in body, body
        assert "SCRIPT_NAME=/test" in body, body

        await check_matrix_reads_the_host(pilot, app, target, run_id)
        await check_cancel_mid_apply(pilot, app)


async def check_matrix_reads_the_host(
    pilot: Any, app: WsgiConsole, target: Any, run_id: str
) -> None:
    """The matrix runs playbooks/status.yml on the target and shows its records.

    A record for a site the inventory does not know is written into the container here (the
    reading side is tested whether or not the playbooks already write records); hello's own
    record, when the playbooks wrote one, must name the apply's run.
    """
    legacy = {
        "schema": 1,
        "site": "legacy",
        "state": "present",
        "stack": "apache_mod_wsgi",
        "mode": "daemon",
        "release": "20251101-0800",
        "deployed_at": "2025-11-01T08:00:00Z",
        "deployed_by": "ops@old-controller",
        "run_id": "20251101-080000-0ld0ld",
        "a_key_from_the_future": [1, 2, 3],
    }
    script = (
        f"mkdir -p {RECORDS} && cat > {RECORDS}/legacy.json && chmod 0644 {RECORDS}/legacy.json"
    )
    wrote = target.exec_run(["sh", "-c", f"echo '{json.dumps(legacy)}' | ({script})"])
    assert wrote.exit_code == 0, wrote.output
    await pilot.press("m")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, MatrixScreen)
    await pilot.press("r")
    await pilot.pause()
    await wait_for(pilot, lambda: not screen.reading_in_progress, timeout=STALL_TIMEOUT)
    await pilot.pause(0.3)
    reading = screen.reading
    assert reading is not None and reading.error is None, reading and reading.error
    host = reading.hosts[HOST]
    assert host.error is None, host.error
    assert host.records["legacy"].release == "20251101-0800"
    assert host.records["legacy"].deployed_by == "ops@old-controller"
    table = screen.query_one("#matrix", DataTable)
    row = [str(cell) for cell in table.get_row(HOST)]
    columns = [str(c.label) for c in table.ordered_columns]
    legacy_cell = row[columns.index("legacy")]
    assert "20251101-0800" in legacy_cell and "≠ not in the inventory" in legacy_cell, row
    hello_cell = row[columns.index("hello")]
    hello = host.records.get("hello")
    if hello is not None:  # the playbooks write records: it names this console's run
        assert hello.run_id == run_id and hello.stack == "apache_mod_wsgi", hello
        assert "≠" not in hello_cell, hello_cell
    else:  # not yet: the matrix says the host has no record of it
        assert "≠ not on the host (no record)" in hello_cell, hello_cell
    info = str(screen.query_one("#matrix-info", Static).render())
    assert "1/1 answered" in info, info


async def check_cancel_mid_apply(pilot: Any, app: WsgiConsole) -> None:
    """A second apply, cancelled while its deploy play runs: closed off as cancelled."""
    state = await launch_apply(pilot, app)

    def deploying() -> bool:
        agg = state.aggregate
        for task in agg.tasks.values():
            play = agg.plays.get(task.play_key)
            if play is not None and play.name.startswith("Deploy") and task.results:
                return True
        assert state.finished is None, "the apply ended before its deploy play was reached"
        return False

    # Progress-based, like the first apply: preflight and the roles before the deploy play take
    # what the machine makes them take.
    await wait_for_progress(pilot, state, deploying)
    in_flight = {t.key for t in state.aggregate.tasks.values() if "running" in t.counts()}
    asked = time.monotonic()
    await pilot.press("c")
    await wait_for_run(pilot, state)
    took = time.monotonic() - asked
    await pilot.pause(0.3)
    # That the cancel cut the run short is what the run shows (cancelled, no recap), not a
    # time limit, which a loaded machine would break.
    print(f"the cancel took {took:.1f} s")
    assert state.status == "canceled", state.status
    agg = state.aggregate
    assert agg.closed == "cancelled" and agg.stats is None
    assert agg.host_outcome(HOST) == "cancelled"
    for key in in_flight:  # the task in flight when c was pressed, if it was still running
        result = agg.tasks[key].results[HOST]
        assert result.status != "running", (agg.tasks[key].name, result.status)
    await pilot.press("2")
    hosts = app.screen.query_one("#hosts", DataTable)
    await wait_for(pilot, lambda: hosts.row_count == 1, timeout=10)
    assert str(hosts.get_row(HOST)[1]) == "⊘ cancelled"
    record = app.history.get_run(state.run_id)
    assert record is not None and record.status == "canceled"
    assert record.outcomes == {HOST: "cancelled"} and record.unfinished_hosts() == [HOST]
    assert "1/1 hosts unfinished" in record.result
    await pilot.press("u")
    await pilot.pause()
    assert isinstance(app.screen, RunSetupScreen)
    assert app.screen.query_one("#targets", Input).value == HOST
    await pilot.press("escape")
    await pilot.pause()
