"""Read an inventory with Ansible's own code, as ``ansible-inventory --list`` does, in less time.

Run as a script by a Python that has Ansible (``python inventory_reader.py -i SOURCE``): it
imports nothing of the console (where this Ansible lacks what it uses, it runs
``ansible-inventory --list`` instead), takes ``ansible-inventory``'s options and prints its
``--list`` JSON with two differences that make a large inventory cheap to write and to read:

- ``_meta.hostvars[HOST]`` holds what the host itself sets (its inventory vars and its
  ``host_vars``), and ``_meta.shared_vars`` / ``_meta.host_shared`` hold what it inherits from
  its groups, computed once per distinct set of groups (the hosts of one group share it): the
  host's variables are ``{**shared_vars[host_shared[HOST]], **hostvars[HOST]}``, as Ansible
  combines them (``hash_behaviour = replace``);
- the JSON is compact (``ansible-inventory`` indents and sorts 5 MB for 5,000 hosts);
- the ``yaml`` inventory plugin is tried before ``auto`` (``yaml_before_auto``).

The group part follows Ansible's ``VariableManager.get_vars`` entry by entry
(``DEFAULT_VARIABLE_PRECEDENCE``: the ``all`` group's and the host's other groups' inventory
vars, then the vars plugins of the inventory sources and of the base directory), with the same
functions Ansible calls. Where that shortcut would not be exact (``hash_behaviour = merge``, or a
precedence entry other than those), every host's variables come whole from ``get_vars``, as
``ansible-inventory --list`` computes them, and there is no ``shared_vars``. Cached facts are
not read (an inventory view has no use for them; ``--list`` would add a persistent cache's).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

# Run as a script, its own directory would come first on sys.path, and the console's modules
# (events, paths, runner, ...) would shadow any top-level module of the same name.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

try:
    from ansible import constants as C
    from ansible import context
    from ansible._internal._json._profiles import _inventory_legacy
    from ansible.cli.inventory import InventoryCLI
    from ansible.inventory.helpers import get_group_vars, sort_groups
    from ansible.utils.vars import combine_vars
    from ansible.vars.plugins import get_vars_from_inventory_sources, get_vars_from_path
except ImportError:  # another Ansible than the one this reader was written for: its own command
    if __name__ != "__main__":
        raise
    command = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
    os.execv(command, [command, *sys.argv[1:], "--list"])

STAGE = "all"  # the stage ansible-inventory reads vars plugins at
GROUP_ENTRIES = frozenset(
    (
        "all_inventory",
        "groups_inventory",
        "all_plugins_inventory",
        "all_plugins_play",
        "groups_plugins_inventory",
        "groups_plugins_play",
    )
)


def yaml_before_auto(plugins: list[str]) -> list[str]:
    """The enabled inventory plugins with ``yaml`` moved just before ``auto`` when ``auto`` comes
    first; any other list unchanged (either may be spelled ``ansible.builtin.NAME``).

    Ansible's default order (``host_list, script, auto, yaml, ini, toml``) puts ``auto`` first:
    it reads a YAML file to look for a ``plugin:`` key, a plain YAML inventory has none, and
    ``yaml`` reads the same file again (a third of the load of 5,000 hosts). With ``yaml`` first a
    plain inventory is read once, and a plugin configuration file (which ``yaml`` refuses:
    "Plugin configuration YAML file, not YAML inventory") still reaches ``auto``: the same
    plugins, the same output. The operator's own list (``[inventory] enable_plugins``,
    ``ANSIBLE_INVENTORY_ENABLED``), as Ansible read it, is only reordered."""
    short = [p.removeprefix("ansible.builtin.") for p in plugins]
    if "auto" not in short or "yaml" not in short or short.index("yaml") < short.index("auto"):
        return list(plugins)
    ordered = list(plugins)
    yaml = ordered.pop(short.index("yaml"))
    ordered.insert(short.index("auto"), yaml)
    return ordered


def shareable() -> bool:
    """Whether a host's variables are its groups' part updated with its own (see the module)."""
    return C.DEFAULT_HASH_BEHAVIOUR == "replace" and set(C.VARIABLE_PRECEDENCE) <= GROUP_ENTRIES


class InventoryReader(InventoryCLI):
    """``ansible-inventory --list`` with the group part of the host variables shared."""

    def __init__(self, args: list[str]) -> None:
        super().__init__(args)
        self._shared: list[dict[str, Any]] = []
        self._shared_index: dict[tuple[str, ...], int] = {}
        self._host_shared: dict[str, int] = {}
        self._whole: bool | None = None  # every host's variables from get_vars (decided once)

    # -- the pieces of VariableManager.get_vars an inventory has --------------------------
    def _basedirs(self) -> list[str]:
        return [self.loader.get_basedir()] if self.vm.safe_basedir else []

    def _plugins_inventory(self, entities: list[Any]) -> dict[str, Any]:
        sources = self.inventory._sources
        return get_vars_from_inventory_sources(self.loader, sources, entities, STAGE)

    def _plugins_play(self, entities: list[Any]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for path in self._basedirs():
            data = combine_vars(data, get_vars_from_path(self.loader, path, entities, STAGE))
        return data

    def _group_part(self, host: Any) -> dict[str, Any]:
        all_group = self.inventory.groups.get("all")
        groups = sort_groups([g for g in host.get_groups() if g.name != "all"])
        entries = {
            "all_inventory": lambda: all_group.get_vars(),
            "groups_inventory": lambda: get_group_vars(groups),
            "all_plugins_inventory": lambda: self._plugins_inventory([all_group]),
            "all_plugins_play": lambda: self._plugins_play([all_group]),
            "groups_plugins_inventory": lambda: self._plugins_inventory(groups),
            "groups_plugins_play": lambda: self._plugins_play(groups),
        }
        data: dict[str, Any] = {}
        for entry in C.VARIABLE_PRECEDENCE:
            data = combine_vars(data, entries[entry]())
        return self._remove_internal(data)

    def _own_part(self, host: Any) -> dict[str, Any]:
        data = combine_vars(host.get_vars(), self._plugins_inventory([host]))
        return combine_vars(data, self._plugins_play([host]))

    # -- InventoryCLI hooks ---------------------------------------------------------------
    def _get_host_variables(self, host: Any) -> dict[str, Any]:
        if self._whole is None:  # the options are parsed by now; they do not change per host
            self._whole = bool(context.CLIARGS.get("export")) or not shareable()
        if self._whole:
            return super()._get_host_variables(host)
        key = tuple(sorted(g.name for g in host.get_groups()))
        index = self._shared_index.get(key)
        if index is None:
            index = self._shared_index[key] = len(self._shared)
            self._shared.append(self._group_part(host))
        self._host_shared[host.name] = index
        return self._remove_internal(self._own_part(host))

    def json_inventory(self, top: Any) -> dict[str, Any]:
        results = super().json_inventory(top)
        if self._host_shared:
            results["_meta"]["shared_vars"] = self._shared
            results["_meta"]["host_shared"] = self._host_shared
        return results

    @staticmethod
    def dump(stuff: Any) -> str:
        return json.dumps(
            stuff, cls=_inventory_legacy.Encoder, sort_keys=True, separators=(",", ":")
        )


def order_plugins() -> None:
    """Ansible's configuration was read (ansible.cfg, environment) when its constants were
    imported; InventoryManager reads this one when it parses the sources."""
    C.INVENTORY_ENABLED = yaml_before_auto(list(C.INVENTORY_ENABLED))


def main(argv: list[str]) -> None:
    order_plugins()
    InventoryReader.cli_executor(["ansible-inventory", *argv, "--list"])


if __name__ == "__main__":
    main(sys.argv[1:])
