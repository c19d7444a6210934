"""Validate typed extra vars against the roles' ``meta/argument_specs.yml``.

The options of every entry point of every role are merged into one table. Unknown variable
names are warnings (the playbooks also take vars that no role declares); a wrong type, a value
outside ``choices``, or a missing required sub-option is an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# Variables the playbooks or Ansible itself accept without a role declaring them.
PLAYBOOK_VARS = {
    "wsgi_only_sites": {"type": "list", "elements": "str"},
    "wsgi_remove_site": {"type": "str"},
    "wsgi_stack_overrides": {"type": "dict"},
}

BOOL_STRINGS = {"yes", "no", "true", "false", "on", "off", "1", "0", "y", "n"}


@dataclass
class Issue:
    level: str  # "error" | "warning"
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.path}: {self.message}"


@dataclass
class ArgSpecs:
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    load_errors: list[str] = field(default_factory=list)


def load_argument_specs(roles_dir: str | Path) -> ArgSpecs:
    """Union of the options of all roles' entry points under ``roles_dir``."""
    specs = ArgSpecs()
    root = Path(roles_dir)
    if not root.is_dir():
        return specs
    for spec_file in sorted(root.glob("*/meta/argument_specs.y*ml")):
        role = spec_file.parent.parent.name
        try:
            data = yaml.safe_load(spec_file.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            specs.load_errors.append(f"{spec_file}: {exc}")
            continue
        entry_points = (data.get("argument_specs") or {}) if isinstance(data, dict) else {}
        for entry in entry_points.values():
            options = (entry or {}).get("options") or {}
            for name, option in options.items():
                if isinstance(option, dict) and name not in specs.options:
                    specs.options[name] = option
                    specs.sources[name] = role
    return specs


def _type_ok(value: Any, type_name: str) -> bool:
    if type_name in ("str", "path", "raw", "jsonarg", "json"):
        return (
            type_name in ("raw", "jsonarg", "json")
            or isinstance(value, str)
            or (isinstance(value, int | float) and not isinstance(value, bool))
        )
    if type_name == "int":
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return True
        return isinstance(value, str) and value.strip().lstrip("-").isdigit()
    if type_name == "float":
        if isinstance(value, bool):
            return False
        if isinstance(value, int | float):
            return True
        try:
            float(value)
        except (TypeError, ValueError):
            return False
        return True
    if type_name == "bool":
        return (
            isinstance(value, bool)
            or (isinstance(value, str) and value.lower() in BOOL_STRINGS)
            or value in (0, 1)
        )
    if type_name == "list":
        return isinstance(value, list) or isinstance(value, str)
    if type_name == "dict":
        return isinstance(value, dict)
    return True


def _check(value: Any, option: dict[str, Any], path: str, issues: list[Issue]) -> None:
    type_name = str(option.get("type") or "str")
    if not _type_ok(value, type_name):
        issues.append(Issue("error", path, f"expected {type_name}, got {type(value).__name__}"))
        return
    choices = option.get("choices")
    if choices:
        values = value if isinstance(value, list) else [value]
        for item in values:
            if item not in choices and str(item) not in [str(c) for c in choices]:
                issues.append(
                    Issue("error", path, f"{item!r} is not one of {', '.join(map(str, choices))}")
                )
    if type_name == "list" and isinstance(value, list):
        elements = option.get("elements")
        sub_options = option.get("options")
        for index, item in enumerate(value):
            item_path = f"{path}[{index}]"
            if elements:
                element_option = {"type": elements}
                if sub_options and elements == "dict":
                    element_option["options"] = sub_options
                _check(item, element_option, item_path, issues)
    if type_name == "dict" and isinstance(value, dict) and option.get("options"):
        _check_options(value, option["options"], path, issues)


def _check_options(
    values: dict[str, Any], options: dict[str, Any], prefix: str, issues: list[Issue]
) -> None:
    for name, option in options.items():
        if isinstance(option, dict) and option.get("required") and name not in values:
            issues.append(Issue("error", f"{prefix}.{name}", "is required"))
    for name, value in values.items():
        option = options.get(name)
        if option is None:
            issues.append(Issue("warning", f"{prefix}.{name}", "unknown option"))
            continue
        _check(value, option, f"{prefix}.{name}", issues)


def validate_extra_vars(extra_vars: dict[str, Any], specs: ArgSpecs) -> list[Issue]:
    """Errors and warnings for operator-typed extra vars."""
    issues: list[Issue] = []
    for name, value in extra_vars.items():
        option = specs.options.get(name) or PLAYBOOK_VARS.get(name)
        if option is None:
            issues.append(Issue("warning", name, "not declared by any role argument spec"))
            continue
        _check(value, option, name, issues)
    return issues


def has_errors(issues: list[Issue]) -> bool:
    return any(issue.level == "error" for issue in issues)
