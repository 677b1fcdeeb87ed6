"""The approach the Domains pane replaces, for `bench/console.py --naive`.

`NaiveApp` is `XentuiApp` unchanged except for its main screen: `NaiveMainScreen` yields
a plain Textual `DataTable` (id `naive`) where `DomainTable` would be. The table takes the
same `set_figures(...)` call from the app's own PassDone handler and rebuilds itself from
scratch every pass, in one of two naive ways:

- ``clear``: `clear()` then `add_row(...)` for every domain (the default);
- ``update``: `update_cell(...)` for every cell of every row when membership and order are
  unchanged (re-adding everything otherwise).

Cells are formatted with the same `xentui.ui.columns` functions, sorted the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widgets import DataTable

import xentui.ui
from xentui.backend.models import DomainFigures, DomainRef
from xentui.cli import build_fleet
from xentui.config import HostEntry, Settings
from xentui.ui.app import XentuiApp
from xentui.ui.columns import COLUMNS, Column, matches, pinned_first
from xentui.ui.screens.main import MainScreen
from xentui.ui.widgets.domain_rows import HOT, STATE_STYLES
from xentui.ui.widgets.domain_table import DomainTable

MODES = ("clear", "update")


class NaiveTable(DataTable[Any]):
    """A DataTable that rewrites every row on each pass (same interface the app uses)."""

    def __init__(self, columns: tuple[str, ...], *, sort: str, reverse: bool, mode: str,
                 id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.cols: list[Column] = [COLUMNS[c] for c in columns if c in COLUMNS]
        self.sort_key = sort if sort in COLUMNS else "name"
        self.reverse = reverse
        self.mode = mode
        self.filter_text = ""
        self.stale = False
        self.figures: dict[DomainRef, DomainFigures] = {}
        self.order: list[DomainRef] = []
        self.marked: set[DomainRef] = set()

    def on_mount(self) -> None:
        for col in self.cols:
            self.add_column(col.label, key=col.key)

    @property
    def selected(self) -> DomainRef | None:
        row = self.cursor_row
        return self.order[row] if 0 <= row < len(self.order) else None

    def _cells(self, f: DomainFigures) -> list[Any]:
        out: list[Any] = []
        for col in self.cols:
            text = col.cell(f)
            if col.key == "state":
                out.append(Text(text, style=STATE_STYLES[f.sample.state]))
            elif col.hot is not None and col.hot(f):
                out.append(Text(text, style=HOT, justify="right"))
            elif col.right:
                out.append(Text(text, justify="right"))
            else:
                out.append(text)
        return out

    def _sorted(self, figures: dict[DomainRef, DomainFigures]) -> list[DomainRef]:
        col = COLUMNS[self.sort_key]
        rows = [f for f in figures.values() if matches(f, self.filter_text)]
        rows.sort(key=lambda f: f.name.casefold())
        rows.sort(key=lambda f: col.sort(f), reverse=self.reverse)
        rows.sort(key=pinned_first)
        return [f.ref for f in rows]

    def set_figures(self, figures: dict[DomainRef, DomainFigures], *, stale: bool = False) -> None:
        keep = self.selected
        order = self._sorted(figures)
        self.figures, self.stale = figures, stale
        if self.mode == "update" and order == self.order:
            for ref in order:
                for col, value in zip(self.cols, self._cells(figures[ref]), strict=True):
                    self.update_cell(str(ref), col.key, value)
            return
        self.order = order
        self.clear()
        for ref in order:
            self.add_row(*self._cells(figures[ref]), key=str(ref))
        if keep in figures:
            self.cursor_coordinate = Coordinate(order.index(keep), 0)

    def set_host_figures(self, host: str, figures: dict[str, DomainFigures], *,
                         stale: bool = False) -> None:
        """One host's pass: that host's rows replaced, then the whole table rebuilt."""
        merged = {r: f for r, f in self.figures.items() if r.host != host}
        merged.update({f.ref: f for f in figures.values()})
        self.set_figures(merged, stale=stale)

    def set_hosts_figures(self, passes: dict[str, dict[str, DomainFigures]], *,
                          stale: bool = False) -> None:
        """Several hosts' passes at once: their rows replaced, then the table rebuilt."""
        hosts = set(passes)
        merged = {r: f for r, f in self.figures.items() if r.host not in hosts}
        for figures in passes.values():
            merged.update({f.ref: f for f in figures.values()})
        self.set_figures(merged, stale=stale)

    def update_one(self, ref: DomainRef, fig: DomainFigures | None) -> None:
        figures = dict(self.figures)
        if fig is None:
            figures.pop(ref, None)
        else:
            figures[ref] = fig
        self.order = []
        self.set_figures(figures, stale=self.stale)

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self.order = []
        self.set_figures(self.figures, stale=self.stale)

    def set_columns(self, columns: tuple[str, ...]) -> None:
        """Columns are fixed at mount here (the benchmark's single host)."""

    def set_sort(self, key: str, reverse: bool | None = None) -> None:
        self.sort_key = key if key in COLUMNS else self.sort_key
        self.reverse = (not self.reverse) if reverse is None else reverse
        self.order = []
        self.set_figures(self.figures, stale=self.stale)

    def marked_figures(self) -> list[DomainFigures]:
        return []


class NaiveMainScreen(MainScreen):
    """MainScreen with the NaiveTable in place of DomainTable; everything else as is."""

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode

    def compose(self) -> ComposeResult:
        s = self.xapp.settings
        for widget in super().compose():
            if isinstance(widget, DomainTable):
                widget = NaiveTable(s.columns, sort=s.sort, reverse=s.reverse, mode=self.mode,
                                    id="naive")
                widget.border_title = "Domains"
            yield widget

    @property
    def table(self) -> NaiveTable:  # type: ignore[override]
        return self.query_one(NaiveTable)

    def selected(self) -> DomainFigures | None:
        uuid = self.table.selected
        return None if uuid is None else self.table.figures.get(uuid)


class NaiveApp(XentuiApp):
    CSS_PATH = str(Path(xentui.ui.__file__).resolve().parent / "app.tcss")
    CSS = """
    #naive { height: 1fr; min-height: 4; border: round $primary; }
    #naive:focus { border: round $accent; }
    """

    def __init__(self, *args: Any, mode: str = "clear", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.naive_mode = mode

    def get_default_screen(self) -> Screen[None]:
        return NaiveMainScreen(self.naive_mode)


def make_naive_app(uri: str, settings: Settings, *, mode: str = "clear") -> NaiveApp:
    """Like `make_app(uri, settings=..., log_to_file=False)`, with the naive table."""
    fleet = build_fleet([HostEntry("", uri)], readonly=False, interval=settings.interval,
                        per_domain=False, live=True)
    return NaiveApp(fleet, settings, logfile=None, live=True, mode=mode)
