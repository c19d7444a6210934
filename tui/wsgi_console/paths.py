"""Where wsgi-console keeps its data, and where the Ansible executables live."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

APP_NAME = "wsgi-console"


def default_data_dir(environ: dict[str, str] | None = None) -> Path:
    """``$WSGI_CONSOLE_DATA_DIR``, else ``$XDG_DATA_HOME/wsgi-console``, else ``~/.local/share``."""
    env = os.environ if environ is None else environ
    override = env.get("WSGI_CONSOLE_DATA_DIR")
    if override:
        return Path(override).expanduser()
    xdg = env.get("XDG_DATA_HOME")
    if xdg:
        return Path(xdg).expanduser() / APP_NAME
    return Path("~/.local/share").expanduser() / APP_NAME


def tool_path(name: str) -> str:
    """Absolute path of an Ansible executable: next to this Python first, then ``$PATH``."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    return found or name


def subprocess_path() -> str:
    """A ``PATH`` for child processes that finds the Ansible of this Python first."""
    here = str(Path(sys.executable).parent)
    current = os.environ.get("PATH", "")
    parts = [p for p in current.split(os.pathsep) if p]
    if here not in parts:
        parts.insert(0, here)
    return os.pathsep.join(parts)


def find_project_dir(inventory: Path) -> Path | None:
    """The collection root: the first parent of the inventory holding ``site.yml`` (None when
    there is none: the caller says so, rather than guess the current directory)."""
    start = inventory.resolve()
    for candidate in [start, *start.parents]:
        if (candidate / "site.yml").is_file():
            return candidate
    return None


def project_problems(project: Path) -> list[str]:
    """What makes ``project`` unusable as the collection root (empty when it is usable)."""
    from .runspec import ACTION_PLAYBOOKS

    if not project.is_dir():
        return [f"project directory {project} does not exist"]
    missing = sorted({p for p in ACTION_PLAYBOOKS.values() if not (project / p).is_file()})
    if "site.yml" in missing:
        return [
            f"{project} is not the collection's root: it has no site.yml "
            "(start with --project-dir DIR)"
        ]
    return [f"{project}: playbook {p} is missing" for p in missing]
