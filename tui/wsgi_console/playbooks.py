"""What the project's playbooks offer: their tags (read from the playbooks and roles, so that a
tag added to a role shows up in the run setup without a change here)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

# Tags Ansible gives a meaning of its own: not something an operator selects.
SPECIAL_TAGS = {"always", "never", "all", "tagged", "untagged"}
# Where tags live in the collection: playbooks, and the roles' tasks and handlers.
TAG_SOURCES = (
    "site.yml",
    "playbooks/*.yml",
    "playbooks/*.yaml",
    "roles/*/tasks/**/*.yml",
    "roles/*/handlers/**/*.yml",
    "roles/*/tasks/**/*.yaml",
)


class _Loader(yaml.SafeLoader):
    """SafeLoader that accepts Ansible's ``!vault`` / ``!unsafe`` tags (values ignored)."""


def _ignore_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    return None


_Loader.add_multi_constructor("!", _ignore_tag)


def _tags_in(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "tags":
                values = value if isinstance(value, list) else str(value).split(",")
                for tag in values:
                    if isinstance(tag, str | int) and str(tag).strip():
                        yield str(tag).strip()
            elif key == "apply" and isinstance(value, dict):
                yield from _tags_in(value)
            else:
                yield from _tags_in(value)
    elif isinstance(data, list):
        for item in data:
            yield from _tags_in(item)


def project_tags(project: Path) -> list[str]:
    """Every tag the project's playbooks and roles use (special ones and templated ones left
    out), sorted; files that do not parse are skipped."""
    found: set[str] = set()
    for pattern in TAG_SOURCES:
        for path in sorted(project.glob(pattern)):
            try:
                data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506
            except (OSError, yaml.YAMLError, UnicodeDecodeError):
                continue
            found.update(_tags_in(data))
    return sorted(t for t in found if t not in SPECIAL_TAGS and "{{" not in t)
