"""Single-line Rich `Text` to a `Strip` as Textual's visual pipeline draws it, at a fraction
of its cost: each distinct style goes through that pipeline once and is remembered; a
line then costs Rich's own split into segments. The Performance pane draws ~10 changed
lines a pass, each of which cost more than building it."""

from __future__ import annotations

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual.widget import Widget

_PROBE = "x"


class TextStrips:
    """Turns one widget's single-line Texts into Strips; styles as Textual resolves them
    for this widget (its colours, theme and background), learnt once per style."""

    def __init__(self) -> None:
        self._styles: dict[Style, Style] = {}
        self._key: object = None

    def strip(self, widget: Widget, text: Text, width: int, console: Console) -> Strip:
        """`text` drawn in `width` cells, exactly as `Visual.to_strips` draws it (the
        segments, their styles and their offsets); text selection takes Textual's path."""
        fast = self.fast(widget, text, width, console)
        return fast if fast is not None else self._slow(widget, text, width)

    def fast(self, widget: Widget, text: Text, width: int, console: Console,
             y: int = 0) -> Strip | None:
        """`text` as line `y` of a widget's text, drawn as Textual draws it; None where
        Textual's own path is needed (text selection, a line cut to `width`, nothing)."""
        visual_style = widget.visual_style
        if widget.text_selection is not None or "\n" in text.plain:
            return None
        if visual_style is not self._key:
            self._styles.clear()
            self._key = visual_style
        out: list[Segment] = []
        x = 0
        # Rich leaves the Text's own style out when it has no spans
        segments = text.render(console) if text.spans else [
            Segment(text.plain, console.get_style(text.style) if text.style else None)]
        for seg in segments:
            if not seg.text or seg.text == "\n":
                continue
            style = seg.style or Style.null()
            resolved = self._styles.get(style)
            if resolved is None:
                resolved = self._resolve(widget, style)
                self._styles[style] = resolved
            out.append(Segment(seg.text, resolved + Style.from_meta({"offset": (x, y)})))
            x += seg.cell_length
        if not out or x > width:  # nothing drawn, or Textual would crop it: its path
            return None
        return Strip(out, x)

    def _resolve(self, widget: Widget, style: Style) -> Style:
        """The style Textual gives a cell of this Rich style in this widget."""
        probe = self._slow(widget, Text(_PROBE, style=style), len(_PROBE))
        first = next(iter(probe), None)
        return first.style.clear_meta_and_links() if first and first.style else Style.null()

    @staticmethod
    def _slow(widget: Widget, text: Text, width: int) -> Strip:
        strips = Visual.to_strips(widget, visualize(widget, text), width, 1, widget.visual_style)
        return strips[0] if strips else Strip.blank(width, widget.visual_style.rich_style)
