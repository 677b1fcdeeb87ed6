"""The main screen: header, Hosts (a fleet), Domains, Performance and Log panes, filter,
footer; the keys that act on the selected domain live here."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input

from xentui.backend.actions import ACTIONS
from xentui.backend.models import DomainFigures
from xentui.ui import format as fmt
from xentui.ui.availability import Availability
from xentui.ui.chops import RowsCompositor
from xentui.ui.columns import fleet_columns, kinds_mixed
from xentui.ui.console_attach import console_reason, learn_console, request_console
from xentui.ui.widgets.domain_table import DomainTable
from xentui.ui.widgets.event_log import EventLog
from xentui.ui.widgets.graphs import PerformanceView
from xentui.ui.widgets.host_bar import HostBar
from xentui.ui.widgets.hosts_pane import HostsPane
from xentui.ui.widgets.migration_line import MigrationLine

if TYPE_CHECKING:
    from xentui.ui.app import XentuiApp

SHOWN_IN_FOOTER = {"start", "shutdown", "reboot", "destroy"}


def _action_bindings() -> list[Binding]:
    out: list[Binding] = []
    for spec in ACTIONS.values():
        if spec.name in ("pause", "resume"):
            continue
        out.append(
            Binding(
                spec.key,
                f"lifecycle('{spec.name}')",
                spec.label,
                show=spec.name in SHOWN_IN_FOOTER,
                id=spec.name,
                tooltip=spec.help,
                priority=True,
            )
        )
    return out


class MainScreen(Screen[None]):
    """What the operator sees after `xentui`."""

    # Keys that act or change the view are priority bindings: Textual runs those in the
    # order keys arrive, before handing the key to the focused widget, so a key typed
    # right after `/` or a cursor move sees the state that key left. They are off while a
    # text field has focus (check_action), so the field gets every key typed into it.
    # Enter and Esc are not priority: they reach the filter after the keys before them.
    BINDINGS = [
        Binding("enter", "detail", "Detail", id="detail", priority=True),
        Binding("slash", "filter", "Filter", id="filter", priority=True),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="clear-filter"),
        Binding("p", "toggle_pause", "Pause/Resume", id="pause", priority=True),
        Binding("m", "migrate", "Migrate", show=False, id="migrate", priority=True,
                tooltip="live-migrate the domain to another host of the fleet"),
        Binding("M", "abort_migration", "Abort migration", show=False, id="abort-migration",
                priority=True, tooltip="cancel the domain's migration under way"),
        Binding("c", "console", "Console", show=False, id="console", priority=True,
                tooltip="attach the terminal to the domain's serial console (Ctrl+] returns)"),
        *_action_bindings(),
        Binding("space", "mark", "Mark", show=False, id="mark", priority=True,
                tooltip="mark or unmark the domain for a bulk action, then move down"),
        Binding("asterisk", "mark_shown", "Mark all shown", show=False, id="mark-all",
                priority=True),
        Binding("u", "unmark", "Clear marks", show=False, id="unmark", priority=True),
        Binding("less_than_sign", "sort_step(-1)", "Sort ←", show=False, id="sort-prev",
                priority=True),
        Binding("greater_than_sign", "sort_step(1)", "Sort →", show=False, id="sort-next",
                priority=True),
        Binding("I", "sort_reverse", "Reverse sort", show=False, id="sort-reverse",
                priority=True),
        Binding("G", "graph_mode", "Host graphs", show=False, id="graph-mode", priority=True),
        Binding("1", "toggle_pane('hosts')", "Hide/show Hosts", show=False, id="toggle-hosts",
                priority=True),
        Binding("2", "toggle_pane('performance')", "Hide/show Performance", show=False,
                id="toggle-performance", priority=True),
        Binding("3", "toggle_pane('log')", "Hide/show Log", show=False, id="toggle-log",
                priority=True),
        Binding("tab", "focus_pane(1)", "Next pane", show=False, id="next-pane", priority=True),
        Binding("shift+tab", "focus_pane(-1)", "Previous pane", show=False, id="previous-pane",
                priority=True),
        Binding("plus", "resize(1)", "Grow lower panes", show=False, id="grow", priority=True),
        Binding("minus", "resize(-1)", "Shrink lower panes", show=False, id="shrink",
                priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._compositor = RowsCompositor()  # renders only rows that changed
        self.host_wide = False
        self._bindings_key: object = None
        self._many_seen = False
        """Whether the Hosts pane was shown for a fleet of several machines (once: the
        operator may hide it again)."""

    @property
    def xapp(self) -> XentuiApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        s = self.xapp.settings
        several = self.xapp.several
        yield HostBar(id="hostbar")
        hosts = HostsPane(id="hosts")
        hosts.display = self._many_seen = several
        yield hosts
        columns = fleet_columns(s.columns, several=several, mixed=False)
        table = DomainTable(columns, sort=s.sort, reverse=s.reverse, ascii=s.ascii,
                            id="domains")
        table.border_title = "Domains"
        yield table
        yield MigrationLine(id="migrations")
        with Horizontal(id="lower"):
            perf = PerformanceView(id="performance")
            perf.border_title = "Performance"
            perf.ascii = s.ascii
            yield perf
            log = EventLog(id="log", mirror=self.xapp.logfile)
            log.border_title = "Log"
            yield log
        yield Input(placeholder="filter by name or state; Enter keeps it, Esc clears",
                    id="filter")
        yield Footer()

    @property
    def table(self) -> DomainTable:
        return self.query_one(DomainTable)

    @property
    def perf(self) -> PerformanceView:
        return self.query_one(PerformanceView)

    @property
    def log_pane(self) -> EventLog:
        return self.query_one(EventLog)

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.table.focus()
        self.xapp.flush_early()

    def fit_columns(self) -> None:
        """Show the Host column while domains run on more than one machine (and the
        Hosts pane, once, when a pool's members turn out to be several), and the Type
        column while they are both VMs and containers."""
        many = self.xapp.many_machines
        if many and not self._many_seen:
            self._many_seen = True
            self.query_one(HostsPane).display = True
        mixed = kinds_mixed(self.table.figures.values())
        self.table.set_columns(
            fleet_columns(self.xapp.settings.columns, several=many, mixed=mixed))

    # -- selection and graphs ----------------------------------------------------------
    def selected(self) -> DomainFigures | None:
        uuid = self.table.selected
        return None if uuid is None else self.table.figures.get(uuid)

    def graph_host(self) -> str:
        """The host the Performance pane is about: the selected domain's."""
        fig = self.selected()
        return fig.host if fig is not None else self.xapp.host.id

    def graphs_follow(self, host_id: str) -> bool:
        """Whether a pass of this host changes what the Performance pane shows."""
        return self.graph_host() == host_id

    def show_graphs(self) -> None:
        host_id = self.graph_host()
        history = self.xapp.fleet.hosts[host_id].history
        if self.host_wide:
            names = {r.uuid: f.name for r, f in self.table.figures.items() if r.host == host_id}
            self.perf.show_host(history, names)
        else:
            fig = self.selected()
            if fig is not None:
                self.perf.show_domain(history, fig.uuid, fig.name)

    def bindings_changed(self) -> None:
        """Recompute the footer only when what the actions depend on changed: the
        footer is rebuilt whole, which costs more than the rest of a refresh."""
        fig = self.selected()
        host = self.xapp.fleet.hosts[fig.host] if fig is not None else self.xapp.host
        key = (
            None if fig is None else (fig.ref, fig.sample.state, fig.sample.id),
            host.connected,
            host.caps,
        )
        if key != self._bindings_key:
            self._bindings_key = key
            self.refresh_bindings()

    @on(DomainTable.SelectionChanged)
    def _selection(self, _msg: DomainTable.SelectionChanged) -> None:
        self.show_graphs()
        self.bindings_changed()
        learn_console(self, self.xapp, self.selected())

    @on(DomainTable.ShownChanged)
    def _shown(self, msg: DomainTable.ShownChanged) -> None:
        for host_id in self.xapp.fleet.hosts:
            self.xapp.fleet.watch(host_id, [r.uuid for r in msg.refs if r.host == host_id])

    @on(DomainTable.SortChanged)
    def _sorted(self, msg: DomainTable.SortChanged) -> None:
        order = "descending" if msg.reverse else "ascending"
        self.notify(f"sorted by {msg.column}, {order}", timeout=2)

    # -- filter --------------------------------------------------------------------------
    def typing(self) -> bool:
        """Whether a text field has the keyboard (then one-key actions are off)."""
        return isinstance(self.focused, Input)

    def closes_filter(self, key: str) -> bool:
        """Whether `key` will close the filter shown while the table or Hosts pane has
        the keyboard (Esc, unless rebound): it goes through the focused widget's queue,
        so the keys read behind it must wait for it (`filter_closed`)."""
        active = self.active_bindings.get(key)
        return (not self.typing() and self.query_one("#filter", Input).display
                and active is not None and active.binding.action == "clear_filter")

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        # Focus now, not on the next idle (Widget.focus): the keys already queued behind
        # `/` must reach the box.
        self.set_focus(box)

    @on(Input.Changed, "#filter")
    def _filter_typed(self, msg: Input.Changed) -> None:
        if self.focused is msg.input:
            self.table.set_filter(msg.value)

    @on(Input.Submitted, "#filter")
    def _filter_kept(self, _msg: Input.Submitted) -> None:
        box = self.query_one("#filter", Input)
        box.display = bool(box.value)
        self.set_focus(self.table)
        self.filter_closed()

    def filter_closed(self) -> None:
        """The table has the keyboard again: keys typed behind Enter/Esc go on to it."""
        self.xapp.filter_closed()

    def _filter_host(self, host_id: str | None) -> None:
        """Enter on a host in the Hosts pane: list only its domains."""
        if host_id is None:
            return
        box = self.query_one("#filter", Input)
        box.value = f"host:{host_id}"
        box.display = True
        self.table.set_filter(box.value)
        self.set_focus(self.table)

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.table.set_filter("")
        self.set_focus(self.table)
        self.filter_closed()

    # -- marks ---------------------------------------------------------------------------
    def action_mark(self) -> None:
        self.table.toggle_mark()

    def action_mark_shown(self) -> None:
        self.table.mark_shown()

    def action_unmark(self) -> None:
        self.table.clear_marks()

    @on(DomainTable.MarksChanged)
    def _marks_changed(self, msg: DomainTable.MarksChanged) -> None:
        self.table.border_subtitle = (
            f"{msg.count} marked · actions apply to them · u clears" if msg.count else "")
        self.refresh_bindings()

    @property
    def available(self) -> Availability:
        return Availability(self.xapp, self.table)

    # -- actions -------------------------------------------------------------------------
    def action_reason(self, name: str) -> str | None:
        """Why the action cannot run on the selected domain (or the marked ones) now."""
        return self.available.action_reason(name)

    def migrate_reason(self) -> str | None:
        """Why the selected domain cannot be migrated now (None: it can)."""
        return self.available.migrate_reason()

    def action_migrate(self) -> None:
        fig = self.selected()
        reason = self.migrate_reason()
        if fig is None or reason is not None:
            self.xapp.report("warn", f"Migrate: {reason}")
            return
        self.xapp.request_migrate(fig)

    def action_abort_migration(self) -> None:
        self.xapp.request_abort(self.selected())

    def action_console(self) -> None:
        fig = self.selected()
        reason = console_reason(self.xapp, fig)
        if fig is None or reason is not None:
            self.xapp.report("warn", f"Console: {reason}")
            return
        request_console(self.xapp, fig)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.typing():
            return action == "clear_filter"
        return True if self.available.reason(action, parameters) is None else None

    def action_lifecycle(self, name: str) -> None:
        if self.table.marked:
            bulk = self.available.bulk_plan(name)
            if bulk.reason() is not None:
                self.xapp.report("warn", f"{ACTIONS[name].label}: {bulk.reason()}")
                return
            self.xapp.request_bulk(bulk)
            return
        fig = self.selected()
        reason = self.action_reason(name)
        if fig is None or reason is not None:
            self.xapp.report("warn", f"{ACTIONS[name].label}: {reason}")
            return
        self.xapp.request_action(fig, name)

    def action_toggle_pause(self) -> None:
        self.action_lifecycle(self.available.pause_action())

    def action_focus_pane(self, step: int) -> None:
        """Tab and Shift+Tab, as Textual's own, but run as they are read: in a burst
        (`Tab j`), the move behind them goes to the pane they focused."""
        if step > 0:
            self.focus_next()
        else:
            self.focus_previous()

    def action_detail(self) -> None:
        if isinstance(self.focused, HostsPane):
            self._filter_host(self.focused.selected_host())
            return
        fig = self.selected()
        if fig is not None:
            self.xapp.open_detail(fig)

    def on_key(self, event: events.Key) -> None:
        """A key whose action is greyed out says why instead of doing nothing."""
        active = self.active_bindings.get(event.key)
        if active is None or active.enabled:
            return
        reason = self.available.binding_reason(active.binding.action)
        if reason:
            event.stop()
            self.notify(fmt.visible(f"{active.binding.description}: {reason}"),
                        severity="warning", markup=False, timeout=4)

    def help_rows(self) -> list[tuple[str, str, str]]:
        """Every binding here: keys, what it does, and why it is disabled now."""
        rows: dict[str, tuple[str, str, str]] = {}
        for key, active in self.active_bindings.items():
            binding = active.binding
            if not binding.description:
                continue
            reason = self.available.binding_reason(binding.action) or ""
            shown = self.app.get_key_display(binding) if key == binding.key else key
            if binding.description in rows:
                keys, desc, why = rows[binding.description]
                rows[binding.description] = (f"{keys}, {shown}", desc, why)
            else:
                rows[binding.description] = (shown, binding.description, reason)
        return list(rows.values())

    def palette_commands(self) -> Iterable[SystemCommand]:
        """The actions allowed on the selected domain, for the command palette."""
        if self.table.marked:
            count = len(self.table.marked)
            for spec in ACTIONS.values():
                if self.action_reason(spec.name) is None:
                    yield SystemCommand(f"{spec.label} {count} marked domains", spec.help,
                                        partial(self.action_lifecycle, spec.name))
            return
        fig = self.selected()
        if fig is None:
            return
        for spec in ACTIONS.values():
            if self.action_reason(spec.name) is None:
                yield SystemCommand(f"{spec.label} {fmt.visible(fig.name)}", spec.help,
                                    partial(self.action_lifecycle, spec.name))
        if console_reason(self.xapp, fig) is None:
            yield SystemCommand(f"Console {fmt.visible(fig.name)}",
                                "attach to its serial console (Ctrl+] returns)",
                                self.action_console)

    # -- view ----------------------------------------------------------------------------
    def action_sort_step(self, step: int) -> None:
        cols = [c.key for c in self.table.columns]
        i = cols.index(self.table.sort_key) if self.table.sort_key in cols else 0
        self.table.set_sort(cols[(i + step) % len(cols)], self.table.reverse)

    def action_sort_reverse(self) -> None:
        self.table.set_sort(self.table.sort_key, not self.table.reverse)

    def action_graph_mode(self) -> None:
        self.host_wide = not self.host_wide
        self.show_graphs()

    def action_toggle_pane(self, which: str) -> None:
        pane = self.query_one(f"#{which}")
        pane.display = not pane.display
        if which == "hosts":
            if pane.display:
                self.xapp._show_hosts()
            elif self.focused is pane:
                self.set_focus(self.table)
            return
        lower = self.query_one("#lower")
        lower.display = self.perf.display or self.log_pane.display

    def action_resize(self, step: int) -> None:
        lower = self.query_one("#lower")
        height = max(3, min(self.size.height - 4, lower.outer_size.height + 2 * step))
        lower.styles.height = height
