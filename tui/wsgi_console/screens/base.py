"""Shared screen plumbing."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual.screen import Screen
from textual.widgets import Static

if TYPE_CHECKING:
    from ..app import WsgiConsole

STATUS_STYLE = {
    "ok": "green",
    "changed": "yellow",
    "failed": "bold red",
    "unreachable": "bold magenta",
    "skipped": "cyan",
    "rescued": "blue",
    "ignored": "dim",
    "running": "bold",
    "cancelled": "bold red",
    "interrupted": "bold red",
}
STATUS_GLYPH = {
    "ok": "✔ ok",
    "changed": "● changed",
    "failed": "✘ failed",
    "unreachable": "⚠ unreachable",
    "skipped": "↷ skipped",
    "rescued": "↺ rescued",
    "ignored": "✔ ignored",
    "running": "… running",
    "cancelled": "⊘ cancelled",
    "interrupted": "⊘ interrupted",
}


def styled_status(status: str) -> str:
    style = STATUS_STYLE.get(status, "")
    text = STATUS_GLYPH.get(status, status)
    return f"[{style}]{text}[/]" if style else text


@lru_cache(maxsize=64)
def _status_text(status: str) -> Text:
    return Text.from_markup(styled_status(status))


def status_text(status: str) -> Text:
    """``styled_status`` as a Text, parsed once per status: shared, do not modify it."""
    return _status_text(status)


def fmt_time(ts: float | None) -> str:
    if not ts:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


class ConsoleScreen(Screen[Any]):
    """A screen that receives the app's notifications (inventory_changed, run_updated…)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Per Static (by id()): the text shown and its height when known (see show_text).
        self._shown_texts: dict[int, tuple[Text, int | None]] = {}

    @property
    def console(self) -> WsgiConsole:
        return cast("WsgiConsole", self.app)

    def on_mount(self) -> None:
        self.console.listeners.append(self)

    def show_text(self, widget: Static, text: Text) -> None:
        """``widget.update(text)``, skipped when nothing changed, and without a layout pass (a
        whole-screen reflow) when the height cannot change: same number of lines, none wrapped.
        """
        shown = self._shown_texts
        previous = shown.get(id(widget))
        if previous is not None and previous[0] == text:
            return
        lines = text.split("\n", allow_blank=True)
        width = widget.content_size.width
        height = len(lines) if all(line.cell_len <= width for line in lines) else None
        layout = previous is None or height is None or previous[1] != height
        shown[id(widget)] = (text, height)
        widget.update(text, layout=layout)
