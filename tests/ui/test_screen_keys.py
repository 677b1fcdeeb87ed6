"""Every screen's keys: help shows the keys of the screen it was opened on, and the
detail and dialog screens' binding ids can be rebound like the main screen's."""

from __future__ import annotations

from tests.support.pilot_helpers import log_lines, select, until
from tests.ui.conftest import build_app
from xentui.config import Settings
from xentui.ui.screens.detail import DetailScreen
from xentui.ui.screens.help import HelpScreen


async def test_help_on_the_detail_screen_lists_its_keys(demo_app, observer) -> None:
    async with demo_app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "web01")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(demo_app.screen, DetailScreen))
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(demo_app.screen, HelpScreen))
        described = {desc for _keys, desc, _why in demo_app.screen.rows}
        assert {"Back", "Reload"} <= described
        assert "Force off" not in described and "Filter" not in described


async def test_detail_and_dialog_keys_can_be_rebound(demo_daemon, observer) -> None:
    keymap = {"detail.reload": "ctrl+r", "confirm.yes": "Y", "help.close": "escape,f1"}
    app = build_app(demo_daemon[0].uri,
                    settings=Settings(interval=0.3, shutdown_timeout=1.0, keymap=keymap))
    async with app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "web01")
        assert not [ln for ln in log_lines(app) if "keymap" in ln]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DetailScreen))
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        keys = {desc: k for k, desc, _why in app.screen.rows}
        assert keys["Reload"].lower() in {"^r", "ctrl+r"}
