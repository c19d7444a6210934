"""Apache2 + mod_wsgi: the example apps over real HTTP with the right Host header, the security of
the files on the target, and check mode on a converged host."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import testinfra
from wsgi_testlib.flows import post_guestbook_message, vote_once
from wsgi_testlib.playbook import (
    JSON_CALLBACK,
    json_report,
    molecule_inventory,
    remote_calls,
    run_playbook,
)
from wsgi_testlib.web import Site, raw_request, target_address

SiteFactory = Callable[[str], Site]
NAMES = [
    "departamentos.centro.intranet",
    "www.departamentos.centro.intranet",
    "embedded.example.test",
    "guestbook.example.org",
    "www.guestbook.example.org",
    "poll.example.org",
]


@pytest.mark.parametrize(
    "domain", ["departamentos.centro.intranet", "www.departamentos.centro.intranet"]
)
def test_hello_is_served_at_its_prefix_in_daemon_mode(site: SiteFactory, domain: str) -> None:
    resp = site(domain).get("/test")
    assert resp.status_code == 200
    lines = resp.text.splitlines()
    assert lines[0] == "Hello World!"
    assert "SCRIPT_NAME=/test" in lines
    assert "PROCESS_GROUP=hello" in lines  # mod_wsgi daemon process group of the site


def test_hello_is_not_served_outside_its_prefix(site: SiteFactory) -> None:
    assert site("departamentos.centro.intranet").get("/other").status_code == 404


def test_embedded_mode_site_runs_inside_apache(site: SiteFactory) -> None:
    resp = site("embedded.example.test").get("/")
    assert resp.status_code == 200
    assert resp.text.startswith("Hello World!\n")
    assert "PROCESS_GROUP=" in resp.text.splitlines()  # '' = embedded in Apache's workers


def test_daemon_processes_run_as_the_app_users(host) -> None:  # noqa: ANN001
    procs = host.run("ps -eo user:32,args").stdout
    for name in ("hello", "guestbook", "polls"):
        assert re.search(rf"^wsgi-{name}\s+\(wsgi:{name}\)", procs, re.M), procs
    assert "(wsgi:hello-embedded)" not in procs


def test_static_file_of_plain_wsgi_app_is_served_by_apache(site: SiteFactory) -> None:
    resp = site("departamentos.centro.intranet").get("/test/static/hello.css")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/css")
    assert "max-age" in resp.headers.get("Cache-Control", "")


def test_guestbook_form_posts_a_message_that_is_then_listed(site: SiteFactory) -> None:
    post_guestbook_message(site("guestbook.example.org"))


def test_guestbook_refuses_a_post_without_csrf_token(site: SiteFactory) -> None:
    resp = site("guestbook.example.org").post("/", {"name": "x", "text": "no token"})
    assert resp.status_code == 403


def test_guestbook_answers_on_its_alias_and_not_on_other_names(site: SiteFactory) -> None:
    assert site("www.guestbook.example.org").get("/").status_code == 200


def test_poll_vote_is_counted(site: SiteFactory) -> None:
    before, after = vote_once(site("poll.example.org"))
    assert after == before + 1


@pytest.mark.parametrize("domain", ["guestbook.example.org", "poll.example.org"])
def test_admin_css_is_served_by_apache_with_debug_off(site: SiteFactory, domain: str) -> None:
    s = site(domain)
    css = s.get("/static/admin/css/base.css")
    assert css.status_code == 200
    assert css.headers["Content-Type"].startswith("text/css")
    assert css.headers["Server"] == "Apache"  # ServerTokens Prod
    assert "DJANGO Admin styles" in css.text
    missing = s.get("/no-such-page/")
    assert missing.status_code == 404
    assert "Using the URLconf" not in missing.text  # Django's DEBUG page
    assert s.get("/admin/login/").status_code == 200


def test_unknown_or_missing_host_gets_421(address: str) -> None:
    # The collection's default VirtualHost answers (before, Apache handed them to the first
    # site's Django); the same answer as Nginx's (molecule/nginx).
    resp = Site(address, "evil.example.net").get("/")
    assert resp.status_code == 421
    assert "Guestbook" not in resp.text
    assert raw_request(address, 80, b"GET / HTTP/1.0\r\n\r\n").startswith("HTTP/1.1 421")


def test_no_default_page_next_to_a_prefix_site(address: str) -> None:
    # hello is mounted at /test: the rest of its name is not found (not Debian's "It works").
    resp = Site(address, "departamentos.centro.intranet").get("/")
    assert resp.status_code == 404
    assert "It works" not in resp.text


@pytest.mark.parametrize("name", NAMES)
def test_every_site_name_resolves_on_the_host(host, address: str, name: str) -> None:  # noqa: ANN001
    result = host.run(f"getent hosts {name}")
    assert result.rc == 0
    assert result.stdout.split()[0] == address


@pytest.mark.parametrize("site_name", ["hello", "guestbook", "polls"])
def test_code_is_not_writable_by_the_web_or_app_user(host, site_name: str) -> None:  # noqa: ANN001
    root = f"/srv/wsgi/{site_name}"
    assert host.file(f"{root}/src").is_symlink and host.file(f"{root}/src").user == "root"
    assert host.file(f"{root}/current").linked_to.startswith(f"{root}/releases/")
    dirs = " ".join(f"{root}/{d}" for d in ("releases", "venvs", "wsgi", "bin"))
    dirs += " /var/lib/wsgi-deploy/stage"  # the staged sources (one tree per source base dir)
    for user in ("www-data", f"wsgi-{site_name}"):
        probe = host.run(f"runuser -u {user} -- find {dirs} -writable -print -quit")
        assert probe.rc == 0, probe.stderr
        assert probe.stdout.strip() == "", f"{user} can write {probe.stdout}"


@pytest.mark.parametrize("site_name", ["guestbook", "polls"])
def test_only_the_data_dir_is_writable_by_the_app_user(host, site_name: str) -> None:  # noqa: ANN001
    data = f"/srv/wsgi/{site_name}/data"
    assert host.run(f"runuser -u wsgi-{site_name} -- test -w {data}").rc == 0
    assert host.run(f"runuser -u www-data -- test -w {data}").rc != 0
    assert host.file(f"{data}/db.sqlite3").user == f"wsgi-{site_name}"


@pytest.mark.parametrize("site_name", ["guestbook", "polls"])
def test_env_file_with_the_secret_is_not_world_readable(host, site_name: str) -> None:  # noqa: ANN001
    env = host.file(f"/etc/wsgi-sites/{site_name}.env")
    assert env.user == "root"
    assert env.group == f"wsgi-{site_name}"
    assert env.mode == 0o640
    assert "DJANGO_SECRET_KEY=" in env.content_string
    assert 'DJANGO_DEBUG="0"' in env.content_string
    assert host.run(f"runuser -u www-data -- cat /etc/wsgi-sites/{site_name}.env").rc != 0


def _secret(name: str) -> str:
    path = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "secrets" / name
    return path.read_text().split()[0]


def test_secret_is_nowhere_else_on_the_host(host) -> None:  # noqa: ANN001
    secret = _secret("guestbook")
    found = host.run(
        f"grep -rlF -- '{secret}' /srv/wsgi /etc/apache2 /var/log/apache2 /etc/hosts "
        "/var/lib/wsgi-deploy"
    )
    assert found.stdout.strip() == ""
    assert host.run(f"grep -lF -- '{secret}' /etc/wsgi-sites/guestbook.env").rc == 0


def test_one_virtualhost_per_site_and_no_default_site(host) -> None:  # noqa: ANN001
    enabled = host.run("ls /etc/apache2/sites-enabled").stdout.split()
    # Debian's 000-default is gone; the collection's own default answers unknown names (421).
    assert sorted(enabled) == [
        "000-wsgi-default.conf", "guestbook.conf", "hello-embedded.conf", "hello.conf",
        "polls.conf",
    ]  # fmt: skip
    default = host.file("/etc/apache2/sites-available/000-wsgi-default.conf").content_string
    assert "ServerName default.invalid" in default and "R=421" in default
    vhost = host.file("/etc/apache2/sites-available/guestbook.conf").content_string
    for directive in (
        "ServerName guestbook.example.org",
        "ServerAlias www.guestbook.example.org",
        "WSGIDaemonProcess guestbook user=wsgi-guestbook",
        "python-home=/srv/wsgi/guestbook/venv",
        "python-path=/srv/wsgi/guestbook/src",
        "WSGIProcessGroup guestbook",
        "WSGIApplicationGroup %{GLOBAL}",
        "WSGIScriptAlias / /srv/wsgi/guestbook/wsgi/wsgi_entry.py process-group=guestbook",
        "Alias /static/ /srv/wsgi/guestbook/static/",
        "ErrorLog ${APACHE_LOG_DIR}/guestbook.error.log",
    ):
        assert directive in vhost
    assert host.file("/var/log/apache2/guestbook.access.log").exists


def scenario_targets(pytestconfig: pytest.Config) -> list[testinfra.host.Host]:
    """Every target of the scenario (containers, or the VMs of molecule/vagrant), reached as the
    `host` fixture is (testinfra's ansible backend, --sudo as Molecule passes it)."""
    targets = testinfra.get_hosts(
        ["all"],
        connection="ansible",
        ansible_inventory=molecule_inventory(),
        sudo=pytestconfig.getoption("sudo"),
    )
    assert targets
    return targets


# Debian's rotation reloads Apache every night, which restarts every mod_wsgi daemon (the apps
# start cold) and opens the reload's 503 window (README "HTTPS"); the role's policy copies and
# truncates instead (roles/wsgi_apache/templates/logrotate.j2).
APACHE_PROCESSES = (
    "cat /run/apache2/apache2.pid; pgrep -d, -u wsgi-hello,wsgi-guestbook,wsgi-polls ."
)
DEBIAN_POLICY = """/var/log/apache2/*.log {
\tdaily
\tmissingok
\trotate 14
\tcompress
\tdelaycompress
\tnotifempty
\tcreate 640 root adm
\tsharedscripts
\tpostrotate
\t\tif pgrep -f ^/usr/sbin/apache2 > /dev/null; then
\t\t\tinvoke-rc.d apache2 reload 2>&1 | logger -t apache2.logrotate
\t\tfi
\tendscript
}
"""


def test_log_rotation_restarts_neither_apache_nor_the_daemons(host, site: SiteFactory) -> None:  # noqa: ANN001
    policy = host.file("/etc/logrotate.d/apache2")
    assert policy.mode == 0o644 and policy.user == "root"
    assert "copytruncate" in policy.content_string and "postrotate" not in policy.content_string
    assert host.run("apt-get install -y -qq logrotate").rc == 0
    guestbook = site("guestbook.example.org")
    assert guestbook.get("/").status_code == 200
    log = "/var/log/apache2/guestbook.access.log"
    assert host.file(log).size > 0
    before = host.check_output(APACHE_PROCESSES)
    rotated = host.run("logrotate --force /etc/logrotate.d/apache2")
    assert rotated.rc == 0, rotated.stderr
    assert host.file(f"{log}.1").size > 0  # the old lines, copied
    token = uuid.uuid4().hex[:8]
    assert guestbook.get(f"/?rotated={token}").status_code == 200
    assert host.file(log).contains(token)  # still written, in the same file
    assert host.check_output(APACHE_PROCESSES) == before  # no reload: same master, same daemons


def test_a_changed_log_policy_is_put_back_without_a_reload(pytestconfig: pytest.Config) -> None:
    targets = scenario_targets(pytestconfig)
    before = {}
    for target in targets:
        target.run(f"printf '%s' '{DEBIAN_POLICY}' > /etc/logrotate.d/apache2")
        assert "invoke-rc.d" in target.file("/etc/logrotate.d/apache2").content_string
        before[target] = target.check_output(APACHE_PROCESSES)
    run = run_playbook("site.yml", molecule_inventory())
    assert run.rc == 0, run.output[-3000:]
    assert all(c["changed"] == 1 for c in run.recap().values()), run.recap()
    for target in targets:
        assert "copytruncate" in target.file("/etc/logrotate.d/apache2").content_string
        assert target.check_output(APACHE_PROCESSES) == before[target]


# A no-op run makes a small, constant number of calls to each host, whatever its number of sites
# (README "Converging in seconds"): users, dirs and files of every site in one call, one rsync,
# one plan, one validated change per server, one switch, one check-and-record (the host checks
# also read what the roles edit and the units they wrote: no call of their own). The bound fails
# a change that brings back one call per site.
NOOP_CALLS_MAX = 9  # an Apache host


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
    assert recap, run.output[-2000:]
    assert all(counts["changed"] == 0 for counts in recap.values()), recap
    assert _secret("guestbook") not in run.output


def test_code_change_reloads_the_daemon_without_restarting_apache(
    tmp_path: Path, pytestconfig: pytest.Config
) -> None:
    """Deploy a changed hello app: its daemon processes are replaced, Apache's master stays.

    The scenario's last test: it leaves the changed app deployed (the hosts are destroyed next).
    """
    apps = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / "apps"
    changed = tmp_path / "apps"
    shutil.copytree(apps, changed, ignore=shutil.ignore_patterns("__pycache__"))
    greeting = f"Hello {uuid.uuid4().hex[:8]}!"
    script = changed / "hello" / "hello.wsgi"
    script.write_text(script.read_text().replace("Hello World!", greeting))
    targets = scenario_targets(pytestconfig)
    master_pid, daemon_pids = "cat /run/apache2/apache2.pid", "pgrep -u wsgi-hello -d, ."
    before = {t: (t.check_output(master_pid), t.check_output(daemon_pids)) for t in targets}
    run = run_playbook(
        "site.yml",
        molecule_inventory(),
        "-e",
        '{"wsgi_only_sites": ["hello"]}',
        "-e",
        f"wsgi_source_base_dir={changed}",
    )
    assert run.rc == 0, run.output[-3000:]
    assert all(c["changed"] > 0 for c in run.recap().values())
    for target in targets:
        site = Site(target_address(target), "departamentos.centro.intranet")
        assert site.wait_text("/test", greeting).text.startswith(greeting)
        master, daemons = before[target]
        assert target.check_output(master_pid) == master  # no Apache restart
        assert target.check_output(daemon_pids) != daemons  # new daemon processes
