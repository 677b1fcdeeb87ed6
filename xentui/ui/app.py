"""The App: owns the Host, schedules passes, routes backend messages to the screen and
turns every outcome into one log line plus a notification."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import partial

from textual import events, on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer

from xentui.backend.actions import ACTIONS
from xentui.backend.errors import BackendError, ConnectError, ConnectionLost
from xentui.backend.host import Host
from xentui.backend.models import DomainFigures, LinkState
from xentui.cli import Options
from xentui.config import Settings, load_settings, state_dir
from xentui.logfile import JsonLineLog
from xentui.ui import format as fmt
from xentui.ui.keymap import check_keymap
from xentui.ui.messages import (
    ActionDone,
    DomainChanged,
    DomainEventArrived,
    LinkChanged,
    PassDone,
    PassFailed,
)
from xentui.ui.screens.confirm import ConfirmScreen, TypeNameScreen
from xentui.ui.screens.detail import DetailScreen
from xentui.ui.screens.help import HelpScreen
from xentui.ui.screens.main import MainScreen
from xentui.ui.typeahead import HOLD_LIMIT_S, TypeAhead
from xentui.ui.widgets.domain_table import DomainTable
from xentui.ui.widgets.host_bar import HostBar

LEVEL_NOTIFY: dict[str, SeverityLevel] = {
    "info": "information",
    "warn": "warning",
    "error": "error",
}


class XentuiApp(App[int]):
    """The console for one host."""

    CSS_PATH = "app.tcss"
    TITLE = "xentui"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Help", id="help"),
    ]

    def __init__(
        self,
        host: Host,
        settings: Settings,
        *,
        logfile: JsonLineLog | None = None,
        live: bool = True,
        problems: Iterable[str] = (),
    ) -> None:
        super().__init__()
        self.host = host
        self.settings = settings
        self.logfile = logfile
        self.live = live
        """False freezes time-dependent output (for snapshots): one pass, no timers."""
        self._problems = list(problems)
        self.stale = False
        self.passes = 0
        self._poll_timer: Timer | None = None
        self._last_link_text: str | None = None
        self._early: list[tuple[str, str, float, str]] = []
        self._main_seen = False
        self.clock = time.time
        """Wall clock for log lines; snapshot tests fix it."""
        self.type_ahead = TypeAhead()
        host.status_listeners.append(lambda st: self.post_message(LinkChanged(st)))
        host.event_listeners.append(lambda ev: self.post_message(DomainEventArrived(ev)))
        host.domain_listeners.append(lambda u, f: self.post_message(DomainChanged(u, f)))

    async def on_event(self, event: events.Event) -> None:
        if self.type_ahead.take(event) or self.type_ahead.stale(event):
            return
        await super().on_event(event)

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
        return bool(stack) and isinstance(stack[0], MainScreen) and stack[0].is_mounted

    def on_mount(self) -> None:
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        else:
            self._problems.append(f"unknown theme {self.settings.theme!r}; using the default")
        if self.settings.keymap:
            bindings = [*self.BINDINGS, *MainScreen.BINDINGS, *DomainTable.BINDINGS]
            keymap, problems = check_keymap(self.settings.keymap, bindings)  # type: ignore[arg-type]
            self._problems.extend(problems)
            self.set_keymap(keymap)
        for problem in self._problems:
            self.report("warn", problem)
        if self.logfile is not None and self.logfile.error:
            self.report("warn", f"log file disabled: {self.logfile.error}")
        self._connect()
        if self.live:
            self.set_interval(1.0, self._count_down)

    def _count_down(self) -> None:
        """While the link is lost, the header counts down to the next attempt."""
        if self.host.status.state is LinkState.LOST:
            self._show_host()

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

    # -- connection and passes -----------------------------------------------------------
    @work(exclusive=True, group="connect", exit_on_error=False)
    async def _connect(self) -> None:
        try:
            await self.host.connect()
        except ConnectError as err:
            self.report("error", str(err), kind="connection")
            self._last_link_text = str(err)  # mark_lost repeats it: say it once
            self.host.mark_lost(str(err))
        self._poll()

    @work(exclusive=True, group="poll", exit_on_error=False)
    async def _poll(self) -> None:
        started = time.monotonic()
        try:
            result = await self.host.sample()
        except ConnectionLost as err:
            self.post_message(PassFailed(str(err), lost=True))
        except BackendError as err:
            self.post_message(PassFailed(str(err), lost=False))
        else:
            self.post_message(PassDone(result))
        if self.live:
            wait = max(0.05, self.host.interval - (time.monotonic() - started))
            self._stop_poll_timer()
            self._poll_timer = self.set_timer(wait, self._poll)

    def _stop_poll_timer(self) -> None:
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None

    def poll_now(self) -> None:
        """Run a pass at once (after a reconnect; tests and `live=False` use this).

        The pending timer goes: its pass would start a second chain of passes."""
        self._stop_poll_timer()
        self._poll()

    @on(PassDone)
    def _pass_done(self, msg: PassDone) -> None:
        if not self.has_main():
            return
        self.passes += 1
        self.stale = False
        screen = self.main
        screen.table.set_figures(msg.result.domains)
        self._show_host()
        if screen.perf.display:
            screen.show_graphs()
            screen.perf.refresh_graphs()
        screen.bindings_changed()
        if msg.result.took_s > self.host.interval:
            self.report("warn", f"a pass took {msg.result.took_s:.1f} s, longer than the "
                        f"{self.host.interval:g} s interval", notify=False)

    @on(PassFailed)
    def _pass_failed(self, msg: PassFailed) -> None:
        if not self.has_main():
            return
        if msg.lost:
            if not self.stale and self.host.last is not None:
                self.stale = True
                self.main.table.set_figures(self.host.last.domains, stale=True)
            self._show_host()
        else:
            self.report("error", msg.text, notify=False)

    def _show_host(self) -> None:
        try:
            bar = self.main.query_one(HostBar)
        except NoMatches:
            return
        bar.show(self.host.last, self.host.status, interval=self.host.interval,
                 stale=self.stale, show_timing=self.live, ascii=self.settings.ascii)

    @on(LinkChanged)
    def _link(self, msg: LinkChanged) -> None:
        st = msg.status
        if st.state is LinkState.LOST and st.retry_in is not None and st.message:
            if self._last_link_text != st.message:
                self.report("error", st.message, kind="connection")
                self._last_link_text = st.message
        elif st.state is LinkState.CONNECTED:
            self._last_link_text = None
            self.report("info", st.message, notify=self.passes > 0, kind="connection")
        if not self.has_main():
            return  # the log line above waits for the Log pane; the rest is for the screen
        if st.state is LinkState.CONNECTED:
            self.poll_now()
        if st.state is LinkState.LOST and self.host.last is not None and not self.stale:
            self.stale = True
            self.main.table.set_figures(self.host.last.domains, stale=True)
        self._show_host()
        self.main.bindings_changed()

    @on(DomainEventArrived)
    def _event(self, msg: DomainEventArrived) -> None:
        self.report("info", f"event: {msg.event.text}", notify=False, kind="event")

    @on(DomainChanged)
    def _domain_changed(self, msg: DomainChanged) -> None:
        if not self.has_main():
            return
        self.main.table.update_one(msg.uuid, msg.figures)
        self.main.bindings_changed()

    # -- actions -------------------------------------------------------------------------
    def host_label(self) -> str:
        """The host as the operator knows it: its hostname once known, else the URI."""
        info = self.host.info
        return info.hostname if info is not None else self.host.uri

    def push_dialog(self, screen: Screen[bool], callback: Callable[[bool | None], None]) -> None:
        """Push a question; keys typed while it opens wait for it (see `typeahead`)."""
        self._hold_keys()
        self.push_screen(screen, callback)

    def _hold_keys(self) -> None:
        """From now until a dialog takes them, keys wait instead of reaching the table."""
        if not self.type_ahead.holding:
            self.type_ahead.hold()
            self.set_timer(HOLD_LIMIT_S + 0.1, self._free_held_keys)

    def _free_held_keys(self) -> None:
        if self.type_ahead.overdue():
            count = self.type_ahead.release(None)
            self.report("warn", f"a dialog did not open: {count} keys typed meanwhile were "
                        "dropped", notify=False)

    def request_action(self, fig: DomainFigures, name: str) -> None:
        """Ask first if the settings say so for this action, then run it in a worker.
        Undefine, and force off of a domain with a managed-save image, always ask for
        the domain's name."""
        spec = ACTIONS[name]
        ask = spec.type_name or self.settings.confirm.get(name, spec.confirm)
        if name == "destroy":
            self._hold_keys()  # the dialog opens after a detail read: keys wait for it
            self._destroy_checked(fig, self._question(fig, spec.label), ask)
            return
        if not ask:
            self._run_action(fig.uuid, fig.name, name)
            return
        go = partial(self._confirmed, fig.uuid, fig.name, name)
        what = self._question(fig, spec.label)
        if spec.type_name:
            self.push_dialog(TypeNameScreen(f"{what} Type its name to confirm.", fig.name), go)
        else:
            self.push_dialog(ConfirmScreen(what, spec.help), go)

    def _question(self, fig: DomainFigures, label: str) -> str:
        return f"{label} {fmt.visible(fig.name)} on {fmt.visible(self.host_label())}?"

    @work(exclusive=False, group="actions", exit_on_error=False)
    async def _destroy_checked(self, fig: DomainFigures, what: str, ask: bool) -> None:
        """Force off asks for the name when a managed-save image would be orphaned."""
        try:
            detail = await self.host.detail(fig.uuid)
            saved = bool(detail.managed_save)
        except BackendError:
            saved = False
        go = partial(self._confirmed, fig.uuid, fig.name, "destroy")
        if saved:
            self.push_dialog(TypeNameScreen(
                f"{what} It has a managed-save image. Type its name to confirm.", fig.name), go)
        elif ask:
            self.push_dialog(ConfirmScreen(what, ACTIONS["destroy"].help), go)
        else:
            self.type_ahead.release(self.focused)
            go(True)

    def _confirmed(self, uuid: str, name: str, action: str, ok: bool | None) -> None:
        if ok:
            self._run_action(uuid, name, action)
        else:
            self.report("info", f"{ACTIONS[action].label} {name}: cancelled", notify=False,
                        kind="action")

    @work(exclusive=False, group="actions", exit_on_error=False)
    async def _run_action(self, uuid: str, name: str, action: str) -> None:
        self.report("info", f"{ACTIONS[action].label} {name}: under way…", notify=False,
                    kind="action")
        try:
            text = await self.host.act(uuid, action)
        except BackendError as err:
            self.post_message(ActionDone(uuid, action, False, str(err)))
        else:
            self.post_message(ActionDone(uuid, action, True, text))

    @on(ActionDone)
    def _action_done(self, msg: ActionDone) -> None:
        self.report("info" if msg.ok else "error", msg.text, kind="action")
        if not self.has_main():
            return
        if msg.ok and msg.action == "shutdown":
            self.set_timer(self.settings.shutdown_timeout,
                           partial(self._shutdown_overdue, msg.uuid))
        self._refresh_one(msg.uuid)

    @work(exclusive=False, group="refresh", exit_on_error=False)
    async def _refresh_one(self, uuid: str) -> None:
        """Re-read the domain an action touched (drivers that emit no event, too)."""
        try:
            fig = await self.host.refresh_domain(uuid)
        except BackendError:
            return
        self.post_message(DomainChanged(uuid, fig))

    def _shutdown_overdue(self, uuid: str) -> None:
        """A graceful shutdown still running after the timeout: say so, offer force off."""
        last = self.host.last
        fig = last.domains.get(uuid) if last is not None else None
        if fig is None or not fig.sample.state.active:
            return
        wait = f"{self.settings.shutdown_timeout:g} s"
        self.report("warn", f"{fig.name} has not shut down after {wait}: the guest may "
                    "ignore the request (no ACPI or PV shutdown support)")
        self.push_dialog(
            ConfirmScreen(f"{fmt.visible(fig.name)} on {fmt.visible(self.host_label())} has not "
                          f"shut down after {wait}. Force it off?", ACTIONS["destroy"].help),
            partial(self._confirmed, uuid, fig.name, "destroy"),
        )

    # -- screens -------------------------------------------------------------------------
    def open_detail(self, fig: DomainFigures) -> None:
        self.push_screen(DetailScreen(self.host, fig.uuid, fig.name))

    def help_rows(self) -> list[tuple[str, str, str]]:
        return self.main.help_rows()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.help_rows()))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:  # type: ignore[type-arg]
        yield from super().get_system_commands(screen)
        if isinstance(screen, MainScreen):
            yield from screen.palette_commands()

    async def on_unmount(self) -> None:
        self.host.status_listeners.clear()
        self.host.event_listeners.clear()
        self.host.domain_listeners.clear()
        await self.host.close()


