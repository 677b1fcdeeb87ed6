"""Keys typed in one burst (a fast typist, a paste, an SSH session that delivers them
together) reach what they were typed into, never the table's one-key actions.

The pilot waits for the app to settle between keys; a terminal does not. These tests
post every key of a burst at once, as Textual's driver does with what it reads in one
go, and check the domains on a second connection to the daemon."""

from __future__ import annotations

import random
import string

import libvirt
import pytest
from textual import events
from textual.keys import _character_to_key
from textual.widgets import Input, Static

from tests.support.pilot_helpers import asking, domain_gone, select, state, until
from tests.ui.conftest import build_app
from xentui.config import Settings
from xentui.ui.app import XentuiApp
from xentui.ui.screens.confirm import ConfirmScreen, TypeNameScreen

RUNNING, PAUSED, SHUTOFF = (
    libvirt.VIR_DOMAIN_RUNNING,
    libvirt.VIR_DOMAIN_PAUSED,
    libvirt.VIR_DOMAIN_SHUTOFF,
)
SPECIAL = {"\r": "enter", "\x1b": "escape", "\t": "tab"}


def burst(app: XentuiApp, text: str) -> None:
    """Post every character of `text` as a key event at once (no waiting between)."""
    for ch in text:
        app.post_message(events.Key(SPECIAL.get(ch) or _character_to_key(ch), ch))


def world(obs: libvirt.virConnect) -> dict[str, tuple[int, int, int, int]]:
    """Every domain's state, autostart, managed-save image and snapshot count."""
    return {
        d.name(): (
            d.state()[0],
            d.autostart(),
            d.hasManagedSaveImage(0),
            d.snapshotNum(0),
        )
        for d in obs.listAllDomains(0)
    }


def filter_box(app: XentuiApp) -> Input:
    return app.main.query_one("#filter", Input)


@pytest.mark.parametrize(
    ("selected", "typed"),
    [
        ("web01", "/pa"),
        ("web01", "/save"),
        ("web01", "/web"),
        ("web01", "/DnXFr"),
        ("build-runner", "/pause"),
        ("dev-sandbox", "/swapSnNa"),
    ],
)
async def test_burst_after_slash_reaches_only_the_filter(
    demo_app, observer, selected: str, typed: str
) -> None:
    before = world(observer)
    async with demo_app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, selected)
        burst(demo_app, typed)
        await until(pilot, lambda: filter_box(demo_app).value == typed[1:], 3.0,
                    f"filter holding {typed[1:]!r}")
        await pilot.pause(0.5)
        assert filter_box(demo_app).value == typed[1:]
        assert not isinstance(demo_app.screen, ConfirmScreen | TypeNameScreen)
    assert world(observer) == before


async def test_pasting_200_characters_into_the_filter(demo_app, observer) -> None:
    rng = random.Random(13)
    text = "".join(rng.choice(string.ascii_letters + string.digits + "-_.:") for _ in range(200))
    before = world(observer)
    async with demo_app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "web01")
        burst(demo_app, "/" + text)
        await until(pilot, lambda: filter_box(demo_app).value == text, 5.0, "typed filter")
        filter_box(demo_app).value = ""
        await pilot.pause(0.1)
        demo_app.main.table.focus()
        await pilot.pause(0.1)
        burst(demo_app, "/")
        demo_app.post_message(events.Paste(text))
        await until(pilot, lambda: filter_box(demo_app).value == text, 5.0, "pasted filter")
        await pilot.pause(0.3)
    assert world(observer) == before


async def test_escape_in_the_filter_goes_back_to_the_table(demo_app, observer) -> None:
    before = world(observer)
    async with demo_app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "web01")
        burst(demo_app, "/xy\x1bp")
        await pilot.pause(0.5)
        box = filter_box(demo_app)
        await until(pilot, lambda: demo_app.focused is demo_app.main.table
                    and box.value == "" and not box.display, 3.0)
        await pilot.pause(0.3)
    # The `p` after Esc either reached the box before Esc cleared it or asked first.
    assert world(observer) == before


async def test_name_typed_in_the_same_burst_goes_into_the_name_dialog(
    demo_app, observer
) -> None:
    async with demo_app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "dev-sandbox")
        burst(demo_app, "Dwrongpa\r")
        await until(pilot, lambda: isinstance(demo_app.screen, TypeNameScreen), 3.0)
        await pilot.pause(0.5)
        assert demo_app.screen.query_one(Input).value == "wrongpa"
        assert isinstance(demo_app.screen, TypeNameScreen)
        assert observer.lookupByName("dev-sandbox")
        demo_app.screen.query_one(Input).value = ""
        burst(demo_app, "dev-sandbox\r")

        await until(pilot, lambda: domain_gone(observer, "dev-sandbox"), 5.0, "undefined")


async def test_yes_typed_before_the_question_does_not_answer_it(demo_app, observer) -> None:
    before = world(observer)
    async with demo_app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "web01")
        burst(demo_app, "Sy")
        await until(pilot, lambda: asking(demo_app), 3.0)
        await pilot.pause(0.5)
        assert isinstance(demo_app.screen, ConfirmScreen)
        assert world(observer) == before
        await pilot.press("y")
        await until(pilot, lambda: state(observer, "web01") == SHUTOFF, 5.0)


