#!/usr/bin/python
# Copyright: (c) 2026, wsgi-deploy maintainers
# MIT License (see LICENSE)
"""One validated change of a server's configuration: back up, write, test, reload, check,
and on any failure restore, reload and fail with what was seen."""

from __future__ import annotations

DOCUMENTATION = r"""
module: validated_change
short_description: Change a server's configuration without ever leaving it broken
version_added: 1.0.0
description:
  - Applies a whole set of configuration files, symlinks and removals to the target in one call,
    and only what differs.
  - When something differs, the previous state of every touched path is kept, the new one is
    written, the server's own test runs (C(apache2ctl configtest), C(nginx -t), ...), then the
    server is reloaded (or restarted, or started) and every site it serves is checked over real
    HTTP with its Host name.
  - If the test rejects the configuration, the previous state is put back before any reload. If
    the reload fails or a site does not answer as it should (a directive that passes the test
    but fails at reload, for example), the previous state is put back, the server is reloaded
    again, the sites are checked again, and the module fails with what the test, the reload and
    the checks said.
  - Supports check mode and diff mode (the content of C(secret_files) is never shown).
options:
  files:
    description: Files with their full content.
    type: list
    elements: dict
    default: []
    suboptions:
      path: {description: Absolute path., type: path, required: true}
      content: {description: Full content., type: str, required: true}
      mode: {description: Octal permissions., type: str, default: "0644"}
      restart:
        description: A change of this file needs a restart instead of a reload.
        type: bool
        default: false
      daemon_reload:
        description: A unit file (or drop-in) of systemd's; a change makes systemd reload its units.
        type: bool
        default: false
      create_only:
        description: Written only when the path does not exist (a placeholder, replaced by certbot).
        type: bool
        default: false
      inert:
        description:
          - The server does not read this file (a logrotate policy, say). A change of only inert
            files is written with no test, no reload and no checks; with other changes, it is
            written, and restored on failure, together with them.
        type: bool
        default: false
  secret_files:
    description:
      - Files whose content is a secret (private keys), root-owned; their content is never
        returned, logged or shown in a diff (only that it changes).
    type: list
    elements: dict
    default: []
    suboptions:
      path: {description: Absolute path., type: path, required: true}
      content: {description: Full content., type: str, required: true}
      mode: {description: Octal permissions., type: str, default: "0600"}
      create_only:
        description: Written only when the path does not exist.
        type: bool
        default: false
  links:
    description: Symlinks.
    type: list
    elements: dict
    default: []
    suboptions:
      path: {description: The link., type: path, required: true}
      src: {description: What it points to., type: str, required: true}
      restart: {description: A change of it needs a restart (a module)., type: bool, default: false}
      optional: {description: Only when what it points to exists., type: bool, default: false}
  absent:
    description: Paths (files or links) that must not exist.
    type: list
    elements: path
    default: []
  test:
    description: The server's configuration test, as an argument vector.
    type: list
    elements: str
    default: []
  service:
    description: The systemd service reloaded after a change (none when empty).
    type: str
    default: ""
  reload:
    description: How the service takes a change (C(restart) for units whose changes need it).
    type: str
    choices: [reload, restart, daemon-reload]
    default: reload
  port:
    description: The port the checks connect to on 127.0.0.1.
    type: int
    default: 80
  https_port:
    description: The port the checks of sites with TLS connect to on 127.0.0.1 (with SNI).
    type: int
    default: 443
  sites:
    description: Normalised records of the sites that must answer after the change (C(health)).
    type: list
    elements: dict
    default: []
  label:
    description: The server's name in messages.
    type: str
    default: the server
  enable:
    description: Also make sure the service is enabled and running (also when nothing changed).
    type: bool
    default: false
  reload_timeout:
    description:
      - Seconds a reloaded service has to start new processes (a server that rejects a
        configuration at reload keeps its old ones, and the change is undone).
    type: int
    default: 30
author:
  - wsgi-deploy maintainers (@wsgi-deploy)
"""

