"""Integration: a real apply of the collection's site.yml, launched from the app, against a real
target: a throwaway systemd container this test starts (and always removes).

It runs in the normal test suite whenever a Docker engine answers and the image
``wsgi-systemd:bookworm`` exists (``scripts/containers.sh images``), and is skipped with the
reason otherwise; ``WSGI_TUI_INTEGRATION=0`` skips it on purpose.

Why an apply and not a check run: on a fresh host a check run skips or fakes most of the
deployment, while an apply of one plain WSGI site (about 90 s: packages, Apache, mod_wsgi, the
site) produces real ``changed`` results and handlers, and ends with a site that answers, so
what the live view shows is compared with a playbook that really did something.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from textual.widgets import DataTable, RadioButton, Static

from wsgi_console.app import WsgiConsole
from wsgi_console.screens.history import HistoryScreen
from wsgi_console.screens.live import LiveScreen
from wsgi_console.screens.run_setup import RunSetupScreen

from .conftest import wait_for
from .docker_target import docker_client, systemd_target

REPO = Path(__file__).resolve().parents[2]
HOST = "tui-it-target"
RUN_TIMEOUT = 300  # seconds; the apply takes about 90 s on an idle 2-core machine
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
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, RunSetupScreen)
        app.screen.query_one("#mode-apply", RadioButton).value = True
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, LiveScreen)
        run_id = app.viewed_run or ""
        state = app.runs[run_id]
        assert state.spec.mode == "apply" and state.spec.playbook == "site.yml"
        await wait_for(pilot, lambda: state.finished is not None, timeout=RUN_TIMEOUT)
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

    # And the deployment is real: the site answers on the target.
    answer = target.exec_run(
        ["curl", "-sS", "-H", "Host: departamentos.centro.intranet", "http://127.0.0.1/test/"]
    )
    body = answer.output.decode(errors="replace")
    assert answer.exit_code == 0 and "Hello World!" in body and "SCRIPT_NAME=/test" in body, body
