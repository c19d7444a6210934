"""The modules' DOCUMENTATION, EXAMPLES and RETURN are YAML, and the documented options match the
argument spec (what ansible-doc and ansible-test sanity read; checked here in a second)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
import yaml

MODULES = sorted((Path(__file__).resolve().parents[1] / "plugins" / "modules").glob("*.py"))


def _docs(path: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in ("DOCUMENTATION", "EXAMPLES", "RETURN"):
                found[name] = yaml.safe_load(ast.literal_eval(node.value))
    return found


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_documentation_is_yaml_and_names_every_option(path: Path) -> None:
    docs = _docs(path)
    assert set(docs) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}, path.name
    doc = docs["DOCUMENTATION"]
    assert doc["module"] == path.stem
    for option, spec in (doc.get("options") or {}).items():
        assert "description" in spec and "type" in spec, f"{path.stem}: option {option}"
