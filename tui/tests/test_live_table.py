"""LiveTable: the same pixels as DataTable, with per-row invalidation."""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from wsgi_console.screens.live_table import LiveTable

CELLS: list[list[Any]] = [
    ["[bold red]✘ failed[/]", Text("plain"), "12", Text("a" * 40)],
    [Text.from_markup("[green]✔ ok[/]"), Text("styled", style="italic"), "7", "ünïcödé 日本語"],
    [Text("x", style="on red"), Text.assemble(("two", "bold"), " parts"), "", Text("…")],
    ["[link=https://example.test]link[/]", Text("dots " * 8, overflow="ellipsis"), "0", "z"],
]


class TableApp(App[None]):
    AUTO_FOCUS = None  # a focused table has another header colour

    def compose(self) -> ComposeResult:
        yield LiveTable(id="live", cursor_type="row", zebra_stripes=True)
        yield DataTable(id="plain", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        for table in self.query(DataTable):
            table.add_column("status", key="status")
            table.add_column("name", key="name")
            table.add_column("n", key="n")
            table.add_column("narrow", key="narrow", width=12)
            for index, row in enumerate(CELLS):
                table.add_row(*row, key=str(index))


def painted(table: DataTable[Any]) -> list[list[tuple[str, Any]]]:
    """Every visible line as (character, style) pairs: what ends up on the screen."""
    out = []
    for strip in table.render_lines(table.region.reset_offset):
        line: list[tuple[str, Any]] = []
        for segment in Segment.filter_control(strip):
            line.extend((char, segment.style) for char in segment.text)
        out.append(line)
    return out


def text_of(lines: list[list[tuple[str, Any]]]) -> list[str]:
    return ["".join(char for char, _ in line).rstrip() for line in lines]


async def test_live_table_paints_what_data_table_paints() -> None:
    app = TableApp()
    async with app.run_test(size=(100, 12)) as pilot:
        await pilot.pause()
        live = app.query_one("#live", LiveTable)
        plain = app.query_one("#plain", DataTable)
        for row in (0, 2):
            live.move_cursor(row=row)
            plain.move_cursor(row=row)
            await pilot.pause()
            assert painted(live) == painted(plain)


async def test_update_row_repaints_only_what_changed() -> None:
    app = TableApp()
    async with app.run_test(size=(100, 12)) as pilot:
        await pilot.pause()
        live = app.query_one("#live", LiveTable)
        plain = app.query_one("#plain", DataTable)
        before = text_of(painted(live))
        assert not live.update_row("1", CELLS[1])  # nothing changed: nothing written
        new = ["[yellow]● changed[/]", Text("renamed"), "12345678901", "b"]
        assert live.update_row("1", new)
        for column, value in zip(("status", "name", "n", "narrow"), new, strict=True):
            plain.update_cell("1", column, value, update_width=True)
        await pilot.pause()
        after = text_of(painted(live))
        assert after != before and "12345678901" in after[2]  # the column was widened
        assert painted(live) == painted(plain)
        live.add_row("[b]new[/]", "row", "1", "x", key="new")
        plain.add_row("[b]new[/]", "row", "1", "x", key="new")
        await pilot.pause()
        assert painted(live) == painted(plain)
        assert live.get_row("1") == new
