"""Hostile input: every kind of bad site definition or host setting is refused before anything
changes on any host (the hosts are compared byte for byte), with a message naming the site and
the field. The list of kinds tried, with their verdicts and messages, is printed at the end of
the run (and kept in $WSGI_TEST_LOGS/bad-input-report.txt)."""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from safety_support import (
    APPS,
    FRESH,
    LIVE,
    NGINX,
    SITES,
    STACK,
    exec_in,
    hello_text,
    inventory,
    state,
)
from wsgi_testlib.playbook import JSON_CALLBACK, first_failures, json_report, run_playbook

SiteList = list[dict[str, Any]]
REPORT: list[tuple[str, str, str]] = []  # (kind, verdict, message), printed by conftest.py
FAKE_PYTHON = "/opt/python3.99/bin/python3"
SOURCES = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "hostile-sources"


def bad(**over: Any) -> dict[str, Any]:
    site = {"name": "bad", "domain": "bad.example.test", "source": {"path": "hello"}}
    site["entry"] = "hello.wsgi"
    site.update(over)
    return site


def django(**over: Any) -> dict[str, Any]:
    site = bad(kind="django", source={"path": "guestbook"}, entry="guestbook_site.wsgi:application")
    site["secrets"] = {"DJANGO_SECRET_KEY": "x" * 50}
    site.update(over)
    return site


@dataclass(frozen=True)
class Case:
    kind: str
    sites: SiteList | Callable[[str], SiteList]  # added to SITES (per container when callable)
    message: str  # a fragment of the refusal
    step: str = "site definitions"  # the preflight step that refuses it (one batch per step)
    host_vars: dict[str, Any] = field(default_factory=dict)
    hosts: tuple[str, ...] = (LIVE,)  # the containers it is tried on


