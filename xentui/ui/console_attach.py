"""`c`: attach the terminal to the selected domain's serial console and come back.

Opens the console through the host, asks before taking over a console another session
holds, suspends the screen (its repaints too: the fleet keeps passing and the figures
are current when the screen comes back), runs the terminal bridge, and logs how it went.
"""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SuspendNotSupported
from textual.screen import Screen

from xentui.backend.console import ConsoleSession, console_why_not
from xentui.backend.errors import BackendError, ConsoleBusy
from xentui.backend.models import DomainFigures
from xentui.ui import format as fmt
from xentui.ui.console_terminal import RETURNED, TerminalBridge, terminal_fds
from xentui.ui.screens.confirm import ConfirmScreen

if TYPE_CHECKING:
    from xentui.ui.app import XentuiApp

TAKE_OVER_HELP = "The other session (another xentui, virsh console, xl console) is cut off."


def console_reason(app: XentuiApp, fig: DomainFigures | None) -> str | None:
    """Why `c` cannot attach to this domain now (None: it can)."""
    if fig is None:
        return "no domain selected"
    host = app.fleet.hosts[fig.host]
    if not host.connected:
        return "not connected"
    return console_why_not(fig.sample, readonly=host.readonly,
                           known=host.console_reason(fig.sample))


def learn_console(screen: Screen[None], app: XentuiApp, fig: DomainFigures | None) -> None:
    """Look, in the background, whether the selected domain has a console device, so that
    `c` is greyed with the reason before it is pressed."""
    if fig is None or console_reason(app, fig) is not None:
        return

    async def check() -> None:
        try:
            reason = await app.fleet.hosts[fig.host].check_console(fig.uuid)
        except BackendError:
            return
        if reason is not None:
            screen.refresh_bindings()

    # the function, not a coroutine: a newer check may replace this one before it starts
    screen.run_worker(check, group="console-check", exclusive=True,  # type: ignore[arg-type]
                      exit_on_error=False)


def request_console(app: XentuiApp, fig: DomainFigures, force: bool = False) -> None:
    """Open the domain's console and attach the terminal to it (in a worker)."""
    app.run_worker(_attach(app, fig, force), group="console", exclusive=True,
                   exit_on_error=False)


def _where(app: XentuiApp, fig: DomainFigures) -> str:
    return f"{fmt.visible(fig.name)} on {fmt.visible(app.host_label(fig.host))}"


async def _attach(app: XentuiApp, fig: DomainFigures, force: bool) -> None:
    where = _where(app, fig)
    fds = terminal_fds()
    if fds is None:
        app.report("warn", f"Console {where}: xentui is not running in a terminal")
        return
    t0 = time.monotonic()
    try:
        session = await app.fleet.hosts[fig.host].open_console(fig.uuid, force)
    except ConsoleBusy:
        app.push_dialog(
            ConfirmScreen(f"Another session holds the console of {where}. Take it over?",
                          TAKE_OVER_HELP),
            partial(_take_over, app, fig))
        return
    except BackendError as err:
        app.report("error", str(err), kind="action")
        return
    opened = time.monotonic() - t0
    app.report("info", f"Console {where}: attached in {opened:.2f} s", notify=False,
               kind="action")
    dash = "-" if app.settings.ascii else "\N{EM DASH}"
    title = f"xentui: console of {where} {dash} Ctrl+] returns"
    reason, held = await _attached(app, session, title, fds)
    level = "info" if reason == RETURNED else "warn"
    app.report(level, f"Console {where}: {reason} after {held:.0f} s", kind="action",
               notify=reason != RETURNED)


def _take_over(app: XentuiApp, fig: DomainFigures, ok: bool | None) -> None:
    if ok:
        request_console(app, fig, force=True)
    else:
        app.report("info", f"Console {_where(app, fig)}: left to the other session",
                   notify=False, kind="action")


async def _attached(app: XentuiApp, session: ConsoleSession, title: str,
                    fds: tuple[int, int]) -> tuple[str, float]:
    """Run the bridge with the screen suspended; why it ended and for how long it ran."""
    t0 = time.monotonic()
    try:
        with app.batch_update(), app.suspend():
            reason = await TerminalBridge(session, title, *fds).run()
    except SuspendNotSupported:
        reason = "this terminal cannot hand the screen over (suspend is not supported)"
    finally:
        session.close()
    return reason, time.monotonic() - t0
