"""A site's long-running processes and scheduled job on both stacks: they run (their heartbeats
advance) as the site's user in its current release, sandboxed, with their arguments passed on
unchanged; a redeploy with new code restarts the processes and the job runs the new code; a
rollback restarts them in the older release; a process or timer taken out of the list loses its
units (the others keep running untouched); an absent site loses every unit. The tests run in
order on the converged hosts (molecule converge, idempotence, verify)."""

from __future__ import annotations

import base64
import copy
import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import docker
import pytest
import yaml
from wsgi_testlib.playbook import (
    JSON_CALLBACK,
    Run,
    json_report,
    run_playbook,
    run_playbook_until,
    write_inventory,
)
from wsgi_testlib.web import Site, container_ip

APACHE = "wsgi-mol-workers-apache"
NGINX = "wsgi-mol-workers-nginx"
HOSTS = (APACHE, NGINX)
STACK = {APACHE: "apache_mod_wsgi", NGINX: "nginx_gunicorn"}
SCENARIO = Path(__file__).resolve().parents[1]
SITES: list[dict[str, Any]] = yaml.safe_load(
    (SCENARIO / "group_vars" / "wsgi_servers" / "sites.yml").read_text()
)["wsgi_sites"]
DATA = "/srv/wsgi/pulse/data"
UNITS = "/etc/systemd/system"
TAG = '50% $HOME "q" \\ ;'  # what the worker's last argument is once shlex split it


def _exec(container: str, cmd: str) -> tuple[int, str]:
    result = docker.from_env().containers.get(container).exec_run(["sh", "-c", cmd])
    return result.exit_code, result.output.decode().strip()


def _out(container: str, cmd: str) -> str:
    return _exec(container, cmd)[1]


def _beat(container: str, name: str) -> dict[str, Any] | None:
    rc, out = _exec(container, f"cat {DATA}/{name}.json")
    return json.loads(out) if rc == 0 and out else None


def _current(container: str) -> str:
    return _out(container, "readlink /srv/wsgi/pulse/current").split("/")[-1]


def _wait_beat(container: str, name: str, test: Any, seconds: float = 60) -> dict[str, Any]:  # noqa: ANN401
    """The heartbeat of `name` once `test(beat)` holds (it fails after `seconds`)."""
    deadline = time.monotonic() + seconds
    beat = _beat(container, name)
    while not (beat and test(beat)):
        assert time.monotonic() < deadline, f"{container} {name}: last heartbeat {beat}"
        time.sleep(0.5)
        beat = _beat(container, name)
    return beat


def _main_pid(container: str, unit: str) -> str:
    return _out(container, f"systemctl show -p MainPID --value {unit}")


def _pulse_units(container: str) -> list[str]:
    return sorted(_out(container, f"cd {UNITS} && ls -1 wsgi-pulse-* 2>/dev/null").split())


def _apps(root: Path, version: str) -> Path:
    shutil.copytree(SCENARIO / "apps", root)
    path = root / "pulse" / "pulse_app.py"
    path.write_text(
        re.sub(r'^VERSION = ".*"$', f'VERSION = "{version}"', path.read_text(), flags=re.M)
    )
    return root


def _inventory(tmp_path: Path, apps: Path, sites: list[dict[str, Any]]) -> Path:
    path = write_inventory(
        tmp_path / f"inv-{time.monotonic_ns()}.yml",
        list(HOSTS),
        {"wsgi_source_base_dir": str(apps), "wsgi_sites": sites},
    )
    data = yaml.safe_load(path.read_text())
    for name, host in data["all"]["children"]["wsgi_servers"]["hosts"].items():
        host["wsgi_default_stack"] = STACK[name]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _deploy(
    tmp_path: Path,
    version: str,
    sites: list[dict[str, Any]] | None = None,
    *args: str,
    ok: bool = True,
) -> Run:
    apps = _apps(tmp_path / f"apps-{time.monotonic_ns()}", version)
    inventory = _inventory(tmp_path, apps, copy.deepcopy(SITES if sites is None else sites))
    run = run_playbook("site.yml", inventory, *args)
    if ok:
        assert run.rc == 0, run.output[-4000:]
    return run


# ------------------------------------------------------------------------ the converged hosts