SRC = str(SOURCES)
CASES = [
    # --- paths a site names: confined to its own tree (defects 1, 2, 6)
    Case("media dir /etc (would be chowned to the app user)",
         [bad(media={"url": "/media/", "dir": "/etc"})], "field 'media.dir': '/etc' is outside"),
    Case("static dir ../../../../etc (would serve the host's files)",
         [bad(static={"url": "/s/", "dir": "../../../../etc"})], "field 'static.dir': '../../../../etc' leaves"),
    Case("static dir in a shared system dir (deleted with the site)",
         [bad(static={"url": "/s/", "dir": "/var/www"})], "field 'static.dir': '/var/www' is outside"),
    Case("media dir inside the app-writable data dir",
         [bad(media={"url": "/m/", "dir": "/srv/wsgi/bad/data/up"})], "overlaps the site's managed directory"),
    Case("media dir over the code (releases)",
         [bad(media={"url": "/m/", "dir": "releases"})], "field 'media.dir': 'releases' overlaps"),
    Case("static dir with a space (vhost/server block injection)",
         [bad(static={"url": "/s/", "dir": "st atic; x"})], "field 'static.dir': 'st atic; x' must be a path"),
    Case("static dir that is a symlink out of the source",
         [bad(source={"path": f"{SRC}/linky"}, static={"url": "/s/", "dir": "static"})],
         "field 'static.dir': 'static' is a symlink that leaves the source"),
    Case("WSGI script that is a symlink out of the source",
         [bad(source={"path": f"{SRC}/linky"}, entry="app.wsgi")],
         "field 'entry': 'app.wsgi' is a symlink that leaves the source"),
    Case("WSGI script ../../etc/passwd", [bad(entry="../../etc/passwd")],
         "field 'entry': '../../etc/passwd' must be a path relative to the source"),
    Case("requirements_file ../../../../etc/shadow", [bad(requirements_file="../../../../etc/shadow")],
         "field 'requirements_file': '../../../../etc/shadow' must be a path relative"),
    Case("requirements_file /etc/shadow", [bad(requirements_file="/etc/shadow")],
         "field 'requirements_file': '/etc/shadow' must be a path relative"),
    Case("requirements_file that does not exist", [bad(requirements_file="nope.txt")],
         "field 'requirements_file': nope.txt is not a file in the source"),
    # --- values that land in the env file (defect 3)
    Case("env value with a newline (injects DJANGO_DEBUG=1)",
         [django(env={"FOO": "x\nDJANGO_DEBUG=1"})], "field 'env.FOO': contains a newline"),
    Case("secret with a newline", [django(secrets={"DJANGO_SECRET_KEY": "a" * 40 + "\nB=1"})],
         "field 'secrets.DJANGO_SECRET_KEY': contains a newline"),
    Case("env value with a NUL byte", [bad(env={"FOO": "x\x00y"})], "field 'env.FOO': contains a newline or another control"),
    Case("env value that is a mapping", [bad(env={"FOO": {"a": 1}})], "field 'env.FOO': {'a': 1} must be a string"),
    Case("env sets DJANGO_DEBUG over the contract", [django(env={"DJANGO_DEBUG": "1"})],
         "field 'env.DJANGO_DEBUG': is set by the collection"),
    Case("env sets DJANGO_ALLOWED_HOSTS over the contract", [django(env={"DJANGO_ALLOWED_HOSTS": "*"})],
         "field 'env.DJANGO_ALLOWED_HOSTS': is set by the collection"),
    Case("secret key in plain env", [bad(env={"DJANGO_SECRET_KEY": "k"})],
         "field 'env.DJANGO_SECRET_KEY': is a secret"),
    Case("same variable in env and secrets", [bad(env={"X": "1"}, secrets={"X": "2"})],
         "field 'secrets.X': is also set in 'env'"),
    Case("env variable name that is not one", [bad(env={"1BAD": "x"})],
         "field 'env': '1BAD' is not a valid environment variable name"),
    # --- /etc/hosts (defect 4)
    Case("hosts_address with a newline (writes arbitrary hosts lines)",
         [bad(hosts_address="10.0.0.1\n10.6.6.6 login.bank.example")], "field 'hosts_address'"),
    Case("hosts_address that is a name", [bad(hosts_address="localhost")],
         "field 'hosts_address': 'localhost' is not an IPv4 or IPv6 address"),
    Case("host-level wsgi_hosts_address with a newline", [],
         "wsgi_hosts_address: '10.0.0.1\\n6.6.6.6 evil.example' is not an IPv4",
         host_vars={"wsgi_hosts_address": "10.0.0.1\n6.6.6.6 evil.example"}),
    Case("site named localhost (redirects the host's own name)", [bad(domain="localhost")],
         "field 'domain': 'localhost' is a name of the host itself"),
    Case("alias under .localhost", [bad(aliases=["app.localhost"])],
         "field 'aliases': 'app.localhost' is a name of the host itself"),
    # --- app users (defect 5)
    Case("user nobody (a system account)", [bad(user="nobody")], "field 'user': 'nobody' is a system account"),
    Case("user root", [bad(user="root")], "field 'user': 'root' is a system account"),
    Case("user www-data (the web server)", [bad(user="www-data")], "field 'user': 'www-data' is a system account"),
    Case("user 'Bad User'", [bad(user="Bad User")], "field 'user': 'Bad User' must be 1-32 characters"),
    Case("two sites sharing one user", [bad(user="wsgi-hello")],
         "field 'user': 'wsgi-hello' is already the app user of site 'hello'"),
    Case("name too long for useradd (wsgi-<name> > 32)", [bad(name="a" * 28)],
         "is too long for its app user"),
    # --- requirements and sources (defect 6)
    Case("requirement with an invalid marker (';')", [bad(requirements=['django; python_version >> "3"'])],
         "is not a requirement specifier (PEP 508)"),
    Case("requirement carrying a pip option (--index-url)",
         [bad(requirements=["--index-url https://evil.example/simple"])], "is a pip option, not a requirement"),
    Case("requirements file with an index URL",
         [bad(source={"path": f"{SRC}/indexed"}, entry="app.wsgi", requirements_file="requirements.txt")],
         "pip option '--index-url' is not allowed in a requirements file"),
    Case("requirements file including a file outside the source",
         [bad(source={"path": f"{SRC}/includes"}, entry="app.wsgi", requirements_file="requirements.txt")],
         "includes a file outside the source"),
    Case("pip_index_url that is not http(s)", [bad(pip_index_url="file:///etc")],
         "field 'pip_index_url': 'file:///etc' must be an http(s) URL"),
    Case("git URL that is a git option (--upload-pack=...)", [bad(source={"git": "--upload-pack=touch /tmp/x"})],
         "field 'source.git': '--upload-pack=touch /tmp/x' is not a git URL"),
    Case("git version that is a git option", [bad(source={"git": "https://git.example.test/a.git", "version": "--orphan"})],
         "field 'source.version': '--orphan' is not a branch"),
    Case("django_settings: os (not the project's module)", [django(django_settings="os")],
         "field 'django_settings': 'os' is not a module of the project"),
    Case("interpreter given with arguments", [bad(python="/usr/bin/python3 -c x")],
         "field 'python': '/usr/bin/python3 -c x' must be an absolute path"),
    # --- what lands in units and server configs
    Case("Gunicorn argument with a systemd specifier (%)", [bad(stack="nginx_gunicorn", gunicorn={"extra_args": ["--name=%n"]})],
         "field 'gunicorn.extra_args'", hosts=(NGINX,)),
    Case("Gunicorn argument with a variable ($)", [bad(stack="nginx_gunicorn", gunicorn={"extra_args": ["$HOME"]})],
         "field 'gunicorn.extra_args'", hosts=(NGINX,)),
    Case("Gunicorn argument with a command separator", [bad(stack="nginx_gunicorn", gunicorn={"extra_args": ["--log-level=info ;rm"]})],
         "field 'gunicorn.extra_args'", hosts=(NGINX,)),
    Case("multi-line Apache directive", [bad(mod_wsgi={"extra": ["Header set X 1\n</VirtualHost>"]})],
         "field 'mod_wsgi.extra': must be a list of single-line Apache directives"),
    Case("multi-line Nginx directive", [bad(stack="nginx_gunicorn", nginx={"extra": ["a;\n}"]})],
         "field 'nginx.extra': must be a list of single-line Nginx directives", hosts=(NGINX,)),
    Case("health path that is not a path", [bad(health={"path": "http://evil/"})],
         "field 'health.path': 'http://evil/' must be an absolute URL path"),
    Case("keep_releases 0", [bad(keep_releases=0)], "field 'keep_releases': 0 must be an integer >= 1"),
    Case("sites root '/' (wsgi_sites_root)", [], "wsgi_sites_root: '/' must be an absolute directory",
         host_vars={"wsgi_sites_root": "/"}),
    # --- the checks that were there before
    Case("invalid domain", [bad(domain="not_a_domain!.example")], "field 'domain': 'not_a_domain!.example' is not a valid"),
    Case("duplicate domain across sites", [bad(domain="www.departamentos.centro.intranet", path="/")],
         "field 'domain': domain 'www.departamentos.centro.intranet' is already used by site 'hello'"),
    Case("same domain and path", [bad(domain="second.example.test", name="twin")],
         "site 'twin': field 'domain': two sites at the same domain+path second.example.test/"),
    Case("missing WSGI entry", [bad(entry="nowhere.wsgi")], "field 'entry': WSGI entry 'nowhere.wsgi' not found"),
    Case("unknown stack", [bad(stack="lighttpd_fastcgi")], "field 'stack': 'lighttpd_fastcgi' is not one of"),
    Case("unknown mod_wsgi mode", [bad(mod_wsgi={"mode": "turbo"})], "field 'mod_wsgi.mode': 'turbo' is not one of daemon, embedded"),
    Case("path without leading slash", [bad(path="test")], "field 'path': 'test' must start with '/'"),
    Case("Django site without a secret key", [django(secrets={})], "field 'secrets': DJANGO_SECRET_KEY is required"),
    Case("unknown Gunicorn worker class", [bad(stack="nginx_gunicorn", gunicorn={"worker_class": "meinheld"})],
         "field 'gunicorn.worker_class': 'meinheld' is not one of", hosts=(NGINX,)),
    Case("Gunicorn workers < 1", [bad(gunicorn={"workers": 0})], "field 'gunicorn.workers': 0 must be an integer >= 1"),
    Case("Gunicorn socket outside /run", [bad(gunicorn={"socket": "/tmp/bad.sock"})],
         "field 'gunicorn.socket': '/tmp/bad.sock' must be a path under /run/"),
    Case("two stacks on one host", [bad(stack="nginx_gunicorn")],
         "field 'stack': 'nginx_gunicorn', but site 'hello' on the same host uses 'apache_mod_wsgi'"),
    # --- types (argument specs)
    Case("option of the wrong type (argument spec)", [], "wsgi_mod_wsgi_threads", step="argument spec",
         host_vars={"wsgi_mod_wsgi_threads": "plenty"}),
    Case("release count of the wrong type (argument spec)", [], "wsgi_keep_releases", step="argument spec",
         host_vars={"wsgi_keep_releases": "many"}),
    # --- what only the host can tell (checked on the host, before any change)
    Case("user that exists and is not the collection's (alice)", [bad(user="alice")],
         "field 'user': 'alice' already exists on the host and was not created by this collection",
         step="host checks", hosts=(LIVE, FRESH)),
    Case("user whose name is taken by a group", [bad(user="wsgi-grouponly")],
         "field 'user': 'wsgi-grouponly' does not exist but a group of that name does",
         step="host checks", hosts=(LIVE, FRESH)),
    Case("removing (purge) a site whose user is not the collection's",
         [{"name": "gone", "domain": "gone.example.test", "user": "alice", "state": "absent", "purge_data": True}],
         "site 'gone': field 'user': 'alice' already exists", step="host checks", hosts=(LIVE, FRESH)),
    Case("interpreter /bin/sh", [bad(python="/bin/sh")], "field 'python': /bin/sh is not a Python 3 interpreter",
         step="host checks", hosts=(LIVE, FRESH, NGINX)),
    Case("interpreter that does not exist", [bad(python="/opt/nowhere/bin/python3")],
         "field 'python': interpreter /opt/nowhere/bin/python3 was not found", step="host checks",
         hosts=(LIVE, FRESH, NGINX)),
    Case("venv Python mod_wsgi cannot load", [bad(python=FAKE_PYTHON)],
         f"field 'python': {FAKE_PYTHON} is Python 3.99, but mod_wsgi", step="host checks", hosts=(LIVE, FRESH)),
    Case("site directory that is a symlink (to /etc)", [bad(name="linkroot")],
         "site 'linkroot': field 'name': the site directory is unsafe: /srv/wsgi/linkroot is a symlink",
         step="host checks", hosts=(LIVE, FRESH)),
    Case("media dir that is a symlink (to /etc)", [bad(name="linkmedia", media={"url": "/media/"})],
         "site 'linkmedia': field 'media.dir': /srv/wsgi/linkmedia/media is a symlink", step="host checks",
         hosts=(LIVE, FRESH)),
    Case("site directory owned by another user", [bad(name="foreign")],
         "site 'foreign': field 'name': the site directory is unsafe: /srv/wsgi/foreign is owned by uid",
         step="host checks", hosts=(LIVE, FRESH)),
    Case("site named after the host itself", lambda c: [bad(domain=c)],
         "is this host's own name", step="host checks", hosts=(LIVE, FRESH)),
    Case("package apt does not know", [bad(packages=["wsgi-no-such-package"])],
         "field 'packages': 'wsgi-no-such-package' cannot be installed on this host", step="host checks",
         hosts=(LIVE, FRESH)),
    Case("virtual package with several providers", [bad(packages=["virtual-mysql-server"])],
         "field 'packages': 'virtual-mysql-server' cannot be installed on this host", step="host checks",
         hosts=(LIVE, FRESH)),
    Case("git source that cannot be reached", [bad(source={"git": "https://git.invalid/nowhere.git"})],
         "field 'source.git': the repository cannot be reached", step="host checks", hosts=(LIVE, FRESH)),
]  # fmt: skip

