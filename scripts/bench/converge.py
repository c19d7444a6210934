"""Converge timings: a fresh converge against the physical floor, and no-op re-runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import containers
from .inventory import REPO

sys.path.insert(0, str(REPO / "tests"))
from wsgi_testlib.playbook import json_report, remote_calls  # noqa: E402

# What a converge of the demo's sites on the Nginx stack must do at the least, run directly in a
# fresh container of the same image: the packages in one apt transaction, one venv per site
# with its requirements (Gunicorn, Django), and migrate + collectstatic for each Django site.
FLOOR_PACKAGES = "nginx rsync python3-venv python3-packaging acl"
FLOOR_SCRIPT = """
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends {packages} >/dev/null
python3 -m venv /srv/floor/venv-hello
/srv/floor/venv-hello/bin/pip install -q --disable-pip-version-check gunicorn
for app in {django_apps}; do
  python3 -m venv /srv/floor/venv-$app
  /srv/floor/venv-$app/bin/pip install -q --disable-pip-version-check gunicorn \
    -r /srv/floor/apps/$app/requirements.txt
  cd /srv/floor/apps/$app
  export DJANGO_SECRET_KEY=floor DJANGO_STATIC_ROOT=/srv/floor/static-$app
  /srv/floor/venv-$app/bin/python manage.py migrate -v0
  /srv/floor/venv-$app/bin/python manage.py collectstatic --noinput -v0
done
"""


@dataclass(frozen=True)
class Run:
    seconds: float
    rc: int
    output: str


def playbook(inventory: Path, json_callback: bool = False, timeout: float = 3600) -> Run:
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    if json_callback:
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    started = time.monotonic()
    proc = subprocess.run(
        [str(REPO / ".venv/bin/ansible-playbook"), "site.yml", "-i", str(inventory)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Run(time.monotonic() - started, proc.returncode, proc.stdout + proc.stderr)


@dataclass(frozen=True)
class NoOp:
    seconds: float
    calls_per_host: dict[str, int]
    changed: int


def no_op(inventory: Path) -> NoOp:
    """A re-run of a converged inventory: its time, remote calls per host and changes."""
    run = playbook(inventory, json_callback=True)
    if run.rc:
        raise RuntimeError(f"no-op run failed:\n{run.output[-3000:]}")
    report = json_report(run.output)
    calls = {host: sum(per.values()) for host, per in remote_calls(report).items()}
    changed = sum(s["changed"] for s in report["stats"].values())
    return NoOp(run.seconds, calls, changed)


def floor(name: str, django_apps: tuple[str, ...] = ("guestbook", "polls")) -> float:
    """Seconds of the physical floor in a fresh container `name` (created and removed here)."""
    containers.remove([name])
    containers.start(name)
    try:
        containers.sh(name, "mkdir -p /srv/floor/apps")
        for app in django_apps:
            subprocess.run(
                ["docker", "cp", str(REPO / "apps" / app), f"{name}:/srv/floor/apps/{app}"],
                check=True,
                capture_output=True,
            )
        script = FLOOR_SCRIPT.format(packages=FLOOR_PACKAGES, django_apps=" ".join(django_apps))
        started = time.monotonic()
        containers.sh(name, script, timeout=1800)
        return time.monotonic() - started
    finally:
        containers.remove([name])
