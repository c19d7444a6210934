#!/usr/bin/python
# Copyright: (c) 2026, wsgi-deploy maintainers
# MIT License (see LICENSE)
"""Start, restart and reload the systemd units of a host's sites in one call."""

from __future__ import annotations

DOCUMENTATION = r"""
module: service_units
short_description: Run, restart and reload many systemd units in one call
version_added: 1.0.0
description:
  - One call per host whatever the number of sites. In order, C(restart_first) units are
    restarted, C(ensure) units are enabled and started when they are not, C(restart) units are
    restarted and C(reload) units reloaded, a unit started or restarted earlier in the same call
    not again.
  - Reads first (C(systemctl is-active) / C(is-enabled)), so a run with nothing to do changes
    nothing. Supports check mode.
options:
  restart_first:
    description: Units restarted before anything else (e.g. sockets whose unit changed).
    type: list
    elements: str
    default: []
  ensure:
    description: Units that must be enabled and running.
    type: list
    elements: str
    default: []
  restart:
    description: Units to restart (unless started or restarted by this call already).
    type: list
    elements: str
    default: []
  reload:
    description: Units to reload (unless started or restarted by this call already).
    type: list
    elements: str
    default: []
author:
  - wsgi-deploy maintainers (@wsgi-deploy)
"""

EXAMPLES = r"""
- name: Run the sites' Gunicorn, restart or HUP those that differ
  wsgi.deploy.service_units:
    ensure: [gunicorn-hello.socket, gunicorn-hello.service]
    reload: [gunicorn-hello.service]
"""

RETURN = r"""
started:
  description: Units enabled or started by this call.
  type: list
  elements: str
  returned: always
restarted:
  description: Units restarted.
  type: list
  elements: str
  returned: always
reloaded:
  description: Units reloaded.
  type: list
  elements: str
  returned: always
"""

import subprocess  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402


def systemctl(*args: str) -> tuple[int, str]:
    proc = subprocess.run(["systemctl", *args], capture_output=True, text=True, check=False)
    return proc.returncode, (proc.stderr or proc.stdout).strip()


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "restart_first": {"type": "list", "elements": "str", "default": []},
            "ensure": {"type": "list", "elements": "str", "default": []},
            "restart": {"type": "list", "elements": "str", "default": []},
            "reload": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    p = module.params
    check = module.check_mode
    started: list[str] = []
    restarted: list[str] = []
    reloaded: list[str] = []

    def do(*args: str) -> None:
        if check:
            return
        rc, out = systemctl(*args)
        if rc != 0:
            module.fail_json(
                msg=f"systemctl {' '.join(args)} failed: {out}",
                started=started,
                restarted=restarted,
                reloaded=reloaded,
            )

    for unit in p["restart_first"]:
        do("restart", unit)
        restarted.append(unit)
    now_running: set[str] = set()  # started by this call: no restart or reload after it
    for unit in p["ensure"]:
        enabled = systemctl("is-enabled", "--quiet", unit)[0] == 0
        active = systemctl("is-active", "--quiet", unit)[0] == 0
        if not active:
            do("enable", "--now", unit)
            now_running.add(unit)
        elif not enabled:
            do("enable", unit)
        if not enabled or not active:
            started.append(unit)
    done = now_running | set(restarted)
    for unit in p["restart"]:
        if unit not in done:
            do("restart", unit)
            restarted.append(unit)
    done |= set(restarted)
    for unit in p["reload"]:
        if unit not in done:
            do("reload", unit)
            reloaded.append(unit)
    module.exit_json(
        changed=bool(started or restarted or reloaded),
        started=started,
        restarted=restarted,
        reloaded=reloaded,
    )


if __name__ == "__main__":
    main()
