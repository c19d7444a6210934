"""The deployment matrix: host × site → stack and last successful deploy (from history)."""

from __future__ import annotations

from dataclasses import dataclass

from .inventory import Inventory
from .runspec import Action, RunSpec


@dataclass(frozen=True)
class MatrixCell:
    host: str
    site: str
    stack: str
    state: str
    last_deploy: float | None = None
    last_run: str | None = None
    deployed_stack: str | None = None

    @property
    def drift(self) -> bool:
        """The inventory's stack differs from the one last deployed."""
        return self.deployed_stack is not None and self.deployed_stack != self.stack


def sites_for_run(
    inventory: Inventory, spec: RunSpec, hosts: list[str]
) -> dict[str, list[tuple[str, str]]]:
    """Per target host, the (site, stack) pairs a run deploys (recorded for the matrix)."""
    if spec.action not in (Action.SITE, Action.DEPLOY_SITES, Action.SWITCH_STACK):
        return {}
    wanted = set(spec.sites) if spec.action is not Action.SITE else None
    out: dict[str, list[tuple[str, str]]] = {}
    for host in hosts:
        entry = inventory.hosts.get(host)
        if entry is None:
            continue
        pairs: list[tuple[str, str]] = []
        for site in entry.sites:
            if site.state == "absent" or (wanted is not None and site.name not in wanted):
                continue
            stack = site.stack
            if spec.action is Action.SWITCH_STACK and spec.stack:
                stack = spec.stack
            pairs.append((site.name, stack))
        if pairs:
            out[host] = pairs
    return out


def build_matrix(
    inventory: Inventory, last_deploys: dict[tuple[str, str], tuple[float, str, str]]
) -> tuple[list[str], list[str], dict[tuple[str, str], MatrixCell]]:
    """(hosts, sites, cells) for every host that serves at least one site."""
    hosts = [h for h, entry in inventory.hosts.items() if entry.sites]
    sites = inventory.site_names(hosts)
    cells: dict[tuple[str, str], MatrixCell] = {}
    for host in hosts:
        for site in inventory.hosts[host].sites:
            deployed = last_deploys.get((host, site.name))
            cells[(host, site.name)] = MatrixCell(
                host=host,
                site=site.name,
                stack=site.stack,
                state=site.state,
                last_deploy=deployed[0] if deployed else None,
                last_run=deployed[1] if deployed else None,
                deployed_stack=deployed[2] if deployed else None,
            )
    return hosts, sites, cells
