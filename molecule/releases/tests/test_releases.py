"""Releases on both stacks under a bounded load (4 clients per host looping requests for the whole
run, every answer and connection error counted): code, settings and requirements changes, a
rollback to the previous release and to a given id, releases that fail their health check, data
kept across releases, pruning, and a stack switch with its gap measured. The counts are printed
at the end of the run (conftest.py) and kept in $WSGI_TEST_LOGS/releases-report.txt."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import docker
import pytest
import yaml
from wsgi_testlib.flows import vote_once
from wsgi_testlib.load import Load
from wsgi_testlib.playbook import Run, run_playbook, write_inventory
from wsgi_testlib.web import Site, container_ip

APACHE = "wsgi-mol-releases-apache"
NGINX = "wsgi-mol-releases-nginx"
HOSTS = (APACHE, NGINX)
STACK = {APACHE: "apache_mod_wsgi", NGINX: "nginx_gunicorn"}
SCENARIO = Path(__file__).resolve().parents[1]
APPS = SCENARIO / "apps"
SECRETS = str(Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "secrets")
SITES: list[dict[str, Any]] = yaml.safe_load(
    (SCENARIO / "group_vars" / "wsgi_servers" / "sites.yml").read_text()
)["wsgi_sites"]
BEACON = "beacon.example.test"
REPORT: list[str] = []  # printed by conftest.py


def _exec(container: str, cmd: str) -> str:
    result = docker.from_env().containers.get(container).exec_run(["sh", "-c", cmd])
    return result.output.decode().strip()


def _beacon(container: str) -> str:
    resp = Site(container_ip(container), BEACON).wait_ok("/")
    assert resp.status_code == 200, resp.text[:300]
    return resp.text.strip()


def _record(container: str, site: str = "beacon") -> dict[str, Any]:
    return json.loads(_exec(container, f"cat /var/lib/wsgi-deploy/sites/{site}.json"))


def _releases(container: str, site: str = "beacon") -> list[str]:
    return _exec(container, f"ls /srv/wsgi/{site}/releases").split()


def _current(container: str, site: str = "beacon") -> str:
    return _exec(container, f"readlink /srv/wsgi/{site}/current").split("/")[-1]


class Apps:
    """A copy of the scenario's apps to change between deploys (the base dir of one inventory)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        shutil.copytree(APPS, root)

    def beacon(self, **assign: str) -> Apps:
        path = self.root / "beacon" / "beacon_app.py"
        text = path.read_text()
        for name, value in assign.items():
            text = re.sub(rf'^{name} = ".*"$', f'{name} = "{value}"', text, flags=re.M)
        path.write_text(text)
        return self

    def requirements(self, text: str) -> Apps:
        (self.root / "beacon" / "requirements.txt").write_text(text)
        return self


def _inventory(
    tmp_path: Path, apps: Apps, sites: list[dict[str, Any]] | None = None, **extra: Any
) -> Path:
    group_vars = {
        "wsgi_source_base_dir": str(apps.root),
        "wsgi_test_secrets_dir": SECRETS,
        "wsgi_keep_releases": 3,
        "wsgi_sites": copy.deepcopy(sites if sites is not None else SITES),
        **extra,
    }
    path = write_inventory(tmp_path / f"inv-{time.monotonic_ns()}.yml", list(HOSTS), group_vars)
    data = yaml.safe_load(path.read_text())
    for name, host in data["all"]["children"]["wsgi_servers"]["hosts"].items():
        host["wsgi_default_stack"] = STACK[name]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@contextmanager
def _loaded(
    case: str, hosts: tuple[str, ...] = HOSTS, ok: tuple[int, ...] = (200,)
) -> Iterator[dict[str, Load]]:
    """A bounded load on beacon on each host while the block runs; the counts are reported."""
    loads = {
        h: Load(f"http://{container_ip(h)}/", BEACON, clients=4, limit=900, ok=ok) for h in hosts
    }
    with ExitStack() as stack:
        for load in loads.values():
            stack.enter_context(load)
        time.sleep(1)
        yield loads
    for host, load in loads.items():
        REPORT.append(f"{case:58} {host.rsplit('-', 1)[-1]:6}: {load.summary()}")
        _write_report()


def _write_report() -> None:
    logs = os.environ.get("WSGI_TEST_LOGS") or os.environ.get("LOGS")
    if logs:
        Path(logs).mkdir(parents=True, exist_ok=True)
        (Path(logs) / "releases-report.txt").write_text("\n".join(REPORT) + "\n")


def _deploy(path: Path, *args: str) -> Run:
    return run_playbook("site.yml", path, *args)


