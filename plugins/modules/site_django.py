#!/usr/bin/python
# Copyright: (c) 2026, wsgi-deploy maintainers
# MIT License (see LICENSE)
"""Run the Django steps of a host's new releases in one call, side by side."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: site_django
short_description: Run the Django management steps of a host's new releases, side by side
description:
  - For each Django site given (its release is new in this run), through the site's
    C(bin/manage) wrapper (its environment file, the new release's code and virtualenv), in this
    order, each step only after the one before it succeeded; C(collectstatic --noinput) into the
    new release (as root, the release is root-owned); C(check --deploy) as the app user (its
    warnings are returned and shown, an error fails the site); C(migrate --check) as the app
    user, then C(migrate --noinput) when migrations are unapplied, before the release serves.
  - The sites run side by side (I(parallel) at once), so the Django part of a host's deploy costs
    about its slowest site, not the sum of all. Sites on the same database (the same PostgreSQL
    server and database name) migrate one after another, in the order given.
  - A failing step fails the module naming the site, the step and the last lines Django wrote;
    that site's later steps do not run, the other sites' still do. Nothing is switched here, a
    release only serves after this module succeeded (role wsgi_app's activate step).
  - In check mode nothing runs; the module reports the sites it would run the steps of.
version_added: "1.0.0"
options:
  sites:
    description:
      - Normalised site records (from the site_normalize filter) of the Django sites whose
        release is new; C(name), C(manage_file), C(run_user), C(data_dir), C(collectstatic) and
        C(database) are read.
    type: list
    elements: dict
    required: true
  releases:
    description: Per site name, its planned release (C(release), C(release_dir)), from site_release.
    type: dict
    required: true
  collectstatic:
    description: Run C(collectstatic) (for the sites whose record says so).
    type: bool
    default: true
  check_deploy:
    description: Run C(check --deploy).
    type: bool
    default: true
  migrate:
    description: Apply unapplied migrations.
    type: bool
    default: true
  parallel:
    description: How many sites at once; C(0) is min(4, the host's CPUs).
    type: int
    default: 0
author:
  - wsgi-deploy maintainers (@wsgi-deploy)
"""

EXAMPLES = r"""
- name: Run the Django steps of the new releases side by side
  wsgi.deploy.site_django:
    sites: "{{ wsgi_django_new }}"
    releases: "{{ wsgi_app_releases }}"
  register: wsgi_django_run
"""

RETURN = r"""
collected:
  description: The sites whose static files were collected.
  type: list
  elements: str
  returned: always
migrated:
  description: The sites whose new release applied migrations.
  type: list
  elements: str
  returned: always
check_warnings:
  description: Per site, the warning lines of C(check --deploy) (only sites that had some).
  type: dict
  returned: always
  sample: {polls: ["?: (security.W004) You have not set a value for SECURE_HSTS_SECONDS."]}
"""

import re  # noqa: E402
import threading  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from typing import Any  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.wsgi.deploy.plugins.module_utils import procs  # noqa: E402

# A line of Django's system checks: "?: (security.W004) ..." (E error, W warning, I info).
CHECK_LINE = re.compile(r": [(][a-z_.]+[.][EWI][0-9]+[)]")
CHECK_WARNING = re.compile(r"[(][a-z_.]+[.]W[0-9]+[)]")


def database_key(site: dict[str, Any]) -> tuple[str, ...]:
    """What identifies the site's database: sites with the same key never migrate together."""
    db = site.get("database") or {}
    if db.get("engine") == "postgresql":
        return ("postgresql", str(db.get("host") or ""), str(db.get("port") or ""), db["name"])
    return ("sqlite", site["data_dir"])  # the site's own file, in its data dir


def warnings_of(output: str) -> list[str]:
    """The system-check lines of a `check --deploy` that found warnings, else []."""
    if not CHECK_WARNING.search(output):
        return []
    return [line for line in output.splitlines() if CHECK_LINE.search(line)]


def django_said(output: str) -> str:
    """The line of a failed migration that says what went wrong (its last error line)."""
    lines = output.rstrip().splitlines()
    errors = [line for line in lines if re.search("Error|Exception", line)]
    return (errors or lines or [""])[-1]


