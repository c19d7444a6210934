# Copyright: (c) 2026, wsgi-deploy maintainers
# MIT License (see LICENSE)
"""wsgi.deploy.python_requirements on the controller, in the worker that runs the task: no module
is packed, sent or started (the check asks the controller's pip anyway, and caches its answers)."""

from __future__ import annotations

import sys
from typing import Any

from ansible.plugins.action import ActionBase
from ansible_collections.wsgi.deploy.plugins.module_utils import pycheck


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp  # no remote temporary directory: nothing runs on a target
        params = self.validate_argument_spec(argument_spec=pycheck.ARGUMENT_SPEC)[1]
        errors, warnings = pycheck.check_sites(params, sys.executable)
        result.update(changed=False, errors=errors, warnings_found=warnings)
        if warnings:
            result["warnings"] = warnings
        return result
