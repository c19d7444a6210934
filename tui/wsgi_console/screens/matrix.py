"""Deployment matrix: for each host and site, the stack and the last successful deploy."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from ..matrix import build_matrix
from .base import ConsoleScreen, fmt_time

MAX_ROWS = 2000


class MatrixScreen(ConsoleScreen):
    BINDINGS = [Binding("R", "refresh", "Refresh")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="matrix-info")
        yield DataTable(id="matrix", cursor_type="cell", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.refresh_matrix()

    def on_screen_resume(self) -> None:
        if self.is_mounted:
            self.refresh_matrix()

    def inventory_changed(self) -> None:
        self.refresh_matrix()

    def history_changed(self) -> None:
        self.refresh_matrix()

    def action_refresh(self) -> None:
        self.refresh_matrix()

    def refresh_matrix(self) -> None:
        inv = self.console.inventory
        table = self.query_one("#matrix", DataTable)
        table.clear(columns=True)
        info = self.query_one("#matrix-info", Static)
        if inv is None:
            info.update("Loading inventory…")
            return
        deploys = self.console.history.last_deploys(self.console.inventory_path)
        hosts, sites, cells = build_matrix(inv, deploys)
        table.add_column("host", key="host")
        for site in sites:
            table.add_column(site, key=site)
        for host in hosts[:MAX_ROWS]:
            row: list[Text | str] = [host]
            for site in sites:
                cell = cells.get((host, site))
                if cell is None:
                    row.append(Text("·", style="dim"))
                    continue
                text = Text(cell.stack, style="yellow" if cell.stack == "nginx_gunicorn" else "")
                if cell.state == "absent":
                    text.append(" (absent)", style="red")
                if cell.last_deploy:
                    text.append(f"\n{fmt_time(cell.last_deploy)} {cell.last_run}", style="green")
                    if cell.drift:
                        text.append(f"\ndeployed as {cell.deployed_stack}", style="bold red")
                else:
                    text.append("\nnever deployed", style="dim")
                row.append(text)
            table.add_row(*row, key=host, height=None)
        deployed = sum(1 for c in cells.values() if c.last_deploy)
        info.update(
            f"{len(hosts)} hosts × {len(sites)} sites — {deployed}/{len(cells)} deployed "
            "successfully (apply runs recorded in history)"
        )
