"""Selection widgets whose state reads without colour: a selected entry shows a mark, an
unselected one an empty box (Textual's own draw the same glyph for both, in another colour)."""

from __future__ import annotations

from rich.segment import Segment
from textual.content import Content
from textual.strip import Strip
from textual.style import Style
from textual.widgets import RadioButton, SelectionList
from textual.widgets._toggle_button import ToggleButton

ON = "✔"
OFF = " "


class MarkedSelectionList(SelectionList[str]):
    """A SelectionList whose selected entries show ✔ and unselected ones a blank box."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        segments = list(strip)
        # The button is BUTTON_LEFT, BUTTON_INNER, BUTTON_RIGHT, then a space and the prompt.
        if len(segments) < 3 or segments[1].text != ToggleButton.BUTTON_INNER:
            return strip
        _, scroll_y = self.scroll_offset
        try:
            option = self.get_option_at_index(scroll_y + y)
        except Exception:
            return strip
        mark = ON if option.value in self._selected else OFF
        segments[1] = Segment(mark, segments[1].style, segments[1].control)
        return Strip(segments, strip.cell_length)


class MarkedRadioButton(RadioButton):
    """A RadioButton showing ● when on and an empty button when off."""

    @property
    def _button(self) -> Content:
        # ToggleButton._button, with the inner glyph depending on the value.
        button_style = self.get_visual_style("toggle--button")
        side_style = Style(
            foreground=button_style.background,
            background=self.background_colors[1],
        )
        return Content.assemble(
            (self.BUTTON_LEFT, side_style),
            (self.BUTTON_INNER if self.value else OFF, button_style),
            (self.BUTTON_RIGHT, side_style),
        )
