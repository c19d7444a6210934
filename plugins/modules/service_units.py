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
  - One call per host whatever the number of sites. In order, C(stop) units are stopped and
    disabled, C(restart_first) units are restarted, C(ensure) units are enabled and started when
    they are not, C(restart) units are
    restarted and C(reload) units reloaded, a unit started or restarted earlier in the same call
    not again.
  - Reads first (C(systemctl is-active) / C(is-enabled)), so a run with nothing to do changes
    nothing. Supports check mode.
options:
  stop:
    description: Units stopped and disabled first (a web server handing port 80 over to another).
    type: list
    elements: str
    default: []
  free_ports:
    description:
      - With C(stop), the TCP ports the stopped units hold (80, 443 for a web server). The stops
        are sent without waiting for the units to finish, and C(ensure) starts as soon as these
        ports are free (a web server stops listening at once, then lets its requests finish),
        the shortest hand-over of the ports from one server to another.
    type: list
    elements: int
    default: []
  free_timeout:
    description: Seconds to wait for C(free_ports).
    type: int
    default: 60
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
stopped:
  description: Units stopped or disabled by this call.
  type: list
  elements: str
  returned: always
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

import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402


def systemctl(*args: str) -> tuple[int, str]:
    proc = subprocess.run(["systemctl", *args], capture_output=True, text=True, check=False)
    return proc.returncode, (proc.stderr or proc.stdout).strip()


def port_free(port: int) -> bool:
    """Nothing listens on the TCP port any more (it can be bound on every address)."""
    for family, address in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        try:
            probe = socket.socket(family, socket.SOCK_STREAM)
        except OSError:
            continue  # no IPv6 here
        try:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            probe.bind((address, port))
        except OSError as exc:
            if exc.errno == 98:  # EADDRINUSE
                return False
        finally:
            probe.close()
    return True


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "stop": {"type": "list", "elements": "str", "default": []},
            "free_ports": {"type": "list", "elements": "int", "default": []},
            "free_timeout": {"type": "int", "default": 60},
            "restart_first": {"type": "list", "elements": "str", "default": []},
            "ensure": {"type": "list", "elements": "str", "default": []},
            "restart": {"type": "list", "elements": "str", "default": []},
            "reload": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    p = module.params
    check = module.check_mode
    stopped: list[str] = []
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
                stopped=stopped,
                started=started,
                restarted=restarted,
                reloaded=reloaded,
            )

    # The critical window first (a web server handing its ports over): stop, wait for the ports,
    # start. Enabling and disabling (slow: systemd-sysv-install for units with SysV scripts) come
    # after it.
    to_disable: list[str] = []
    for unit in p["stop"]:
        active = systemctl("is-active", "--quiet", unit)[0] == 0
        if systemctl("is-enabled", "--quiet", unit)[0] == 0:
            to_disable.append(unit)
        if active:
            do("stop", "--no-block", unit) if p["free_ports"] else do("stop", unit)
        if active or unit in to_disable:
            stopped.append(unit)
    if stopped and p["free_ports"] and not check:
        deadline = time.monotonic() + p["free_timeout"]
        while not all(port_free(port) for port in p["free_ports"]):
            if time.monotonic() > deadline:
                module.fail_json(
                    msg=f"ports {p['free_ports']} still taken {p['free_timeout']} s after "
                    f"stopping {stopped}"
                )
            time.sleep(0.02)
    for unit in p["restart_first"]:
        do("restart", unit)
        restarted.append(unit)
    now_running: set[str] = set()  # started by this call: no restart or reload after it
    to_enable: list[str] = []
    for unit in p["ensure"]:
        if systemctl("is-active", "--quiet", unit)[0] != 0:
            do("start", unit)
            now_running.add(unit)
        if systemctl("is-enabled", "--quiet", unit)[0] != 0:
            to_enable.append(unit)
        if unit in now_running or unit in to_enable:
            started.append(unit)
    # One systemctl each (systemd reloads its units once per call, not once per unit).
    if to_disable:
        do("disable", *to_disable)
    if to_enable:
        do("enable", *to_enable)
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
        changed=bool(stopped or started or restarted or reloaded),
        stopped=stopped,
        started=started,
        restarted=restarted,
        reloaded=reloaded,
    )


if __name__ == "__main__":
    main()
