"""Failure safety: a config a server rejects (at test time or only at reload) never takes the
working sites down; a run killed or failed half-way never leaves a site on the wrong code and is
healed by the next run; static and media dirs publish nothing through symlinks. (Hostile input is
in test_hostile_input.py, fault recovery in test_faults.py.)"""

from __future__ import annotations

import copy
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from safety_support import (
    APPS,
    LIVE,
    NGINX,
    SITES,
    exec_in,
    hello_text,
    inventory,
)
from wsgi_testlib.playbook import (
    JSON_CALLBACK,
    Run,
    first_failures,
    json_report,
    run_playbook,
    run_playbook_until,
)
from wsgi_testlib.web import Site, container_ip

SERVED = (LIVE, NGINX)


def _deploy(path: Path, *args: str) -> Run:
    return run_playbook("site.yml", path, *args)


def _changed_apps(tmp_path: Path) -> tuple[Path, str]:
    """A copy of the example apps whose hello answers a new greeting."""
    changed = tmp_path / "apps"
    shutil.copytree(APPS, changed, ignore=shutil.ignore_patterns("__pycache__"))
    greeting = f"Hello {uuid.uuid4().hex[:8]}!"
    script = changed / "hello" / "hello.wsgi"
    script.write_text(script.read_text().replace("Hello World!", greeting))
    return changed, greeting


def _record(container: str, site: str = "hello") -> dict[str, Any]:
    rc, out = exec_in(container, f"cat /var/lib/wsgi-deploy/sites/{site}.json")
    assert rc == 0, out
    return json.loads(out)


# ---------------------------------------------------------------------------- the converged hosts


def test_embedded_mode_is_restricted_when_every_site_runs_in_daemon_mode(host) -> None:  # noqa: ANN001
    if host.backend.get_hostname() != LIVE:
        pytest.skip("the Apache host")
    conf = host.file("/etc/apache2/conf-available/wsgi-sites.conf").content_string
    assert "WSGIRestrictEmbedded On" in conf
    assert "ServerTokens Prod" in conf


@pytest.mark.parametrize("container", SERVED)
def test_env_values_are_read_back_the_same_by_the_app_and_by_systemd(container: str) -> None:
    """The env file quotes every value so that the app's loader and systemd read what the
    inventory said, character for character (a newline would be refused by the preflight)."""
    wanted = SITES[0]["env"]["WSGI_TEST_QUOTING"]
    loader = (
        "import json, sys; sys.path.insert(0, '/srv/wsgi/hello/wsgi'); "
        "from wsgi_site_env import read_env; "
        "print(json.dumps(read_env('/etc/wsgi-sites/hello.env')['WSGI_TEST_QUOTING']))"
    )
    rc, out = exec_in(container, f'python3 -c "{loader}"')
    assert rc == 0, out
    assert json.loads(out) == wanted
    rc, out = exec_in(
        container,
        "systemd-run --quiet --wait --pipe -p EnvironmentFile=/etc/wsgi-sites/hello.env "
        "/usr/bin/printenv WSGI_TEST_QUOTING",
    )
    assert rc == 0, out
    assert out.rstrip("\n") == wanted


@pytest.mark.parametrize("container", SERVED)
def test_deployed_state_record_names_the_running_release(container: str) -> None:
    record = _record(container)
    rc, current = exec_in(container, "readlink /srv/wsgi/hello/current")
    assert rc == 0 and current.strip() == f"releases/{record['release']}"
    assert record["stack"] == ("apache_mod_wsgi" if container == LIVE else "nginx_gunicorn")
    assert record["fingerprint"]["release"] == record["release"]
    assert [r["current"] for r in record["releases"]].count(True) == 1
    rc, mode = exec_in(container, "stat -c '%U %a' /var/lib/wsgi-deploy/sites/hello.json")
    assert mode.strip() == "root 644"


# ---------------------------------------------------------------------------- symlinks


@pytest.mark.parametrize("container", SERVED)
def test_no_symlink_out_of_a_media_dir_is_served(container: str) -> None:
    """The app user can create files in its media dir; a symlink it plants there must not
    publish what the web server can read (403/404), while a real upload is served."""
    marker = uuid.uuid4().hex
    media = "/srv/wsgi/second/media"
    rc, out = exec_in(
        container,
        f"runuser -u wsgi-second -- sh -c 'echo {marker} > {media}/real.txt "
        f"&& ln -sf /etc/passwd {media}/pw.txt && ln -sfn /etc {media}/etc'",
    )
    assert rc == 0, out
    site = Site(container_ip(container), "second.example.test")
    assert site.get("/media/real.txt").text.strip() == marker
    for path in ("/media/pw.txt", "/media/etc/passwd"):
        resp = site.get(path)
        assert resp.status_code in (403, 404), (path, resp.status_code, resp.text[:200])
        assert "root:" not in resp.text


