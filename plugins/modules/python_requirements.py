#!/usr/bin/python
# Copyright: (c) 2026, wsgi-deploy maintainers
# MIT License (see LICENSE)
"""Check the sites' requirements against a target's Python, on the controller, before any change."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: python_requirements
short_description: Check that the sites' requirements can be installed for the target's Python
description:
  - Runs on the controller, in the playbook's own process (an action plugin; the module is the
    same check for a play that runs it as a module with C(delegate_to)), by the preflight, before
    any host is changed.
    For each site with C(requirements) or a local C(requirements_file), asks pip's resolver
    (C(pip install --dry-run --python-version X.Y --only-binary=:all:)) whether they resolve for the
    Python version of the site's interpreter on the target. No package's code runs and nothing is
    installed.
  - Only a failure pip explains by Requires-Python is an error (for example Django 6.1 on Debian
    12's Python 3.11); any other failure (an sdist-only package, an index the controller cannot
    reach) is a warning, and the install on the target decides.
  - Results are cached under I(cache_dir), per Python version, requirements and index.
version_added: "1.0.0"
options:
  sites:
    description: Normalised site records (from the site_normalize filter).
    type: list
    elements: dict
    required: true
  pythons:
    description: Per interpreter path on the target, its Python version (site_facts C(pythons)).
    type: dict
    required: true
  host:
    description: The target's inventory name (for the messages).
    type: str
    required: true
  debian:
    description: The target's Debian major version (for the messages).
    type: str
    default: ""
  cache_dir:
    description: Where the results are cached on the controller (empty string means no cache).
    type: path
    default: ""
author:
  - wsgi-deploy maintainers (@wsgi-deploy)
"""

EXAMPLES = r"""
- name: Check the requirements against the target's Python
  wsgi.deploy.python_requirements:
    sites: "{{ wsgi_site_list }}"
    pythons: "{{ wsgi_host_facts.pythons }}"
    host: "{{ inventory_hostname }}"
  delegate_to: localhost
"""

RETURN = r"""
errors:
  description: One message per site whose requirements need another Python.
  type: list
  elements: str
  returned: always
warnings_found:
  description: Sites whose requirements could not be checked, and why.
  type: list
  elements: str
  returned: always
"""

import sys  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.wsgi.deploy.plugins.module_utils import pycheck  # noqa: E402


def main() -> None:
    module = AnsibleModule(argument_spec=pycheck.ARGUMENT_SPEC, supports_check_mode=True)
    errors, warnings = pycheck.check_sites(module.params, sys.executable)
    for warning in warnings:
        module.warn(warning)
    module.exit_json(changed=False, errors=errors, warnings_found=warnings)


if __name__ == "__main__":
    main()
