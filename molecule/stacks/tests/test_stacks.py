"""Switching sites between the stacks and removing them, in a mixed inventory. The tests run in
file order: each one moves the hosts to the next state and checks that nothing of the old state
is left behind."""

from __future__ import annotations

from pathlib import Path

import docker
import pytest
import yaml
from wsgi_testlib.playbook import Run, molecule_inventory, run_playbook
from wsgi_testlib.web import Site, container_ip

APACHE_HOST = "wsgi-mol-stacks-apache"
NGINX_HOST = "wsgi-mol-stacks-nginx"
HELLO = "departamentos.centro.intranet"
OUR_VHOSTS = ("hello.conf", "second.conf")
OUR_NGINX = ("hello.conf", "second.conf", "000-wsgi-default.conf")
SITES_FILE = Path(__file__).resolve().parents[1] / "group_vars" / "wsgi_servers" / "sites.yml"


def _sh(container: str, cmd: str) -> tuple[int, str]:
    result = docker.from_env().containers.get(container).exec_run(["sh", "-c", cmd])
    return result.exit_code, result.output.decode().strip()


def _out(container: str, cmd: str) -> str:
    return _sh(container, cmd)[1]


def _deploy(*args: str) -> Run:
    run = run_playbook("site.yml", molecule_inventory(), *args)
    assert run.rc == 0, run.output[-4000:]
    return run


def _hello(container: str) -> Site:
    return Site(container_ip(container), HELLO)


def _assert_served_by(container: str, server: str) -> None:
    resp = _hello(container).wait_ok("/test")
    assert resp.status_code == 200
    assert resp.headers["Server"] == server
    assert "SCRIPT_NAME=/test" in resp.text.splitlines()
    css = _hello(container).get("/test/static/hello.css")
    assert css.status_code == 200 and css.headers["Server"] == server
    second = Site(container_ip(container), "second.example.test").get("/")
    assert second.status_code == 200 and second.headers["Server"] == server


def _assert_no_apache(container: str) -> None:
    assert _out(container, "systemctl is-active apache2") != "active"
    assert _out(container, "systemctl is-enabled apache2") != "enabled"  # disabled, or absent
    listing = _out(container, "ls /etc/apache2/sites-enabled /etc/apache2/sites-available").split()
    assert not set(OUR_VHOSTS) & set(listing), listing
    assert _sh(container, "pgrep -f '[(]wsgi:'")[0] != 0  # no mod_wsgi daemon process


def _assert_no_nginx_stack(container: str) -> None:
    assert _out(container, "systemctl is-active nginx") != "active"
    assert _out(container, "systemctl is-enabled nginx") != "enabled"  # disabled, or absent
    listing = _out(container, "ls /etc/nginx/sites-enabled /etc/nginx/sites-available").split()
    assert not set(OUR_NGINX) & set(listing), listing
    assert _out(container, "ls /etc/systemd/system | grep '^gunicorn-' || true") == ""
    assert _out(container, "ls /run/gunicorn 2>/dev/null || true") == ""
    assert _sh(container, "pgrep -f '[v]env/bin/gunicorn'")[0] != 0


def test_mixed_inventory_serves_each_host_with_its_stack() -> None:
    _assert_served_by(APACHE_HOST, "Apache")
    _assert_no_nginx_stack(APACHE_HOST)
    _assert_served_by(NGINX_HOST, "nginx")
    _assert_no_apache(NGINX_HOST)


