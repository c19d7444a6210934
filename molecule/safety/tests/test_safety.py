"""Failure safety and bad input: a config Apache rejects never takes the working sites down, and
invalid site definitions are refused before anything changes on any host."""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest
import yaml
from wsgi_testlib.playbook import Run, run_playbook, write_inventory
from wsgi_testlib.web import Site, container_ip

LIVE = "wsgi-mol-safety-live"
FRESH = "wsgi-mol-safety-fresh"
SCENARIO = Path(__file__).resolve().parents[1]
APPS = str(Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "apps")
SITES: list[dict[str, Any]] = yaml.safe_load(
    (SCENARIO / "group_vars" / "wsgi_servers" / "sites.yml").read_text()
)["wsgi_sites"]
# What a deployment may touch; fingerprinted before and after each refused run.
_DIRS = "/etc/apache2 /srv/wsgi /etc/wsgi-sites"
STATE_CMD = (
    "cat /etc/hosts; dpkg-query -W -f='${Package} ${Status}\\n' apache2 2>&1; "
    f"find {_DIRS} -xdev -printf '%p %m %u %s\\n' 2>/dev/null | sort; "
    f"find {_DIRS} -xdev -type f -exec md5sum {{}} + 2>/dev/null | sort; "
    "getent passwd | cut -d: -f1 | sort; cat /run/apache2/apache2.pid 2>/dev/null; true"
)


def _exec(container: str, cmd: str) -> tuple[int, str]:
    result = docker.from_env().containers.get(container).exec_run(["sh", "-c", cmd])
    return result.exit_code, result.output.decode()


def _state(container: str) -> str:
    return _exec(container, STATE_CMD)[1]


def _hello(container: str) -> str:
    resp = Site(container_ip(container), "departamentos.centro.intranet").get("/test")
    assert resp.status_code == 200, resp.text[:300]
    return resp.text


def _deploy(inventory: Path, *args: str) -> Run:
    return run_playbook("site.yml", inventory, *args)


def _inventory(tmp_path: Path, sites: list[dict[str, Any]], hosts: list[str], **extra: Any) -> Path:
    group_vars = {"wsgi_source_base_dir": APPS, "wsgi_sites": sites, **extra}
    return write_inventory(tmp_path / "inventory.yml", hosts, group_vars)


# ---------------------------------------------------------------------------- failure safety


def test_embedded_mode_is_restricted_when_every_site_runs_in_daemon_mode(host) -> None:  # noqa: ANN001
    if host.backend.get_hostname() != LIVE:
        pytest.skip("only the live host is deployed to")
    conf = host.file("/etc/apache2/conf-available/wsgi-sites.conf").content_string
    assert "WSGIRestrictEmbedded On" in conf
    assert "ServerTokens Prod" in conf


def test_config_apache_rejects_fails_the_play_and_keeps_the_old_sites(tmp_path: Path) -> None:
    hello_before = _hello(LIVE)
    vhost = "/etc/apache2/sites-available/hello.conf"
    _, vhost_before = _exec(LIVE, f"cat {vhost}")
    _, pid_before = _exec(LIVE, "cat /run/apache2/apache2.pid")
    sites = copy.deepcopy(SITES)
    sites[0]["mod_wsgi"] = {"extra": ["NotADirective on"]}
    sites.append(
        {
            "name": "newcomer",
            "domain": "newcomer.example.test",
            "source": {"path": "hello"},
            "entry": "hello.wsgi",
            "mod_wsgi": {"extra": ["AlsoNotADirective 1"]},
        }
    )

    run = _deploy(_inventory(tmp_path, sites, [LIVE]))

    assert run.rc != 0
    assert "apache2ctl configtest" in run.output or "configtest" in run.output
    assert "Invalid command 'NotADirective'" in run.output, run.output[-3000:]
    assert "previous configuration was restored" in run.output, run.output[-3000:]
    # Apache still serves the previous sites, from the previous config, without a restart.
    assert _hello(LIVE) == hello_before
    assert Site(container_ip(LIVE), "second.example.test").get("/").status_code == 200
    assert _exec(LIVE, f"cat {vhost}")[1] == vhost_before
    assert _exec(LIVE, "cat /run/apache2/apache2.pid")[1] == pid_before
    rc, listing = _exec(LIVE, "ls -a /etc/apache2/sites-available /etc/apache2/sites-enabled")
    assert "newcomer" not in listing, listing
    assert "~" not in listing and ".bak" not in listing, listing
    assert _exec(LIVE, "apache2ctl configtest")[0] == 0


