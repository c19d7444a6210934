"""Inventory browser: groups → hosts → sites, with a filter box and target selection."""

from __future__ import annotations

import time

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Header, Input, Static, Tree
from textual.widgets.tree import TreeNode

from ..inventory import DEFAULT_STACK, Inventory, Site
from .base import ConsoleScreen
from .live_table import LiveTable

NodeData = tuple[str, str]  # ("group" | "host" | "site", name)
EAGER_HOSTS = 300  # above this many matching hosts, groups are filled in when expanded
OPEN_HOSTS = 20  # up to this many matching hosts, hosts start expanded (their sites shown)
MAX_SITE_ROWS = 100  # rows of the sites table (the rest is counted, not listed: narrow the filter)
SITE_COLUMNS = ("host", "site", "stack", "mode", "state", "kind", "address")


class InventoryScreen(ConsoleScreen):
    AUTO_FOCUS = "#inv-tree"
    BINDINGS = [
        Binding("slash", "focus_filter", "Filter"),
        Binding("s", "toggle_target", "Select target"),
        Binding("x", "clear_targets", "Clear targets"),
        Binding("R", "reload", "Reload"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="Filter groups, hosts, sites, domains, stacks…", id="filter")
        with Horizontal(id="inv-body"):
            yield Tree[NodeData]("inventory", id="inv-tree")
            with Vertical(id="inv-side"):
                yield Static("", id="inv-info")
                # LiveTable paints a row without Rich's generic layout: a fast repaint of a
                # table rewritten at every keystroke of the filter.
                yield LiveTable(id="sites", cursor_type="row", zebra_stripes=True)
        yield Static("", id="inv-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#sites", DataTable)
        table.add_columns(*SITE_COLUMNS)
        self.filter_seconds = 0.0
        self._lazy = {}
        self.matches: dict[str, list[tuple[str, list[Site]]]] = {}
        self.match_hosts: list[str] = []
        self.match_sites = 0
        self._scope: tuple[str, str] = ("all", "")
        self._group_matches: dict[str, set[str]] = {}
        self._host_sites: dict[str, list[Site]] = {}
        self._shown_scope: tuple[object, ...] = ()
        self._rebuilds = 0  # tree rebuilds (each with new matches)
        self._order: dict[str, int] = {}
        self._order_of: object = None
        self.inventory_changed()

    # -- notifications from the app ---------------------------------------------------
    def inventory_loading(self) -> None:
        if self.is_mounted:
            self.query_one("#inv-status", Static).update("Loading inventory…")

    def inventory_changed(self) -> None:
        if not self.query("#inv-tree"):
            return  # the console is closing: a load that finished meanwhile has nowhere to go
        inv = self.console.inventory
        if inv is None:
            self.inventory_loading()
            return
        self.rebuild_tree()
        self.show_scope()
        self.update_status()

    # -- building ---------------------------------------------------------------------
    def rebuild_tree(self) -> None:
        inv = self.console.inventory
        tree = self.query_one("#inv-tree", Tree)
        tree.clear()
        if inv is None:
            return
        tree.root.label = Text(f"{inv.name}" + (f" ({inv.environment})" if inv.environment else ""))
        text = self.query_one("#filter", Input).value
        started = time.perf_counter()
        matches = inv.filter(text)
        self.filter_seconds = time.perf_counter() - started
        self.matches = matches
        self._rebuilds += 1
        hosts: dict[str, list[Site]] = {}
        for rows in matches.values():
            for host, sites in rows:
                hosts[host] = sites
        self._host_sites = hosts
        self.match_hosts = list(hosts)
        self.match_sites = sum(len(sites) for sites in hosts.values())
        targets = set(self.console.selected_targets)
        self._lazy: dict[int, list[tuple[str, list[Site]]]] = {}
        eager = len(hosts) <= EAGER_HOSTS
        open_hosts = len(hosts) <= OPEN_HOSTS
        filtered = bool(text.split())
        counts: dict[str, int] = {}

        def matching(group: str, seen: set[str]) -> int:
            """Matching hosts of a group and its children (counted once each)."""
            if group in counts:
                return counts[group]
            if group in seen or group not in inv.groups:
                return 0
            seen.add(group)
            found = {h for h, _ in matches.get(group, [])}
            for child in inv.groups[group].children:
                matching(child, seen)
                found |= self._group_matches.get(child, set())
            self._group_matches[group] = found
            counts[group] = len(found)
            return counts[group]

        self._group_matches: dict[str, set[str]] = {}

        def visible(group: str, seen: set[str]) -> bool:
            if group in matches and (matches[group] or text):
                return True
            if group in seen or group not in inv.groups:
                return False
            seen.add(group)
            return any(visible(c, seen) for c in inv.groups[group].children)

        def add_group(parent: TreeNode[NodeData], group: str, depth: int) -> None:
            if depth > 20 or not visible(group, set()):
                return
            mark = "☑ " if group in targets else ""
            count = len(inv.group_hosts(group))
            found = matching(group, set())
            label = (
                f"  {found}/{plural(count, 'host')}" if filtered else f"  {plural(count, 'host')}"
            )
            rows = matches.get(group, [])
            node = parent.add(
                Text.assemble((mark, "bold green"), (group, "bold"), (label, "dim")),
                data=("group", group),
                expand=(filtered or depth < 2) and (eager or not rows),
            )
            for child in inv.groups[group].children:
                add_group(node, child, depth + 1)
            if eager:
                for host, sites in rows:
                    self._add_host(node, host, sites, host in targets, open_hosts)
            elif rows:
                self._lazy[node.id] = rows
                node.allow_expand = True

        for group in inv.top_groups():
            if group == "ungrouped" and not inv.groups[group].hosts:
                continue
            add_group(tree.root, group, 0)
        if filtered and not hosts:
            tree.root.add_leaf(
                Text(f"no match for {text.strip()!r} (Esc clears the filter)", style="bold red"),
                data=None,
            )
        tree.root.expand()

    @on(Tree.NodeExpanded, "#inv-tree")
    def _node_expanded(self, event: Tree.NodeExpanded[NodeData]) -> None:
        rows = self._lazy.pop(event.node.id, None)
        if rows:
            targets = set(self.console.selected_targets)
            for host, sites in rows:
                self._add_host(event.node, host, sites, host in targets)

    def _add_host(
        self,
        parent: TreeNode[NodeData],
        host: str,
        sites: list[Site],
        marked: bool,
        expand: bool = False,
    ) -> None:
        inv = self.console.inventory
        assert inv is not None
        mark = "☑ " if marked else ""
        label = Text.assemble(
            (mark, "bold green"), host, (f"  {plural(len(sites), 'site')}", "dim")
        )
        node = parent.add(label, data=("host", host), expand=expand and bool(sites))
        for site in sites:
            mode = site.resolved_mode
            node.add_leaf(
                Text.assemble(
                    site.name,
                    "  ",
                    (site.stack, "yellow"),
                    (f" {mode}" if mode else "", "dim"),
                    (" absent" if site.state == "absent" else "", "red"),
                    "  ",
                    (site.domain + site.path.rstrip("/"), "cyan"),
                ),
                data=("site", f"{host}\x00{site.name}"),
            )

    def update_status(self) -> None:
        inv = self.console.inventory
        status = self.query_one("#inv-status", Static)
        if inv is None:
            return
        parts: list[str] = []
        for problem in self.console.project_problems[:1]:
            parts.append("[bold red]Project:[/] " + _escape(problem))
        if inv.errors:
            parts.append("[bold red]Inventory error:[/] " + _escape(inv.errors[0]))
        else:
            text = self.query_one("#filter", Input).value.strip()
            if text:
                parts.append(
                    f"filter: {len(self.match_hosts)}/{len(inv.hosts)} hosts, "
                    f"{self.match_sites} sites"
                )
            else:
                sites = sum(len(h.sites) for h in inv.hosts.values())
                parts.append(f"{len(inv.hosts)} hosts, {len(inv.groups)} groups, {sites} sites")
            if inv.from_cache:
                parts.append("[yellow]cached view, reading the inventory…[/]")
            if inv.is_production:
                parts.append("[bold white on red] PRODUCTION [/]")
            if inv.warnings:
                parts.append(
                    f"[yellow]{len(inv.warnings)} warning(s):[/] {_escape(inv.warnings[0])}"
                )
        targets = self.console.selected_targets
        parts.append(
            "targets: " + (", ".join(targets) if targets else "[dim]all (wsgi_servers)[/]")
        )
        status.update("  │  ".join(parts))

    def show_scope(self, force: bool = False) -> None:
        """The sites table for the highlighted group or host, or for everything the filter
        matches (the first screen: every site of the current scope). Skipped when it already
        shows that scope of these matches (a rebuilt tree highlights its first line again)."""
        shown = (self._scope, self._rebuilds)
        if shown == self._shown_scope and not force:
            return
        self._shown_scope = shown
        kind, name = self._scope
        if kind == "group":
            hosts = sorted(self._group_matches.get(name, set()), key=self._host_order().__getitem__)
            self.show_sites(hosts, f"group {name}")
        elif kind == "host":
            self._show_host(name)
        else:
            self.show_sites(self.match_hosts, "all groups")

    def _host_order(self) -> dict[str, int]:
        inv = self.console.inventory
        if inv is None:
            return {}
        if self._order_of is not inv:
            self._order = {h: i for i, h in enumerate(inv.hosts)}
            self._order_of = inv
        return self._order

    def _matching_sites(self, host: str) -> list[Site]:
        """The sites of ``host`` the filter matches (all of them without a filter)."""
        return self._host_sites.get(host, [])

    def show_sites(self, hosts: list[str], title: str) -> None:
        inv = self.console.inventory
        table = self.query_one("#sites", DataTable)
        table.clear()
        if inv is None:
            return
        rows = 0
        total = 0
        for host in hosts:
            sites = self._matching_sites(host)
            total += len(sites)
            for site in sites:
                if rows >= MAX_SITE_ROWS:
                    continue
                table.add_row(
                    host,
                    site.name,
                    Text(site.stack, style="" if site.stack == DEFAULT_STACK else "yellow"),
                    site.resolved_mode or "—",
                    Text(site.state, style="red" if site.state == "absent" else ""),
                    site.kind,
                    site.domain + site.path,
                )
                rows += 1
        text = self.query_one("#filter", Input).value.strip()
        where = f" matching {text!r}" if text else ""
        more = f" (first {rows} listed: narrow the filter)" if total > rows else ""
        if text and not total:
            info = f"[b]{_escape(title)}[/]: [bold red]no site matches {_escape(repr(text))}[/]"
        else:
            info = (
                f"[b]{_escape(title)}[/]: {plural(total, 'site')} on "
                f"{plural(len(hosts), 'host')}{_escape(where)}"
            )
        self.query_one("#inv-info", Static).update(info + more)

    # -- events -----------------------------------------------------------------------
    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._scope = ("all", "")
        self.rebuild_tree()
        self.show_scope()
        self.update_status()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        """Enter: to the tree, on the first matching host (or group)."""
        tree = self.query_one("#inv-tree", Tree)
        tree.focus()
        for line in range(tree.last_line + 1):
            node = tree.get_node_at_line(line)
            if node is not None and node.data is not None and node.data[0] == "host":
                tree.cursor_line = line
                return
        tree.cursor_line = 0

    @on(Tree.NodeHighlighted, "#inv-tree")
    def _node_highlighted(self, event: Tree.NodeHighlighted[NodeData]) -> None:
        inv = self.console.inventory
        data = event.node.data
        if inv is None:
            return
        if data is None:
            self._scope = ("all", "")
        elif data[0] == "site":
            self._scope = ("host", data[1].split("\x00")[0])
        else:
            self._scope = (data[0], data[1])
        self.show_scope()

    def _show_host(self, host: str) -> None:
        inv = self.console.inventory
        assert inv is not None
        entry = inv.hosts.get(host)
        if entry is None:
            return
        self.show_sites([host], f"host {host} ({entry.address}, groups: {', '.join(entry.groups)})")

    # -- actions ----------------------------------------------------------------------
    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#filter", Input).value = ""
        self.query_one("#inv-tree", Tree).focus()

    def action_reload(self) -> None:
        self.console.reload_inventory()

    def action_toggle_target(self) -> None:
        tree = self.query_one("#inv-tree", Tree)
        node = tree.cursor_node
        if node is None or node.data is None:
            return
        kind, name = node.data
        if kind == "site":
            name = name.split("\x00")[0]
        targets = self.console.selected_targets
        if name in targets:
            targets.remove(name)
        else:
            targets.append(name)
        line = tree.cursor_line
        self.rebuild_tree()
        tree.cursor_line = line
        self.show_scope()
        self.update_status()

    def action_clear_targets(self) -> None:
        self.console.selected_targets.clear()
        self.rebuild_tree()
        self.update_status()

    def select_targets(self, names: list[str]) -> None:
        """Programmatic selection (used by tests and the command palette)."""
        self.console.selected_targets[:] = names
        self.rebuild_tree()
        self.update_status()


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _escape(text: str) -> str:
    return text.replace("[", "\\[").splitlines()[0] if text else ""


__all__ = ["InventoryScreen", "Inventory"]
