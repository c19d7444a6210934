"""Run history: list, replay, relaunch, relaunch failed/unreachable only, check → apply."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from ..history import RunRecord
from .base import ConsoleScreen, fmt_time


class HistoryScreen(ConsoleScreen):
    BINDINGS = [
        Binding("enter", "replay", "Replay", show=True),
        Binding("v", "replay", "Replay", show=False),
        Binding("r", "relaunch", "Relaunch"),
        Binding("f", "relaunch_failed", "Failed hosts"),
        Binding("u", "relaunch_unfinished", "Unfinished hosts"),
        Binding("a", "apply", "Check→apply"),
        Binding("e", "export", "Export"),
        Binding("R", "refresh", "Refresh", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="history-info")
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Static("", id="history-command")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#runs", DataTable).add_columns(
            "when", "who", "action", "targets", "mode", "result", "run"
        )
        self.records: dict[str, RunRecord] = {}
        self.refresh_runs()

    def on_screen_resume(self) -> None:
        if self.is_mounted:
            self.refresh_runs()

    def history_changed(self) -> None:
        self.refresh_runs()

    def refresh_runs(self) -> None:
        table = self.query_one("#runs", DataTable)
        cursor = table.cursor_row
        table.clear()
        records = self.console.history.list_runs()
        self.records = {r.id: r for r in records}
        for record in records:
            sites = f" {','.join(record.spec.sites)}" if record.spec.sites else ""
            table.add_row(
                fmt_time(record.started),
                record.user,
                record.action + sites,
                record.targets or "all",
                record.mode,
                record.result,
                record.id,
                key=record.id,
            )
        self.query_one("#history-info", Static).update(
            f"{len(records)} run(s) in {self.console.history.path}"
        )
        if records:
            table.move_cursor(row=min(max(cursor, 0), len(records) - 1))

    def selected(self) -> RunRecord | None:
        table = self.query_one("#runs", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self.records.get(str(key.value))

    @on(DataTable.RowHighlighted, "#runs")
    def _highlighted(self) -> None:
        record = self.selected()
        text = ""
        if record is not None:
            text = f"[b]{record.id}[/]  {record.note}\n{record.command.replace('[', chr(92) + '[')}"
        self.query_one("#history-command", Static).update(text)

    @on(DataTable.RowSelected, "#runs")
    def _selected(self) -> None:
        self.action_replay()

    def action_refresh(self) -> None:
        self.refresh_runs()

    def action_replay(self) -> None:
        record = self.selected()
        if record is not None:
            self.console.replay(record.id)

    def action_relaunch(self) -> None:
        record = self.selected()
        if record is not None:
            self.console.relaunch(record)

    def action_relaunch_failed(self) -> None:
        record = self.selected()
        if record is not None:
            self.console.relaunch(record, failed_only=True)

    def action_relaunch_unfinished(self) -> None:
        record = self.selected()
        if record is not None:
            self.console.relaunch(record, unfinished_only=True)

    def action_apply(self) -> None:
        record = self.selected()
        if record is not None:
            self.console.relaunch(record, as_apply=True)

    def action_export(self) -> None:
        record = self.selected()
        if record is None:
            return
        if record.live:
            self.notify("That run is still running.", severity="warning")
            return
        path = self.console.export_run(record.id)
        self.notify(f"Exported to {path}", title="ansible-runner artifacts")