def test_the_next_good_run_finds_apache_exactly_as_before(tmp_path: Path) -> None:
    """The rescue restored the config exactly: the next good run has nothing to change in Apache
    (only the refused newcomer's /etc/hosts entry, written before the deploy, is taken out)."""
    run = _deploy(_inventory(tmp_path, SITES, [LIVE]))
    assert run.rc == 0, run.output[-3000:]
    changed = run.changed_tasks()
    assert changed in ([], ["wsgi.deploy.wsgi_hosts : Write the sites' names to the hosts file"]), (
        changed
    )
    assert "newcomer" not in _exec(LIVE, "cat /etc/hosts")[1]


# ---------------------------------------------------------------------------- bad input


def _site(**over: Any) -> dict[str, Any]:
    site = {
        "name": "bad",
        "domain": "bad.example.test",
        "source": {"path": "hello"},
        "entry": "hello.wsgi",
    }
    site.update(over)
    return site


FAKE_PYTHON = "/opt/python3.99/bin/python3"
BAD_INPUT = {
    "invalid domain": (
        [_site(domain="not_a_domain!.example")],
        {},
        "site 'bad': field 'domain': 'not_a_domain!.example' is not a valid",
    ),
    "duplicate domain across sites": (
        [_site(domain="www.departamentos.centro.intranet", path="/")],
        {},
        "site 'bad': field 'domain': domain 'www.departamentos.centro.intranet' is already used "
        "by site 'hello'",
    ),
    "same domain and path": (
        [_site(domain="second.example.test", name="twin")],
        {},
        "site 'twin': field 'domain': two sites at the same domain+path second.example.test/",
    ),
    "missing WSGI entry": (
        [_site(entry="nowhere.wsgi")],
        {},
        "site 'bad': field 'entry': WSGI entry 'nowhere.wsgi' not found",
    ),
    "unknown stack": (
        [_site(stack="lighttpd_fastcgi")],
        {},
        "site 'bad': field 'stack': 'lighttpd_fastcgi' is not one of",
    ),
    "unknown mod_wsgi mode": (
        [_site(mod_wsgi={"mode": "turbo"})],
        {},
        "site 'bad': field 'mod_wsgi.mode': 'turbo' is not one of daemon, embedded",
    ),
    "path without leading slash": (
        [_site(path="test")],
        {},
        "site 'bad': field 'path': 'test' must start with '/'",
    ),
    "Django site without a secret key": (
        [
            _site(
                kind="django",
                source={"path": "guestbook"},
                entry="guestbook_site.wsgi:application",
            )
        ],
        {},
        "site 'bad': field 'secrets': DJANGO_SECRET_KEY is required",
    ),
    "unknown Gunicorn worker class": (
        [_site(stack="nginx_gunicorn", gunicorn={"worker_class": "meinheld"})],
        {},
        "site 'bad': field 'gunicorn.worker_class': 'meinheld' is not one of",
    ),
    "Gunicorn workers < 1": (
        [_site(gunicorn={"workers": 0})],
        {},
        "site 'bad': field 'gunicorn.workers': 0 must be an integer >= 1",
    ),
    "Gunicorn socket outside /run": (
        [_site(gunicorn={"socket": "/tmp/bad.sock"})],
        {},
        "site 'bad': field 'gunicorn.socket': '/tmp/bad.sock' must be a path under /run/",
    ),
    "two stacks on one host": (
        [_site(stack="nginx_gunicorn")],
        {},
        "site 'bad': field 'stack': 'nginx_gunicorn', but site 'hello' on the same host uses "
        "'apache_mod_wsgi'",
    ),
    "option of the wrong type (argument spec)": (
        [],
        {"wsgi_mod_wsgi_threads": "plenty"},
        "wsgi_mod_wsgi_threads",
    ),
    "venv interpreter that does not exist": (
        [_site(python="/opt/nowhere/bin/python3")],
        {},
        "site 'bad': field 'python': interpreter /opt/nowhere/bin/python3 was not found",
    ),
    "venv Python mod_wsgi cannot load": (
        [_site(python=FAKE_PYTHON)],
        {},
        f"site 'bad': field 'python': {FAKE_PYTHON} is Python 3.99, but mod_wsgi",
    ),
}


# The cases are checked in three batched runs (a few preflight runs instead of one per case): each
# case gets two inventory aliases of the same containers (LIVE and FRESH) with its own site list.
# Cases are batched by the preflight step that refuses them, because the preflight stops every
# host at the first step where one fails (any_errors_fatal).
BATCHES = {
    "argument spec": ["option of the wrong type (argument spec)"],
    "interpreter": ["venv interpreter that does not exist", "venv Python mod_wsgi cannot load"],
}
BATCHES["site definitions"] = [
    case for case in BAD_INPUT if not any(case in cases for cases in BATCHES.values())
]
DEPLOY_TASKS = tuple(
    f"wsgi.deploy.{task}"
    for task in ("wsgi_hosts :", "wsgi_app :", "wsgi_apache : Install", "wsgi_nginx :")
)