@pytest.mark.parametrize("container", HOSTS)
def test_the_processes_and_the_job_run_as_the_site_user_in_the_current_release(
    container: str,
) -> None:
    release = _current(container)
    for name in ("worker", "second", "job"):
        first = _wait_beat(container, name, lambda b: True)
        later = _wait_beat(container, name, lambda b, n=first["n"]: b["n"] > n)  # it advances
        assert later["user"] == "wsgi-pulse", later
        assert later["release"] == release, later
        assert later["version"] == "v1", later
        # ProtectSystem=strict: the processes write only into the site's data (and media) dir.
        assert later["etc_read_only"] is True, later
        assert later["srv_read_only"] is True, later
        assert later["data_read_only"] is False, later
    assert _beat(container, "worker")["args"] == ["worker", "--tag", TAG]
    assert _beat(container, "job")["args"] == ["job"]
    assert _beat(container, "job")["pid"] != _beat(container, "worker")["pid"]
    for unit in ("wsgi-pulse-worker.service", "wsgi-pulse-second.service", "wsgi-pulse-job.timer"):
        assert _out(container, f"systemctl is-enabled {unit}") == "enabled", unit
        assert _out(container, f"systemctl is-active {unit}") == "active", unit
    assert _out(container, "systemctl show -p User --value wsgi-pulse-worker") == "wsgi-pulse"
    assert Site(container_ip(container), "pulse.example.test").wait_ok("/").text == "pulse v1\n"


def test_the_status_playbook_reports_the_units_and_the_records_name_them(tmp_path: Path) -> None:
    inventory = _inventory(tmp_path, _apps(tmp_path / "apps", "v1"), copy.deepcopy(SITES))
    run = run_playbook("playbooks/status.yml", inventory, env=JSON_CALLBACK)
    assert run.rc == 0, run.output[-3000:]
    report = json_report(run.output)
    task = report["plays"][0]["tasks"][-1]
    for host in HOSTS:
        state = task["hosts"][host]["msg"]["wsgi_deployed_state"]
        assert state["units"] == {
            "wsgi-pulse-job.service": state["units"]["wsgi-pulse-job.service"],  # dead or running
            # The job runs every 5 s: its timer is "running" while the job it started runs.
            "wsgi-pulse-job.timer": state["units"]["wsgi-pulse-job.timer"],
            "wsgi-pulse-second.service": "active/running",
            "wsgi-pulse-worker.service": "active/running",
        }, state["units"]
        assert state["units"]["wsgi-pulse-job.timer"] in ("active/waiting", "active/running")
        assert state["units"]["wsgi-pulse-job.service"] in (
            "inactive/dead",
            "active/running",
            "activating/start",
        ), state["units"]
        (record,) = [json.loads(base64.b64decode(c)) for c in state["records"]]
        assert record["services"] == {
            "processes": ["worker", "second"],
            "timers": {"job": "*:*:0/5"},
        }


def test_a_redeploy_with_new_code_restarts_the_processes_and_the_job_runs_it(
    tmp_path: Path,
) -> None:
    before = {h: (_current(h), _beat(h, "worker")["pid"], _beat(h, "second")["pid"]) for h in HOSTS}
    _deploy(tmp_path, "v2")
    for host in HOSTS:
        release = _current(host)
        assert release != before[host][0]
        worker = _wait_beat(host, "worker", lambda b: b["version"] == "v2")
        assert worker["pid"] != before[host][1]
        assert worker["release"] == release
        assert str(worker["pid"]) == _main_pid(host, "wsgi-pulse-worker.service")
        second = _wait_beat(host, "second", lambda b: b["version"] == "v2")
        assert second["pid"] != before[host][2]
        job = _wait_beat(host, "job", lambda b: b["version"] == "v2")
        assert job["release"] == release


def test_a_rollback_restarts_the_processes_in_the_previous_release(tmp_path: Path) -> None:
    apps = _apps(tmp_path / "apps", "v2")
    inventory = _inventory(tmp_path, apps, copy.deepcopy(SITES))
    before = {h: (_current(h), _beat(h, "worker")["pid"]) for h in HOSTS}
    run = run_playbook(
        "playbooks/rollback.yml", inventory, "-e", json.dumps({"wsgi_rollback_sites": ["pulse"]})
    )
    assert run.rc == 0, run.output[-4000:]
    for host in HOSTS:
        release = _current(host)
        assert release != before[host][0]
        worker = _wait_beat(host, "worker", lambda b: b["version"] == "v1")
        assert worker["pid"] != before[host][1]
        assert worker["release"] == release
        _wait_beat(host, "job", lambda b, r=release: b["version"] == "v1" and b["release"] == r)


