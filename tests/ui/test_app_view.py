"""Sorting, filtering, selection, screens, read-only mode, greyed-out actions, small
terminals and settings, driven through the real app."""

from __future__ import annotations

from pathlib import Path

import libvirt

from tests.support.pilot_helpers import ready, select, state, until
from tests.ui.conftest import build_app
from xentui.ui.screens.detail import DetailScreen
from xentui.ui.screens.help import HelpScreen

ZERO = "00000000-0000-0000-0000-000000000000"


def names(app) -> list[str]:
    t = app.main.table
    return [t.figures[r].name for r in t.order]


async def test_domain0_first_then_sorted_by_name(demo_app) -> None:
    async with demo_app.run_test(size=(140, 40)) as pilot:
        app = await ready(pilot)
        shown = names(app)
        assert shown[0] == "Domain-0"
        assert shown[1:] == sorted(shown[1:], key=str.casefold)


async def test_sort_keys_and_reverse(demo_app, observer) -> None:
    async with demo_app.run_test(size=(140, 40)) as pilot:
        app = await ready(pilot)
        table = app.main.table
        while table.sort_key != "maxmem":
            await pilot.press("greater_than_sign")
        maxmem = {d.name(): d.maxMemory() for d in observer.listAllDomains()}
        got = [maxmem[n] for n in names(app)[1:]]
        assert got == sorted(got)
        await pilot.press("I")
        got = [maxmem[n] for n in names(app)[1:]]
        assert got == sorted(got, reverse=True)
        assert names(app)[0] == "Domain-0"


async def test_click_on_header_sorts(demo_app) -> None:
    async with demo_app.run_test(size=(140, 40)) as pilot:
        app = await ready(pilot)
        table = app.main.table
        x = sum(table.look.width(c) + 1 for c in table.columns[:2]) + 1  # the State column
        await pilot.click("#domains", offset=(x + 1, 1))
        assert table.sort_key == "state"
        await pilot.click("#domains", offset=(x + 1, 1))
        assert table.reverse


async def test_filter_as_you_type_enter_keeps_escape_clears(demo_app, observer) -> None:
    async with demo_app.run_test(size=(140, 40)) as pilot:
        app = await ready(pilot)
        total = len(observer.listAllDomains())
        await pilot.press("slash", *"web")
        assert set(names(app)) == {"web01", "web02"}
        await pilot.press("enter")
        assert app.main.table.has_focus
        await until(pilot, lambda: app.passes >= 3)
        assert set(names(app)) == {"web01", "web02"}
        await pilot.press("slash", "ctrl+u", *"paused", "enter")
        assert names(app) == ["build-runner"]
        await pilot.press("escape")
        assert len(names(app)) == total


async def test_selection_survives_refresh_sort_and_filter(demo_app, observer) -> None:
    async with demo_app.run_test(size=(140, 40)) as pilot:
        uuid = await select(pilot, observer, "mail")
        app = pilot.app
        passes = app.passes
        await until(pilot, lambda: app.passes >= passes + 2)
        assert app.main.table.selected.uuid == uuid
        await pilot.press("greater_than_sign", "greater_than_sign", "I")
        assert app.main.table.selected.uuid == uuid
        await pilot.press("slash", *"ma", "enter")
        assert app.main.table.selected.uuid == uuid
        await pilot.press("escape")
        assert app.main.table.selected.uuid == uuid
        row = [r.uuid for r in app.main.table.order].index(uuid)
        assert app.main.table.cursor == row


async def test_arrows_and_jk_move(demo_app) -> None:
    async with demo_app.run_test(size=(140, 40)) as pilot:
        app = await ready(pilot)
        table = app.main.table
        await pilot.press("j", "j", "down")
        assert table.cursor == 3
        await pilot.press("k", "up")
        assert table.cursor == 1
        assert table.selected == table.order[1]


async def test_detail_screen_shows_the_domain(demo_app, observer) -> None:
    async with demo_app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "db01")
        await pilot.press("enter")
        screen = pilot.app.screen
        assert isinstance(screen, DetailScreen)
        await until(pilot, lambda: screen.detail is not None)
        assert screen.detail.name == "db01"
        assert "<name>db01</name>" in screen.detail.xml
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, DetailScreen)