def _rollback(path: Path, to: str | None = None, host: str | None = None) -> Run:
    args = ["-e", json.dumps({"wsgi_rollback_sites": ["beacon"]})]
    if to:
        args += ["-e", f"wsgi_rollback_to={to}"]
    if host:
        args += ["--limit", host]
    return run_playbook("playbooks/rollback.yml", path, *args)


# ---------------------------------------------------------------------------- the converged hosts


@pytest.mark.parametrize("container", HOSTS)
def test_the_release_list_is_on_the_host_and_in_the_record(container: str) -> None:
    record = _record(container)
    assert record["release"] == _current(container)
    assert [r["id"] for r in record["releases"]] == _releases(container)
    assert [r["current"] for r in record["releases"]].count(True) == 1
    assert _exec(container, "readlink /srv/wsgi/beacon/src") == "current/src"
    assert _beacon(container) == "beacon v1 setting=first extra=no"


def test_an_unchanged_run_builds_no_release(tmp_path: Path) -> None:
    before = {h: _releases(h) for h in HOSTS}
    run = _deploy(_inventory(tmp_path, Apps(tmp_path / "apps")))
    assert run.rc == 0, run.output[-3000:]
    assert all(c["changed"] == 0 for c in run.recap().values()), run.changed_tasks()
    assert {h: _releases(h) for h in HOSTS} == before


def test_check_mode_with_diff_changes_nothing(tmp_path: Path) -> None:
    apps = Apps(tmp_path / "apps").beacon(VERSION="v-check")
    before = {h: (_releases(h), _current(h)) for h in HOSTS}
    run = _deploy(_inventory(tmp_path, apps), "--check", "--diff")
    assert run.rc == 0, run.output[-3000:]
    assert all(c["changed"] > 0 for c in run.recap().values())  # it would build a release
    assert {h: (_releases(h), _current(h)) for h in HOSTS} == before


# ---------------------------------------------------------------------------- redeploys under load


def test_a_code_change_fails_no_request(tmp_path: Path) -> None:
    apps = Apps(tmp_path / "apps").beacon(VERSION="v2")
    pids = {
        APACHE: _exec(APACHE, "cat /run/apache2/apache2.pid"),
        NGINX: _exec(NGINX, "systemctl show -p MainPID --value gunicorn-beacon"),
    }
    with _loaded("code change (v1 -> v2)") as loads:
        run = _deploy(_inventory(tmp_path, apps))
    assert run.rc == 0, run.output[-3000:]
    for host, load in loads.items():
        assert not load.failed(), load.summary()
        assert _beacon(host) == "beacon v2 setting=first extra=no"
    # Only the site reloaded: no Apache restart, the same Gunicorn master (a HUP).
    assert _exec(APACHE, "cat /run/apache2/apache2.pid") == pids[APACHE]
    assert _exec(NGINX, "systemctl show -p MainPID --value gunicorn-beacon") == pids[NGINX]


def test_a_settings_change_fails_no_request(tmp_path: Path) -> None:
    apps = Apps(tmp_path / "apps").beacon(VERSION="v2")
    sites = copy.deepcopy(SITES)
    sites[0]["env"] = {"BEACON_SETTING": "second"}
    releases = {h: _releases(h) for h in HOSTS}
    with _loaded("settings change") as loads:
        run = _deploy(_inventory(tmp_path, apps, sites))
    assert run.rc == 0, run.output[-3000:]
    for host, load in loads.items():
        assert not load.failed(), load.summary()
        assert _beacon(host) == "beacon v2 setting=second extra=no"
        assert _releases(host) == releases[host]  # settings are not a release


def test_a_requirements_change_builds_a_new_venv_and_fails_no_request(tmp_path: Path) -> None:
    apps = Apps(tmp_path / "apps").beacon(VERSION="v2").requirements("six==1.16.0\n")
    sites = copy.deepcopy(SITES)
    sites[0]["env"] = {"BEACON_SETTING": "second"}
    venvs = {h: _exec(h, "ls /srv/wsgi/beacon/venvs").split() for h in HOSTS}
    with _loaded("requirements change (new virtualenv)") as loads:
        run = _deploy(_inventory(tmp_path, apps, sites))
    assert run.rc == 0, run.output[-3000:]
    for host, load in loads.items():
        assert not load.failed(), load.summary()
        assert _beacon(host) == "beacon v2 setting=second extra=yes"
        new = set(_exec(host, "ls /srv/wsgi/beacon/venvs").split()) - set(venvs[host])
        assert len(new) == 1, new
        assert _exec(host, "readlink /srv/wsgi/beacon/current/venv").endswith(new.pop())


