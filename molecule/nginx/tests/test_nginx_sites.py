"""Nginx + Gunicorn: the example apps over real HTTP with the right Host header, static files
served by Nginx alone, the Gunicorn units and sockets, graceful reloads, a config Nginx rejects,
and check mode on a converged host."""

from __future__ import annotations

import copy
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import docker
import pytest
import requests
import yaml
from wsgi_testlib.flows import post_guestbook_message, vote_once
from wsgi_testlib.playbook import (
    JSON_CALLBACK,
    json_report,
    molecule_inventory,
    remote_calls,
    run_playbook,
    write_inventory,
)
from wsgi_testlib.web import Site, container_ip, raw_request

SiteFactory = Callable[[str], Site]
SCENARIO = Path(__file__).resolve().parents[1]
GROUP_VARS = yaml.safe_load((SCENARIO / "group_vars" / "wsgi_servers" / "sites.yml").read_text())
SITE_NAMES = [s["name"] for s in GROUP_VARS["wsgi_sites"]]


def _exec(container: str, cmd: str) -> str:
    result = docker.from_env().containers.get(container).exec_run(["sh", "-c", cmd])
    return result.output.decode().strip()


def _containers() -> list[str]:
    listing = run_playbook("site.yml", molecule_inventory(), "--list-hosts").output.split()
    names = sorted({h for h in listing if h.startswith("wsgi-mol-nginx-")})
    assert names
    return names


def _main_pid(container: str, site: str) -> str:
    return _exec(container, f"systemctl show -p MainPID --value gunicorn-{site}.service")


def _workers(container: str, site: str) -> list[str]:
    return _exec(container, f"pgrep -P {_main_pid(container, site)}").split()


def _worker_count(container: str, site: str, expected: int, seconds: float = 30.0) -> int:
    """The site's worker count, read until it is ``expected`` or ``seconds`` have passed (the
    last count read): a worker Gunicorn replaces (its timeout, on a loaded machine) is briefly
    missing from a single read."""
    deadline = time.monotonic() + seconds
    while (count := len(_workers(container, site))) != expected and time.monotonic() < deadline:
        time.sleep(0.5)
    return count


# ---------------------------------------------------------------------------- the apps


@pytest.mark.parametrize(
    "domain", ["departamentos.centro.intranet", "www.departamentos.centro.intranet"]
)
def test_hello_is_served_at_its_prefix_by_gunicorn(site: SiteFactory, domain: str) -> None:
    resp = site(domain).get("/test")
    assert resp.status_code == 200
    assert resp.headers["Server"] == "nginx"  # server_tokens off
    lines = resp.text.splitlines()
    assert lines[0] == "Hello World!"
    assert "SCRIPT_NAME=/test" in lines and "PATH_INFO=" in lines
    deeper = site(domain).get("/test/some/page").text.splitlines()
    assert "SCRIPT_NAME=/test" in deeper and "PATH_INFO=/some/page" in deeper


def test_paths_outside_the_prefix_are_not_proxied(site: SiteFactory) -> None:
    hello = site("departamentos.centro.intranet")
    assert hello.get("/testing").status_code == 404
    assert hello.get("/").status_code == 404


def test_gthread_site_is_served(site: SiteFactory) -> None:
    resp = site("gthread.example.test").get("/")
    assert resp.status_code == 200
    assert resp.text.startswith("Hello World!\n")


def test_guestbook_form_posts_a_message_that_is_then_listed(site: SiteFactory) -> None:
    post_guestbook_message(site("guestbook.example.org"))


def test_poll_vote_is_counted(site: SiteFactory) -> None:
    before, after = vote_once(site("poll.example.org"))
    assert after == before + 1


@pytest.mark.parametrize("domain", ["guestbook.example.org", "poll.example.org"])
def test_admin_css_is_served_by_nginx_with_debug_off(site: SiteFactory, domain: str) -> None:
    s = site(domain)
    css = s.get("/static/admin/css/base.css")
    assert css.status_code == 200
    assert css.headers["Content-Type"].startswith("text/css")
    assert css.headers["Server"] == "nginx"
    assert "max-age=604800" in css.headers.get("Cache-Control", "")
    assert "DJANGO Admin styles" in css.text
    missing = s.get("/no-such-page/")
    assert missing.status_code == 404
    assert "Using the URLconf" not in missing.text  # Django's DEBUG page
    assert s.get("/admin/login/").status_code == 200


