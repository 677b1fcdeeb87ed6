"""`c` (console) greyed with its reason where no console can be attached: Domain-0, a
driver without consoles (libvirt's test driver), the demo host, a read-only connection.
Attaching itself needs a real terminal: tests/integration/test_console_terminal.py."""

from __future__ import annotations

from tests.support.pilot_helpers import ready, select
from tests.ui.conftest import build_app
from xentui.backend.console import DOM0_CONSOLE_REASON
from xentui.config import Settings
from xentui.demo.host import NO_CONSOLE, demo_fleet
from xentui.ui.app import XentuiApp

ZERO = "00000000-0000-0000-0000-000000000000"


def help_reason(app: XentuiApp, label: str) -> str:
    return {desc: reason for _k, desc, reason in app.help_rows()}[label]


def palette_titles(app: XentuiApp) -> list[str]:
    return [c.title for c in app.main.palette_commands()]


def said(app: XentuiApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_domain0_and_the_test_driver_grey_the_console(demo_app, observer) -> None:
    async with demo_app.run_test(size=(140, 40)) as pilot:
        app = await ready(pilot)
        assert app.main.table.selected.uuid == ZERO
        assert app.main.check_action("console", ()) is None
        assert help_reason(app, "Console") == DOM0_CONSOLE_REASON
        await pilot.press("c")
        await pilot.pause(0.2)
        assert f"Console: {DOM0_CONSOLE_REASON}" in said(app)

        await select(pilot, observer, "web01")  # running, on a driver with no consoles
        assert app.main.check_action("console", ()) is None
        assert "not supported by the TEST driver" in help_reason(app, "Console")
        assert not any(t.startswith("Console") for t in palette_titles(app))
        assert any(t.startswith("Shut down") for t in palette_titles(app))  # the list works


async def test_readonly_greys_the_console(demo_daemon, observer) -> None:
    app = build_app(demo_daemon[0].uri, readonly=True)
    async with app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "web01")
        assert "read-only" in help_reason(app, "Console")


async def test_the_demo_host_has_no_console() -> None:
    app = XentuiApp(demo_fleet(interval=0.5, past_s=0), Settings(interval=0.5), live=True)
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        table = app.main.table
        guest = next(f for f in table.figures.values()
                     if not f.is_dom0 and f.sample.state.value == "running")
        assert table.select(guest.uuid)
        await pilot.pause(0.2)
        assert app.main.check_action("console", ()) is None
        assert help_reason(app, "Console") == NO_CONSOLE
        await pilot.press("c")
        await pilot.pause(0.2)
        assert f"Console: {NO_CONSOLE}" in said(app)


async def test_the_console_key_can_be_rebound(demo_daemon) -> None:
    app = build_app(demo_daemon[0].uri,
                    settings=Settings(interval=0.3, keymap={"console": "ctrl+o"}))
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)  # Domain-0 is selected: the key says why it cannot attach
        await pilot.press("c")
        await pilot.pause(0.2)
        assert not any(m.startswith("Console:") for m in said(app))
        await pilot.press("ctrl+o")
        await pilot.pause(0.2)
        assert f"Console: {DOM0_CONSOLE_REASON}" in said(app)