EXAMPLES = r"""
- name: Apply the VirtualHosts, validated
  wsgi.deploy.validated_change:
    files: "{{ lookup('ansible.builtin.template', 'apache_files.j2') | from_json }}"
    test: [/usr/sbin/apache2ctl, configtest]
    service: apache2
    sites: "{{ wsgi_apache_serving }}"
    label: Apache
"""

RETURN = r"""
changed_paths:
  description: The paths that were (or would be) changed.
  type: list
  elements: str
  returned: always
reloaded:
  description: How the service was reloaded (reload, restart, start or none).
  type: str
  returned: always
checks:
  description: The results of the checks after the change.
  type: list
  elements: dict
  returned: when the change was applied
"""

import hashlib  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.wsgi.deploy.plugins.module_utils import httpcheck  # noqa: E402

Snapshot = dict[str, Any]  # path -> ("file", bytes, mode) | ("link", target) | None


def read_state(path: str) -> tuple[Any, ...] | None:
    if os.path.islink(path):
        return ("link", os.readlink(path))
    if os.path.isfile(path):
        with open(path, "rb") as handle:
            return ("file", handle.read(), os.stat(path).st_mode & 0o7777)
    return None


def write_state(path: str, state: tuple[Any, ...] | None) -> None:
    if state is None:
        if os.path.lexists(path):
            os.unlink(path)
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.wsgi-tmp{os.getpid()}"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    if state[0] == "link":
        os.symlink(state[1], tmp)
    else:
        # Created with its final mode: a key is never readable by others, not even for a moment.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, state[2] & 0o7777)
        with os.fdopen(fd, "wb") as handle:
            handle.write(state[1])
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, state[2])
    os.replace(tmp, path)


def desired(params: dict[str, Any]) -> dict[str, tuple[Any, ...] | None]:
    want: dict[str, tuple[Any, ...] | None] = {}
    for f in params["files"] + params["secret_files"]:
        if f.get("create_only") and os.path.lexists(f["path"]):
            continue
        want[f["path"]] = ("file", f["content"].encode("utf-8"), int(str(f["mode"]), 8))
    for link in params["links"]:
        target = os.path.join(os.path.dirname(link["path"]), link["src"])
        if link.get("optional") and not os.path.exists(target):
            continue  # e.g. a module without a .conf of its own
        want[link["path"]] = ("link", link["src"])
    for path in params["absent"]:
        want.setdefault(path, None)
    return want


def run(argv: list[str]) -> tuple[int, str]:
    if not argv:
        return 0, ""
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    return proc.returncode, " ".join((proc.stderr + " " + proc.stdout).split())


def service_active(service: str) -> bool:
    return run(["systemctl", "is-active", "--quiet", service])[0] == 0


def apply_service(params: dict[str, Any], restart: bool) -> tuple[str, int, str]:
    """Make the service take the configuration: (what was done, rc, output)."""
    service = params["service"]
    if params["reload"] == "daemon-reload":
        rc, out = run(["systemctl", "daemon-reload"])
        return "daemon-reload", rc, out
    if not service:
        return "none", 0, ""
    if not service_active(service):
        rc, out = run(["systemctl", "start", service])
        return "start", rc, out
    action = "restart" if restart or params["reload"] == "restart" else "reload"
    before = children(main_pid(service))
    rc, out = run(["systemctl", action, service])
    if rc == 0 and not service_active(service):
        return action, 1, f"{service} is not running after the {action}"
    if rc == 0 and action == "reload" and before:
        # A server that cannot take a configuration at reload may keep running the old one (Nginx
        # logs the error and keeps its workers): a reload that took starts new children.
        # A server that exits at the reload instead (Apache when it cannot open a log file) is
        # told as such, whenever it goes during the wait.
        deadline = time.monotonic() + params["reload_timeout"]
        while not (children(main_pid(service)) - before):
            if not service_active(service):
                return action, 1, f"{service} is not running after the {action}"
            if time.monotonic() >= deadline:
                return (
                    action,
                    1,
                    (
                        f"{service} did not start new processes within "
                        f"{params['reload_timeout']} s of the reload: it did not take the new "
                        "configuration (see its error log)"
                    ),
                )
            time.sleep(0.2)
        settle_old_children(before, min(params["reload_timeout"], SETTLE_SECONDS))
    return action, rc, out