# Accepted by design (documented in README "Safety"): listed in the report, not refused.
BY_DESIGN = [
    ("a single-line extra directive (mod_wsgi.extra, nginx.extra)",
     "accepted: the admin's own server configuration, one line each"),
    ("an env value with $, backquotes, quotes, backslashes, '#'",
     "accepted: quoted in the env file, read back unchanged (test_2_safety)"),
    ("a symlink planted in a media or static dir by the app user",
     "accepted on disk, never served (403/404 on both stacks, test_2_safety)"),
]  # fmt: skip

STEP_TASK = {
    "site definitions": "Check the site definitions",
    "argument spec": "Validating arguments against arg spec",
    "host checks": "Refuse what the host cannot take",
}
CONTAINERS = (LIVE, NGINX, FRESH)


def _alias(case: Case, container: str) -> str:
    return f"case{CASES.index(case):02d}-{container.rsplit('-', 1)[-1]}"


@dataclass
class Refused:
    rc: int
    plays: list[str]
    failed_task: dict[str, str]  # alias -> name of the task that failed
    messages: dict[str, str]  # alias -> its message


def _run(tmp_path: Path, cases: list[Case]) -> Refused:
    hosts: dict[str, Any] = {}
    for case in cases:
        for container in case.hosts:
            extra = case.sites(container) if callable(case.sites) else case.sites
            hosts[_alias(case, container)] = {
                "ansible_connection": "community.docker.docker",
                "ansible_host": container,
                "wsgi_default_stack": STACK[container],
                "wsgi_sites": SITES + extra,
                **case.host_vars,
            }
    inv = {
        "all": {
            "children": {"wsgi_servers": {"hosts": hosts, "vars": {"wsgi_source_base_dir": APPS}}}
        }
    }
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(inv, sort_keys=False))
    run = run_playbook("site.yml", path, "--forks", "40", env=JSON_CALLBACK)
    report = json_report(run.output)
    failures = first_failures(report)
    return Refused(
        rc=run.rc,
        plays=[play["play"]["name"] for play in report["plays"]],
        failed_task={alias: task for alias, (task, _) in failures.items()},
        messages={alias: msg for alias, (_, msg) in failures.items()},
    )