@pytest.mark.parametrize("container", SERVED)
def test_no_symlink_out_of_a_static_dir_is_served(container: str) -> None:
    static = "/srv/wsgi/hello/src/static"
    rc, out = exec_in(container, f"ln -sf /etc/passwd {static}/pw.css && ls {static}")
    assert rc == 0, out
    site = Site(container_ip(container), "departamentos.centro.intranet")
    assert site.get("/test/static/hello.css").status_code == 200
    resp = site.get("/test/static/pw.css")
    assert resp.status_code in (403, 404), resp.text[:200]
    assert "root:" not in resp.text
    exec_in(container, f"rm -f {static}/pw.css")


# ---------------------------------------------------------------------------- rejected configs


def test_config_apache_rejects_fails_the_play_and_keeps_the_old_sites(tmp_path: Path) -> None:
    hello_before = hello_text(LIVE)
    vhost = "/etc/apache2/sites-available/hello.conf"
    _, vhost_before = exec_in(LIVE, f"cat {vhost}")
    _, pid_before = exec_in(LIVE, "cat /run/apache2/apache2.pid")
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

    run = _deploy(inventory(tmp_path, sites, [LIVE]))

    assert run.rc != 0
    flat = " ".join(run.output.split())
    assert "configtest" in flat
    assert "Invalid command 'NotADirective'" in flat, run.output[-3000:]
    assert "previous configuration was restored (valid)" in flat, run.output[-3000:]
    # Apache still serves the previous sites, from the previous config, without a restart.
    assert hello_text(LIVE) == hello_before
    assert Site(container_ip(LIVE), "second.example.test").get("/").status_code == 200
    assert exec_in(LIVE, f"cat {vhost}")[1] == vhost_before
    assert exec_in(LIVE, "cat /run/apache2/apache2.pid")[1] == pid_before
    rc, listing = exec_in(LIVE, "ls -a /etc/apache2/sites-available /etc/apache2/sites-enabled")
    assert "newcomer" not in listing, listing
    assert "~" not in listing and ".bak" not in listing and "tmp" not in listing, listing
    assert exec_in(LIVE, "apache2ctl configtest")[0] == 0


def test_the_next_good_run_finds_apache_exactly_as_before(tmp_path: Path) -> None:
    """The refused config was restored exactly: the next good run has nothing to change in
    Apache (only the refused newcomer's /etc/hosts entry, written before the deploy, goes)."""
    run = _deploy(inventory(tmp_path, SITES, [LIVE]))
    assert run.rc == 0, run.output[-3000:]
    changed = run.changed_tasks()
    assert changed in ([], ["wsgi.deploy.wsgi_hosts : Write the sites' names to the hosts file"]), (
        changed
    )
    assert "newcomer" not in exec_in(LIVE, "cat /etc/hosts")[1]


# Directives each server's own test accepts: one Apache cannot take at reload (configtest does not
# open log files), one Nginx takes but with which the site stops answering.
TAKES_AT_TEST_NOT_AT_RELOAD = {
    "mod_wsgi": {"extra": ["ErrorLog /proc/wsgi-hello-error.log"]},
    "nginx": {"extra": ["if ($host) { return 503; }"]},
}
WHAT_WENT_WRONG = {
    # Apache exits at a graceful reload that cannot open its ErrorLog: said as such, at once.
    LIVE: "but the reload of apache2 failed: apache2 is not running after the reload",
    NGINX: "but after the reload not every site answered: site 'hello': "
    "http://departamentos.centro.intranet/test wanted a status below 500, got HTTP 503",
}
CONF = {
    LIVE: "/etc/apache2/sites-available/hello.conf",
    NGINX: "/etc/nginx/sites-available/hello.conf",
}
LABEL = {LIVE: ("Apache", "apache2ctl configtest"), NGINX: ("Nginx", "nginx -t")}


def test_config_that_passes_the_test_but_fails_at_reload_or_breaks_a_site_is_rolled_back(
    tmp_path: Path,
) -> None:
    conf_before = {c: exec_in(c, f"cat {CONF[c]}")[1] for c in SERVED}
    hello_before = {c: hello_text(c) for c in SERVED}
    sites = copy.deepcopy(SITES)
    sites[0].update(copy.deepcopy(TAKES_AT_TEST_NOT_AT_RELOAD))

    run = run_playbook("site.yml", inventory(tmp_path, sites, list(SERVED)), env=JSON_CALLBACK)

    assert run.rc != 0
    failures = first_failures(json_report(run.output))
    for container in SERVED:
        label, tester = LABEL[container]
        flat = failures.get(container, ("", ""))[1]
        assert f"The new {label} configuration passed" in flat and tester in flat, (
            flat or run.output[-3000:]
        )
        assert WHAT_WENT_WRONG[container] in flat, flat
        assert "The previous configuration was restored (valid)" in flat, flat
        assert "every site answers again" in flat, flat
        assert exec_in(container, f"cat {CONF[container]}")[1] == conf_before[container]
        assert hello_text(container) == hello_before[container]
        assert Site(container_ip(container), "second.example.test").get("/").status_code == 200
    # And the next good run has nothing left to repair in the servers' configuration.
    again = _deploy(inventory(tmp_path, SITES, list(SERVED)))
    assert again.rc == 0, again.output[-3000:]
    assert all(again.recap()[c]["changed"] == 0 for c in SERVED), again.changed_tasks()