# How long the checks after a reload wait for the old children to stop taking connections.
SETTLE_SECONDS = 5.0


def still_serving(pid: int) -> bool:
    """An old child of the server still takes new connections: it exists and is not shutting
    down (Nginx retitles an old worker "worker process is shutting down" as it closes its
    listening sockets; other servers' old children are waited for until they exit)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            title = handle.read()
    except OSError:
        return False
    return bool(title) and b"shutting down" not in title


def settle_old_children(old: set[int], seconds: float) -> None:
    """After a reload that started new children: wait (bounded) until the old ones no longer
    take connections, so that the checks that follow reach the new configuration (under load an
    old Nginx worker may still accept a connection for a moment and answer with the old one,
    and a site the new configuration breaks would pass its check)."""
    deadline = time.monotonic() + seconds
    while any(still_serving(pid) for pid in old) and time.monotonic() < deadline:
        time.sleep(0.1)


def service_enablement(params: dict[str, Any]) -> list[str]:
    """What `enable` still has to do: ["not enabled"], ["not running"], both or nothing."""
    service = params["service"]
    todo = []
    if run(["systemctl", "is-enabled", "--quiet", service])[0] != 0:
        todo.append("not enabled")
    if not service_active(service):
        todo.append("not running")
    return todo


def main_pid(service: str) -> int:
    rc, out = run(["systemctl", "show", "--property=MainPID", "--value", service])
    return int(out) if rc == 0 and out.strip().isdigit() else 0


def children(pid: int) -> set[int]:
    """The direct children of a process (empty when it does not exist)."""
    if pid <= 0:
        return set()
    found: set[int] = set()
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
                found.update(int(c) for c in handle.read().split())
    except OSError:
        return set()
    return found


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "files": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "path": {"type": "path", "required": True},
                    "content": {"type": "str", "required": True},
                    "mode": {"type": "str", "default": "0644"},
                    "restart": {"type": "bool", "default": False},
                    "daemon_reload": {"type": "bool", "default": False},
                    "create_only": {"type": "bool", "default": False},
                    "inert": {"type": "bool", "default": False},
                },
            },
            "secret_files": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "no_log": False,  # its `content` is no_log; paths and modes are not secret
                "options": {
                    "path": {"type": "path", "required": True},
                    "content": {"type": "str", "required": True, "no_log": True},
                    "mode": {"type": "str", "default": "0600"},
                    "create_only": {"type": "bool", "default": False},
                },
            },
            "links": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "path": {"type": "path", "required": True},
                    "src": {"type": "str", "required": True},
                    "restart": {"type": "bool", "default": False},
                    "optional": {"type": "bool", "default": False},
                },
            },
            "absent": {"type": "list", "elements": "path", "default": []},
            "test": {"type": "list", "elements": "str", "default": []},
            "service": {"type": "str", "default": ""},
            "reload": {
                "type": "str",
                "choices": ["reload", "restart", "daemon-reload"],
                "default": "reload",
            },
            "port": {"type": "int", "default": 80},
            "https_port": {"type": "int", "default": 443},
            "sites": {"type": "list", "elements": "dict", "default": []},
            "label": {"type": "str", "default": "the server"},
            "reload_timeout": {"type": "int", "default": 30},
            "enable": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    p = module.params
    label = p["label"]
    checks = httpcheck.checks_for(p["sites"])
    want = desired(p)
    before: Snapshot = {path: read_state(path) for path in want}
    changed = sorted(path for path, state in want.items() if before[path] != state)
    restart_paths = {f["path"] for f in p["files"] + p["links"] if f.get("restart")}
    reload_units = {f["path"] for f in p["files"] if f.get("daemon_reload")}
    secret = {f["path"] for f in p["secret_files"]}
    diff = [
        {
            "before_header": path,
            "after_header": path,
            "before": _text(before[path], path in secret),
            "after": _text(want[path], path in secret),
        }
        for path in changed
    ]
    enable = service_enablement(p) if p["enable"] else []
    inert = {f["path"] for f in p["files"] if f.get("inert")}

    def enable_now() -> None:
        if enable and not module.check_mode:
            rc, out = run(["systemctl", "enable", "--now", p["service"]])
            if rc != 0:
                module.fail_json(msg=f"Could not enable and start {p['service']}: {out}")

    if not changed:
        enable_now()
        module.exit_json(changed=bool(enable), changed_paths=enable, reloaded="none")
    if module.check_mode:
        module.exit_json(changed=True, changed_paths=changed + enable, reloaded="none", diff=diff)

    def restore() -> str:
        for path in changed:
            write_state(path, before[path])
        return "valid" if run(p["test"])[0] == 0 else "STILL INVALID, check by hand"

    try:
        for path in changed:
            write_state(path, want[path])
    except OSError as exc:
        verdict = restore()
        module.fail_json(
            msg=f"Could not write the {label} configuration ({exc}); restored ({verdict})."
        )
    if set(changed) <= inert:
        # Nothing the server reads changed: no test, no reload, no checks.
        enable_now()
        module.exit_json(changed=True, changed_paths=changed + enable, reloaded="none", diff=diff)
    if reload_units & set(changed):
        run(["systemctl", "daemon-reload"])
    rc, said = run(p["test"])
    if rc != 0:
        verdict = restore()
        module.fail_json(
            msg=f"{label} rejected the new configuration, so it was not applied: the previous "
            f"configuration was restored ({verdict}) and {label} keeps serving it. "
            f"{' '.join(p['test'])} said: {said}",
            changed_paths=changed,
        )
    action, rc, said = apply_service(p, restart=bool(restart_paths & set(changed)))
    if rc == 0 and "not enabled" in enable:
        rc, said = run(["systemctl", "enable", p["service"]])
    results = httpcheck.check_all(p["port"], checks, p["https_port"]) if rc == 0 else []
    if rc == 0 and all(r["ok"] for r in results):
        module.exit_json(
            changed=True, changed_paths=changed, reloaded=action, checks=results, diff=diff
        )
    problem = (
        f"the {action} of {p['service']} failed: {said}"
        if rc != 0
        else f"after the {action} not every site answered: {httpcheck.failures_text(results)}"
    )
    verdict = restore()
    action2, rc2, said2 = apply_service(p, restart=True)
    again = httpcheck.check_all(p["port"], checks, p["https_port"]) if rc2 == 0 else []
    if rc2 == 0 and all(r["ok"] for r in again):
        after = f"{label} was reloaded with it and every site answers again"
    elif rc2 != 0:
        after = f"{label} could not be brought back ({action2}: {said2}): CHECK BY HAND"
    else:
        after = f"but some sites still fail: {httpcheck.failures_text(again)}"
    module.fail_json(
        msg=f"The new {label} configuration passed {' '.join(p['test']) or 'no test'}, "
        f"but {problem}. "
        f"The previous configuration was restored ({verdict}); {after}.",
        changed_paths=changed,
        checks=results,
        checks_after_restore=again,
    )


def _text(state: tuple[Any, ...] | None, secret: bool = False) -> str:
    if state is None:
        return ""
    if secret and state[0] == "file":
        return (
            f"(secret, {len(state[1])} bytes, sha256 {hashlib.sha256(state[1]).hexdigest()[:12]})\n"
        )
    if state[0] == "link":
        return f"-> {state[1]}\n"
    return state[1].decode("utf-8", "replace")


if __name__ == "__main__":
    main()