def _make_sources() -> None:
    """Controller-side sources with symlinks out of themselves and hostile requirements files."""
    linky = SOURCES / "linky"
    linky.mkdir(parents=True, exist_ok=True)
    for link, target in (("static", "/etc"), ("app.wsgi", "/etc/passwd")):
        if not (linky / link).is_symlink():
            (linky / link).symlink_to(target)
    (linky / "hello.wsgi").write_text("def application(e, s): pass\n")
    for name, text in (
        ("indexed", "--index-url https://evil.example/simple\ndjango\n"),
        ("includes", "-r ../../../../etc/shadow\n"),
    ):
        (SOURCES / name).mkdir(parents=True, exist_ok=True)
        (SOURCES / name / "app.wsgi").write_text("def application(e, s): pass\n")
        (SOURCES / name / "requirements.txt").write_text(text)


# Prepared on the hosts before they are fingerprinted (part of "before").
# An interpreter that says it is CPython 3.99 (the host checks ask every interpreter with a probe).
FAKE_PYTHON_SCRIPT = (
    "#!/bin/sh\n"
    'echo \'{"version": "3.99", "implementation": "CPython", "venv": true, "ensurepip": true}\'\n'
)
HOST_SETUP = (
    f"mkdir -p {Path(FAKE_PYTHON).parent} && echo "
    f"{base64.b64encode(FAKE_PYTHON_SCRIPT.encode()).decode()} | base64 -d > {FAKE_PYTHON} "
    f"&& chmod 755 {FAKE_PYTHON}; "
    "id alice >/dev/null 2>&1 || useradd --system --shell /usr/sbin/nologin alice; "
    "getent group wsgi-grouponly >/dev/null || groupadd --system wsgi-grouponly; "
    "mkdir -p /srv/wsgi/linkmedia /srv/wsgi/foreign && ln -sfn /etc /srv/wsgi/linkroot "
    "&& ln -sfn /etc /srv/wsgi/linkmedia/media && chown alice /srv/wsgi/foreign"
)


