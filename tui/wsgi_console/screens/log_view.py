"""A plain-text log view that stores lines as strings and renders only the lines in view.

RichLog renders every written line into segments as it is written; a run of 5,000 hosts writes
about 100,000 lines, nearly all of which scroll past unseen (and most of which the line limit
drops). Here writing a line is appending a string, and a paint renders the visible lines only.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from rich.control import strip_control_codes
from rich.segment import Segment
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


class LogView(ScrollView, can_focus=True):
    """Lines of plain text, the last ``max_lines`` kept, scrolled to the end on each write."""

    DEFAULT_CSS = """
    LogView {
        background: $surface;
        color: $foreground;
        overflow-y: scroll;
        &:focus {
            background-tint: $foreground 5%;
        }
    }
    """

    def __init__(
        self, max_lines: int, *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.max_lines = max_lines
        self._lines: list[str] = []
        self._widest = 0

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def line(self, index: int) -> str:
        return self._lines[index]

    def write_lines(self, lines: Iterable[str]) -> None:
        clean = [strip_control_codes(line.expandtabs(8)) for line in lines]
        if not clean:
            return
        self._lines.extend(clean)
        if len(self._lines) > self.max_lines:
            del self._lines[: len(self._lines) - self.max_lines]
        self._widest = max(self._widest, max(cell_len(line) for line in clean))
        self.virtual_size = Size(self._widest, len(self._lines))
        self.scroll_end(animate=False, immediate=False, x_axis=False)
        self.refresh()

    def clear(self) -> None:
        self._lines.clear()
        self._widest = 0
        self.virtual_size = Size(0, 0)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        style = self.rich_style
        index = scroll_y + y
        if index >= len(self._lines):
            return Strip.blank(width, style)
        text = self._lines[index]
        strip = Strip([Segment(text, style)], cell_len(text))
        return strip.crop_extend(scroll_x, scroll_x + width, style)