def test_a_rollback_to_the_previous_release_fails_no_request(tmp_path: Path) -> None:
    sites = copy.deepcopy(SITES)
    sites[0]["env"] = {"BEACON_SETTING": "second"}
    path = _inventory(tmp_path, Apps(tmp_path / "apps"), sites)
    before = {h: _current(h) for h in HOSTS}
    with _loaded("rollback to the previous release") as loads:
        run = _rollback(path)
    assert run.rc == 0, run.output[-3000:]
    for host, load in loads.items():
        assert not load.failed(), load.summary()
        assert _beacon(host) == "beacon v2 setting=second extra=no"  # the release before six
        assert _current(host) < before[host]
        assert _record(host)["release"] == _current(host)


def test_a_rollback_to_a_given_release(tmp_path: Path) -> None:
    """Each host goes, in a run of its own, to ids of its own releases that `previous` would not
    pick: the newest one (after the current), then the oldest (two before it). The other host is
    left as it was. (Hosts built in the same second may have the same ids: ids are a UTC time and
    a hash of the code.)"""
    sites = copy.deepcopy(SITES)
    sites[0]["env"] = {"BEACON_SETTING": "second"}
    path = _inventory(tmp_path, Apps(tmp_path / "apps"), sites)
    wanted = {
        "newest": "beacon v2 setting=second extra=yes",  # the release that added six
        "oldest": "beacon v1 setting=second extra=no",
    }
    for host in HOSTS:
        (other,) = set(HOSTS) - {host}
        ids = [r["id"] for r in _record(host)["releases"]]
        assert len(ids) >= 3 and ids == _releases(host), ids
        assert _current(host) not in (ids[0], ids[-1]), ids
        for which, to in (("newest", ids[-1]), ("oldest", ids[0])):
            untouched = (_current(other), _record(other)["release"])
            with _loaded(f"rollback to a given release (the {which})", hosts=(host,)) as loads:
                run = _rollback(path, to=to, host=host)
            assert run.rc == 0, run.output[-3000:]
            assert not loads[host].failed(), loads[host].summary()
            assert _current(host) == to and _record(host)["release"] == to
            assert _beacon(host) == wanted[which]
            assert (_current(other), _record(other)["release"]) == untouched


# ---------------------------------------------------------------------------- failing releases


@pytest.mark.parametrize(
    ("failure", "seen"),
    [("import", "this release of beacon is broken on purpose"), ("500", "it answered 500")],
)
def test_a_release_that_fails_its_check_is_refused_before_it_serves(
    tmp_path: Path, failure: str, seen: str
) -> None:
    apps = Apps(tmp_path / "apps").beacon(VERSION="v-broken", FAILURE=failure)
    sites = copy.deepcopy(SITES)
    sites[0]["env"] = {"BEACON_SETTING": "second"}
    served = {h: _beacon(h) for h in HOSTS}
    current = {h: _current(h) for h in HOSTS}
    with _loaded(f"a release that fails ({failure}): refused") as loads:
        run = _deploy(_inventory(tmp_path, apps, sites))
    assert run.rc != 0
    flat = " ".join(run.output.split())
    assert "site 'beacon': the new release" in flat and "does not pass its health check" in flat
    assert seen in flat, flat[-3000:]
    assert "Nothing was switched: the current release keeps serving." in flat
    for host, load in loads.items():
        assert not load.failed(), load.summary()
        assert _beacon(host) == served[host]
        assert _current(host) == current[host]


def test_a_release_that_fails_only_through_its_server_is_rolled_back(tmp_path: Path) -> None:
    apps = Apps(tmp_path / "apps").beacon(VERSION="v-server", FAILURE="server")
    sites = copy.deepcopy(SITES)
    sites[0]["env"] = {"BEACON_SETTING": "second"}
    served = {h: _beacon(h) for h in HOSTS}
    current = {h: _current(h) for h in HOSTS}
    # The failing release serves until the check after the switch rolls it back: failures counted.
    with _loaded("a release that fails through its server: rolled back"):
        run = _deploy(_inventory(tmp_path, apps, sites))
    assert run.rc != 0
    flat = " ".join(run.output.split())
    assert "Not every site answers: site 'beacon'" in flat, flat[-3000:]
    assert "got HTTP 500" in flat
    for host in HOSTS:
        assert f"to {current[host]}, which answers again" in flat, flat[-3000:]
        assert _current(host) == current[host]
        assert _beacon(host) == served[host]
        assert _record(host)["release"] == current[host]


# ---------------------------------------------------------------------------- data, pruning


