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
  - With C(check_port), C(action=record) first checks that every site answers through its web
    server on that port (its C(health), with its Host name) and fails naming those that do not
    (their records are then not written); with C(prune), it then prunes old releases before it
    writes the records (which list the releases kept).
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
  check_port:
    description: With C(action=record), first check every site through its web server on this port.
    type: int
    default: 0
  https_port:
    description: The HTTPS port the checks of sites with TLS use (with SNI).
    type: int
    default: 443
  prune:
    description: With C(action=record), prune old releases and unused virtualenvs afterwards.
    type: bool
    default: false
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
from ansible_collections.wsgi.deploy.plugins.module_utils import httpcheck  # noqa: E402
from ansible_collections.wsgi.deploy.plugins.module_utils import releases as rel  # noqa: E402
from ansible_collections.wsgi.deploy.plugins.module_utils.records import (  # noqa: E402
    record,
    status,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "action": {"type": "str", "choices": ["status", "record", "forget"], "required": True},
            "sites": {"type": "list", "elements": "dict", "required": True},
            "state_dir": {"type": "path", "required": True},
            "run_id": {"type": "str", "default": ""},
            "run_by": {"type": "str", "default": ""},
            "collection_version": {"type": "str", "default": ""},
            "check_port": {"type": "int", "default": 0},
            "https_port": {"type": "int", "default": 443},
            "prune": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    params = module.params
    if params["action"] == "record" and params["check_port"] and not module.check_mode:
        results = httpcheck.check_all(
            params["check_port"], httpcheck.checks_for(params["sites"]), params["https_port"]
        )
        if not all(r["ok"] for r in results):
            module.fail_json(
                msg=f"Not every site answers: {httpcheck.failures_text(results)}. Their records "
                "are not written: the next run compares again and reloads what differs.",
                checks=results,
                failed_sites=[r["site"] for r in results if not r["ok"]],
            )
    if params["action"] == "status":
        module.exit_json(
            changed=False, sites={s["name"]: status(s, params) for s in params["sites"]}
        )
    # Pruned before the records are written, so that a record lists the releases that are kept.
    pruned: dict[str, Any] = {}
    if params["action"] == "record" and params["prune"]:
        pruned = {site["name"]: rel.prune(site, module.check_mode) for site in params["sites"]}
    changed: list[str] = []
    for site in params["sites"]:
        if params["action"] == "record":
            if record(site, params, module.check_mode, pruned.get(site["name"])):
                changed.append(site["name"])
        else:
            path = os.path.join(params["state_dir"], f"{site['name']}.json")
            if os.path.exists(path):
                changed.append(site["name"])
                if not module.check_mode:
                    os.unlink(path)
    changed_pruned = [name for name, result in pruned.items() if result["changed"]]
    module.exit_json(changed=bool(changed or changed_pruned), sites=changed, pruned=pruned)


if __name__ == "__main__":
    main()
