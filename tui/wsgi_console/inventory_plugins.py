"""The order in which ``ansible-inventory`` tries its inventory plugins, for the console's call.

Ansible's default order (``host_list, script, auto, yaml, ini, toml``) puts ``auto`` before
``yaml``. ``auto`` reads a YAML file to look for a ``plugin:`` key; a plain YAML inventory has
none, so ``yaml`` reads the same file again (a deep copy of the parsed tree): on a 5,000-host
inventory that second pass is about a third of the load. With ``yaml`` first, a plain inventory
is read once, and a plugin configuration file (which ``yaml`` refuses: "Plugin configuration YAML
file, not YAML inventory") still reaches ``auto``: the same plugins, the same output.

The operator's own list (``[inventory] enable_plugins`` or ``ANSIBLE_INVENTORY_ENABLED``) is kept,
only reordered; Ansible's configuration is read with Ansible's own config manager.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "ANSIBLE_INVENTORY_ENABLED"


def config_file(cwd: str | Path | None) -> Path | None:
    """The ansible.cfg Ansible uses when it runs in ``cwd``: $ANSIBLE_CONFIG, then
    ``cwd/ansible.cfg`` (unless the directory is world-writable), ``~/.ansible.cfg``,
    ``/etc/ansible/ansible.cfg``."""
    candidates: list[Path] = []
    env = os.environ.get("ANSIBLE_CONFIG")
    if env:
        path = Path(env).expanduser()
        candidates.append(path / "ansible.cfg" if path.is_dir() else path)
    here = Path(cwd) if cwd else Path.cwd()
    try:
        if not here.stat().st_mode & 0o002:
            candidates.append(here / "ansible.cfg")
    except OSError:
        pass
    candidates += [Path("~/.ansible.cfg").expanduser(), Path("/etc/ansible/ansible.cfg")]
    return next((c for c in candidates if c.is_file()), None)


def yaml_before_auto(plugins: list[str]) -> list[str]:
    """The list with ``yaml`` moved just before ``auto`` when ``auto`` comes first; any other
    list unchanged (either may be spelled ``ansible.builtin.NAME``)."""
    short = [p.removeprefix("ansible.builtin.") for p in plugins]
    if "auto" not in short or "yaml" not in short or short.index("yaml") < short.index("auto"):
        return list(plugins)
    ordered = list(plugins)
    yaml = ordered.pop(short.index("yaml"))
    ordered.insert(short.index("auto"), yaml)
    return ordered


def enabled_plugins(cwd: str | Path | None) -> list[str] | None:
    """The inventory plugins Ansible would try in ``cwd``, as configured (None when Ansible's
    configuration cannot be read here: the caller then leaves Ansible to its own)."""
    try:
        from ansible.config.manager import ConfigManager
    except ImportError:
        return None
    try:
        conf = config_file(cwd)
        manager = ConfigManager(conf_file=str(conf) if conf else None)
        value = manager.get_config_value("INVENTORY_ENABLED")
    except Exception:  # noqa: BLE001 - a broken ansible.cfg is ansible-inventory's to report
        return None
    return [str(p) for p in value] if isinstance(value, list) else None


def inventory_env(cwd: str | Path | None) -> dict[str, str]:
    """What to add to ``ansible-inventory``'s environment: the enabled plugins with ``yaml``
    before ``auto``, or nothing when the order is already so or cannot be known."""
    plugins = enabled_plugins(cwd)
    if not plugins:
        return {}
    ordered = yaml_before_auto(plugins)
    return {ENV: ",".join(ordered)} if ordered != plugins else {}