def test_unknown_or_missing_host_gets_421(address: str) -> None:
    # The same answer as Apache's (molecule/default); before, Nginx closed the connection (444).
    resp = Site(address, "evil.example.net").get("/")
    assert resp.status_code == 421
    assert "Guestbook" not in resp.text
    assert raw_request(address, 80, b"GET / HTTP/1.0\r\n\r\n").startswith("HTTP/1.1 421")


def test_static_is_served_by_nginx_alone(host) -> None:  # noqa: ANN001
    """With the site's Gunicorn and socket stopped, static still answers and the app gives 502."""
    name = host.backend.get_hostname()
    gb = Site(container_ip(name), "guestbook.example.org")
    host.run("systemctl stop gunicorn-guestbook.socket gunicorn-guestbook.service")
    try:
        assert host.run("pgrep -u wsgi-guestbook gunicorn").rc != 0
        css = gb.get("/static/admin/css/base.css")
        assert css.status_code == 200 and css.headers["Server"] == "nginx"
        assert gb.get("/").status_code == 502
    finally:
        host.run("systemctl start gunicorn-guestbook.socket gunicorn-guestbook.service")
    assert gb.wait_ok("/").status_code == 200


# ---------------------------------------------------------------------------- units and sockets


@pytest.mark.parametrize("site_name", SITE_NAMES)
def test_socket_is_reachable_by_the_nginx_group_only(host, site_name: str) -> None:  # noqa: ANN001
    sock = host.file(f"/run/gunicorn/{site_name}.sock")
    assert sock.is_socket
    assert (sock.user, sock.group, sock.mode) == ("root", "www-data", 0o660)
    assert host.service(f"gunicorn-{site_name}.socket").is_enabled
    assert host.service(f"gunicorn-{site_name}.service").is_running
    assert host.service(f"gunicorn-{site_name}.service").is_enabled
    # The app user itself cannot connect, www-data (Nginx) can.
    connect = "import socket,sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])"
    path = f"/run/gunicorn/{site_name}.sock"
    assert host.run(f"runuser -u www-data -- python3 -c '{connect}' {path}").rc == 0
    assert host.run(f"runuser -u wsgi-{site_name} -- python3 -c '{connect}' {path}").rc != 0


def test_service_unit_is_notify_with_graceful_kill_and_hup_reload(host) -> None:  # noqa: ANN001
    unit = host.run("systemctl show gunicorn-guestbook.service").stdout
    props = dict(line.split("=", 1) for line in unit.splitlines() if "=" in line)
    assert props["Type"] == "notify"
    assert props["KillMode"] == "control-group"
    assert props["User"] == "wsgi-guestbook"
    # The settings are read by each worker from the env file (wsgi_entry.py), not by systemd.
    assert "/etc/wsgi-sites/guestbook.env" not in props.get("EnvironmentFiles", "")
    assert props["Restart"] == "always"
    assert "HUP" in props["ExecReload"]
    assert host.run("pgrep -u wsgi-guestbook -f /srv/wsgi/guestbook/venv/bin/gunicorn").rc == 0


def test_worker_counts_follow_the_settings(host) -> None:  # noqa: ANN001
    name = host.backend.get_hostname()
    cores = int(host.run("nproc").stdout)
    assert _worker_count(name, "hello-gthread", 3) == 3  # gunicorn.workers: 3
    args = host.run("ps -o args= -p " + _main_pid(name, "hello-gthread")).stdout
    for flag in ("--worker-class gthread", "--threads 2", "--timeout 20", "--max-requests 500"):
        assert flag in args
    # The defaults (wsgi_gunicorn_*): gthread, two workers per core, 4 threads each.
    assert _worker_count(name, "hello", 2 * cores) == 2 * cores
    args = host.run("ps -o args= -p " + _main_pid(name, "hello")).stdout
    for flag in ("--worker-class gthread", "--threads 4"):
        assert flag in args


def _hammer(site: Site, stop: threading.Event) -> list[str]:
    """GET the site back to back until told to stop; every answer that is not a 200, or error."""
    problems: list[str] = []
    while not stop.is_set():
        try:
            resp = site.get("/test")
            if resp.status_code != 200:
                problems.append(f"HTTP {resp.status_code}")
        except requests.RequestException as exc:
            problems.append(repr(exc))
    return problems


