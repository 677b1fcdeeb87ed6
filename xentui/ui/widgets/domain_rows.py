"""How the Domains pane's lines look: each cell fitted to its column's width, the state
colours, the hot figures, the cursor and the mark gutter (drawing only; the table decides
which domain goes on which line)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from xentui.backend.models import DomainFigures, DomainRef, DomainState
from xentui.ui.columns import COLUMNS, Column

STATE_STYLES = {
    DomainState.RUNNING: Style(color="green"),
    DomainState.BLOCKED: Style(color="cyan"),
    DomainState.PAUSED: Style(color="yellow"),
    DomainState.SHUTDOWN: Style(color="magenta"),
    DomainState.SHUTOFF: Style(dim=True),
    DomainState.CRASHED: Style(color="red", bold=True),
    DomainState.PMSUSPENDED: Style(color="yellow"),
    DomainState.NOSTATE: Style(dim=True),
}
HOT = Style(color="red", bold=True)
HEADER = Style(bold=True, underline=True)
CURSOR = Style(reverse=True)
DIM = Style(dim=True)
PLAIN = Style()
MARKED = Style(color="yellow", bold=True)

Cells = tuple[tuple[str, Style], ...]
"""A row's cells as drawn: each column's text fitted to its width, and its style."""
FITTED_KEPT = 8192
"""Fitted cell texts remembered (names, states and figures repeat pass after pass)."""


@dataclass
class _DrawnRow:
    fig: DomainFigures
    selected: bool
    stale: bool
    marked: bool
    cells: Cells
    strip: Strip



class RowLook:
    """The columns shown, their widths fitted to the domains listed, and the header and
    rows drawn at those widths (each kept until its figures or marks change)."""

    def __init__(self, columns: Sequence[Column], *, ascii: bool = False) -> None:
        self.columns: list[Column] = list(columns)
        self.ascii = ascii
        self.gutter = False
        """Whether rows start with the mark gutter (shown while any domain is marked)."""
        self._name_width = 12
        self._host_width = 4
        self._rows: dict[DomainRef, _DrawnRow] = {}
        self._header: tuple[str, bool, Strip] | None = None
        self._fitted: dict[tuple[str, str], str] = {}

    def fit(self, listed: Iterable[DomainFigures], hosts: Iterable[DomainFigures],
            *, gutter: bool) -> int:
        """Fit the Name column to the names `listed` and the Host column to the hosts of
        all domains; the width of a whole line."""
        longest = max((cell_len(COLUMNS["name"].cell(f)) for f in listed), default=4)
        self._name_width = max(8, min(32, longest))
        names = {COLUMNS["host"].cell(f) for f in hosts}
        self._host_width = max(4, min(24, max((cell_len(h) for h in names), default=4)))
        self.gutter = gutter
        self.forget()
        return sum(self.width(c) + 1 for c in self.columns) + self.gutter_width()

    def forget(self) -> None:
        """Drop the lines kept (the widths or columns changed)."""
        self._rows.clear()
        self._header = None
        self._fitted.clear()

    def drawn_from(self, ref: DomainRef, fig: DomainFigures | None) -> bool:
        """Whether the row kept for `ref` was drawn from these very figures."""
        drawn = self._rows.get(ref)
        return drawn is not None and drawn.fig is fig

    def line(self, ref: DomainRef, fig: DomainFigures, selected: bool, stale: bool,
             marked: bool, keep: int) -> Strip:
        """The row of `ref`, drawn again only if what it shows changed (new figures that
        read the same keep the drawn line); at most about `keep` rows are kept (those on
        screen, with room for scrolling)."""
        drawn = self._rows.get(ref)
        if drawn is not None and drawn.fig is fig and (drawn.selected, drawn.stale,
                                                       drawn.marked) == (selected, stale, marked):
            return drawn.strip
        cells = self.cells(fig, stale)
        if drawn is not None and drawn.cells == cells and (
                drawn.selected, drawn.stale, drawn.marked) == (selected, stale, marked):
            drawn.fig = fig
            return drawn.strip
        drawn = _DrawnRow(fig, selected, stale, marked, cells,
                          self._strip(cells, fig, selected, stale, marked))
        self._rows[ref] = drawn
        if len(self._rows) > keep:
            self._rows = {ref: drawn}
        return drawn.strip

    def gutter_width(self) -> int:
        return 2 if self.gutter else 0

    def width(self, col: Column) -> int:
        """Cells given to a column (Name and Host fit their contents)."""
        if col.key == "name":
            return self._name_width
        return self._host_width if col.key == "host" else col.width

    def column_at(self, x: int) -> Column | None:
        """The column under cell `x` of an uncropped line (None: the gutter or past the end)."""
        x -= self.gutter_width()
        if x < 0:
            return None
        for col in self.columns:
            x -= self.width(col) + 1
            if x < 0:
                return col
        return None

    def cell(self, text: str, col: Column) -> str:
        """`text` cut (with an ellipsis) or padded to the column's width and alignment."""
        width = self.width(col)
        if cell_len(text) > width:
            text = set_cell_size(text, width - 1) + ("~" if self.ascii else "…")
        pad = " " * (width - cell_len(text))
        return pad + text if col.right else text + pad

    def header(self, sort_key: str, reverse: bool) -> Strip:
        """The column labels, the sorted one with an arrow for its direction."""
        if self._header is not None and self._header[:2] == (sort_key, reverse):
            return self._header[2]
        up, down = ("^", "v") if self.ascii else ("▲", "▼")
        segs: list[Segment] = [Segment("  ")] if self.gutter else []
        for col in self.columns:
            label = col.label
            if col.key == sort_key:
                label = f"{label}{down if reverse else up}"
            segs.append(Segment(self.cell(label, col), HEADER))
            segs.append(Segment(" "))
        strip = Strip(segs)
        self._header = (sort_key, reverse, strip)
        return strip

    def row(self, fig: DomainFigures, selected: bool, stale: bool, marked: bool) -> Strip:
        """One domain's line: dim when it is not running or its host's link is down."""
        return self._strip(self.cells(fig, stale), fig, selected, stale, marked)

    def cells(self, fig: DomainFigures, stale: bool) -> Cells:
        """Each column's fitted text and style for this domain."""
        state = fig.sample.state
        base = DIM if not state.active or stale else PLAIN
        fitted = self._fitted
        out = []
        for col in self.columns:
            style = base
            if col.key == "state":
                style = STATE_STYLES[state] + style
            elif col.hot is not None and col.hot(fig):
                style = HOT
            text = col.cell(fig)
            cell = fitted.get((text, col.key))
            if cell is None:
                if len(fitted) > FITTED_KEPT:
                    fitted.clear()
                cell = fitted[(text, col.key)] = self.cell(text, col)
            out.append((cell, style))
        return tuple(out)

    def _strip(self, cells: Cells, fig: DomainFigures, selected: bool, stale: bool,
               marked: bool) -> Strip:
        base = DIM if not fig.sample.state.active or stale else None
        segs: list[Segment] = []
        if self.gutter:
            segs.append(Segment(("* " if self.ascii else "● ") if marked else "  ", MARKED))
        for text, style in cells:
            segs.append(Segment(text, style))
            segs.append(Segment(" ", base))
        # each cell is fitted to its column's width: the line's length is known
        strip = Strip(segs, self.gutter_width() + sum(self.width(c) + 1 for c in self.columns))
        if selected:
            strip = strip.apply_style(CURSOR)
        return strip
