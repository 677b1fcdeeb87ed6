"""Bulk actions: mark domains (space, `*` for all the filter shows, `u` clears), then one
question and one action for all of them. Effects checked on a second connection."""

from __future__ import annotations

import libvirt

from tests.support.pilot_helpers import asking, log_has, select, state, until
from xentui.ui.screens.confirm import ConfirmScreen, TypeNameScreen

RUNNING, PAUSED, SHUTOFF = (
    libvirt.VIR_DOMAIN_RUNNING,
    libvirt.VIR_DOMAIN_PAUSED,
    libvirt.VIR_DOMAIN_SHUTOFF,
)


async def test_mark_shown_by_filter_then_pause_them(demo_app, observer) -> None:
    async with demo_app.run_test(size=(160, 45)) as pilot:
        await select(pilot, observer, "web01")
        table = demo_app.main.table
        await pilot.press("slash", *"web", "enter", "asterisk")
        await until(pilot, lambda: len(table.marked) == 2, what="two marked")
        await pilot.press("escape")  # the filter goes, the marks stay
        await until(pilot, lambda: table.filter_text == "")
        assert {table.figures[r].name for r in table.marked} == {"web01", "web02"}
        await pilot.press("p")
        await until(pilot, lambda: asking(demo_app))
        assert "Pause 2 domains" in demo_app.screen.question
        await pilot.press("y")
        await until(pilot, lambda: state(observer, "web01") == PAUSED
                    and state(observer, "web02") == PAUSED, 10, "both paused")
        await until(pilot, lambda: log_has(demo_app, "web01", "paused")
                    and log_has(demo_app, "web02", "paused"), 5, "a log line each")
        await until(pilot, lambda: log_has(demo_app, "Pause: 2 of 2 domains done"))
        # Others untouched.
        assert state(observer, "db01") == RUNNING and state(observer, "mail") == RUNNING
        # `p` again resumes the marked set (none of them can be paused now).
        await until(pilot, lambda: all(table.figures[r].sample.state.value == "paused"
                                       for r in table.marked), what="rows paused")
        await pilot.press("p")
        await until(pilot, lambda: asking(demo_app))
        assert "Resume 2 domains" in demo_app.screen.question  # a bulk action always asks
        await pilot.press("y")
        await until(pilot, lambda: state(observer, "web01") == RUNNING
                    and state(observer, "web02") == RUNNING, 10, "both resumed")


async def test_skipped_domains_are_named_and_left_alone(demo_app, observer) -> None:
    async with demo_app.run_test(size=(160, 45)) as pilot:
        table = demo_app.main.table
        for name in ("Domain-0", "backup", "mail"):
            await select(pilot, observer, name)
            await pilot.press("space")
        await until(pilot, lambda: len(table.marked) == 3)
        await pilot.press("S")
        await until(pilot, lambda: asking(demo_app))
        screen = demo_app.screen
        assert isinstance(screen, ConfirmScreen)
        assert "Shut down 1 domain" in screen.question
        assert "Skipped: 2" in screen.detail
        await pilot.press("y")
        await until(pilot, lambda: state(observer, "mail") == SHUTOFF, 10, "mail shut off")
        assert state(observer, "Domain-0") == RUNNING
        assert state(observer, "backup") == SHUTOFF


async def test_single_domain_keys_refuse_while_marked(demo_app, observer) -> None:
    async with demo_app.run_test(size=(160, 45)) as pilot:
        table = demo_app.main.table
        await select(pilot, observer, "web01")
        await pilot.press("space")
        await until(pilot, lambda: len(table.marked) == 1)
        await select(pilot, observer, "web01")
        await pilot.press("w")  # save acts on one domain: greyed while marks exist
        await pilot.pause(0.3)
        assert not isinstance(demo_app.screen, ConfirmScreen)
        assert not observer.lookupByName("web01").hasManagedSaveImage(0)
        assert "clear the marks" in (demo_app.main.action_reason("save") or "")
        await pilot.press("u")
        await until(pilot, lambda: not table.marked)
        assert demo_app.main.action_reason("save") is None
        # The gutter went with the marks: the header starts with the first column again.
        assert table.render_line(0).text.lstrip().startswith("Name")


async def test_bulk_force_off_asks_for_the_count(demo_app, observer) -> None:
    async with demo_app.run_test(size=(160, 45)) as pilot:
        table = demo_app.main.table
        for name in ("web02", "[b]evil ünïcode & co"):
            await select(pilot, observer, name)
            await pilot.press("space")
        await until(pilot, lambda: len(table.marked) == 2)
        await pilot.press("F")
        await until(pilot, lambda: isinstance(demo_app.screen, TypeNameScreen))
        screen = demo_app.screen
        assert "[b]evil" in screen.question  # a name is data, not markup
        await pilot.press("3", "enter")  # the wrong count does nothing
        await pilot.pause(0.3)
        assert state(observer, "web02") == RUNNING
        await pilot.press("backspace", "2", "enter")
        await until(pilot, lambda: state(observer, "web02") == SHUTOFF
                    and state(observer, "[b]evil ünïcode & co") == SHUTOFF, 10, "both off")