def test_a_changed_unit_a_killed_run_did_not_restart_restarts_on_the_next_run(
    tmp_path: Path,
) -> None:
    """The run that writes the new command of `second` is killed before it restarts anything:
    the next run (nothing left to write) restarts it from the deployed-state record, and only it."""
    sites = copy.deepcopy(SITES)
    sites[0]["processes"]["second"]["run"] = ["python", "pulse_worker.py", "second", "healed"]
    apps = _apps(tmp_path / "apps", "v1")  # the code the rollback left running: no new release
    inventory = _inventory(tmp_path, apps, sites)
    pids = {
        h: (_main_pid(h, "wsgi-pulse-second.service"), _main_pid(h, "wsgi-pulse-worker.service"))
        for h in HOSTS
    }
    killed = run_playbook_until(
        "site.yml", inventory, "wsgi_workers : Start the processes and timers"
    )
    assert killed.rc == -9, killed.output[-3000:]
    for host in HOSTS:
        assert "healed" in _out(host, f"cat {UNITS}/wsgi-pulse-second.service")
        assert _main_pid(host, "wsgi-pulse-second.service") == pids[host][0]
        assert _beat(host, "second")["args"] == ["second"]
    run = run_playbook("site.yml", inventory)
    assert run.rc == 0, run.output[-4000:]
    for host in HOSTS:
        beat = _wait_beat(host, "second", lambda b: b["args"] == ["second", "healed"])
        assert str(beat["pid"]) == _main_pid(host, "wsgi-pulse-second.service") != pids[host][0]
        assert _main_pid(host, "wsgi-pulse-worker.service") == pids[host][1]
    again = run_playbook("site.yml", inventory)
    assert again.rc == 0 and all(c["changed"] == 0 for c in again.recap().values()), (
        again.changed_tasks()
    )


def test_a_process_and_a_timer_taken_out_of_the_list_lose_their_units(tmp_path: Path) -> None:
    sites = copy.deepcopy(SITES)
    del sites[0]["processes"]["second"]
    sites[0]["timers"] = {}
    pids = {h: _main_pid(h, "wsgi-pulse-worker.service") for h in HOSTS}
    every = [
        f"wsgi-pulse-{u}" for u in ("job.service", "job.timer", "second.service", "worker.service")
    ]
    # Check mode says what would go, and changes nothing.
    check = _deploy(tmp_path, "v1", sites, "--check", "--diff")
    assert "wsgi-pulse-second.service" in check.output
    for host in HOSTS:
        assert _pulse_units(host) == every
        assert _out(host, "systemctl is-active wsgi-pulse-second wsgi-pulse-job.timer").split() == [
            "active",
            "active",
        ]
    # The code the rollback left running (v1): no new release, so the worker is not restarted.
    _deploy(tmp_path, "v1", sites)
    for host in HOSTS:
        assert _pulse_units(host) == ["wsgi-pulse-worker.service"]
        for unit in ("wsgi-pulse-second.service", "wsgi-pulse-job.timer", "wsgi-pulse-job.service"):
            assert _out(host, f"systemctl is-active {unit}") != "active", unit
        assert "wsgi-pulse-job" not in _out(host, "systemctl list-timers --all --no-pager")
        wants = _out(host, "ls /etc/systemd/system/*.wants/")
        assert "wsgi-pulse-second" not in wants and "wsgi-pulse-job" not in wants, wants
        assert _main_pid(host, "wsgi-pulse-worker.service") == pids[host]
        n = _beat(host, "second")["n"]
        time.sleep(2.5)
        assert _beat(host, "second")["n"] == n  # it no longer runs


def test_a_unit_systemd_rejects_is_not_applied(tmp_path: Path) -> None:
    """A calendar expression the controller's check lets through but systemd cannot parse: the
    unit check (systemd-analyze verify) refuses it, nothing changes, the worker keeps running."""
    sites = copy.deepcopy(SITES)
    del sites[0]["processes"]["second"]
    sites[0]["timers"] = {
        "job": {"run": ["python", "pulse_job.py", "job"], "on_calendar": "Mon..Fro 9:00"}
    }
    pids = {h: _main_pid(h, "wsgi-pulse-worker.service") for h in HOSTS}
    run = _deploy(tmp_path, "v1", sites, ok=False)
    assert run.rc != 0
    assert "Failed to parse calendar specification" in run.output, run.output[-3000:]
    for host in HOSTS:
        assert run.recap()[host]["failed"] == 1
        assert _pulse_units(host) == ["wsgi-pulse-worker.service"]
        assert _main_pid(host, "wsgi-pulse-worker.service") == pids[host]


def test_an_absent_site_loses_every_unit_and_process(tmp_path: Path) -> None:
    sites = copy.deepcopy(SITES)
    sites[0]["state"] = "absent"
    _deploy(tmp_path, "v1", sites)
    for host in HOSTS:
        assert _pulse_units(host) == []
        assert _exec(host, "pgrep -u wsgi-pulse")[0] == 1, _out(host, "ps -ef")
        assert not _out(host, "ls /etc/systemd/system/*.wants/ | grep wsgi-pulse || true")
