"""A ScrollView drawn line by line that marks dirty only the cells that changed: the
base of the Domains and Hosts panes. A subclass says what line `y` is (`full_line`)."""

from __future__ import annotations

from textual.scroll_view import ScrollView
from textual.strip import Strip

from xentui.ui.painted import Geometry, PaintedLines


class PaintedScroll(ScrollView):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.cursor = 0
        """The row the cursor is on (the header, line 0, is not a row)."""
        self._painted = PaintedLines()
        """What was drawn on each line."""

    def full_line(self, y: int, geometry: Geometry) -> Strip | None:
        """Line `y` as it is now, uncropped (None: blank)."""
        raise NotImplementedError

    def _geometry(self) -> Geometry:
        return (int(self.scroll_offset.x), int(self.scroll_offset.y), self.size.width,
                self.size.height)

    def _scroll_to_cursor(self) -> None:
        """Scroll just enough for the cursor's row to be on screen below the header."""
        rows = max(1, self.size.height - 1)
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + rows:
            self.scroll_to(y=self.cursor - rows + 1, animate=False)

    def _repaint_changed(self) -> None:
        """Mark dirty only the cells of the lines on screen that differ from what was
        drawn there: a pass then writes the figures that moved, not whole rows."""
        if not self.is_mounted:
            return
        geometry = self._geometry()
        regions = self._painted.changed(geometry, lambda y: self.full_line(y, geometry))
        if regions is None:
            self.refresh()
        elif regions:
            self.refresh(*regions)

    def render_line(self, y: int) -> Strip:
        geometry = self._geometry()
        sx, _top, width, _height = geometry
        line = self.full_line(y, geometry)
        self._painted.drawn(geometry, y, line)
        if line is None:
            return Strip.blank(width)
        return line.crop_extend(sx, sx + width, None)