def unicode_terminal() -> bool:
    """Whether the terminal's locale can show Unicode symbols (else ASCII is used)."""
    for var in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = os.environ.get(var)
        if value:
            return "utf-8" in value.lower() or "utf8" in value.lower()
    return (sys.stdout.encoding or "").lower().replace("-", "") == "utf8"


def make_app(
    uri: str,
    *,
    readonly: bool = False,
    interval: float | None = None,
    per_domain: bool = False,
    settings: Settings | None = None,
    live: bool = True,
    log_to_file: bool | None = None,
) -> XentuiApp:
    """The one factory the CLI, tests and benchmarks use."""
    problems: list[str] = []
    if settings is None:
        settings, problems = load_settings()
        if not settings.ascii and not unicode_terminal():
            settings = replace(settings, ascii=True)
    host = Host(uri, readonly=readonly, interval=interval or settings.interval,
                per_domain=per_domain)
    use_file = settings.log_file if log_to_file is None else log_to_file
    logfile = JsonLineLog(state_dir() / "events.jsonl") if use_file else None
    return XentuiApp(host, settings, logfile=logfile, live=live, problems=problems)


def run_console(opts: Options) -> int:
    """Run the console for the CLI's options; returns the exit code."""
    app = make_app(
        opts.uri, readonly=opts.readonly, interval=opts.interval, per_domain=opts.per_domain
    )
    app.run()
    return app.return_code or 0
