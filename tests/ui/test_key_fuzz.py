"""Keystroke fuzz through the real app: random printable keys, arrows, Esc, Enter, Tab
and Ctrl keys, in bursts and one by one. The app never crashes, and no domain changes
unless an action ran on it, and every action that asks first was answered yes."""

from __future__ import annotations

import random
import string
from typing import Any

import pytest

from tests.support.pilot_helpers import ready
from tests.ui.test_type_ahead import burst, world
from xentui.backend.actions import ACTIONS
from xentui.ui.app import XentuiApp
from xentui.ui.screens.confirm import ConfirmScreen

NAMED = ["up", "down", "left", "right", "escape", "enter", "tab", "shift+tab", "home", "end",
         "pageup", "pagedown", "backspace", "ctrl+a", "ctrl+e", "ctrl+n", "ctrl+r", "ctrl+l",
         "ctrl+p", "f1"]
# Quitting ends the run rather than breaking anything; those keys are left out.
QUIT = set("qQ")
PRINTABLE = [c for c in string.ascii_letters + string.digits + string.punctuation + " "
             if c not in QUIT]


def record(app: XentuiApp) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Wrap the app's action runner and its confirmation callback to note what ran."""
    ran: list[tuple[str, str]] = []
    confirmed: list[tuple[str, str]] = []
    run, done = app._run_action, app._confirmed

    def run_action(uuid: str, name: str, action: str) -> Any:
        ran.append((name, action))
        return run(uuid, name, action)

    def on_confirmed(uuid: str, name: str, action: str, ok: bool | None) -> None:
        if ok:
            confirmed.append((name, action))
        done(uuid, name, action, ok)

    app._run_action = run_action  # type: ignore[method-assign]
    app._confirmed = on_confirmed  # type: ignore[method-assign]
    return ran, confirmed


@pytest.mark.parametrize("seed", [2, 6])
async def test_random_keys_change_only_what_an_action_ran_on(demo_app, observer, seed) -> None:
    rng = random.Random(seed)
    before = world(observer)
    ran, confirmed = record(demo_app)
    async with demo_app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        for _ in range(80):
            if rng.random() < 0.5:
                text = "".join(rng.choice(PRINTABLE) for _ in range(rng.randint(1, 8)))
                burst(demo_app, text)
                await pilot.pause(0.05)
            else:
                keys = [rng.choice(NAMED) if rng.random() < 0.5 else rng.choice(PRINTABLE)
                        for _ in range(rng.randint(1, 4))]
                await pilot.press(*keys)
            screen = demo_app.screen
            if isinstance(screen, ConfirmScreen) and rng.random() < 0.5:
                await pilot.press("y")  # answer yes half the time, so actions do run
            elif screen is not demo_app.main and rng.random() < 0.7:
                await pilot.press("escape")  # and come back from help/detail/palette
        await pilot.pause(1.0)
        assert demo_app.is_running
    after = world(observer)
    changed = {name for name in before if after.get(name) != before[name]}
    acted = {name for name, _ in ran}
    assert changed <= acted, f"changed without an action: {changed - acted}"
    for name, action in ran:
        if demo_app.settings.confirm.get(action, ACTIONS[action].confirm):
            assert (name, action) in confirmed, f"{action} on {name} ran unconfirmed"
