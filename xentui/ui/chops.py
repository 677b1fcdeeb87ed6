"""A partial screen update that writes only the dirty cells.

Textual's partial update (`ChopsUpdate`) writes each dirty span from the left edge of the
widget it falls in: a figure that changed in the middle of a table row rewrites the row
up to it. This one crops every piece to its dirty span, so the terminal gets the cells
that changed and nothing left of them; what is drawn is the same.
"""

from __future__ import annotations

from rich.console import Console, RenderableType
from rich.control import Control
from textual._compositor import ChopsUpdate


class CroppedChops(ChopsUpdate):
    """A `ChopsUpdate` whose pieces start at their dirty span, not at their widget."""

    @classmethod
    def of(cls, update: ChopsUpdate) -> CroppedChops:
        return cls(update.chops, update.spans, update.chop_ends)

    def render_segments(self, console: Console) -> str:
        """The terminal sequences: for each dirty span, a move and the cells in it."""
        out: list[str] = []
        append = out.append
        move_to = Control.move_to
        last_y = self.spans[-1][0]
        for y, x1, x2 in self.spans:
            ends = self.chop_ends[y]
            for end, (x, strip) in zip(ends, self.chops[y].items(), strict=False):
                if strip is None or x >= x2 or end <= x1:
                    continue
                left, right = max(x, x1), min(end, x2)
                piece = strip if (left, right) == (x, end) else strip.crop(left - x, right - x)
                append(move_to(left, y).segment.text)
                append(piece.render(console))
            if y != last_y:
                append("\n")
        return "".join(out)


def cropped(update: RenderableType | None) -> RenderableType | None:
    """A partial update as `CroppedChops`; anything else as it is."""
    return CroppedChops.of(update) if type(update) is ChopsUpdate else update