@pytest.fixture(scope="module")
def refused(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Refused]:
    """Every case, in one run per preflight step, with every host fingerprinted around them."""
    _make_sources()
    for container in CONTAINERS:
        rc, out = exec_in(container, HOST_SETUP)
        assert rc == 0, out
    before = {c: state(c) for c in CONTAINERS}
    runs: dict[str, Refused] = {}
    for step in STEP_TASK:
        cases = [c for c in CASES if c.step == step]
        runs[step] = _run(tmp_path_factory.mktemp("refused"), cases)
    after = {c: state(c) for c in CONTAINERS}
    for container in CONTAINERS:
        assert after[container] == before[container], f"a refused run changed {container}"
    for case in CASES:
        run = runs[case.step]
        message = run.messages.get(_alias(case, case.hosts[0]), "")
        verdict = "refused" if case.message in message else "NOT REFUSED AS EXPECTED"
        REPORT.append((case.kind, f"{verdict} ({case.step})", message))
    REPORT.extend((kind, verdict, "") for kind, verdict in BY_DESIGN)
    _write_report()
    return {case.kind: runs[case.step] for case in CASES}


def _write_report() -> None:
    logs = os.environ.get("WSGI_TEST_LOGS") or os.environ.get("LOGS")
    if not logs:
        return
    lines = [
        f"{n:3}. {kind}\n     {verdict}: {msg[:400]}"
        for n, (kind, verdict, msg) in enumerate(REPORT, 1)
    ]
    Path(logs).mkdir(parents=True, exist_ok=True)
    (Path(logs) / "bad-input-report.txt").write_text("\n".join(lines) + "\n")


