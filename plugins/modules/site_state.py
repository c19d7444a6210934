#!/usr/bin/python
# Copyright: (c) 2026, wsgi-deploy maintainers
# MIT License (see LICENSE)
"""The deployed-state record of a host's sites: what runs, compared with what should run."""

from __future__ import annotations

DOCUMENTATION = r"""
module: site_state
short_description: Compare what runs with what should run; record what runs
version_added: 1.0.0
description:
  - Every site served by the collection has a deployed-state record,
    C(<state_dir>/<site>.json) (root-owned, 0644, no secrets), holding its release, the fingerprints
    of its code, virtualenv, settings and server config as they were when the site last answered
    after a deploy, and when, by whom and in which run that was.
  - C(action=status) fingerprints what is on disk now (the C(current) release, the env file, the
    server files of the site) and compares it with the record, so that a run that died after
    writing files but before the reload is healed by the next run (which reloads), instead of
    reporting the host converged.
  - C(action=record) writes the records (only when something in them changed, so a no-op run
    leaves them as they are). Run it only after the sites answered.
  - C(action=forget) deletes the records of removed sites.
options:
  action:
    description: What to do.
    type: str
    choices: [status, record, forget]
    required: true
  sites:
    description: Normalised site records (wsgi.deploy.site_normalize).
    type: list
    elements: dict
    required: true
  state_dir:
    description: Where the records are.
    type: path
    required: true
  run_id:
    description: The id of this run (recorded).
    type: str
    default: ""
  run_by:
    description: Who runs it (recorded).
    type: str
    default: ""
  collection_version:
    description: The collection's version (recorded).
    type: str
    default: ""
author:
  - wsgi-deploy maintainers (@wsgi-deploy)
"""

EXAMPLES = r"""
- name: What differs from the records
  wsgi.deploy.site_state:
    action: status
    sites: "{{ wsgi_app_present }}"
    state_dir: /var/lib/wsgi-deploy/sites
  register: wsgi_state
"""

RETURN = r"""
sites:
  description: Per site, its fingerprint now, its record, and whether it needs a reload/restart.
  type: dict
  returned: always
"""

import os  # noqa: E402
from typing import Any  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.wsgi.deploy.plugins.module_utils import releases as rel  # noqa: E402
from ansible_collections.wsgi.deploy.plugins.module_utils.stacks import (  # noqa: E402
    mode,
    server_files,
)

SCHEMA = 1
FINGERPRINT_KEYS = ("release", "venv_key", "code", "settings", "server")


def fingerprint(site: dict[str, Any]) -> dict[str, Any]:
    """What is on disk for the site now: its release, settings and server configuration."""
    release = rel.current_id(site["current"])
    manifest = rel.manifest(site["releases_dir"], release) or {}
    servers = server_files(site["stack"], site["name"])
    return {
        "release": release,
        "venv_key": manifest.get("venv_key"),
        "code": manifest.get("code_hash"),
        "settings": rel.file_hash(site["env_file"]) + "|" + rel.file_hash(site["wsgi_file"]),
        "server": {p: rel.file_hash(p) for paths in servers.values() for p in paths},
    }


def releases_of(site: dict[str, Any], current: str | None) -> list[dict[str, Any]]:
    out = []
    for rid in rel.release_ids(site["releases_dir"]):
        manifest = rel.manifest(site["releases_dir"], rid) or {}
        if not manifest.get("complete"):
            continue
        source = manifest.get("source") or {}
        out.append(
            {
                "id": rid,
                "time": manifest.get("completed") or manifest.get("created"),
                "version": source.get("commit")
                or source.get("version")
                or manifest.get("code_hash", "")[:12],
                "current": rid == current,
            }
        )
    return out


def status(site: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    now = fingerprint(site)
    record = rel.read_json(os.path.join(params["state_dir"], f"{site['name']}.json"))
    was = (record or {}).get("fingerprint") or {}
    reasons = [k for k in FINGERPRINT_KEYS if k != "server" and was.get(k) != now.get(k)]
    old_server = was.get("server") if isinstance(was.get("server"), dict) else {}
    changed_files = sorted(p for p, h in now["server"].items() if old_server.get(p) != h)
    servers = server_files(site["stack"], site["name"])
    changed = {srv: [p for p in paths if p in changed_files] for srv, paths in servers.items()}
    if record is None:
        reasons = ["never recorded"]
    elif changed_files:
        reasons.append("server configuration")
    return {
        "fingerprint": now,
        "record": record,
        "reasons": reasons,
        # A new release or changed settings: the app must reload (mod_wsgi daemon restart, HUP).
        "reload": bool(reasons),
        # Another virtualenv: the app server must restart (a HUP keeps the old interpreter).
        "restart": record is None or "venv_key" in reasons or bool(changed.get("app")),
        # A socket unit changed: the socket itself must be restarted (clients reconnect).
        "socket_changed": record is not None and any(p.endswith(".socket") for p in changed_files),
        # Per server ("web", "app"): its files that differ from the record.
        "server_changed": changed
        if record is not None
        else {srv: list(paths) for srv, paths in servers.items()},
    }


def describe(site: dict[str, Any]) -> dict[str, Any]:
    source = {k: v for k, v in (site.get("source") or {}).items() if k != "path"}
    return {
        "schema": SCHEMA,
        "site": site["name"],
        "state": "present",
        "stack": site["stack"],
        "mode": mode(site["stack"], site),
        "kind": site["kind"],
        "domain": site["domain"],
        "names": site["names"],
        "path": site["path"],
        "source": source,
    }


def record(site: dict[str, Any], params: dict[str, Any], check: bool) -> bool:
    path = os.path.join(params["state_dir"], f"{site['name']}.json")
    now = fingerprint(site)
    old = rel.read_json(path) or {}
    data = describe(site)
    release_list = releases_of(site, now["release"])
    for entry in release_list:
        if entry["current"]:
            data["source"] = {**data["source"], "version": entry["version"]}
    data.update(release=now["release"], releases=release_list, fingerprint=now)
    same = all(old.get(k) == v for k, v in data.items())
    if same:
        return False
    data.update(
        deployed_at=rel.iso_now(),
        deployed_by=params["run_by"],
        run_id=params["run_id"],
        collection_version=params["collection_version"],
    )
    if not check:
        os.makedirs(params["state_dir"], mode=0o755, exist_ok=True)
        rel.write_json(path, data)
    return True


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "action": {"type": "str", "choices": ["status", "record", "forget"], "required": True},
            "sites": {"type": "list", "elements": "dict", "required": True},
            "state_dir": {"type": "path", "required": True},
            "run_id": {"type": "str", "default": ""},
            "run_by": {"type": "str", "default": ""},
            "collection_version": {"type": "str", "default": ""},
        },
        supports_check_mode=True,
    )
    params = module.params
    if params["action"] == "status":
        module.exit_json(
            changed=False, sites={s["name"]: status(s, params) for s in params["sites"]}
        )
    changed: list[str] = []
    for site in params["sites"]:
        if params["action"] == "record":
            if record(site, params, module.check_mode):
                changed.append(site["name"])
        else:
            path = os.path.join(params["state_dir"], f"{site['name']}.json")
            if os.path.exists(path):
                changed.append(site["name"])
                if not module.check_mode:
                    os.unlink(path)
    module.exit_json(changed=bool(changed), sites=changed)


if __name__ == "__main__":
    main()
