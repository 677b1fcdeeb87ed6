"""Pilot tests of the panes and screens, each mounted in a tiny throwaway App."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console, RenderableType
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Input, Static

from xentui.backend.libvirt.host import LibvirtHost as Host
from xentui.demo import demo_uri, guest_xml, node_xml
from xentui.logfile import JsonLineLog
from xentui.ui.screens.confirm import ConfirmScreen, TypeNameScreen
from xentui.ui.screens.detail import DetailScreen
from xentui.ui.screens.help import HelpScreen
from xentui.ui.widgets.event_log import EventLog
from xentui.ui.widgets.graphs import PerformanceView

EVIL = "[b]evil ünïcode & co"


class ScreenApp(App[None]):
    """Pushes one screen at start and records what it was dismissed with."""

    def __init__(self, make: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self.make = make
        self.results: list[object] = []

    def on_mount(self) -> None:
        self.push_screen(self.make(), self.results.append)


class WidgetApp(App[None]):
    def __init__(self, widget_factory: Callable[[], object]) -> None:
        super().__init__()
        self.factory = widget_factory

    def compose(self) -> ComposeResult:
        yield self.factory()  # type: ignore[misc]


def plain(renderable: RenderableType | object, width: int = 120) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


# -- confirmation ------------------------------------------------------------------


@pytest.mark.parametrize(("key", "answer"), [("y", True), ("n", False), ("escape", False)])
async def test_confirm_keys(key: str, answer: bool) -> None:
    app = ScreenApp(lambda: ConfirmScreen(f"Force off {EVIL}?", "pull the plug"))
    async with app.run_test() as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press(key)
        await pilot.pause()
        assert app.results == [answer]
        assert not isinstance(app.screen, ConfirmScreen)


@pytest.mark.parametrize(("button", "answer"), [("#yes", True), ("#no", False)])
async def test_confirm_buttons(button: str, answer: bool) -> None:
    app = ScreenApp(lambda: ConfirmScreen("Reset?"))
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.click(button)
        await pilot.pause()
        assert app.results == [answer]


async def test_confirm_enter_defaults_to_no_and_text_is_literal() -> None:
    app = ScreenApp(lambda: ConfirmScreen(f"Force off {EVIL}?", "[red]x[/red]"))
    async with app.run_test() as pilot:
        await pilot.pause()
        texts = [plain(s.content) for s in app.screen.query(Static)]
        assert any(f"Force off {EVIL}?" in t for t in texts)
        assert any("[red]x[/red]" in t for t in texts)
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [False]


async def test_type_name_wrong_then_right() -> None:
    app = ScreenApp(lambda: TypeNameScreen(f"Undefine {EVIL}?", EVIL))
    async with app.run_test() as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TypeNameScreen)
        await pilot.press(*"[b]evil")
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == []
        assert app.screen is screen
        message = screen.query_one("#message", Static)
        assert "not the domain's name" in plain(message.content)
        field = screen.query_one(Input)
        field.value = ""
        await pilot.press(*EVIL)
        await pilot.pause()
        assert field.value == EVIL
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [True]


async def test_type_name_escape_refuses() -> None:
    app = ScreenApp(lambda: TypeNameScreen("Undefine x?", "x"))
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("x", "escape")
        await pilot.pause()
        assert app.results == [False]


# -- help --------------------------------------------------------------------------

ROWS = [("s", "Start", ""), ("F", "Force off", "not while shut off"), ("[b]", EVIL, "")]


@pytest.mark.parametrize("key", ["escape", "q", "question_mark"])
async def test_help_closes(key: str) -> None:
    app = ScreenApp(lambda: HelpScreen(ROWS))
    async with app.run_test() as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one("#help-table")
        assert table.row_count == 3  # type: ignore[attr-defined]
        assert table.get_row_at(2)[1].plain == EVIL  # type: ignore[attr-defined]
        await pilot.press(key)
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        assert app.results == [None]


# -- event log ---------------------------------------------------------------------


def log_text(log: EventLog) -> list[str]:
    return [strip.text.rstrip() for strip in log.lines]


async def test_event_log_is_literal_levelled_and_mirrored(tmp_path: Path) -> None:
    mirror = JsonLineLog(tmp_path / "events.jsonl")
    app = WidgetApp(lambda: EventLog(id="log", mirror=mirror))
    async with app.run_test(size=(100, 20)) as pilot:
        log = app.query_one(EventLog)
        log.add("info", f"{EVIL}: Started (booted)", when=0.0, kind="lifecycle")
        log.add("warn", "bell\x07 and escape\x1b[2J")
        log.add("error", "[red]not markup[/red]")
        await pilot.pause()
        lines = log_text(log)
        assert len(lines) == 3
        assert lines[0].endswith(f"info  {EVIL}: Started (booted)")
        assert lines[0][:8].count(":") == 2
        assert "WARN" in lines[1] and "bell\\x07 and escape\\x1b[2J" in lines[1]
        assert "ERROR" in lines[2] and "[red]not markup[/red]" in lines[2]
    records = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [r["level"] for r in records] == ["info", "warn", "error"]
    assert records[0]["text"] == f"{EVIL}: Started (booted)"
    assert records[0]["kind"] == "lifecycle"


async def test_event_log_is_bounded_and_survives_a_broken_mirror(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    mirror = JsonLineLog(blocker / "events.jsonl")
    app = WidgetApp(lambda: EventLog(id="log", mirror=mirror, max_lines=50))
    async with app.run_test() as pilot:
        log = app.query_one(EventLog)
        for i in range(120):
            log.add("info", f"line {i}")
        await pilot.pause()
        lines = log_text(log)
        assert len(lines) == 50
        assert sum("event log" in line and "WARN" in line for line in lines) <= 1
        assert lines[-1].endswith("line 119")
        assert mirror.error is not None


# -- performance -------------------------------------------------------------------


@pytest.fixture
async def demo_host(tmp_path: Path) -> AsyncIterator[Host]:
    """A private Xen-shaped test-driver host, sampled a few times."""
    guests = [
        guest_xml(EVIL, vcpus=2, vif=3, disks=2),
        guest_xml("web01", vif=4),
        guest_xml("stopped", state="shutoff"),
    ]
    node = tmp_path / "node.xml"
    node.write_text(node_xml(guests))
    host = Host(demo_uri(node), interval=0.05)
    await host.connect()
    for _ in range(4):
        await host.sample()
        await asyncio.sleep(0.02)
    try:
        yield host
    finally:
        await host.close()


def uuid_of(host: Host, name: str) -> str:
    assert host.last is not None
    return next(u for u, f in host.last.domains.items() if f.name == name)


async def test_performance_view_domain_and_host(demo_host: Host) -> None:
    app = WidgetApp(lambda: PerformanceView(id="perf"))
    async with app.run_test(size=(40, 12)) as pilot:
        perf = app.query_one(PerformanceView)
        uuid = uuid_of(demo_host, EVIL)
        perf.show_domain(demo_host.history, uuid, EVIL)
        await pilot.pause()
        text = perf.render().plain
        assert text.splitlines()[0].startswith(EVIL)
        for label in ("CPU", "Mem", "Net rx", "Net tx", "Disk rd", "Disk wr", "now"):
            assert label in text
        assert all(len(line) <= 40 for line in text.splitlines())

        paints = perf.paints
        perf.refresh_graphs()
        await pilot.pause()
        assert perf.paints == paints  # nothing new: no repaint

        await demo_host.sample()
        perf.refresh_graphs()
        await pilot.pause()
        assert perf.paints == paints + 1

        perf.display = False
        await pilot.pause()
        await demo_host.sample()
        perf.refresh_graphs()
        await pilot.pause()
        assert perf.paints == paints + 1  # hidden: no work

        perf.display = True
        await pilot.pause()
        assert perf.paints == paints + 2  # shown again: catches up

        assert demo_host.last is not None
        names = {u: f.name for u, f in demo_host.last.domains.items()}
        perf.ascii = True
        perf.show_host(demo_host.history, names, top=3)
        await pilot.pause()
        text = perf.render().plain
        assert "All CPU" in text
        assert text.isascii() or EVIL[:8] in text
        graph_chars = set("".join(line for line in text.splitlines() if "%" in line))
        assert not graph_chars & set("▁▂▃▄▅▆▇█")


# -- detail ------------------------------------------------------------------------


async def wait_loaded(app: App[None], pilot: object) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]


async def test_detail_screen_shows_domain_and_survives_undefine(demo_host: Host) -> None:
    uuid = uuid_of(demo_host, EVIL)
    app = ScreenApp(lambda: DetailScreen(demo_host, uuid, EVIL))
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_loaded(app, pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        assert screen.error is None and screen.detail is not None
        assert EVIL in plain(screen.query_one("#detail-title", Static).content)
        summary = plain(screen.query_one("#detail-summary", Static).content)
        assert "running" in summary and "persistent" in summary and "Balloon" in summary
        vcpus = plain(screen.query_one("#detail-vcpus", Static).content)
        assert "on pCPU" in vcpus
        devices = plain(screen.query_one("#detail-devices", Static).content)
        for dev in ("xvda", "xvdb", "vif3.0"):
            assert dev in devices
        assert "KiB/s" in devices
        assert f"{EVIL}-0.img" in devices
        xml = screen.query_one("#detail-xml-text", Static).content
        assert "<name>[b]evil ünïcode &amp; co</name>" in xml.code  # type: ignore[union-attr]

        await demo_host.sample()
        screen.refresh_figures()

        conn = demo_host.link.conn
        assert conn is not None
        dom = conn.lookupByUUIDString(uuid)
        dom.destroy()
        dom.undefine()
        await pilot.press("r")
        await wait_loaded(app, pilot)
        assert app.screen is screen and isinstance(screen, DetailScreen)
        assert screen.error is not None and "no longer exists" in screen.error
        status = screen.query_one("#detail-status", Static)
        assert "Could not read the domain" in plain(status.content)
        assert status.has_class("error")

        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DetailScreen)
        assert app.results == [None]


async def test_detail_screen_for_a_shut_off_domain(demo_host: Host) -> None:
    uuid = uuid_of(demo_host, "stopped")
    app = ScreenApp(lambda: DetailScreen(demo_host, uuid, "stopped"))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(app, pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.detail is not None
        assert "shutoff" in plain(screen.query_one("#detail-summary", Static).content)
        devices = plain(screen.query_one("#detail-devices", Static).content)
        assert "xvda" in devices and "not running" in devices


async def test_detail_screen_says_how_old_the_io_counters_are(demo_host: Host) -> None:
    """Off screen, a domain's disk and NIC counters are read every few passes: the
    detail screen says how old they are, and stops saying it once they are fresh."""
    uuid = uuid_of(demo_host, EVIL)
    app = ScreenApp(lambda: DetailScreen(demo_host, uuid, EVIL))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen)

        def devices() -> str:
            screen.refresh_figures()
            return plain(screen.query_one("#detail-devices", Static).content, width=200)

        demo_host.watch([])
        for _ in range(12):
            await asyncio.sleep(0.3)
            await demo_host.sample()
            assert demo_host.last is not None
            if demo_host.last.domains[uuid].sample.io_age_s >= 1.0:
                break
        age = demo_host.last.domains[uuid].sample.io_age_s
        assert age >= 1.0, "the I/O counters of an unwatched domain were read every pass"
        await pilot.pause()
        assert "counters read" in devices() and "before the other figures" in devices()

        demo_host.watch([uuid])
        await demo_host.sample()
        await pilot.pause()
        assert demo_host.last.domains[uuid].sample.io_age_s == 0
        assert "counters read" not in devices()