def test_at_least_forty_kinds_are_tried() -> None:
    assert len(CASES) >= 40
    assert len({c.kind for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.kind for c in CASES])
def test_bad_input_is_refused_before_any_change(case: Case, refused: dict[str, Refused]) -> None:
    run = refused[case.kind]
    assert run.rc != 0
    for container in case.hosts:
        alias = _alias(case, container)
        assert case.message in run.messages.get(alias, ""), (alias, run.messages.get(alias))
        assert STEP_TASK[case.step] in run.failed_task[alias], run.failed_task[alias]
    assert run.plays and run.plays[0].startswith("Preflight")
    assert len(run.plays) == 1, f"plays after the preflight ran: {run.plays}"


def test_no_secret_value_appears_in_a_refusal(refused: dict[str, Refused]) -> None:
    secret_cases = [c for c in CASES if "secret" in c.kind]
    for case in secret_cases:
        message = refused[case.kind].messages[_alias(case, case.hosts[0])]
        assert "a" * 40 not in message and "x" * 50 not in message, message


def test_the_served_sites_still_answer() -> None:
    for container in (LIVE, NGINX):
        assert hello_text(container).startswith("Hello World!")


def test_fresh_host_is_untouched_by_refused_runs() -> None:
    rc, _ = exec_in(
        FRESH, "test -e /srv/wsgi/hello || test -e /etc/apache2 || test -e /etc/wsgi-sites"
    )
    assert rc != 0
    assert "departamentos" not in exec_in(FRESH, "cat /etc/hosts")[1]