class Site:
    """The steps of one site, in order; `error` is set by the first that fails."""

    def __init__(
        self,
        site: dict[str, Any],
        planned: dict[str, Any],
        options: dict[str, Any],
        db_lock: threading.Lock,
    ):
        self.site = site
        self.planned = planned
        self.options = options
        self.db_lock = db_lock  # shared by the sites on the same database (database_key)
        self.collected = False
        self.migrated = False
        self.warnings: list[str] = []
        self.error: str | None = None

    def manage(self, user: str | None, *args: str) -> tuple[int | None, str]:
        env = procs.site_env(self.site, self.planned["release_dir"], user)
        return procs.run([self.site["manage_file"], *args], env, user)

    def fail(self, what: str, code: int | None, output: str) -> None:
        self.error = (
            f"site '{self.site['name']}': {what} of the new release {self.planned['release']} "
            f"exited {code}:\n{procs.tail(output)}"
        )

    def run(self) -> None:
        user = self.site["run_user"]
        if self.options["collectstatic"] and self.site.get("collectstatic"):
            code, out = self.manage(None, "collectstatic", "--noinput", "-v", "1")
            if code != 0:
                return self.fail("manage.py collectstatic", code, out)
            self.collected = True
        if self.options["check_deploy"]:
            code, out = self.manage(user, "check", "--deploy")
            if code != 0:
                return self.fail("manage.py check --deploy (errors, not warnings)", code, out)
            self.warnings = warnings_of(out)
        if self.options["migrate"]:
            with self.db_lock:
                self.migrate(user)
        return None

    def migrate(self, user: str) -> None:
        code, out = self.manage(user, "migrate", "--check", "--noinput")
        if code not in (0, 1) or "Traceback" in out or "Error:" in out:
            return self.fail("manage.py migrate --check (unapplied migrations?)", code, out)
        if code == 0:
            return None
        code, out = self.manage(user, "migrate", "--noinput")
        if code != 0:
            site = self.site
            lines = out.rstrip().splitlines()[-12:]
            self.error = (
                f"site '{site['name']}': the migrations of the new release "
                f"{self.planned['release']} failed (manage.py migrate exited {code}). Nothing was "
                "switched: the current release keeps serving. On SQLite and PostgreSQL each "
                "migration runs in a transaction: the failed one changed nothing, those before it "
                f"stay applied (see `sudo -u {user} {site['manage_file']} showmigrations`). "
                f"Django said: {django_said(out)} -- last lines: {' | '.join(lines)}"
            )
            return None
        self.migrated = True
        return None


def run_all(
    sites: list[dict[str, Any]], releases: dict[str, Any], options: dict[str, Any]
) -> list[Site]:
    """Every site's steps, side by side; one lock per database, taken around its migrations."""
    locks: dict[tuple[str, ...], threading.Lock] = {}
    todo = [
        Site(s, releases[s["name"]], options, locks.setdefault(database_key(s), threading.Lock()))
        for s in sites
        if s["name"] in releases
    ]
    count = procs.workers(options.get("parallel", 0), len(todo))

    def run(t: Site) -> None:
        try:
            t.run()
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # (an app user gone, a wrapper that is not there): that site's error, not a traceback
            t.error = f"site '{t.site['name']}': its Django steps could not run: {exc!r}"

    with ThreadPoolExecutor(max_workers=count) as pool:
        list(pool.map(run, todo))
    return todo


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "sites": {"type": "list", "elements": "dict", "required": True},
            "releases": {"type": "dict", "required": True},
            "collectstatic": {"type": "bool", "default": True},
            "check_deploy": {"type": "bool", "default": True},
            "migrate": {"type": "bool", "default": True},
            "parallel": {"type": "int", "default": 0},
        },
        supports_check_mode=True,
    )
    p = module.params
    if module.check_mode or not p["sites"]:
        module.exit_json(changed=bool(p["sites"]), collected=[], migrated=[], check_warnings={})
    done = run_all(p["sites"], p["releases"], p)
    result = {
        "collected": [t.site["name"] for t in done if t.collected],
        "migrated": [t.site["name"] for t in done if t.migrated],
        "check_warnings": {t.site["name"]: t.warnings for t in done if t.warnings},
    }
    for name, lines in result["check_warnings"].items():  # whole lines in check_warnings
        shown = " ".join(line.split(". ", 1)[0].rstrip(".") + "." for line in lines)
        module.warn(f"site '{name}': manage.py check --deploy warns: {shown}")
    changed = bool(result["collected"] or result["migrated"])
    errors = [t.error for t in done if t.error]
    if errors:
        module.fail_json(msg="\n\n".join(errors), changed=changed, **result)
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()
