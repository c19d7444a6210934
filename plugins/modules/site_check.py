#!/usr/bin/python
# Copyright: (c) 2026, wsgi-deploy maintainers
# MIT License (see LICENSE)
"""Check that sites answer, over real HTTP from the target to its own web server."""

from __future__ import annotations

DOCUMENTATION = r"""
module: site_check
short_description: Check that each site answers through its web server, with its Host name
version_added: 1.0.0
description:
  - Sends C(GET <path>) with the site's Host name to the web server on 127.0.0.1 for every
    check, retrying until the check's timeout (a daemon process may still be starting), and
    fails naming every site that did not answer as expected and what it answered instead.
  - Read-only. In check mode nothing was deployed, so nothing is checked.
options:
  port:
    description: The web server's port on 127.0.0.1.
    type: int
    default: 80
  https_port:
    description: The HTTPS port on 127.0.0.1 the checks of sites with TLS use (with SNI).
    type: int
    default: 443
  sites:
    description:
      - Normalised site records (wsgi.deploy.site_normalize); each is checked with its C(health)
        (path, status list (empty means any status below 500), text, timeout) and its domain.
    type: list
    elements: dict
    required: true
  fail:
    description: Fail when a check fails (otherwise only report).
    type: bool
    default: true
author:
  - wsgi-deploy maintainers (@wsgi-deploy)
"""

EXAMPLES = r"""
- name: Check that the sites answer
  wsgi.deploy.site_check:
    sites: "{{ wsgi_app_present }}"
"""

RETURN = r"""
checks:
  description: One result per check (site, ok, seen, tries).
  type: list
  elements: dict
  returned: always
failed_sites:
  description: The sites whose check failed.
  type: list
  elements: str
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.wsgi.deploy.plugins.module_utils import httpcheck  # noqa: E402


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "port": {"type": "int", "default": 80},
            "https_port": {"type": "int", "default": 443},
            "sites": {"type": "list", "elements": "dict", "required": True},
            "fail": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    if module.check_mode:
        module.exit_json(changed=False, checks=[], failed_sites=[], skipped=True)
    checks = httpcheck.checks_for(module.params["sites"])
    results = httpcheck.check_all(module.params["port"], checks, module.params["https_port"])
    failed = [r["site"] for r in results if not r["ok"]]
    if failed and module.params["fail"]:
        module.fail_json(
            msg=f"Not every site answers: {httpcheck.failures_text(results)}",
            checks=results,
            failed_sites=failed,
        )
    module.exit_json(changed=False, checks=results, failed_sites=failed)


if __name__ == "__main__":
    main()
