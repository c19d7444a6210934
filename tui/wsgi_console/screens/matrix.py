"""Deployment matrix: host × site, the inventory against what each host says is deployed.

``r`` reads the deployed-state records from the hosts (playbooks/status.yml, read-only); the
last reading is kept in the data directory. Until a host was read, a cell shows the console's
own last successful deploy of it (from the history).
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from ..deployed import (
    StatusReading,
    load_reading,
    read_deployed_state,
    save_reading,
    status_spec,
)
from ..inventory import DEFAULT_STACK
from ..matrix import MatrixCell, build_matrix
from .base import ConsoleScreen, fmt_time

MAX_ROWS = 2000


class MatrixScreen(ConsoleScreen):
    BINDINGS = [
        Binding("r", "read_hosts", "Read state from hosts"),
        Binding("R", "refresh", "Refresh", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="matrix-info")
        yield DataTable(id="matrix", cursor_type="cell", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.reading: StatusReading | None = load_reading(
            self.console.data_dir, self.console.inventory_path
        )
        self.reading_in_progress = False
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

    # -- reading the hosts ------------------------------------------------------------
    def action_read_hosts(self) -> None:
        inv = self.console.inventory
        if inv is None or self.reading_in_progress:
            return
        hosts = [h for h in inv.target_hosts(None)]
        if not hosts:
            self.notify("No target host to read.", severity="warning")
            return
        self.reading_in_progress = True
        self.refresh_matrix()
        self._read_worker(hosts)

    @work(thread=True, exclusive=True, group="status")
    def _read_worker(self, hosts: list[str]) -> None:
        console = self.console
        spec = status_spec(console.inventory_path, console.project_dir, [])
        reading = read_deployed_state(spec, hosts, console.redactor(), envvars=console.envvars)
        save_reading(console.data_dir, console.inventory_path, reading)
        self.app.call_from_thread(self._reading_done, reading)

    def _reading_done(self, reading: StatusReading) -> None:
        self.reading = reading
        self.reading_in_progress = False
        if reading.error:
            self.notify(reading.error, title="Reading the hosts", severity="error")
        self.refresh_matrix()

    # -- display ------------------------------------------------------------------------
    def refresh_matrix(self) -> None:
        inv = self.console.inventory
        table = self.query_one("#matrix", DataTable)
        table.clear(columns=True)
        info = self.query_one("#matrix-info", Static)
        if inv is None:
            info.update("Loading inventory…")
            return
        deploys = self.console.history.last_deploys(self.console.inventory_path)
        matrix = build_matrix(inv, deploys, self.reading)
        table.add_column("host", key="host")
        for site in matrix.sites:
            table.add_column(site, key=site)
        for host in matrix.hosts[:MAX_ROWS]:
            row: list[Text | str] = [self._host_label(host)]
            for site in matrix.sites:
                cell = matrix.cells.get((host, site))
                row.append(cell_text(cell) if cell is not None else Text("·", style="dim"))
            table.add_row(*row, key=host, height=None)
        cells = list(matrix.cells.values())
        drift = sum(1 for c in cells if c.drift)
        if self.reading_in_progress:
            source = "[b]reading the hosts…[/]"
        elif self.reading is not None and self.reading.read_at:
            answered = sum(1 for s in self.reading.hosts.values() if s.error is None)
            source = (
                f"hosts read {fmt_time(self.reading.read_at)} "
                f"({answered}/{len(self.reading.hosts)} answered; r reads again)"
            )
        else:
            source = "never read from the hosts (r reads their deployed-state records)"
        deployed = sum(1 for c in cells if c.record is not None or c.last_deploy)
        info.update(
            f"{len(matrix.hosts)} hosts × {len(matrix.sites)} sites — {deployed}/{len(cells)} "
            f"deployed, [{'bold red' if drift else 'green'}]{drift} drift[/] — {source}"
        )

    def _host_label(self, host: str) -> Text:
        state = self.reading.hosts.get(host) if self.reading is not None else None
        text = Text(host, style="bold")
        if state is not None and state.error:
            text.append(f"\n⚠ {state.error[:24]}", style="bold magenta")
        return text


def iso_time(value: str | None) -> str:
    """A record's ISO 8601 time as the console shows times (local, to the minute)."""
    if not value:
        return "time ?"
    from datetime import datetime

    try:
        return fmt_time(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return value


def cell_text(cell: MatrixCell) -> Text:
    """One cell: inventory stack (+ mode), then the host's record, then drift, if any."""
    text = Text()
    if cell.stack:
        text.append(cell.stack, style="" if cell.stack == DEFAULT_STACK else "yellow")
        if cell.mode:
            text.append(f" {cell.mode}", style="dim")
        if cell.state == "absent":
            text.append(" (absent)", style="red")
    else:
        text.append("(not in inventory)", style="red")
    rec = cell.record
    if rec is not None and not rec.error:
        text.append(f"\n✔ {rec.release or 'release ?'}", style="green")
        text.append(f"\n  {iso_time(rec.deployed_at)} {rec.deployed_by or 'by ?'}", style="dim")
        text.append(f"\n  run {rec.run_id or '?'}", style="dim")
        days = rec.cert_days_left()
        if days is not None:
            style = "bold red" if days < 14 else "yellow" if days < 30 else "dim"
            text.append(f"\n  TLS {rec.tls_mode or '?'}: certificate {days} days left", style=style)
        if rec.processes:
            text.append(f"\n  processes: {', '.join(rec.processes)}", style="dim")
        if rec.timers:
            jobs = ", ".join(f"{name} ({when})" for name, when in rec.timers)
            text.append(f"\n  timers: {jobs}", style="dim")
    elif cell.read and rec is None and not cell.drifts:
        text.append("\n∅ no record on the host", style="dim")
    elif cell.last_deploy:
        text.append(f"\n✔ deployed from here {fmt_time(cell.last_deploy)}", style="green")
        text.append(f"\n  run {cell.last_run}", style="dim")
    elif not cell.read:
        text.append("\nnever deployed from here", style="dim")
    for drift in cell.drifts:
        text.append(f"\n≠ {drift}", style="bold red")
    return text