def _alias(case: str, container: str) -> str:
    return f"case{list(BAD_INPUT).index(case):02d}-{container.rsplit('-', 1)[-1]}"


@dataclass
class RefusedRun:
    rc: int
    play_names: list[str]
    task_names: list[str]
    messages: dict[str, str]  # alias -> the message of its failed task


def _failure_text(result: dict[str, Any]) -> str:
    """The message of a failed task, or of its failed loop items."""
    items = [str(item.get("msg", "")) for item in result.get("results", []) if item.get("failed")]
    return " ".join([str(result.get("msg", "")), *items])


def _refused_run(tmp_path: Path, cases: list[str]) -> RefusedRun:
    hosts = {
        _alias(case, container): {
            "ansible_connection": "community.docker.docker",
            "ansible_host": container,
            "wsgi_sites": SITES + BAD_INPUT[case][0],
            **BAD_INPUT[case][1],
        }
        for case in cases
        for container in (LIVE, FRESH)
    }
    inventory = {
        "all": {
            "children": {"wsgi_servers": {"hosts": hosts, "vars": {"wsgi_source_base_dir": APPS}}}
        }
    }
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    run = run_playbook("site.yml", path, env={"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"})
    report, _ = json.JSONDecoder().raw_decode(run.output[run.output.index("{") :])
    tasks = [task for play in report["plays"] for task in play["tasks"]]
    messages = {
        alias: " ".join(_failure_text(result).split())
        for task in tasks
        for alias, result in task["hosts"].items()
        if result.get("failed")
    }
    return RefusedRun(
        rc=run.rc,
        play_names=[play["play"]["name"] for play in report["plays"]],
        task_names=[f"{task['task']['name']}" for task in tasks],
        messages=messages,
    )


@pytest.fixture(scope="module")
def refused(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RefusedRun]:
    """Every bad-input case run (batched), with both hosts fingerprinted before and after."""
    script = "#!/bin/sh\\necho 3.99\\n"  # an interpreter of another Python version than mod_wsgi's
    for container in (LIVE, FRESH):
        rc, out = _exec(
            container,
            f"mkdir -p {Path(FAKE_PYTHON).parent} && printf '{script}' > {FAKE_PYTHON} "
            f"&& chmod 755 {FAKE_PYTHON}",
        )
        assert rc == 0, out
    before = {c: _state(c) for c in (LIVE, FRESH)}
    runs = {
        batch: _refused_run(tmp_path_factory.mktemp("refused"), cases)
        for batch, cases in BATCHES.items()
    }
    assert {c: _state(c) for c in (LIVE, FRESH)} == before, "a refused run changed a host"
    return {case: runs[batch] for batch, cases in BATCHES.items() for case in cases}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_refused_before_any_change(case: str, refused: dict[str, RefusedRun]) -> None:
    run = refused[case]
    message = BAD_INPUT[case][2]
    assert run.rc != 0
    for container in (LIVE, FRESH):
        alias = _alias(case, container)
        assert message in run.messages.get(alias, ""), (alias, run.messages)
    assert run.play_names and run.play_names[0].startswith("Preflight")
    assert len(run.play_names) == 1, f"plays after the preflight ran: {run.play_names}"
    for task in DEPLOY_TASKS:
        assert not [t for t in run.task_names if t.startswith(task)], f"{task} ran"
    assert _hello(LIVE).startswith("Hello World!")


def test_fresh_host_is_untouched_by_refused_runs() -> None:
    rc, _ = _exec(FRESH, "test -e /srv/wsgi || test -e /etc/apache2 || test -e /etc/wsgi-sites")
    assert rc != 0
    assert "departamentos" not in _exec(FRESH, "cat /etc/hosts")[1]


# ---------------------------------------------------------------------------- check mode


def test_check_mode_with_diff_on_a_fresh_host_does_not_fail(tmp_path: Path) -> None:
    before = _state(FRESH)
    run = _deploy(_inventory(tmp_path, SITES, [FRESH]), "--check", "--diff")
    assert run.rc == 0, run.output[-5000:]
    recap = run.recap()[FRESH]
    assert recap["failed"] == 0 and recap["changed"] > 0
    assert _state(FRESH) == before