async def test_help_lists_every_binding_with_reasons(demo_app, observer) -> None:
    async with demo_app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "backup")
        rows = pilot.app.help_rows()
        described = {desc: reason for _k, desc, reason in rows}
        for label in ("Start", "Shut down", "Force off", "Pause/Resume", "Quit", "Filter"):
            assert label in described
        assert described["Start"] == ""
        assert "shutoff" in described["Shut down"]
        await pilot.press("question_mark")
        assert isinstance(pilot.app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, HelpScreen)


async def test_domain0_actions_greyed_with_reason(demo_app) -> None:
    async with demo_app.run_test(size=(140, 40)) as pilot:
        app = await ready(pilot)
        assert app.main.table.selected.uuid == ZERO
        main = app.main
        for action in ("shutdown", "destroy", "reboot", "pause"):
            assert main.check_action("lifecycle", (action,)) is None
        assert "Domain-0" in (main.action_reason("shutdown") or "")


async def test_readonly_refuses_every_action(demo_daemon, observer) -> None:
    app = build_app(demo_daemon[0].uri, readonly=True)
    async with app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "web01")
        main = app.main
        assert main.check_action("lifecycle", ("destroy",)) is None
        assert "read-only" in (main.action_reason("destroy") or "")
        await pilot.press("S", "p", "F", "y", "a")
        await pilot.pause(0.5)
        header = app.main.query_one("#hostbar").render()
        assert "read-only" in str(header)
    assert state(observer, "web01") == libvirt.VIR_DOMAIN_RUNNING
    assert observer.lookupByName("web01").autostart() == 0


async def test_markup_name_renders_literally(demo_app, observer) -> None:
    async with demo_app.run_test(size=(140, 40)) as pilot:
        uuid = await select(pilot, observer, "[b]evil ünïcode & co")
        table = pilot.app.main.table
        row = [r.uuid for r in table.order].index(uuid) + 1 - int(table.scroll_offset.y)
        assert "[b]evil ünïcode & co" in table.render_line(row).text


async def test_tiny_terminal_does_not_crash(demo_app) -> None:
    async with demo_app.run_test(size=(40, 12)) as pilot:
        app = await ready(pilot)
        await pilot.press("j", "enter", "escape", "question_mark", "escape", "2", "3")
        await pilot.pause(0.3)
        assert app.is_running


async def test_panes_hide_and_resize(demo_app) -> None:
    async with demo_app.run_test(size=(120, 40)) as pilot:
        app = await ready(pilot)
        perf, log = app.main.perf, app.main.log_pane
        await pilot.press("2")
        assert not perf.display
        await pilot.press("3")
        assert not log.display
        assert not app.main.query_one("#lower").display
        await pilot.press("2")
        await pilot.pause()
        lower = app.main.query_one("#lower")
        before = lower.outer_size.height
        await pilot.press("plus")
        await pilot.pause()
        assert perf.display
        assert lower.outer_size.height == before + 2


async def test_bad_settings_fall_back_with_a_message(demo_daemon, tmp_path: Path) -> None:
    cfg = tmp_path / "config" / "xentui"
    cfg.mkdir(parents=True)
    (cfg / "config.toml").write_text('interval = "fast"\ncolour = 3\nsort = "cpu"\n')
    from xentui.ui.launch import make_app

    app = make_app(demo_daemon[0].uri, log_to_file=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        text = "\n".join(line.text for line in app.main.log_pane.lines)
        assert "interval" in text and "colour" in text
        assert app.host.interval == 2.0
        assert app.main.table.sort_key == "cpu"


async def test_keymap_override_and_clash(demo_daemon, observer, tmp_path: Path) -> None:
    cfg = tmp_path / "config" / "xentui"
    cfg.mkdir(parents=True)
    (cfg / "config.toml").write_text('[keymap]\ndetail = "o"\nstart = "q"\n')
    from xentui.ui.launch import make_app

    app = make_app(demo_daemon[0].uri, log_to_file=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "db01")
        log = " ".join(" ".join(line.text for line in app.main.log_pane.lines).split())
        assert "'q' would belong to both quit and start" in log
        await pilot.press("o")
        assert isinstance(app.screen, DetailScreen)


async def test_greyed_key_says_why(demo_daemon, observer) -> None:
    app = build_app(demo_daemon[0].uri, readonly=True)
    async with app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "web01")
        await pilot.press("S")
        await pilot.pause(0.2)
        said = [n.message for n in app._notifications]
        assert any(m.startswith("Shut down:") and "read-only" in m for m in said)
    assert state(observer, "web01") == libvirt.VIR_DOMAIN_RUNNING
