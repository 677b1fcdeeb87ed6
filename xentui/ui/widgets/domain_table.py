"""The Domains pane: one row per domain, drawn line by line, only what is visible.

Rows are keyed by (host, UUID): UUIDs repeat across hosts (Domain-0's is all zeros on
every Xen host). A host's pass replaces that host's rows and re-sorts only when the
order can have changed; cells are formatted when a line is drawn, and Textual draws only the
lines on screen, so domains scrolled out of view cost almost nothing.
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from xentui.backend.models import DomainFigures, DomainRef
from xentui.ui.columns import COLUMNS, Column, matches, pinned_first
from xentui.ui.painted import Geometry
from xentui.ui.widgets.domain_rows import RowLook
from xentui.ui.widgets.painted_scroll import PaintedScroll


class DomainTable(PaintedScroll, can_focus=True):
    """A sortable, filterable list of domains keyed by (host, UUID)."""

    BINDINGS = [
        # Priority, like the actions: a move and the action typed after it run in order.
        Binding("up,k", "cursor(-1)", "Up", show=False, id="up", priority=True),
        Binding("down,j", "cursor(1)", "Down", show=False, id="down", priority=True),
        Binding("pageup", "page(-1)", "Page up", show=False, id="pageup", priority=True),
        Binding("pagedown", "page(1)", "Page down", show=False, id="pagedown", priority=True),
        Binding("home", "jump(0)", "First", show=False, id="home", priority=True),
        Binding("end", "jump(-1)", "Last", show=False, id="end", priority=True),
    ]

    class SelectionChanged(Message):
        """The cursor moved to another domain (or to none)."""

        def __init__(self, ref: DomainRef | None) -> None:
            super().__init__()
            self.ref = ref

    class MarksChanged(Message):
        """The set of marked domains changed (bulk actions act on it)."""

        def __init__(self, count: int) -> None:
            super().__init__()
            self.count = count

    class ShownChanged(Message):
        """The domains on screen changed (the backend reads their I/O every pass)."""

        def __init__(self, refs: list[DomainRef]) -> None:
            super().__init__()
            self.refs = refs

    class SortChanged(Message):
        def __init__(self, column: str, reverse: bool) -> None:
            super().__init__()
            self.column = column
            self.reverse = reverse

    def __init__(
        self,
        columns: tuple[str, ...],
        *,
        sort: str = "name",
        reverse: bool = False,
        ascii: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.look = RowLook([COLUMNS[c] for c in columns if c in COLUMNS], ascii=ascii)
        self.sort_key = sort if sort in COLUMNS else "name"
        self.reverse = reverse
        self.filter_text = ""
        self.stale_hosts: set[str] = set()
        self.figures: dict[DomainRef, DomainFigures] = {}
        self._host_refs: dict[str, list[DomainRef]] = {}
        self._order: list[DomainRef] = []
        self._pos: dict[DomainRef, int] = {}
        self._keys: dict[DomainRef, tuple[Any, ...]] = {}
        self.selected: DomainRef | None = None
        self._order_due = False
        self.marked: set[DomainRef] = set()
        """Domains marked for a bulk action; the mark gutter shows while any is marked."""
        self._shown: list[DomainRef] | None = None

    # -- model -----------------------------------------------------------------------
    @property
    def order(self) -> list[DomainRef]:
        """The rows as listed (worked out now if a change left the order due)."""
        self._ensure_order()
        return self._order

    @property
    def columns(self) -> list[Column]:
        """The columns shown, in order."""
        return self.look.columns

    @property
    def stale(self) -> bool:
        """Whether any host's rows are stale (its link is down)."""
        return bool(self.stale_hosts)

    def set_columns(self, columns: tuple[str, ...]) -> None:
        """Show these columns (the Host column comes and goes with the fleet's size)."""
        cols = [COLUMNS[c] for c in columns if c in COLUMNS]
        if [c.key for c in cols] != [c.key for c in self.columns]:
            self.look.columns = cols
            self.look.forget()
            self._reorder()

    def _sort_key(self, f: DomainFigures) -> tuple[Any, ...]:
        col = COLUMNS[self.sort_key]
        if self.sort_key == "host":
            return (f.host, pinned_first(f))
        return (pinned_first(f), col.sort(f))

    def set_host_figures(
        self, host: str, figures: dict[str, DomainFigures], *, stale: bool = False
    ) -> None:
        """Take one host's whole pass; re-sort only if membership or sort values changed.
        The cost is that host's domains, not the fleet's."""
        self.set_hosts_figures({host: figures}, stale=stale)

    def set_hosts_figures(
        self, passes: dict[str, dict[str, DomainFigures]], *, stale: bool = False
    ) -> None:
        """Take several hosts' whole passes (one tick of a fleet): the rows are sorted
        and drawn once for them all, not once per host."""
        reorder = False
        for host, figures in passes.items():
            reorder = self._take_host(host, figures, stale) or reorder
        if reorder:
            self._reorder()
        self._refresh_visible()

    def _take_host(self, host: str, figures: dict[str, DomainFigures], stale: bool) -> bool:
        """Hold one host's figures; whether the order can have changed."""
        gone = [r for r in self._host_refs.get(host, ()) if r.uuid not in figures]
        reorder = bool(gone)
        for ref in gone:
            del self.figures[ref]
            self._keys.pop(ref, None)
        held = {r.uuid: r for r in self._host_refs.get(host, ())}
        refs = []
        shown, keys, sort_key = self.figures, self._keys, self._sort_key
        for uuid, fig in figures.items():
            known = held.get(uuid)
            ref = DomainRef(host, uuid) if known is None else known
            refs.append(ref)
            shown[ref] = fig
            key = sort_key(fig)
            if keys.get(ref) != key:
                keys[ref] = key
                reorder = True
        self._host_refs[host] = refs
        was_stale = host in self.stale_hosts
        if stale:
            self.stale_hosts.add(host)
        else:
            self.stale_hosts.discard(host)
        return reorder or stale != was_stale

    def set_figures(self, figures: dict[str, DomainFigures], *, stale: bool = False) -> None:
        """Take a pass of a single-host table (its figures say which host)."""
        host = next(iter(figures.values())).host if figures else ""
        self.set_host_figures(host, figures, stale=stale)

    def update_one(self, ref: DomainRef, fig: DomainFigures | None) -> None:
        """One domain changed (an event): its row changes at once; the order is worked
        out again before the next frame only if it can have changed, so a burst of
        events (a bulk action) costs one re-sort, not one per event."""
        if fig is None:
            if ref not in self.figures:
                return
            del self.figures[ref]
            self._keys.pop(ref, None)
            self._host_refs[ref.host] = [r for r in self._host_refs.get(ref.host, ()) if r != ref]
            self._order_later()
            return
        if ref not in self.figures:
            self._host_refs.setdefault(ref.host, []).append(ref)
        self.figures[ref] = fig
        key = self._sort_key(fig)
        if self._keys.get(ref) != key or (ref in self._pos) != matches(fig, self.filter_text):
            self._keys[ref] = key
            self._order_later()
        else:
            self._refresh_visible()

    def _order_later(self) -> None:
        if not self._order_due:
            self._order_due = True
            self.refresh()
            self.call_later(self._ensure_order)

    def _ensure_order(self) -> None:
        """Work out the order now if a change left it due (before reading it)."""
        if self._order_due:
            self._reorder()

    def by_uuid(self, uuid: str) -> DomainFigures | None:
        """The first listed domain with this UUID (a single host has one)."""
        return next((f for r, f in self.figures.items() if r.uuid == uuid), None)

    def _reorder(self) -> None:
        self._order_due = False
        if not self.marked <= self.figures.keys():
            self.marked &= self.figures.keys()
            self.post_message(self.MarksChanged(len(self.marked)))
        visible = [f for f in self.figures.values() if matches(f, self.filter_text)]
        visible.sort(key=lambda f: f.name.casefold())
        if self.sort_key == "host":
            # Each host's Domain-0 at the top of its group, then by name.
            visible.sort(key=pinned_first)
            visible.sort(key=lambda f: f.host.casefold(), reverse=self.reverse)
        else:
            col = COLUMNS[self.sort_key]
            visible.sort(key=lambda f: col.sort(f), reverse=self.reverse)
            visible.sort(key=pinned_first)
        self._order = [f.ref for f in visible]
        self._pos = {r: i for i, r in enumerate(self._order)}
        width = self.look.fit(visible, self.figures.values(), gutter=bool(self.marked))
        self.virtual_size = Size(width, len(self._order) + 1)
        self._restore_cursor()
        self._repaint_changed()

    def _restore_cursor(self) -> None:
        before = self.selected
        if self.selected is not None and self.selected in self._pos:
            self.cursor = self._pos[self.selected]
        elif self._order:
            self.cursor = min(self.cursor, len(self._order) - 1)
            self.selected = self._order[self.cursor]
        else:
            self.cursor, self.selected = 0, None
        if self.selected != before:
            self.post_message(self.SelectionChanged(self.selected))
        self._scroll_to_cursor()

    def _refresh_visible(self) -> None:
        top = int(self.scroll_offset.y)
        shown = self._order[top : top + max(1, self.size.height)]
        if not all(self.look.drawn_from(r, self.figures.get(r)) for r in shown):
            self._repaint_changed()
        if shown != self._shown:
            self._shown = shown
            self.post_message(self.ShownChanged(shown))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._refresh_visible()

    def set_sort(self, key: str, reverse: bool | None = None) -> None:
        if key not in COLUMNS:
            return
        if reverse is None:
            reverse = not self.reverse if key == self.sort_key else False
        self.sort_key, self.reverse = key, reverse
        self._resort()
        self.post_message(self.SortChanged(key, reverse))

    def _resort(self) -> None:
        self._keys = {r: self._sort_key(f) for r, f in self.figures.items()}
        self._reorder()

    def set_filter(self, text: str) -> None:
        if text != self.filter_text:
            self.filter_text = text
            self._reorder()

    def select(self, key: DomainRef | str) -> bool:
        """Move the cursor to a domain if it is listed (a bare UUID: the first match)."""
        self._ensure_order()
        if isinstance(key, str):
            found = next((r for r in self._order if r.uuid == key), None)
            if found is None:
                return False
            key = found
        if key not in self._pos:
            return False
        self._move_to(self._pos[key])
        return True

    # -- marks -----------------------------------------------------------------------
    def toggle_mark(self) -> None:
        """Mark or unmark the domain under the cursor, then move down (as `mc` does)."""
        self._ensure_order()
        if self.selected is None:
            return
        self.marked.symmetric_difference_update({self.selected})
        self._marks_changed()
        self._move_to(self.cursor + 1)

    def mark_shown(self) -> None:
        """Mark every domain the filter shows."""
        self._ensure_order()
        self.marked.update(self._order)
        self._marks_changed()

    def clear_marks(self) -> None:
        if self.marked:
            self.marked.clear()
            self._marks_changed()

    def marked_figures(self) -> list[DomainFigures]:
        """The marked domains in the order shown (marked ones hidden by the filter last)."""
        self._ensure_order()
        shown = [self.figures[r] for r in self._order if r in self.marked]
        hidden = [f for r, f in self.figures.items() if r in self.marked and r not in self._pos]
        return shown + hidden

    def _marks_changed(self) -> None:
        self._reorder()  # the gutter comes and goes with the marks
        self.post_message(self.MarksChanged(len(self.marked)))

    # -- cursor ------------------------------------------------------------------------
    def _move_to(self, index: int) -> None:
        self._ensure_order()
        if not self._order:
            return
        index = max(0, min(len(self._order) - 1, index))
        old = self.selected
        self.cursor = index
        self.selected = self._order[index]
        if old != self.selected:
            self.post_message(self.SelectionChanged(self.selected))
        self._scroll_to_cursor()
        self._repaint_changed()

    def action_cursor(self, step: int) -> None:
        self._move_to(self.cursor + step)

    def action_page(self, step: int) -> None:
        self._move_to(self.cursor + step * max(1, self.size.height - 2))

    def action_jump(self, where: int) -> None:
        self._move_to(0 if where == 0 else len(self._order) - 1)

    def on_resize(self, _event: events.Resize) -> None:
        self._scroll_to_cursor()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            col = self.look.column_at(offset.x + int(self.scroll_offset.x))
            if col is not None:
                self.set_sort(col.key)
            return
        self._move_to(int(self.scroll_offset.y) + offset.y - 1)

    # -- drawing -----------------------------------------------------------------------
    def full_line(self, y: int, geometry: Geometry) -> Strip | None:
        """Line `y` (0: the header) scrolled to the geometry's top row."""
        _sx, top, _width, height = geometry
        if y == 0:
            return self.look.header(self.sort_key, self.reverse)
        index = top + y - 1
        if index >= len(self._order):
            return None
        ref = self._order[index]
        fig = self.figures.get(ref)
        if fig is None:  # gone since the order was worked out; the new order is due
            return None
        selected = index == self.cursor
        stale = ref.host in self.stale_hosts
        marked = ref in self.marked
        return self.look.line(ref, fig, selected, stale, marked, keep=4 * max(height, 10))
