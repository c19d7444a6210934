"""The stack registry (plugins/module_utils/stacks.py) for playbooks and roles."""
# Copyright: (c) 2026, wsgi-deploy maintainers
# MIT License (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
name: stacks
short_description: The stacks the collection can serve sites with (its stack registry)
version_added: 1.0.0
description:
  - Returns one entry per stack of the registry (C(plugins/module_utils/stacks.py)), with its
    C(name), C(label), C(web_server), C(web_role), C(app_role), C(app_server), C(fields),
    C(modes), C(server_files) and C(server) (its web server's entry - service,
    packages, binary, test, conf_dir, sites_dir, enabled_dir, extra_dirs, marker).
options:
  role:
    description: A role name (C(wsgi_apache)); only the stacks it serves (as web or app role).
    type: str
    required: false
author:
  - wsgi-deploy maintainers (@wsgi-deploy)
"""

EXAMPLES = r"""
- name: Take out of service the web servers no site uses
  ansible.builtin.include_role:
    name: "wsgi.deploy.{{ item.web_role }}"
    tasks_from: retire
  loop: "{{ query('wsgi.deploy.stacks') }}"

- name: The stacks this role serves
  ansible.builtin.set_fact:
    my_stacks: "{{ query('wsgi.deploy.stacks', role='wsgi_apache') | map(attribute='name') }}"
"""

RETURN = r"""
_list:
  description: The stacks (dicts).
  type: list
"""

from typing import Any  # noqa: E402

from ansible.plugins.lookup import LookupBase  # noqa: E402
from ansible_collections.wsgi.deploy.plugins.module_utils.stacks import entries  # noqa: E402


class LookupModule(LookupBase):
    def run(
        self, terms: list[Any], variables: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[Any]:
        self.set_options(var_options=variables, direct=kwargs)
        role = self.get_option("role")
        return [e for e in entries() if not role or role in (e["web_role"], e["app_role"])]