# ---------------------------------------------------------------------------- interrupted runs
# Each on both stacks at once (one run for the two hosts: the linear strategy keeps them at the
# same task, so the kill comes at the same point on both).


def test_a_run_killed_before_the_switch_leaves_the_old_code_serving(tmp_path: Path) -> None:
    """Killed after the new release was built (its code, venv, settings written) but before the
    switch: the site keeps serving the old code, whole; the next run switches and serves the new."""
    changed, greeting = _changed_apps(tmp_path)
    before = {c: hello_text(c) for c in SERVED}
    path = inventory(tmp_path, SITES, list(SERVED), wsgi_source_base_dir=str(changed))

    killed = run_playbook_until("site.yml", path, "Switch each site to its release")

    assert killed.rc == -9, killed.output[-3000:]
    for container in SERVED:
        assert hello_text(container) == before[container]
    run = _deploy(path)
    assert run.rc == 0, run.output[-3000:]
    for container in SERVED:
        site = Site(container_ip(container), "departamentos.centro.intranet")
        assert site.wait_text("/test", greeting).text.startswith(greeting)


def test_a_run_killed_between_the_switch_and_the_reload_is_healed_by_the_next_run(
    tmp_path: Path,
) -> None:
    """Killed right after the switch, before the reload: the running processes still have the
    old code. The next run with the same inventory must see that what runs is not what should
    run (the deployed-state record) and reload: the new code is served."""
    changed, greeting = _changed_apps(tmp_path)
    path = inventory(tmp_path, SITES, list(SERVED), wsgi_source_base_dir=str(changed))

    # The switch and the comparison are one call; the next task hands its result on.
    killed = run_playbook_until("site.yml", path, "Hand the comparison to the stack's reload step")

    assert killed.rc == -9, killed.output[-3000:]
    current = {}
    for container in SERVED:
        recorded = _record(container)["release"]
        current[container] = exec_in(container, "readlink /srv/wsgi/hello/current")[1].strip()
        assert current[container] != f"releases/{recorded}"  # switched, not recorded
    run = _deploy(path)
    assert run.rc == 0, run.output[-3000:]
    for container in SERVED:
        site = Site(container_ip(container), "departamentos.centro.intranet")
        assert site.wait_text("/test", greeting, seconds=60).text.startswith(greeting)
        assert f"releases/{_record(container)['release']}" == current[container]
    # Converged now: the run after it changes nothing and serves the same.
    again = _deploy(path)
    assert all(again.recap()[c]["changed"] == 0 for c in SERVED), again.changed_tasks()
    for container in SERVED:
        assert hello_text(container).startswith(greeting)


def test_a_run_whose_requirements_fail_keeps_the_old_release_serving(tmp_path: Path) -> None:
    changed, greeting = _changed_apps(tmp_path)
    before = {c: hello_text(c) for c in SERVED}
    sites = copy.deepcopy(SITES)
    sites[0]["requirements"] = ["wsgi-deploy-no-such-package-anywhere==0.0.1"]

    run = _deploy(inventory(tmp_path, sites, list(SERVED), wsgi_source_base_dir=str(changed)))

    assert run.rc != 0
    assert "wsgi-deploy-no-such-package-anywhere" in run.output
    for container in SERVED:
        assert hello_text(container) == before[container]
    # The inventory fixed: the new code is served.
    good = _deploy(inventory(tmp_path, SITES, list(SERVED), wsgi_source_base_dir=str(changed)))
    assert good.rc == 0, good.output[-3000:]
    for container in SERVED:
        site = Site(container_ip(container), "departamentos.centro.intranet")
        assert site.wait_text("/test", greeting).text.startswith(greeting)


def test_restore_the_example_apps(tmp_path: Path) -> None:
    """Back to the shipped apps on both hosts (later modules expect them)."""
    run = _deploy(inventory(tmp_path, SITES, list(SERVED)))
    assert run.rc == 0, run.output[-3000:]
    for container in SERVED:
        assert hello_text(container).startswith("Hello World!")


def test_sites_yml_of_the_scenario_is_what_the_tests_use() -> None:
    data = yaml.safe_load(
        (Path(__file__).resolve().parents[1] / "group_vars/wsgi_servers/sites.yml").read_text()
    )
    assert data["wsgi_sites"] == SITES
    assert os.path.isdir(APPS)
