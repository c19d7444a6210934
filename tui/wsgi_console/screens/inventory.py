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

from ..inventory import Inventory, Site
from .base import ConsoleScreen

NodeData = tuple[str, str]  # ("group" | "host" | "site", name)
EAGER_HOSTS = 300  # above this many matching hosts, groups are filled in when expanded


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
                yield DataTable(id="sites", cursor_type="row", zebra_stripes=True)
        yield Static("", id="inv-status")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#sites", DataTable)
        table.add_columns("host", "site", "domain", "path", "kind", "stack", "mode", "state")
        self.filter_seconds = 0.0
        self._lazy = {}
        self.inventory_changed()

    # -- notifications from the app ---------------------------------------------------
    def inventory_loading(self) -> None:
        if self.is_mounted:
            self.query_one("#inv-status", Static).update("Loading inventory…")

    def inventory_changed(self) -> None:
        inv = self.console.inventory
        if inv is None:
            self.inventory_loading()
            return
        self.rebuild_tree()
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
        targets = set(self.console.selected_targets)
        self._lazy: dict[int, list[tuple[str, list[Site]]]] = {}
        eager = sum(len(rows) for rows in matches.values()) <= EAGER_HOSTS

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
            rows = matches.get(group, [])
            node = parent.add(
                Text.assemble((mark, "bold green"), (group, "bold"), (f"  {count} hosts", "dim")),
                data=("group", group),
                expand=(bool(text) or depth < 2) and (eager or not rows),
            )
            for child in inv.groups[group].children:
                add_group(node, child, depth + 1)
            if eager:
                for host, sites in rows:
                    self._add_host(node, host, sites, host in targets)
            elif rows:
                self._lazy[node.id] = rows
                node.allow_expand = True

        for group in inv.top_groups():
            if group == "ungrouped" and not inv.groups[group].hosts:
                continue
            add_group(tree.root, group, 0)
        tree.root.expand()

    @on(Tree.NodeExpanded, "#inv-tree")
    def _node_expanded(self, event: Tree.NodeExpanded[NodeData]) -> None:
        rows = self._lazy.pop(event.node.id, None)
        if rows:
            targets = set(self.console.selected_targets)
            for host, sites in rows:
                self._add_host(event.node, host, sites, host in targets)

    def _add_host(
        self, parent: TreeNode[NodeData], host: str, sites: list[Site], marked: bool
    ) -> None:
        inv = self.console.inventory
        assert inv is not None
        mark = "☑ " if marked else ""
        label = Text.assemble((mark, "bold green"), host, (f"  {len(sites)} sites", "dim"))
        node = parent.add(label, data=("host", host), expand=False)
        for site in sites:
            node.add_leaf(
                Text.assemble(
                    site.name,
                    "  ",
                    (site.domain + site.path.rstrip("/"), "cyan"),
                    "  ",
                    (site.stack, "yellow"),
                    (f" {site.mode}" if site.mode else "", "dim"),
                    (" absent" if site.state == "absent" else "", "red"),
                ),
                data=("site", f"{host}\x00{site.name}"),
            )

    def update_status(self) -> None:
        inv = self.console.inventory
        status = self.query_one("#inv-status", Static)
        if inv is None:
            return
        parts: list[str] = []
        if inv.errors:
            parts.append("[bold red]Inventory error:[/] " + _escape(inv.errors[0]))
        else:
            parts.append(f"{len(inv.hosts)} hosts, {len(inv.groups)} groups")
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

    def show_sites(self, hosts: list[str], title: str) -> None:
        inv = self.console.inventory
        table = self.query_one("#sites", DataTable)
        table.clear()
        if inv is None:
            return
        rows = 0
        for host in hosts[:500]:
            for site in inv.hosts[host].sites if host in inv.hosts else []:
                table.add_row(
                    host,
                    site.name,
                    site.domain,
                    site.path,
                    site.kind,
                    site.stack,
                    site.mode or "—",
                    site.state,
                )
                rows += 1
        more = f" (first 500 of {len(hosts)} hosts)" if len(hosts) > 500 else ""
        self.query_one("#inv-info", Static).update(f"[b]{title}[/]: {rows} sites{more}")

    # -- events -----------------------------------------------------------------------
    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self.rebuild_tree()

    @on(Tree.NodeHighlighted, "#inv-tree")
    def _node_highlighted(self, event: Tree.NodeHighlighted[NodeData]) -> None:
        inv = self.console.inventory
        data = event.node.data
        if inv is None or data is None:
            return
        kind, name = data
        if kind == "group":
            self.show_sites(inv.group_hosts(name), f"group {name}")
        elif kind == "host":
            self._show_host(name)
        else:
            self._show_host(name.split("\x00")[0])

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


def _escape(text: str) -> str:
    return text.replace("[", "\\[").splitlines()[0] if text else ""


__all__ = ["InventoryScreen", "Inventory"]
