"""A DataTable whose cell updates re-render (and repaint) only the rows they touch.

Textual's DataTable invalidates every render cache on any ``update_cell`` (all caches are keyed
by an update counter), so a live view that rewrites a few counters ten times a second re-renders
every visible row each frame: about 2 ms per row. ``LiveTable`` keeps the counter still for
cell updates and for appended one-line rows, evicts the cached renders of the changed rows only
(just before the next paint) and repaints only their lines. Anything else that changes the
table's shape (rows removed, a column width that changes, a change of width, sorting, clear)
keeps DataTable's own full invalidation.

It also paints a line's cells without Rich's generic layout machinery, and computes once per
paint what DataTable recomputes for every line. It relies on DataTable's private caches and
methods (Textual is pinned by constraints.txt): tests/test_live_table.py checks that it paints
exactly what DataTable paints, before and after updates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text, TextType
from textual import events
from textual._types import SegmentLines
from textual.geometry import Offset, Region, Size
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets._data_table import CellCacheKey
from textual.widgets.data_table import (
    CellDoesNotExist,
    CellKey,
    ColumnKey,
    RowKey,
)


class LiveTable(DataTable[Any]):
    """DataTable with per-row invalidation on ``update_cell`` and on appending rows."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._stale_rows: set[RowKey] = set()
        self._view = Size(0, 0)  # the size at the last resize
        self._header = 0  # lines of header at the last resize
        self._paint: tuple[int, Offset, int] | None = None  # set while painting
        self._paint_style = Style()

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: Any,
        *,
        update_width: bool = False,
    ) -> None:
        if isinstance(row_key, str):
            row_key = RowKey(row_key)
        if isinstance(column_key, str):
            column_key = ColumnKey(column_key)
        if row_key not in self._row_locations or column_key not in self._column_locations:
            raise CellDoesNotExist(
                f"No cell exists for row_key={row_key!r}, column_key={column_key!r}."
            )
        self._data[row_key][column_key] = value
        self._stale_rows.add(row_key)
        if update_width:
            self._updated_cells.add(CellKey(row_key, column_key))
            self._require_update_dimensions = True
        self._refresh_row_line(self._row_locations.get(row_key))

    def update_row(self, row_key: str, cells: Sequence[Any]) -> bool:
        """Write the cells of an existing row that differ; True when one did.

        A column is widened when a new value does not fit; it never shrinks (shrinking would
        re-measure the whole column, and columns jumping back and forth are hard to read).
        """
        key = RowKey(row_key)
        data = self._data[key]  # column key → value, in column order
        changed = False
        for (column_key, old), value in zip(data.items(), cells, strict=True):
            if old != value:
                data[column_key] = value  # an existing key: the iteration goes on
                changed = True
                if cell_width(value) > self.columns[column_key].content_width:
                    self._updated_cells.add(CellKey(key, column_key))
                    self._require_update_dimensions = True
        if changed:
            self._stale_rows.add(key)
            self._refresh_row_line(self._row_locations.get(key))
        return changed

    def visible_row_keys(self) -> list[str]:
        """Keys of the rows in view (one-line rows), top to bottom."""
        first = int(self.scroll_y)
        last = min(self.row_count, first + self._view.height - self._header_lines())
        get_key = self._row_locations.get_key
        return [str(get_key(index).value) for index in range(first, last)]

    def _header_lines(self) -> int:
        return self.header_height if self.show_header else 0

    def add_row(
        self,
        *cells: Any,
        height: int | None = 1,
        key: str | None = None,
        label: TextType | None = None,
    ) -> RowKey:
        count = self._update_count
        row_key = super().add_row(*cells, height=height, key=key, label=label)
        if height == 1 and label is None and not self._labelled_row_exists:
            # Appending a one-line row moves no other row: their renders stay valid.
            self._update_count = count
            self._offset_cache.clear()
            self._refresh_row_line(self.row_count - 1)
        return row_key

    def _refresh_row_line(self, row_index: int) -> None:
        """Repaint the line of one row (rows are one line high) if it is in view; a row out of
        view is painted from scratch when it scrolls in (its cached renders are evicted)."""
        if self.fixed_rows:
            self.refresh()
            return
        header = self._header
        y = header + row_index - int(self.scroll_y)
        if header <= y < self._view.height:
            self.refresh(Region(0, y, self._view.width, 1))

    def _column_widths(self) -> list[int]:
        return [self._label_column.content_width] + [
            column.content_width for column in self.ordered_columns
        ]

    def _update_column_widths(self, updated_cells: set[CellKey]) -> None:
        before = self._column_widths()
        super()._update_column_widths(updated_cells)
        self._invalidate_if_resized(before)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """DataTable's, without measuring each new cell through Rich's console (about 0.1 ms a
        cell: 100 new rows of 9 cells stalled the event loop for ~100 ms) when every new row is
        a one-line row without a label: their width is then the cells' cell length."""
        before = self._column_widths()
        rows = list(new_rows)
        if self._labelled_row_exists or not all(self._plain_row(key) for key in rows):
            super()._update_dimensions(rows)
        else:
            columns = self.ordered_columns
            for row_key in rows:
                data = self._data.get(row_key)
                if data is None:  # removed before this idle pass
                    continue
                for column in columns:
                    value = data.get(column.key)
                    width = cell_width(value) if value is not None else 0
                    if width > column.content_width:
                        column.content_width = width
            width = sum(c.get_render_width(self) for c in self.columns.values())
            self._grow(Size(width + self._row_label_column_width,
                            self._total_row_height + self._header_lines()))  # fmt: skip
        self._invalidate_if_resized(before)

    def _grow(self, size: Size) -> None:
        """Set the virtual size; rows appended below a table that already scrolls change
        nothing but the scrollbar, so the whole-screen layout pass that a virtual size change
        triggers (~100 ms on a loaded machine, at every tick a big table grows) is skipped."""
        old = self.virtual_size
        if (
            size.width == old.width
            and size.height >= old.height
            and self.show_vertical_scrollbar
            and self.is_mounted
        ):
            self.set_reactive(DataTable.virtual_size, size)
            self._scroll_update(size)
        else:
            self.virtual_size = size

    def _plain_row(self, row_key: RowKey) -> bool:
        row = self.rows.get(row_key)
        if row is None:
            return True
        if row.height != 1 or row.auto_height or row.label is not None:
            return False
        # Strings are rendered as markup by DataTable: only plain ones measure as their length.
        return all(
            isinstance(v, Text) or (isinstance(v, str) and "[" not in v) or isinstance(v, int)
            for v in self._data.get(row_key, {}).values()
        )

    def _invalidate_if_resized(self, widths: list[int]) -> None:
        if self._column_widths() != widths:
            # Cached cells were rendered at the old widths: invalidate them all.
            self._stale_rows.clear()
            self._update_count += 1
            self.refresh()

    def _on_resize(self, event: events.Resize) -> None:
        if event.size.width == self._view.width:
            # Only the height changed (a neighbour grew): every cached line still fits.
            event.prevent_default()
        self._view = event.size
        self._header = self._header_lines()

    def render_lines(self, crop: Region) -> list[Strip]:
        if self._stale_rows:
            self._evict(self._stale_rows)
            self._stale_rows = set()
        # What DataTable.render_line computes for every line (the widget's style costs a walk of
        # the CSS), computed once for all the lines of this paint.
        fixed = sum(self.get_row_height(row.key) for row in self.ordered_rows[: self.fixed_rows])
        self._paint = (self.size.width, self.scroll_offset, fixed + self._header_lines())
        self._paint_style = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._paint = None

    def render_line(self, y: int) -> Strip:
        if self._paint is None:
            return super().render_line(y)
        width, (scroll_x, scroll_y), fixed_height = self._paint
        if y >= fixed_height:
            y += scroll_y
        return self._render_line(y, scroll_x, scroll_x + width, self._paint_style)

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> SegmentLines:
        """DataTable's cell rendering, without Rich's generic layout machinery for the common
        cell: one line of Text (or a str) in a one-line row. It builds the very segments that
        ``render_lines(Styled(Padding(text)))`` builds (text truncated to the column, padded,
        styles layered the same way) at a tenth of the cost; anything else goes the long way.
        """
        if row_index < 0 or column_index < 0 or row_index < self.fixed_rows:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        cache_key: CellCacheKey = (
            row_key,
            column_key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cached = self._cell_render_cache.get(cache_key)
        if cached is not None:
            return cached
        cell = self._get_row_renderables(row_index).cells[column_index]
        padding = self.cell_padding
        inner = width - 2 * padding
        if (
            self.rows[row_key].height != 1
            or column_index < self.fixed_columns
            or not isinstance(cell, Text)
            or inner < 1
            or cell.no_wrap is False
            or cell.justify not in (None, "default")
            or cell.overflow == "ignore"
            or "\n" in cell.plain
            or "\t" in cell.plain
        ):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        pre_style = base_style + Style.from_meta({"row": row_index, "column": column_index})
        pre_style += component_style
        line = cell
        if cell.cell_len > inner:
            line = cell.copy()
            line.truncate(inner)
        # As Text.__rich_console__ does: joining turns the text's own style into a span.
        text_segments = Text("\n").join([line]).render(self.app.console)
        gap = inner - line.cell_len
        segments = [
            Segment(" " * padding),
            *text_segments,
            Segment(" " * (gap + padding)) if gap else Segment(" " * padding),
        ]
        rendered = [list(Segment.apply_style(segments, pre_style, post_style))]
        self._cell_render_cache[cache_key] = rendered
        return rendered

    def _evict(self, rows: set[RowKey]) -> None:
        """Drop the cached renders of ``rows`` (cell, row and line caches)."""
        for cache in (self._cell_render_cache, self._row_render_cache):
            for key in [key for key in cache.keys() if key[0] in rows]:
                cache.discard(key)
        indexes = {self._row_locations.get(row) for row in rows}
        renderables = self._row_renderable_cache
        for key in [key for key in renderables.keys() if key[1] in indexes]:
            renderables.discard(key)
        lines = self._line_cache
        for key in list(lines.keys()):
            try:
                row_key = self._get_offsets(key[0])[0]
            except LookupError:
                continue
            if row_key in rows:
                lines.discard(key)


def cell_width(value: Any) -> int:
    """Terminal cells taken by a cell value (a Text or anything shown as its str())."""
    return value.cell_len if isinstance(value, Text) else cell_len(str(value))
