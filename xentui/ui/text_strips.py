"""Single-line Rich `Text` to a `Strip` as Textual's visual pipeline draws it, at a fraction
of its cost: each distinct style goes through that pipeline once and is remembered; a
line then costs Rich's own split into segments. The Performance pane draws ~10 changed
lines a pass, each of which cost more than building it."""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.style import Style, StyleType
from rich.text import Text
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual.widget import Widget

_PROBE = "x"
_MOST_KEPT = 4096
"""Placed styles kept before they are all forgotten (a widget meets a few dozen)."""


class TextStrips:
    """Turns one widget's single-line Texts into Strips; styles as Textual resolves them
    for this widget (its colours, theme and background), learnt once per style."""

    def __init__(self) -> None:
        self._styles: dict[Style, Style] = {}
        self._key: object = None
        self._combined: dict[tuple[StyleType, StyleType], Style] = {}
        """A Text's own style plus a span's, as Rich combines them (by their names)."""
        self._placed: dict[tuple[Style, int, int], Style] = {}
        """A resolved style with the offset Textual stamps on a segment at (x, y)."""

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
        if visual_style is not self._key or len(self._placed) > _MOST_KEPT:
            self._styles.clear()
            self._placed.clear()
            self._key = visual_style
        out: list[Segment] = []
        x = 0
        styles, placed = self._styles, self._placed
        for piece, style in self._pieces(text, console):
            if not piece or piece == "\n":
                continue
            at = (style, x, y)
            final = placed.get(at)
            if final is None:
                resolved = styles.get(style)
                if resolved is None:
                    resolved = styles[style] = self._resolve(widget, style)
                final = placed[at] = resolved + Style.from_meta({"offset": (x, y)})
            out.append(Segment(piece, final))
            x += cell_len(piece)
        if not out or x > width:  # nothing drawn, or Textual would crop it: its path
            return None
        return Strip(out, x)

    def _pieces(self, text: Text, console: Console) -> list[tuple[str, Style]]:
        """The text cut where its style changes, as Rich's `Text.render` cuts it; spans
        in order that do not overlap (how the panes build their lines) are cut here
        with each combined style remembered, others by Rich."""
        plain, spans, base = text.plain, text.spans, text.style
        if not spans:  # Rich leaves the Text's own style out when it has no spans
            return [(plain, console.get_style(base) if base else Style.null())]
        out: list[tuple[str, Style]] = []
        at = 0
        for span in spans:
            start, end = span.start, span.end
            if start < at or end <= start or end > len(plain):
                return [(seg.text, seg.style or Style.null()) for seg in text.render(console)]
            if start > at:
                out.append((plain[at:start], self._combine(console, base, None)))
            out.append((plain[start:end], self._combine(console, base, span.style)))
            at = end
        if at < len(plain):
            out.append((plain[at:], self._combine(console, base, None)))
        return out

    def _combine(self, console: Console, base: StyleType, span: StyleType | None) -> Style:
        """The Text's own style, plus a span's if given, as Rich combines them."""
        key = (base, span if span is not None else "")
        style = self._combined.get(key)
        if style is None:
            null = Style.null()
            style = console.get_style(base, default=null)
            if span is not None:
                style = Style.combine([style, console.get_style(span, default=null)])
            self._combined[key] = style
        return style

    def _resolve(self, widget: Widget, style: Style) -> Style:
        """The style Textual gives a cell of this Rich style in this widget."""
        probe = self._slow(widget, Text(_PROBE, style=style), len(_PROBE))
        first = next(iter(probe), None)
        return first.style.clear_meta_and_links() if first and first.style else Style.null()

    @staticmethod
    def _slow(widget: Widget, text: Text, width: int) -> Strip:
        strips = Visual.to_strips(widget, visualize(widget, text), width, 1, widget.visual_style)
        return strips[0] if strips else Strip.blank(width, widget.visual_style.rich_style)
