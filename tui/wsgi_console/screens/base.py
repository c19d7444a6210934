"""Shared screen plumbing."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, cast

from textual.screen import Screen

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
}


def styled_status(status: str) -> str:
    style = STATUS_STYLE.get(status, "")
    text = STATUS_GLYPH.get(status, status)
    return f"[{style}]{text}[/]" if style else text


def fmt_time(ts: float | None) -> str:
    if not ts:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


class ConsoleScreen(Screen[Any]):
    """A screen that receives the app's notifications (inventory_changed, run_updated…)."""

    @property
    def console(self) -> WsgiConsole:
        return cast("WsgiConsole", self.app)

    def on_mount(self) -> None:
        self.console.listeners.append(self)
