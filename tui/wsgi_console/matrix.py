"""The deployment matrix: host × site → what the inventory says, what the host says (its
deployed-state record, read by playbooks/status.yml) and the console's own last deploy.

Drift is what differs between the inventory and the host: another stack or mode on the host, a
site the inventory wants present that the host has no record of, a site the inventory marks
absent (or does not list) that the host still serves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .deployed import DeployedRecord, StatusReading
from .inventory import Inventory
from .runspec import Action, RunSpec


@dataclass(frozen=True)
class MatrixCell:
    host: str
    site: str
    stack: str  # the inventory's ("" for a site only the host knows)
    state: str
    mode: str = ""  # the inventory's resolved mode
    last_deploy: float | None = None
    last_run: str | None = None
    deployed_stack: str | None = None
    record: DeployedRecord | None = None  # the host's record (None: none, or not read)
    read: bool = False  # the host answered the last reading
    host_error: str | None = None

    @property
    def drift(self) -> bool:
        return bool(self.drifts)

    @property
    def drifts(self) -> list[str]:
        """What differs between the inventory and the host (or, never read, the last deploy
        recorded here)."""
        out: list[str] = []
        if self.read:
            rec = self.record
            wanted = self.state == "present" and bool(self.stack)
            if rec is None:
                if wanted:
                    out.append("not on the host (no record)")
                return out
            if rec.error:
                return [f"unreadable record: {rec.error}"]
            if not self.stack:
                return ["not in the inventory"]
            if self.state == "absent":
                return ["absent, still on the host"]
            if rec.stack and rec.stack != self.stack:
                out.append(f"host runs {rec.stack}")
            if rec.mode and self.mode and rec.mode != self.mode:
                out.append(f"host mode {rec.mode}")
            return out
        if self.deployed_stack is not None and self.deployed_stack != self.stack:
            out.append(f"last deployed as {self.deployed_stack}")
        return out


@dataclass
class Matrix:
    hosts: list[str]
    sites: list[str]
    cells: dict[tuple[str, str], MatrixCell] = field(default_factory=dict)


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
    inventory: Inventory,
    last_deploys: dict[tuple[str, str], tuple[float, str, str]],
    reading: StatusReading | None = None,
) -> Matrix:
    """Every host that serves (or, per its records, still has) at least one site."""
    hosts = [
        h
        for h, entry in inventory.hosts.items()
        if entry.sites or (reading is not None and reading.record_sites(h))
    ]
    sites = inventory.site_names(hosts)
    cells: dict[tuple[str, str], MatrixCell] = {}
    for host in hosts:
        state = reading.hosts.get(host) if reading is not None else None
        read = state is not None and state.error is None
        for site in inventory.hosts[host].sites:
            deployed = last_deploys.get((host, site.name))
            cells[(host, site.name)] = MatrixCell(
                host=host,
                site=site.name,
                stack=site.stack,
                state=site.state,
                mode=site.resolved_mode,
                last_deploy=deployed[0] if deployed else None,
                last_run=deployed[1] if deployed else None,
                deployed_stack=deployed[2] if deployed else None,
                record=state.records.get(site.name) if state is not None else None,
                read=read,
                host_error=state.error if state is not None else None,
            )
        if state is not None:
            for name, record in state.records.items():
                if (host, name) in cells:
                    continue
                if name not in sites:
                    sites.append(name)
                cells[(host, name)] = MatrixCell(
                    host=host, site=name, stack="", state="", record=record, read=read
                )
    return Matrix(hosts, sites, cells)