def test_hup_reload_keeps_the_master_and_drops_no_request(host) -> None:  # noqa: ANN001
    name = host.backend.get_hostname()
    hello = Site(container_ip(name), "departamentos.centro.intranet")
    master, workers = _main_pid(name, "hello"), set(_workers(name, "hello"))
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=2) as pool:
        # Two clients keep requests in flight across the whole reload.
        clients = [pool.submit(_hammer, Site(hello.address, hello.host), stop) for _ in range(2)]
        time.sleep(1)
        assert host.run("systemctl reload gunicorn-hello.service").rc == 0
        # Old workers finish their requests (graceful) before they exit: wait for them to go.
        deadline = time.monotonic() + 60
        while workers & set(_workers(name, "hello")) and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(1)
        stop.set()
        problems = [p for client in clients for p in client.result()]
    assert problems == []
    current = set(_workers(name, "hello"))
    assert current and not workers & current  # every worker replaced
    assert _main_pid(name, "hello") == master


def test_server_blocks_and_default_server(host) -> None:  # noqa: ANN001
    enabled = sorted(host.run("ls /etc/nginx/sites-enabled").stdout.split())
    assert enabled == ["000-wsgi-default.conf"] + sorted(f"{n}.conf" for n in SITE_NAMES)
    block = host.file("/etc/nginx/sites-available/guestbook.conf").content_string
    for directive in (
        "server unix:/run/gunicorn/guestbook.sock",
        "keepalive 16;",
        "server_name guestbook.example.org www.guestbook.example.org;",
        "access_log /var/log/nginx/guestbook.access.log;",
        "error_log /var/log/nginx/guestbook.error.log;",
        "client_max_body_size 10m;",
        "alias /srv/wsgi/guestbook/static/;",
        "alias /srv/wsgi/guestbook/media/;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header Host $host;",
        "proxy_redirect off;",
    ):
        assert directive in block
    assert (
        "client_max_body_size 1m;"
        in host.file("/etc/nginx/sites-available/hello-gthread.conf").content_string
    )
    assert (
        "return 421;"
        in host.file("/etc/nginx/sites-available/000-wsgi-default.conf").content_string
    )
    assert not host.service("apache2").is_running


# ---------------------------------------------------------------------------- files


@pytest.mark.parametrize("site_name", ["hello", "guestbook", "polls"])
def test_code_is_not_writable_by_the_web_or_app_user(host, site_name: str) -> None:  # noqa: ANN001
    root = f"/srv/wsgi/{site_name}"
    dirs = " ".join(f"{root}/{d}" for d in ("releases", "venvs", "wsgi"))
    dirs += " /var/lib/wsgi-deploy/stage"  # the staged sources (one tree per source base dir)
    for user in ("www-data", f"wsgi-{site_name}"):
        probe = host.run(f"runuser -u {user} -- find {dirs} -writable -print -quit")
        assert probe.rc == 0, probe.stderr
        assert probe.stdout.strip() == "", f"{user} can write {probe.stdout}"


def test_env_file_is_not_world_readable(host) -> None:  # noqa: ANN001
    env = host.file("/etc/wsgi-sites/guestbook.env")
    assert (env.user, env.group, env.mode) == ("root", "wsgi-guestbook", 0o640)


# ---------------------------------------------------------------------------- playbook runs


def _sites_inventory(tmp_path: Path, sites: list[dict[str, Any]], **extra: Any) -> Path:
    group_vars = {
        "wsgi_source_base_dir": str(Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "apps"),
        "wsgi_test_secrets_dir": str(Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "secrets"),
        "wsgi_default_stack": "nginx_gunicorn",
        "wsgi_sites": sites,
        **extra,
    }
    return write_inventory(tmp_path / "inventory.yml", _containers(), group_vars)


def test_config_nginx_rejects_fails_the_play_and_keeps_the_old_sites(tmp_path: Path) -> None:
    containers = _containers()
    before = {c: _exec(c, "cat /etc/nginx/sites-available/hello.conf") for c in containers}
    sites = copy.deepcopy(GROUP_VARS["wsgi_sites"])
    sites[0]["nginx"] = {"extra": ["not_a_directive on;"]}

    run = run_playbook("site.yml", _sites_inventory(tmp_path, sites), "--tags", "nginx")

    assert run.rc != 0
    flat = " ".join(run.output.split())
    assert "Nginx rejected the new configuration" in flat, run.output[-3000:]
    assert 'unknown directive "not_a_directive"' in flat
    assert "previous configuration was restored (valid)" in flat
    for container in containers:
        resp = Site(container_ip(container), "departamentos.centro.intranet").get("/test")
        assert resp.status_code == 200 and resp.text.startswith("Hello World!")
        assert _exec(container, "cat /etc/nginx/sites-available/hello.conf") == before[container]
        listing = _exec(container, "ls -a /etc/nginx /etc/nginx/sites-available")
        assert "~" not in listing, listing
        assert _exec(container, "nginx -t -q && echo valid") == "valid"


