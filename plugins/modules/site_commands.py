#!/usr/bin/python
# Copyright: (c) 2026, wsgi-deploy maintainers
# MIT License (see LICENSE)
"""Run the sites' setup commands of one point of a deploy, in one call for every site."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: site_commands
short_description: Run the setup commands of the sites at one point of a deploy
description:
  - Runs, for every site given, the commands of its C(commands) list whose C(at) is I(point), in
    the order listed, each in a release of the site (the new one for C(after_venv) and
    C(before_serve), the one that serves for C(after_serve)) through the site's C(bin/run)
    wrapper, as the site's app user, with its environment file, its virtualenv first on PATH, its
    code as the working directory. No shell runs them.
  - A command runs once per release (or once per site with C(once)), unless its C(creates) path
    exists or its C(unless) command exits 0; a command that did not run yet for the release the
    site serves (new in the list, or its last run failed) runs in that release on the next run.
    What ran is recorded in a root-owned marker file per site in I(state_dir), written after
    each success, so a run that failed half-way runs what is left on the next one; a command
    whose argv, C(unless) or C(creates) changed runs again.
  - A failing command (non-zero exit, or killed after its C(timeout)) stops the site's later
    commands and fails the module with the command's last output lines; the other sites' commands
    still run. In check mode nothing runs; the module reports what would.
version_added: "1.0.0"
options:
  point:
    description: The point of the deploy.
    type: str
    required: true
    choices: [after_venv, before_serve, after_serve]
  sites:
    description: Normalised site records (from the site_normalize filter).
    type: list
    elements: dict
    required: true
  releases:
    description:
      - Per site name, its planned release (C(release), C(release_dir), C(new)), from
        site_release action=plan.
    type: dict
    required: true
  state_dir:
    description: Where the markers are kept (C(<site>.commands.json)).
    type: path
    required: true
author:
  - wsgi-deploy maintainers (@wsgi-deploy)
"""

EXAMPLES = r"""
- name: Run the setup commands before the new releases serve
  wsgi.deploy.site_commands:
    point: before_serve
    sites: "{{ wsgi_app_present }}"
    releases: "{{ wsgi_app_releases }}"
    state_dir: /var/lib/wsgi-deploy/sites
"""

RETURN = r"""
ran:
  description: Per site, the commands that ran (or would run, in check mode).
  type: dict
  returned: always
  sample: {trac: [initenv]}
skipped:
  description: Per site, the commands skipped and why (done, creates, unless).
  type: dict
  returned: always
"""

import os  # noqa: E402
from typing import Any  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.wsgi.deploy.plugins.module_utils import procs  # noqa: E402
from ansible_collections.wsgi.deploy.plugins.module_utils import releases as rel  # noqa: E402


def markers_path(state_dir: str, site: dict[str, Any]) -> str:
    """The site's markers (its record's `commands_file`, under `state_dir`)."""
    return str(
        site.get("commands_file") or os.path.join(state_dir, f"{site['name']}.commands.json")
    )


def run_as(
    site: dict[str, Any], argv: list[str], release_dir: str, timeout: int
) -> tuple[int | None, str]:
    """(exit code or None when killed after `timeout`, combined output) of argv in the release."""
    env = procs.site_env(site, release_dir, site["run_user"])
    return procs.run([site["run_file"], *argv], env, site["run_user"], timeout)


def site_release(site: dict[str, Any], releases: dict[str, Any]) -> dict[str, Any]:
    """The release the commands run in: the one the site is to serve (new or current), or {}.
    A command that did not run for it yet (new in the site list, or its run failed) runs now,
    whichever release that is."""
    planned = releases.get(site["name"]) or {}
    return planned if planned.get("release_dir") else {}


def run_site(
    site: dict[str, Any], point: str, planned: dict[str, Any], state_dir: str, check: bool
) -> dict[str, Any]:
    path = markers_path(state_dir, site)
    markers = rel.read_json(path) or {}
    out: dict[str, Any] = {"ran": [], "skipped": {}, "error": None}
    for cmd in [c for c in site.get("commands") or [] if c["at"] == point]:
        done = markers.get(cmd["name"]) or {}
        same = done.get("fingerprint") == cmd["fingerprint"]
        if same and (cmd["once"] or done.get("release") == planned["release"]):
            out["skipped"][cmd["name"]] = "done"
            continue
        if cmd.get("creates") and os.path.lexists(cmd["creates"]):
            out["skipped"][cmd["name"]] = "creates"
            continue
        if check:
            out["ran"].append(cmd["name"])
            continue
        if cmd.get("unless"):
            code, _output = run_as(site, cmd["unless"], planned["release_dir"], cmd["timeout"])
            if code == 0:
                out["skipped"][cmd["name"]] = "unless"
                continue
        code, output = run_as(site, cmd["argv"], planned["release_dir"], cmd["timeout"])
        if code != 0:
            how = f"was killed after {cmd['timeout']} s" if code is None else f"exited {code}"
            out["error"] = (
                f"site '{site['name']}': command '{cmd['name']}' ({point}, release "
                f"{planned['release']}, as {site['run_user']}) {how}:\n{procs.tail(output)}"
            )
            break
        out["ran"].append(cmd["name"])
        markers[cmd["name"]] = {
            "release": planned["release"],
            "fingerprint": cmd["fingerprint"],
            "at": rel.iso_now(),
        }
        os.makedirs(state_dir, mode=0o755, exist_ok=True)
        rel.write_json(path, markers, mode=0o600)
    return out


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "point": {
                "type": "str",
                "required": True,
                "choices": ["after_venv", "before_serve", "after_serve"],
            },
            "sites": {"type": "list", "elements": "dict", "required": True},
            "releases": {"type": "dict", "required": True},
            "state_dir": {"type": "path", "required": True},
        },
        supports_check_mode=True,
    )
    p = module.params
    ran: dict[str, list[str]] = {}
    skipped: dict[str, dict[str, str]] = {}
    errors: list[str] = []
    for site in p["sites"]:
        if not any(c["at"] == p["point"] for c in site.get("commands") or []):
            continue
        planned = site_release(site, p["releases"])
        if not planned:
            continue
        result = run_site(site, p["point"], planned, p["state_dir"], module.check_mode)
        if result["ran"]:
            ran[site["name"]] = result["ran"]
        if result["skipped"]:
            skipped[site["name"]] = result["skipped"]
        if result["error"]:
            errors.append(result["error"])
    changed = bool(ran)
    if errors:
        module.fail_json(
            msg="\n\n".join(errors)
            + ("\n\nThe new release does not serve." if p["point"] != "after_serve" else ""),
            changed=changed,
            ran=ran,
            skipped=skipped,
        )
    module.exit_json(changed=changed, ran=ran, skipped=skipped)


if __name__ == "__main__":
    main()
