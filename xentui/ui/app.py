"""The App: subscribes to the fleet's feed, routes its records to the screen and turns
every outcome into one log line plus a notification. The fleet runs the passes."""

from __future__ import annotations

import time
from collections.abc import Iterable

from rich.console import RenderableType
from textual import on
from textual.app import SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import WorkerFailed

from xentui.backend.api import HostBackend
from xentui.backend.fleet import Fleet, Record
from xentui.backend.models import (
    DomainEvent,
    DomainFigures,
    DomainListing,
    DomainUpdate,
    LinkState,
    LinkStatus,
    MigrationProgress,
    PassFailure,
    PassResult,
)
from xentui.config import Settings
from xentui.logfile import JsonLineLog
from xentui.ui import format as fmt
from xentui.ui.bulk import BulkActionsApp
from xentui.ui.chops import cropped
from xentui.ui.key_routing import KeyRoutingApp
from xentui.ui.keymap import check_keymap
from xentui.ui.messages import (
    DomainsChanged,
    EventsArrived,
    LinkChanged,
    MigrationProgressed,
    PassDone,
    PassFailed,
    RowsListed,
)
from xentui.ui.migration import MigrationApp
from xentui.ui.screens.confirm import ConfirmScreen, TypeNameScreen
from xentui.ui.screens.detail import DetailScreen
from xentui.ui.screens.help import HelpScreen
from xentui.ui.screens.main import MainScreen
from xentui.ui.screens.migrate import MigrateScreen
from xentui.ui.typeahead import TypeAhead
from xentui.ui.widgets.domain_table import DomainTable
from xentui.ui.widgets.host_bar import HostBar
from xentui.ui.widgets.hosts_pane import HostsPane

LEVEL_NOTIFY: dict[str, SeverityLevel] = {
    "info": "information",
    "warn": "warning",
    "error": "error",
}