def test_a_site_that_leaves_the_list_and_comes_back_is_served_again(tmp_path: Path) -> None:
    """Left out of the site list, a site loses its server block and its Gunicorn units (its
    record and code stay). Listed again, it is served again: Nginx's change does not check it as
    a site that never stopped serving (before, the run failed with 502 for it, restored the old
    configuration, and every later run did the same)."""
    containers = _containers()
    sites = [s for s in copy.deepcopy(GROUP_VARS["wsgi_sites"]) if s["name"] != "hello-gthread"]

    left = run_playbook("site.yml", _sites_inventory(tmp_path, sites))

    assert left.rc == 0, left.output[-3000:]
    for container in containers:
        gone = "/etc/nginx/sites-available/hello-gthread.conf /etc/systemd/system/gunicorn-hello-*"
        assert _exec(container, f"ls {gone} 2>/dev/null") == ""
        assert _exec(container, "systemctl is-active gunicorn-hello-gthread.socket") != "active"
        assert Site(container_ip(container), "gthread.example.test").get("/").status_code == 421

    back = run_playbook("site.yml", molecule_inventory())

    assert back.rc == 0, back.output[-3000:]
    for container in containers:
        resp = Site(container_ip(container), "gthread.example.test").get("/")
        assert resp.status_code == 200 and resp.text.startswith("Hello World!"), resp.text[:300]


# A no-op run makes a small, constant number of calls to each host, whatever its number of sites
# (README "Converging in seconds"): users, dirs and files of every site in one call, one rsync,
# one plan, one validated change per server, one switch, one check-and-record (the host checks
# also read what the roles edit and the units they wrote: no call of their own). The bound fails
# a change that brings back one call per site.
NOOP_CALLS_MAX = 10  # an Nginx host


def test_a_no_op_run_makes_a_constant_small_number_of_calls_per_host() -> None:
    run = run_playbook("site.yml", molecule_inventory(), env=JSON_CALLBACK)
    assert run.rc == 0, run.output[-3000:]
    report = json_report(run.output)
    assert all(s["changed"] == 0 for s in report["stats"].values()), report["stats"]
    for host, per_task in remote_calls(report).items():
        assert sum(per_task.values()) <= NOOP_CALLS_MAX, (host, per_task)
        assert all(n == 1 for n in per_task.values()), (host, per_task)  # no task loops a call


def test_check_mode_with_diff_on_converged_hosts_changes_nothing() -> None:
    run = run_playbook("site.yml", molecule_inventory(), "--check", "--diff")
    assert run.rc == 0, run.output[-3000:]
    recap = run.recap()
    assert recap and all(c["changed"] == 0 for c in recap.values()), run.changed_tasks()


def test_code_change_reloads_gracefully_keeping_the_master(tmp_path: Path) -> None:
    """A changed hello app is deployed with a HUP: same master, new workers, new code.

    The scenario's last test: it leaves the changed app deployed (the hosts are destroyed next).
    """
    apps = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "apps"
    changed = tmp_path / "apps"
    shutil.copytree(apps, changed, ignore=shutil.ignore_patterns("__pycache__"))
    greeting = f"Hello {uuid.uuid4().hex[:8]}!"
    script = changed / "hello" / "hello.wsgi"
    script.write_text(script.read_text().replace("Hello World!", greeting))
    containers = _containers()
    masters = {c: _main_pid(c, "hello") for c in containers}
    run = run_playbook(
        "site.yml",
        molecule_inventory(),
        "-e",
        '{"wsgi_only_sites": ["hello"]}',
        "-e",
        f"wsgi_source_base_dir={changed}",
    )
    assert run.rc == 0, run.output[-3000:]
    hup = "wsgi.deploy.wsgi_gunicorn : Start, restart or reload (HUP) the Gunicorn of each site"
    assert any(task.startswith(hup) for task in run.changed_tasks()), run.changed_tasks()
    for container in containers:
        site = Site(container_ip(container), "departamentos.centro.intranet")
        assert site.wait_text("/test", greeting).text.startswith(greeting)
        assert _main_pid(container, "hello") == masters[container]
