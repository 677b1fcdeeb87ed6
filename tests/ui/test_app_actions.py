"""Every lifecycle key, driven through the real app; effects checked on a second
connection to the same daemon, never through the app's own model."""

from __future__ import annotations

import libvirt
import pytest

from tests.support.pilot_helpers import asking, domain_gone, select, state, until
from xentui.ui.screens.confirm import ConfirmScreen, TypeNameScreen

RUNNING, PAUSED, SHUTOFF = (
    libvirt.VIR_DOMAIN_RUNNING,
    libvirt.VIR_DOMAIN_PAUSED,
    libvirt.VIR_DOMAIN_SHUTOFF,
)


@pytest.mark.parametrize(
    ("name", "keys", "before", "after"),
    [
        ("backup", ["s"], SHUTOFF, RUNNING),
        ("web01", ["S", "y"], RUNNING, SHUTOFF),
        ("web01", ["p", "y"], RUNNING, PAUSED),
        ("build-runner", ["p"], PAUSED, RUNNING),
        ("web02", ["F", "y"], RUNNING, SHUTOFF),
    ],
)
async def test_state_changing_keys(demo_app, observer, name, keys, before, after) -> None:
    assert state(observer, name) == before
    async with demo_app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, name)
        await pilot.press(*keys)
        await until(pilot, lambda: state(observer, name) == after)
        # The outcome line (not the "under way" line written before it), and no error.
        await until(pilot, lambda: any(
            name in line.text and "under way" not in line.text and "event:" not in line.text
            for line in demo_app.main.log_pane.lines
        ))
        assert not any("ERROR" in line.text for line in demo_app.main.log_pane.lines)


async def test_force_off_refused_leaves_domain_running(demo_app, observer) -> None:
    async with demo_app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "web02")
        await pilot.press("F")
        await until(pilot, lambda: asking(demo_app))
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(demo_app.screen, ConfirmScreen))
        await pilot.pause(0.3)
    assert state(observer, "web02") == RUNNING


async def test_escape_also_refuses(demo_app, observer) -> None:
    async with demo_app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "db01")
        await pilot.press("p")
        await until(pilot, lambda: asking(demo_app))
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(demo_app.screen, ConfirmScreen))
        await pilot.pause(0.3)
    assert state(observer, "db01") == RUNNING


async def test_reboot_and_reset_reach_libvirt(demo_app, observer) -> None:
    """The test driver emits no event for either: the log must still report them."""
    async with demo_app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "mail")
        await pilot.press("r", "y")
        await until(pilot, lambda: any("reboot requested" in ln.text
                                       for ln in demo_app.main.log_pane.lines))
        await pilot.press("X", "y")
        await until(pilot, lambda: any("mail: reset" in ln.text
                                       for ln in demo_app.main.log_pane.lines))
    assert state(observer, "mail") == RUNNING


async def test_save_then_restore(demo_app, observer) -> None:
    async with demo_app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "web01")
        await pilot.press("w", "y")
        await until(pilot, lambda: observer.lookupByName("web01").hasManagedSaveImage(0) == 1)
        assert state(observer, "web01") == SHUTOFF
        await until(pilot, lambda: demo_app.main.check_action("lifecycle", ("restore",)) is True)
        await pilot.press("W")
        await until(pilot, lambda: state(observer, "web01") == RUNNING)
    assert observer.lookupByName("web01").hasManagedSaveImage(0) == 0


async def test_snapshot_revert_delete(demo_app, observer) -> None:
    async with demo_app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "db01")
        await pilot.press("n")
        await until(pilot, lambda: observer.lookupByName("db01").snapshotNum(0) == 1)
        await pilot.press("N")
        await until(pilot, lambda: asking(demo_app))
        await pilot.press("y")
        await until(pilot, lambda: any("reverted to snapshot" in ln.text
                                       for ln in demo_app.main.log_pane.lines))
        await pilot.press("ctrl+n", "y")
        await until(pilot, lambda: observer.lookupByName("db01").snapshotNum(0) == 0)


async def test_autostart_toggles(demo_app, observer) -> None:
    assert observer.lookupByName("mail").autostart() == 0
    async with demo_app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "mail")
        await pilot.press("a")
        await until(pilot, lambda: observer.lookupByName("mail").autostart() == 1)
        await pilot.press("a")
        await until(pilot, lambda: observer.lookupByName("mail").autostart() == 0)


async def test_undefine_needs_the_typed_name(demo_app, observer) -> None:
    async with demo_app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "dev-sandbox")
        await pilot.press("D")
        await until(pilot, lambda: isinstance(demo_app.screen, TypeNameScreen))
        await pilot.press(*"wrong", "enter")
        await pilot.pause(0.2)
        assert isinstance(demo_app.screen, TypeNameScreen)
        assert observer.lookupByName("dev-sandbox")
        for _ in range(5):
            await pilot.press("backspace")
        await pilot.press(*"dev-sandbox", "enter")

        await until(pilot, lambda: domain_gone(observer, "dev-sandbox"))
        await until(pilot, lambda: all(
            f.name != "dev-sandbox" for f in demo_app.main.table.figures.values()
        ))


async def test_virsh_side_change_shows_through_events(demo_app, observer) -> None:
    """A change made elsewhere reaches the row through an event, not the next pass."""
    demo_app.host.interval = 60.0
    async with demo_app.run_test(size=(140, 40)) as pilot:
        uuid = await select(pilot, observer, "web01")
        passes = demo_app.passes
        observer.lookupByName("web01").suspend()
        table = demo_app.main.table
        await until(pilot, lambda: table.by_uuid(uuid).sample.state.value == "paused", 1.0)
        assert demo_app.passes == passes
        await until(pilot, lambda: any("web01: Suspended" in ln.text
                                       for ln in demo_app.main.log_pane.lines), 3)


async def test_action_on_vanished_domain_is_reported(demo_app, observer) -> None:
    """The domain goes between the moment it was drawn and the action."""
    demo_app.host.interval = 60.0
    async with demo_app.run_test(size=(140, 40)) as pilot:
        uuid = await select(pilot, observer, "win-test")
        fig = demo_app.main.table.by_uuid(uuid)
        observer.lookupByName("win-test").undefine()
        demo_app.request_action(fig, "start")
        await until(pilot, lambda: any(
            "ERROR" in ln.text and "no longer exists" in ln.text
            for ln in demo_app.main.log_pane.lines
        ))
        assert demo_app.is_running


async def test_command_palette_offers_allowed_actions(demo_app, observer) -> None:
    async with demo_app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "web02")
        titles = [c.title for c in demo_app.get_system_commands(demo_app.main)]
        assert "Pause web02" in titles
        assert "Resume web02" not in titles
        assert "Start web02" not in titles
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"Pause web02")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(pilot, lambda: asking(demo_app))
        await pilot.press("y")
        await until(pilot, lambda: state(observer, "web02") == PAUSED)