# Holds apt's index lock the way another apt-get update does (apt takes a POSIX record lock on
# the file: python's lockf is the same kind), for as many seconds as it is told.
HOLD_APT_LOCK = """
import fcntl, pathlib, sys, time
handle = open("/var/lib/apt/lists/lock", "w")
fcntl.lockf(handle, fcntl.LOCK_EX)
pathlib.Path("/run/wsgi-test-apt-held").write_text(str(time.time()))
time.sleep(float(sys.argv[1]))
pathlib.Path("/run/wsgi-test-apt-released").write_text(str(time.time()))
"""
HOLD_SECONDS = 60


def _task_start(report: dict[str, Any], name: str) -> float:
    for play in report["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"].endswith(name):  # "<role> : <name>"
                return datetime.fromisoformat(task["task"]["duration"]["start"]).timestamp()
    raise AssertionError(f"no task {name!r} in the run")


def test_the_package_check_waits_while_another_apt_holds_the_index(tmp_path: Path) -> None:
    """A stale index whose lock another apt holds (apt-daily's refresh at that moment, or a
    second run on the host) is refreshed once the lock is free, and a package apt does not know
    is still refused. The check took the locked index for one that cannot tell and let the site
    through (seen when the batched cases above refreshed one host's index at once). In check
    mode, so that the old behaviour, had it come back, changes nothing on the fresh host."""
    rc, out = exec_in(FRESH, "rm -f /run/wsgi-test-apt-*")
    assert rc == 0, out
    held = subprocess.run(
        ["docker", "exec", "-d", FRESH, "python3", "-c", HOLD_APT_LOCK, str(HOLD_SECONDS)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert held.returncode == 0, held.stderr
    rc, out = exec_in(
        FRESH,
        "for i in $(seq 50); do [ -e /run/wsgi-test-apt-held ] && exit 0; sleep 0.2; done; exit 1",
    )
    assert rc == 0, "the lock holder did not take apt's lock"
    # Stale once the lock is held (creating the lock file touches the index's directory).
    stamp = "/var/lib/apt/periodic/update-success-stamp"
    rc, out = exec_in(
        FRESH,
        f"touch -d '-3 hours' /var/lib/apt/lists; [ ! -e {stamp} ] || touch -d '-3 hours' {stamp}",
    )
    assert rc == 0, out

    sites = SITES + [bad(packages=["wsgi-no-such-package"])]
    run = run_playbook(
        "site.yml", inventory(tmp_path, sites, [FRESH]), "--check", env=JSON_CALLBACK
    )

    report = json_report(run.output)
    failure = first_failures(report).get(FRESH, ("", ""))
    assert run.rc != 0, run.output[-3000:]
    assert (
        "field 'packages': 'wsgi-no-such-package' cannot be installed on this host" in failure[1]
    ), failure or run.output[-3000:]
    # And the lock was in the way: the host checks started while it was held.
    rc, released = exec_in(FRESH, "cat /run/wsgi-test-apt-released")
    assert rc == 0, "the lock holder had not let go when the refusal came"
    checks = _task_start(report, "Check the host against its sites (read-only)")
    assert checks < float(released), "the host checks started after the lock was released"
    exec_in(FRESH, "rm -f /run/wsgi-test-apt-*")


def test_remove_the_host_setup() -> None:
    for container in CONTAINERS:
        exec_in(container, "rm -rf /srv/wsgi/linkroot /srv/wsgi/linkmedia /srv/wsgi/foreign")
        if container == FRESH:
            exec_in(container, "rmdir /srv/wsgi 2>/dev/null; true")