def _polls(container: str) -> Site:
    return Site(container_ip(container), "poll.example.org")


def test_data_and_migrations_across_releases(tmp_path: Path) -> None:
    """A vote survives new releases; a release adding a migration migrates before it serves; a
    rollback across it says so."""
    before = {h: vote_once(_polls(h))[1] for h in HOSTS}
    polls = tmp_path / "polls"
    shutil.copytree(Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "apps" / "polls", polls,
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    models = polls / "polls" / "models.py"
    note = "class Note(models.Model):\n    text = models.CharField(max_length=20, default='')\n"
    models.write_text(models.read_text().replace("class Choice(", f"{note}\n\nclass Choice(", 1))
    migrations = sorted((polls / "polls" / "migrations").glob("0*.py"))
    last = migrations[-1].stem
    (polls / "polls" / "migrations" / "9999_note.py").write_text(
        "from django.db import migrations, models\n\n\n"
        "class Migration(migrations.Migration):\n"
        f"    dependencies = [('polls', '{last}')]\n"
        "    operations = [migrations.CreateModel(name='Note', fields=[\n"
        "        ('id', models.BigAutoField(auto_created=True, primary_key=True,\n"
        "                                   serialize=False)),\n"
        "        ('text', models.CharField(default='', max_length=20))])]\n"
    )
    sites = copy.deepcopy(SITES)
    sites[0]["env"] = {"BEACON_SETTING": "second"}
    sites[1]["source"] = {"path": str(polls)}
    apps = Apps(tmp_path / "apps")
    run = _deploy(_inventory(tmp_path, apps, sites))
    assert run.rc == 0, run.output[-3000:]
    for host in HOSTS:
        assert vote_once(_polls(host))[0] == before[host]  # the votes are still there
        shown = _exec(
            host, "runuser -u wsgi-polls -- /srv/wsgi/polls/bin/manage showmigrations polls"
        )
        assert "[X] 9999_note" in shown, shown
    rolled = run_playbook(
        "playbooks/rollback.yml",
        _inventory(tmp_path, apps, sites),
        "-e",
        json.dumps({"wsgi_rollback_sites": ["polls"]}),
    )
    assert rolled.rc == 0, rolled.output[-3000:]
    assert "crossing the migrations applied by" in " ".join(rolled.output.split())
    for host in HOSTS:
        assert _polls(host).get("/").status_code == 200  # the older code on the newer schema


def test_pruning_keeps_the_newest_releases(tmp_path: Path) -> None:
    sites = copy.deepcopy(SITES)
    sites[0]["env"] = {"BEACON_SETTING": "second"}
    for version in ("v5", "v6", "v7"):
        run = _deploy(
            _inventory(tmp_path, Apps(tmp_path / f"apps-{version}").beacon(VERSION=version), sites)
        )
        assert run.rc == 0, run.output[-3000:]
    for host in HOSTS:
        kept = _releases(host)
        # keep_releases 3, plus the previous one when it is older (never needed here).
        assert len(kept) <= 4, kept
        assert _current(host) == kept[-1]
        assert _beacon(host) == "beacon v7 setting=second extra=no"
        assert [r["id"] for r in _record(host)["releases"]] == kept


# ---------------------------------------------------------------------------- a stack switch


@pytest.mark.parametrize(("host", "to"), [(APACHE, "nginx_gunicorn"), (APACHE, "apache_mod_wsgi")])
def test_a_stack_switch_hands_port_80_over_with_a_short_gap(
    tmp_path: Path, host: str, to: str
) -> None:
    sites = copy.deepcopy(SITES)
    sites[0]["env"] = {"BEACON_SETTING": "second"}
    apps = Apps(tmp_path / "apps").beacon(VERSION="v7")
    path = _inventory(tmp_path, apps, sites)
    data = yaml.safe_load(path.read_text())
    data["all"]["children"]["wsgi_servers"]["hosts"] = {
        host: {**data["all"]["children"]["wsgi_servers"]["hosts"][host], "wsgi_default_stack": to}
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with _loaded(f"stack switch to {to}", hosts=(host,)) as loads:
        run = _deploy(path)
    assert run.rc == 0, run.output[-3000:]
    failed = loads[host].failed()
    gap = (
        (max(s.start + s.seconds for s in failed) - min(s.start for s in failed)) if failed else 0.0
    )
    REPORT.append(
        f"{'  gap while port 80 changes hands':58} {host.rsplit('-', 1)[-1]:6}: {gap:.2f} s"
    )
    _write_report()
    assert _beacon(host) == "beacon v7 setting=second extra=no"
    assert _record(host)["stack"] == to
