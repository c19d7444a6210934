"""The collection's own site model and stack registry, imported by the console (not a copy).

The console runs from this repository (tui/ beside plugins/), so the modules are loaded from
``plugins/module_utils`` as one package: the console shows what the playbooks deploy (stack
resolution with ``wsgi_stack_overrides``, run modes, validation with the same messages).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import re
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

PACKAGE = "wsgi_deploy_module_utils"
MODULE_UTILS = Path(__file__).resolve().parents[2] / "plugins" / "module_utils"
# Host variables that feed the site model's settings (roles/wsgi/vars/main.yml).
SETTING_VARS = {
    "default_stack": "wsgi_default_stack",
    "stack_overrides": "wsgi_stack_overrides",
    "sites_root": "wsgi_sites_root",
    "env_dir": "wsgi_env_dir",
    "python": "wsgi_python",
    "user_prefix": "wsgi_user_prefix",
    "web_user": "wsgi_web_user",
    "source_base_dir": "wsgi_source_base_dir",
}
_DIR_TEMPLATE = re.compile(r"^\{\{\s*(inventory_dir|playbook_dir)\s*\}\}(.*)$")


@lru_cache(maxsize=1)
def _package(location: str = str(MODULE_UTILS)) -> str:
    """Register plugins/module_utils as a package (its modules import each other relatively)."""
    if PACKAGE not in sys.modules:
        spec = importlib.machinery.ModuleSpec(PACKAGE, None, is_package=True)
        spec.submodule_search_locations = [location]
        sys.modules[PACKAGE] = importlib.util.module_from_spec(spec)
    return PACKAGE


def module(name: str) -> ModuleType:
    """One module of the collection's module_utils (site_model, stacks)."""
    return importlib.import_module(f"{_package()}.{name}")


def stacks() -> dict[str, dict[str, Any]]:
    return dict(module("stacks").STACKS)


def default_stack() -> str:
    return str(module("stacks").DEFAULT_STACK)


def resolve_dir(value: Any, inventory_dir: str | None, project_dir: str | None) -> str | None:
    """A directory variable as Ansible would template it, for the simple forms inventories use
    (a plain path, '{{ inventory_dir }}/...', '{{ playbook_dir }}/...'); None otherwise."""
    if not isinstance(value, str) or not value:
        return None
    match = _DIR_TEMPLATE.match(value)
    if match:
        base = inventory_dir if match.group(1) == "inventory_dir" else project_dir
        return os.path.normpath(base + match.group(2)) if base else None
    return None if "{{" in value else value


def settings(hostvars: dict[str, Any], project_dir: str | None = None) -> dict[str, Any]:
    """The site model's settings for one host, from its variables."""
    out: dict[str, Any] = {}
    for key, var in SETTING_VARS.items():
        value = hostvars.get(var)
        if value is not None and not (isinstance(value, str) and "{{" in value):
            out[key] = value
    base = resolve_dir(
        hostvars.get("wsgi_source_base_dir"), hostvars.get("inventory_dir"), project_dir
    )
    if base:
        out["source_base_dir"] = base
    elif project_dir:
        out["source_base_dir"] = project_dir  # the playbook directory, Ansible's default
    return out


def normalize(sites: list[dict[str, Any]], conf: dict[str, Any]) -> list[dict[str, Any]]:
    return list(module("site_model").site_normalize(sites, conf))


def errors(sites: Any, conf: dict[str, Any]) -> list[str]:
    return list(module("site_model").site_errors(sites, conf))


def mode(stack: str, record: dict[str, Any]) -> str:
    """The resolved run mode of a normalised site ("" on a stack without modes)."""
    return module("stacks").mode(stack, record) or ""