@pytest.fixture(scope="module")
def with_new_site(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Extra vars: the scenario's sites plus `third`, a site never deployed."""
    sites = yaml.safe_load(SITES_FILE.read_text())["wsgi_sites"]
    sites.append(
        {
            "name": "third",
            "domain": "third.example.test",
            "source": {"path": "hello"},
            "entry": "hello.wsgi",
        }
    )
    path = tmp_path_factory.mktemp("vars") / "with_third.yml"
    path.write_text(yaml.safe_dump({"wsgi_sites": sites}))
    return f"@{path}"


def test_a_limited_run_touches_only_its_sites(with_new_site: str) -> None:
    """`wsgi_only_sites` (the console's "deploy selected sites"): a new site declared in the
    inventory but not selected gets no vhost, server block or unit (it has no venv yet)."""
    _deploy("-e", with_new_site, "-e", '{"wsgi_only_sites": ["second"]}')
    for host in (APACHE_HOST, NGINX_HOST):
        third = (
            "/etc/apache2/sites-available/third.conf /etc/nginx/sites-available/third.conf "
            "/etc/systemd/system/gunicorn-third.service /etc/systemd/system/gunicorn-third.socket "
            "/srv/wsgi/third"
        )
        assert _out(host, f"ls -d {third} 2>/dev/null || true") == ""
    _assert_served_by(APACHE_HOST, "Apache")
    _assert_served_by(NGINX_HOST, "nginx")


@pytest.mark.parametrize(
    ("new_stack", "moved_host", "old_server"),
    [("nginx_gunicorn", APACHE_HOST, "Apache"), ("apache_mod_wsgi", NGINX_HOST, "Nginx")],
)
def test_a_limited_run_refuses_to_strand_sites_on_a_retired_server(
    new_stack: str, moved_host: str, old_server: str
) -> None:
    """Moving a host to the other stack retires the old server: a run limited to `hello` would
    take `second` down with it, so the preflight refuses it before any change."""
    run = run_playbook(
        "site.yml",
        molecule_inventory(),
        "-e",
        f"wsgi_default_stack={new_stack}",
        "-e",
        '{"wsgi_only_sites": ["hello"]}',
    )
    assert run.rc != 0
    assert f"moves {moved_host} off {old_server}, which still serves second" in run.output
    recap = run.recap()
    assert set(recap) == {APACHE_HOST, NGINX_HOST}
    assert all(counts["changed"] == 0 for counts in recap.values()), recap
    _assert_served_by(APACHE_HOST, "Apache")
    _assert_served_by(NGINX_HOST, "nginx")


def test_switch_apache_to_nginx() -> None:
    _deploy("--limit", APACHE_HOST, "-e", "wsgi_default_stack=nginx_gunicorn")
    _assert_served_by(APACHE_HOST, "nginx")
    _assert_no_apache(APACHE_HOST)
    mode = _out(APACHE_HOST, "stat -c '%U %G %a' /run/gunicorn/hello.sock")
    assert mode == "root www-data 660"
    assert _out(APACHE_HOST, "systemctl is-active gunicorn-hello.socket gunicorn-hello.service")
    assert _out(APACHE_HOST, "systemctl is-enabled gunicorn-hello.service") == "enabled"


def test_switch_back_nginx_to_apache() -> None:
    _deploy("--limit", APACHE_HOST)
    _assert_served_by(APACHE_HOST, "Apache")
    _assert_no_nginx_stack(APACHE_HOST)
    assert _out(APACHE_HOST, "systemctl is-enabled apache2") == "enabled"
    assert _sh(APACHE_HOST, "pgrep -f '[(]wsgi:hello[)]'")[0] == 0  # daemon mode again


@pytest.fixture(scope="module")
def second_absent(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Extra vars: the scenario's sites with `second` marked absent."""
    sites = yaml.safe_load(SITES_FILE.read_text())["wsgi_sites"]
    for site in sites:
        if site["name"] == "second":
            site["state"] = "absent"
    path = tmp_path_factory.mktemp("vars") / "second_absent.yml"
    path.write_text(yaml.safe_dump({"wsgi_sites": sites}))
    return f"@{path}"


def test_state_absent_removes_a_site_and_keeps_its_data(second_absent: str) -> None:
    _deploy("--limit", NGINX_HOST, "-e", second_absent)
    gone = (
        "/etc/nginx/sites-enabled/second.conf /etc/nginx/sites-available/second.conf "
        "/etc/systemd/system/gunicorn-second.service /etc/systemd/system/gunicorn-second.socket "
        "/run/gunicorn/second.sock /srv/wsgi/second/src /srv/wsgi/second/venv "
        "/srv/wsgi/second/wsgi /etc/wsgi-sites/second.env /srv/wsgi/second/releases "
        "/srv/wsgi/second/venvs /srv/wsgi/second/current /var/lib/wsgi-deploy/sites/second.json"
    )
    assert _out(NGINX_HOST, f"ls -d {gone} 2>/dev/null || true") == ""
    assert _sh(NGINX_HOST, "test -d /srv/wsgi/second/data")[0] == 0  # data kept
    assert "second.example.test" not in _out(NGINX_HOST, "cat /etc/hosts")
    assert _sh(NGINX_HOST, "pgrep -u wsgi-second")[0] != 0
    # Its name is unknown now: the default server answers 421 (no site's content).
    gone_site = Site(container_ip(NGINX_HOST), "second.example.test").get("/")
    assert gone_site.status_code == 421
    assert _hello(NGINX_HOST).get("/test").status_code == 200


def test_remove_site_playbook_purges_and_stops_an_idle_web_server(second_absent: str) -> None:
    run = run_playbook(
        "playbooks/remove_site.yml",
        molecule_inventory(),
        "--limit",
        NGINX_HOST,
        "-e",
        second_absent,
        "-e",
        "wsgi_remove_site=hello",
        "-e",
        "wsgi_remove_purge_data=true",
    )
    assert run.rc == 0, run.output[-4000:]
    assert _out(NGINX_HOST, "ls -d /srv/wsgi/hello 2>/dev/null || true") == ""
    assert _sh(NGINX_HOST, "getent passwd wsgi-hello")[0] != 0
    assert HELLO not in _out(NGINX_HOST, "cat /etc/hosts")
    _assert_no_nginx_stack(NGINX_HOST)  # it serves no site any more
    # The other host, outside the limit, is untouched.
    _assert_served_by(APACHE_HOST, "Apache")


def test_remove_site_refuses_an_unknown_site() -> None:
    run = run_playbook(
        "playbooks/remove_site.yml", molecule_inventory(), "-e", "wsgi_remove_site=nosuchsite"
    )
    assert run.rc != 0
    assert "No host of this inventory declares a site named 'nosuchsite'" in run.output