async def test_force_off_burst_waits_for_its_dialog(demo_app, observer) -> None:
    """Force off reads the domain before asking: keys typed meanwhile must wait."""
    before = world(observer)
    async with demo_app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "web02")
        burst(demo_app, "Fpyawn")
        await until(pilot, lambda: asking(demo_app), 3.0)
        await pilot.pause(0.5)
        assert isinstance(demo_app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause(0.3)
    assert world(observer) == before


async def test_dialog_names_the_domain_and_the_host(demo_app, observer) -> None:
    async with demo_app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "web01")
        await pilot.press("r")
        await until(pilot, lambda: asking(demo_app), 3.0)
        text = str(demo_app.screen.query_one(".question", Static).render())
        assert "web01" in text
        assert demo_app.host.info is not None
        assert demo_app.host.info.hostname in text


@pytest.mark.parametrize(
    ("confirm", "name", "key", "after"),
    [
        ({"pause": False}, "web01", "p", PAUSED),
        ({"shutdown": False}, "web01", "S", SHUTOFF),
    ],
)
async def test_confirmation_switched_off_runs_at_once(
    demo_daemon, observer, confirm, name, key, after
) -> None:
    app = build_app(demo_daemon[0].uri,
                    settings=Settings(interval=0.3, shutdown_timeout=1.0, confirm=confirm))
    async with app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, name)
        await pilot.press(key)
        await until(pilot, lambda: state(observer, name) == after, 5.0)
        assert not isinstance(app.screen, ConfirmScreen)


async def test_confirmation_switched_on_for_start(demo_daemon, observer) -> None:
    app = build_app(demo_daemon[0].uri,
                    settings=Settings(interval=0.3, shutdown_timeout=1.0,
                                      confirm={"start": True}))
    async with app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "backup")
        await pilot.press("s")
        await until(pilot, lambda: asking(app), 3.0)
        await pilot.pause(0.3)
        assert state(observer, "backup") == SHUTOFF
        await pilot.press("y")
        await until(pilot, lambda: state(observer, "backup") == RUNNING, 5.0)


async def test_keys_behind_enter_or_esc_in_the_filter_reach_the_table(demo_app,
                                                                      observer) -> None:
    """`/web⏎*` marks what the filter shows (the `*` is not typed into the filter);
    `/db01⏎` then `/⎋p` in one burst: Esc clears the filter and `p` asks to pause the
    selected domain; nothing acts before the question is answered."""
    before = world(observer)
    async with demo_app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "web01")
        table = demo_app.main.table
        burst(demo_app, "/web\r*")
        await until(pilot, lambda: len(table.marked) == 2, 3.0, "two marked")
        assert filter_box(demo_app).value == "web"
        assert {table.figures[r].name for r in table.marked} == {"web01", "web02"}
        burst(demo_app, "u/db01\r")
        await until(pilot, lambda: not table.marked and table.filter_text == "db01", 3.0)
        burst(demo_app, "/\x1bp")
        await until(pilot, lambda: asking(demo_app), 3.0, "the pause question")
        assert table.filter_text == "" and filter_box(demo_app).value == ""
        assert "db01" in demo_app.screen.question
        await pilot.press("n")
    assert world(observer) == before


async def test_keys_typed_behind_an_answer_reach_the_table(demo_app, observer) -> None:
    """`y` then `j` and `p` in one burst: `y` pauses the selected domain, `j` moves to the
    next row and `p` asks about that one (before, the dialog `y` closed took both);
    `n` then `k` in one burst cancels and moves back up."""
    async with demo_app.run_test(size=(140, 40)) as pilot:
        uuid = await select(pilot, observer, "web01")
        table = demo_app.main.table
        below = table.figures[table.order[table.order.index(table.selected) + 1]].name
        await pilot.press("p")
        await until(pilot, lambda: asking(demo_app), 3.0, "the pause question")
        burst(demo_app, "yjp")
        await until(pilot, lambda: state(observer, "web01") == PAUSED, 5.0, "web01 paused")
        await until(pilot, lambda: asking(demo_app) and below in demo_app.screen.question,
                    3.0, f"the question about {below}")
        burst(demo_app, "nk")
        await until(pilot, lambda: not asking(demo_app) and table.selected is not None
                    and table.selected.uuid == uuid, 3.0, "back on web01")
        assert state(observer, below) == RUNNING


async def test_keys_typed_behind_esc_in_the_detail_screen_reach_the_table(demo_app,
                                                                         observer) -> None:
    """Esc (read alone) then `j` at once: the detail screen closes and `j` moves the
    cursor, instead of going to the closing screen."""
    async with demo_app.run_test(size=(140, 40)) as pilot:
        await select(pilot, observer, "web01")
        table = demo_app.main.table
        below = table.order[table.order.index(table.selected) + 1]
        await pilot.press("enter")
        await until(pilot, lambda: demo_app.screen is not demo_app.main, 3.0, "the detail")
        burst(demo_app, "\x1bj")
        await until(pilot, lambda: table.selected == below, 3.0, "the cursor on the next row")
        assert demo_app.screen is demo_app.main
