"""What a stack switch must include: one web server owns port 80 per host.

The playbooks refuse a host whose present sites use two stacks, and a run limited to some sites
that would strand the others on a retired server. The console checks the same before launch, on
the inventory it shows, so that the operator selects every site of the hosts concerned.
"""

from __future__ import annotations

from .inventory import Inventory


def stack_switch_problems(
    inventory: Inventory, hosts: list[str], sites: tuple[str, ...], stack: str
) -> list[str]:
    """Per target host, the present sites left out of a switch of `sites` to `stack`."""
    selected = set(sites)
    problems: list[str] = []
    for name in hosts:
        host = inventory.hosts.get(name)
        if host is None:
            continue
        present = [site for site in host.sites if site.state != "absent"]
        if not selected & {site.name for site in present}:
            continue
        left = sorted(site.name for site in present if site.name not in selected)
        if left:
            problems.append(
                f"{name} also serves {', '.join(left)}: one web server owns port 80 per host, "
                f"so select them too to move {name} to {stack}"
            )
    return problems


def current_stacks(
    inventory: Inventory, hosts: list[str], sites: tuple[str, ...]
) -> dict[str, set[str]]:
    """Per selected site, the stacks it is on (in the inventory) on the target hosts."""
    selected = set(sites)
    out: dict[str, set[str]] = {}
    for name in hosts:
        host = inventory.hosts.get(name)
        if host is None:
            continue
        for site in host.sites:
            if site.name in selected and site.state != "absent":
                out.setdefault(site.name, set()).add(site.stack)
    return out


def other_stack(stacks: set[str], choices: tuple[str, ...]) -> str | None:
    """The stack to offer for a switch: the other one when the selection is on one stack."""
    if len(stacks) == 1:
        (current,) = stacks
        others = [s for s in choices if s != current]
        return others[0] if len(others) == 1 else None
    return None


def switch_noops(
    inventory: Inventory, hosts: list[str], sites: tuple[str, ...], stack: str
) -> tuple[list[str], bool]:
    """The selected sites already on ``stack`` everywhere they are targeted, and whether that
    is all of them (the switch would change nothing)."""
    stacks = current_stacks(inventory, hosts, sites)
    already = sorted(site for site, on in stacks.items() if on == {stack})
    return already, bool(stacks) and len(already) == len(stacks)
