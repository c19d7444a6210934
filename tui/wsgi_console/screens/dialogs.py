"""A modal question with a few labelled answers (quit with a live run, apply of a bad check)."""

from __future__ import annotations

from typing import Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

Variant = Literal["default", "primary", "success", "warning", "error"]


class ChoiceScreen(ModalScreen[str | None]):
    """Dismissed with the id of the chosen answer (None on escape)."""

    BINDINGS = [Binding("escape", "dismiss_none", "Back")]
    DEFAULT_CSS = """
    ChoiceScreen { align: center middle; }
    ChoiceScreen > #choice-box {
        width: 80%; max-width: 90; height: auto; border: thick $warning; background: $surface;
        padding: 1 2;
    }
    ChoiceScreen #choice-title { text-style: bold; }
    ChoiceScreen #choice-text { margin: 1 0; }
    ChoiceScreen #choice-buttons { height: auto; }
    ChoiceScreen Button { margin-right: 2; }
    """

    def __init__(self, title: str, text: str, choices: list[tuple[str, str, Variant]]) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="choice-box"):
            yield Static(self.title_text, id="choice-title", markup=False)
            yield Static(self.text, id="choice-text", markup=False)
            with Horizontal(id="choice-buttons"):
                for choice_id, label, variant in self.choices:
                    yield Button(label, id=f"choice-{choice_id}", variant=variant)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "").removeprefix("choice-"))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