class XentuiApp(KeyRoutingApp, BulkActionsApp, MigrationApp):
    """The console for a fleet of hosts (often a fleet of one)."""

    CSS_PATH = "app.tcss"
    TITLE = "xentui"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", id="help"),
    ]

    def __init__(
        self,
        fleet: Fleet,
        settings: Settings,
        *,
        logfile: JsonLineLog | None = None,
        live: bool = True,
        problems: Iterable[str] = (),
    ) -> None:
        super().__init__()
        self.fleet = fleet
        self.settings = settings
        self.logfile = logfile
        self.live = live
        """False freezes time-dependent output (for snapshots): one pass, no timers."""
        self._problems = list(problems)
        self.stale_hosts: set[str] = set()
        self.passes = 0
        """Passes shown, all hosts together."""
        self._last_link_text: dict[str, str] = {}
        self._countdown: Timer | None = None
        """Ticks the retry countdown while a link is lost; None while none is."""
        self._early_passes: dict[str, PassResult | DomainListing] = {}
        self._early: list[tuple[str, str, float, str]] = []
        self._main_seen = False
        self.clock = time.time
        """Wall clock for log lines; snapshot tests fix it."""
        self.type_ahead = TypeAhead()
        self._events: EventsArrived | None = None
        self._changes: DomainsChanged | None = None
        self._passes: PassDone | None = None
        """The messages still gathering (posted, not yet handled)."""
        self._unsubscribe = fleet.subscribe(self._record)

    def _record(self, rec: Record) -> None:
        """The fleet's feed, turned into messages (handled in order on the UI's task)."""
        if isinstance(rec, PassResult):
            if self._passes is None:
                self._passes = PassDone()
                self.post_message(self._passes)
            self._passes.results[rec.host_id] = rec
        elif isinstance(rec, PassFailure):
            self.post_message(PassFailed(rec.host_id, rec.text, rec.lost))
        elif isinstance(rec, LinkStatus):
            self.post_message(LinkChanged(rec))
        elif isinstance(rec, DomainEvent):
            if self._events is None:
                self._events = EventsArrived()
                self.post_message(self._events)
            self._events.events.append(rec)
        elif isinstance(rec, DomainUpdate):
            if self._changes is None:
                self._changes = DomainsChanged()
                self.post_message(self._changes)
            self._changes.figures[rec.ref] = rec.figures
        elif isinstance(rec, MigrationProgress):
            self.post_message(MigrationProgressed(rec))
        elif isinstance(rec, DomainListing):
            self.post_message(RowsListed(rec))

    @property
    def host(self) -> HostBackend:
        """The first host (the only one, mostly)."""
        return next(iter(self.fleet.hosts.values()))

    @property
    def stale(self) -> bool:
        return bool(self.stale_hosts)

    @property
    def several(self) -> bool:
        """Whether the console has more than one connection."""
        return len(self.fleet.hosts) > 1

    @property
    def many_machines(self) -> bool:
        """Whether the domains shown run on more than one physical host (several
        connections, or one to a pool of several members)."""
        return sum(h.info.physical_hosts if h.info is not None else 1
                   for h in self.fleet.hosts.values()) > 1

    def _display(self, screen: Screen, renderable: RenderableType | None) -> None:  # type: ignore[type-arg]
        """Partial updates write only their dirty cells (see `CroppedChops`)."""
        super()._display(screen, cropped(renderable))

    def _handle_exception(self, error: Exception) -> None:
        """Textual's command palette can look for its own list after it has closed when
        Ctrl+P and the keys behind it arrive in one burst (NoMatches on CommandList; a
        keystroke fuzz in tmux found it). Losing the palette's redraw is not worth ending
        the console over; anything else still ends it as Textual does. The error comes
        bare or, from the palette's command-gathering worker, wrapped in WorkerFailed."""
        inner = error.error if isinstance(error, WorkerFailed) else error
        if isinstance(inner, NoMatches) and "CommandPalette" in str(inner):
            self.log.warning(f"ignored a closed command palette's redraw: {error}")
            return
        super()._handle_exception(error)

    def get_default_screen(self) -> Screen[None]:
        return MainScreen()

    @property
    def main(self) -> MainScreen:
        screen = self.screen_stack[0]
        assert isinstance(screen, MainScreen)
        return screen

    def has_main(self) -> bool:
        """Whether the main screen is up (not yet, or no longer, while starting or ending)."""
        stack = self.screen_stack
        if not stack or not isinstance(stack[0], MainScreen) or not stack[0].is_mounted:
            return False
        # While the app ends, the screen stays mounted as its widgets are taken down: a
        # pass arriving then must not look for the table (Textual's own closing flags).
        main = stack[0]
        return not (self._closing or main._closing or main._pruning)

    def on_mount(self) -> None:
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        else:
            self._problems.append(f"unknown theme {self.settings.theme!r}; using the default")
        if self.settings.keymap:
            app_keys: list[Binding] = list(self.BINDINGS)  # type: ignore[arg-type]
            scopes = [
                [*app_keys, *MainScreen.BINDINGS, *DomainTable.BINDINGS],
                [*app_keys, *DetailScreen.BINDINGS],
                [*app_keys, *ConfirmScreen.BINDINGS],
                [*app_keys, *TypeNameScreen.BINDINGS],
                [*app_keys, *HelpScreen.BINDINGS],
                [*app_keys, *MigrateScreen.BINDINGS],
            ]
            every = [b for scope in scopes for b in scope]
            keymap, problems = check_keymap(self.settings.keymap, every,  # type: ignore[arg-type]
                                            scopes=scopes)  # type: ignore[arg-type]
            self._problems.extend(problems)
            self.set_keymap(keymap)
        for problem in self._problems:
            self.report("warn", problem)
        if self.logfile is not None and self.logfile.error:
            self.report("warn", f"log file disabled: {self.logfile.error}")
        self.fleet.start()

    def _count_down(self) -> None:
        """While a link is lost, the header and Hosts pane count down to the next attempt;
        the timer stops once no link is lost (a tick costs the UI thread ~0.2-0.5 ms)."""
        if any(h.status.state is LinkState.LOST for h in self.fleet.hosts.values()):
            self._show_hosts()
        elif self._countdown is not None:
            self._countdown.stop()
            self._countdown = None

    # -- one place for outcomes ----------------------------------------------------------
    def report(self, level: str, text: str, *, notify: bool = True, kind: str = "app") -> None:
        """Log a line (pane and file) and, if asked, show it as a notification.

        Before the Log pane exists the line waits for it; after it is gone (the app is
        ending) the line still reaches the log file.
        """
        if self.has_main():
            self.main.log_pane.add(level, text, self.clock(), kind=kind)
        elif not self._main_seen:
            self._early.append((level, text, self.clock(), kind))
            return
        else:
            if self.logfile is not None:
                self.logfile.write(level, kind, text, when=self.clock())
            return
        if notify:
            self.notify(fmt.visible(text), severity=LEVEL_NOTIFY.get(level, "information"),
                        markup=False, timeout=4 if level == "info" else 8)

    def flush_early(self) -> None:
        """Lines reported before the Log pane existed (settings problems, first connect)."""
        self._main_seen = True
        early, self._early = self._early, []
        for level, text, when, kind in early:
            self.main.log_pane.add(level, text, when, kind=kind)
        held, self._early_passes = self._early_passes, {}
        results = {h: r for h, r in held.items() if isinstance(r, PassResult)}
        for listing in held.values():
            if isinstance(listing, DomainListing):
                self.call_later(self._rows_listed, RowsListed(listing))
        if results:
            self.call_later(self._pass_done, PassDone(results))

    # -- passes and links ------------------------------------------------------------
    def poll_now(self) -> None:
        """Run a pass on every host at once (tests and `live=False` use this)."""
        for host_id in self.fleet.hosts:
            self.fleet.poll_now(host_id)

    @on(PassDone)
    def _pass_done(self, msg: PassDone) -> None:
        """Hosts' passes, as many as ended together: each host's rows change, then the
        columns, header, Hosts pane, graphs and footer are worked out once for them all."""
        if msg is self._passes:
            self._passes = None
        if not self.has_main():
            if not self._main_seen:  # passes before the screen is up are shown when it is
                self._early_passes.update(msg.results)
            return
        results = list(msg.results.values())
        screen = self.main
        for result in results:
            self.passes += 1
            self.stale_hosts.discard(result.host_id)
        screen.table.set_hosts_figures({r.host_id: r.domains for r in results})
        screen.fit_columns()
        self._show_hosts(msg.results)
        if screen.perf.display and any(screen.graphs_follow(h) for h in msg.results):
            screen.show_graphs()
            screen.perf.refresh_graphs()
        screen.bindings_changed()
        for result in results:
            if result.notice:
                where = f"{result.host_id}: " if self.several else ""
                self.report("warn", where + result.notice)
            interval = self.fleet.hosts[result.host_id].interval
            if result.took_s > interval:
                where = f" on {result.host_id}" if self.several else ""
                self.report("warn", f"a pass{where} took {result.took_s:.1f} s, longer than "
                            f"the {interval:g} s interval", notify=False)

    @on(RowsListed)
    def _rows_listed(self, msg: RowsListed) -> None:
        """The rows from the domain listing, figures blank until the first pass lands."""
        listing = msg.listing
        if not self.has_main():
            if not self._main_seen:
                self._early_passes.setdefault(listing.host_id, listing)
            return
        screen = self.main
        screen.table.set_host_figures(listing.host_id, listing.domains)
        screen.fit_columns()
        self._show_hosts([listing.host_id])
        screen.bindings_changed()

    def _mark_stale(self, host_id: str) -> None:
        """Keep a lost host's last figures on screen, marked stale."""
        host = self.fleet.hosts[host_id]
        if host_id not in self.stale_hosts and host.last is not None:
            self.stale_hosts.add(host_id)
            self.main.table.set_host_figures(host_id, self.fleet.domains(host_id), stale=True)

    @on(PassFailed)
    def _pass_failed(self, msg: PassFailed) -> None:
        if msg.lost and msg.host_id not in self._last_link_text:
            self.report("error", msg.text, kind="connection")
            self._last_link_text[msg.host_id] = msg.text  # the lost status repeats it
        if not self.has_main():
            return
        if msg.lost:
            self._mark_stale(msg.host_id)
            self._show_hosts()
        else:
            self.report("error", msg.text, notify=False)

    def _show_hosts(self, only: Iterable[str] | None = None) -> None:
        """Header and Hosts pane; after some hosts' passes, only their rows change."""
        try:
            bar = self.main.query_one(HostBar)
            pane = self.main.query_one(HostsPane)
        except NoMatches:
            return
        hosts = list(self.fleet.hosts.values())
        if self.several:
            bar.show_fleet(hosts, self.stale_hosts, show_timing=self.live,
                           ascii=self.settings.ascii)
        else:
            host = hosts[0]
            bar.show(host.last, host.status, interval=host.interval, stale=self.stale,
                     show_timing=self.live, ascii=self.settings.ascii)
        if pane.display:
            rows = hosts if only is None else [self.fleet.hosts[h] for h in only]
            pane.show(rows, self.stale_hosts, show_timing=self.live)

    @on(LinkChanged)
    def _link(self, msg: LinkChanged) -> None:
        st = msg.status
        last = self._last_link_text.get(st.host_id)
        if st.state is LinkState.LOST and st.retry_in is not None and st.message:
            if last != st.message:
                self.report("error", st.message, kind="connection")
                self._last_link_text[st.host_id] = st.message
        elif st.state is LinkState.CONNECTED:
            self._last_link_text.pop(st.host_id, None)
            self.report("info", st.message, notify=self.passes > 0, kind="connection")
        if st.state is LinkState.LOST and self.live and self._countdown is None:
            self._countdown = self.set_interval(1.0, self._count_down)
        if not self.has_main():
            return  # the log line above waits for the Log pane; the rest is for the screen
        if st.state is LinkState.LOST:
            self._mark_stale(st.host_id)
        self._show_hosts()
        self.main.bindings_changed()

    @on(EventsArrived)
    def _events_arrived(self, msg: EventsArrived) -> None:
        if msg is self._events:
            self._events = None
        for event in msg.events:
            where = f"{event.host_id}: " if self.several else ""
            self.report("info", f"event: {where}{event.text}", notify=False, kind="event")

    @on(DomainsChanged)
    def _domains_changed(self, msg: DomainsChanged) -> None:
        if msg is self._changes:
            self._changes = None
        if not self.has_main():
            return
        for ref, fig in msg.figures.items():
            self.main.table.update_one(ref, fig)
        self.main.bindings_changed()

    def host_label(self, host_id: str | None = None) -> str:
        """A host as the operator knows it: its name in a fleet; alone, its hostname once
        known, else the URI."""
        host = self.fleet.hosts[host_id] if host_id is not None else self.host
        if self.several:
            return host.id
        return host.info.hostname if host.info is not None else host.uri

    # -- screens -------------------------------------------------------------------------
    def open_detail(self, fig: DomainFigures) -> None:
        self.push_screen(DetailScreen(self.fleet.hosts[fig.host], fig.uuid, fig.name))

    def help_rows(self) -> list[tuple[str, str, str]]:
        """The keys of the screen on top (the main screen also says why an action is
        unavailable now)."""
        screen = self.screen
        if isinstance(screen, MainScreen):
            return screen.help_rows()
        rows: dict[str, tuple[str, str, str]] = {}
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if binding.description and binding.description not in rows:
                rows[binding.description] = (self.get_key_display(binding) if key == binding.key
                                             else key, binding.description, "")
        return list(rows.values())

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.help_rows()))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:  # type: ignore[type-arg]
        yield from super().get_system_commands(screen)
        if isinstance(screen, MainScreen):
            yield from screen.palette_commands()

    async def on_unmount(self) -> None:
        self._unsubscribe()
        await self.fleet.close()
