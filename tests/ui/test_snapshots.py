"""SVG snapshots of the main screen, detail, help and confirmation (figures frozen)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.support.frozen_app import FIXED_TIME, frozen_app
from tests.support.pilot_helpers import until


async def first_pass(pilot: Pilot[int]) -> None:
    await until(pilot, lambda: pilot.app.passes >= 1)  # type: ignore[attr-defined]
    await pilot.pause()


def test_main_80x24(snap_compare, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    app = frozen_app(monkeypatch, tmp_path)
    assert snap_compare(app, terminal_size=(80, 24), run_before=first_pass)


def test_main_160x50(snap_compare, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    app = frozen_app(monkeypatch, tmp_path)
    assert snap_compare(app, terminal_size=(160, 50), run_before=first_pass)


def test_detail(snap_compare, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    async def open_detail(pilot: Pilot[int]) -> None:
        await first_pass(pilot)
        await pilot.press("j", "j", "enter")  # backup: shut off, so no clock-driven counters
        screen = pilot.app.screen
        await until(pilot, lambda: getattr(screen, "detail", None) is not None)
        await pilot.pause()

    app = frozen_app(monkeypatch, tmp_path)
    assert snap_compare(app, terminal_size=(120, 40), run_before=open_detail)


def test_help(snap_compare, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    async def open_help(pilot: Pilot[int]) -> None:
        await first_pass(pilot)
        await pilot.press("j", "question_mark")
        await pilot.pause()

    app = frozen_app(monkeypatch, tmp_path)
    assert snap_compare(app, terminal_size=(120, 40), run_before=open_help)


def test_confirm_force_off(snap_compare, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    async def ask(pilot: Pilot[int]) -> None:
        await first_pass(pilot)
        await pilot.press("j", "j", "j", "j", "j", "F")
        await pilot.pause(0.3)

    app = frozen_app(monkeypatch, tmp_path)
    assert snap_compare(app, terminal_size=(100, 30), run_before=ask)


def test_fleet_of_three_demo_hosts(snap_compare) -> None:
    """The fleet view on the demo fleet with its clocks held still."""
    from xentui.config import DEFAULT_COLUMNS, Settings
    from xentui.demo.host import demo_fleet
    from xentui.ui.app import XentuiApp

    fleet = demo_fleet(interval=2.0, live=False, clock=lambda: 1000.0,
                       wall=lambda: FIXED_TIME)
    columns = tuple(c for c in DEFAULT_COLUMNS if c != "uptime")
    app = XentuiApp(fleet, Settings(columns=columns), live=False)
    app.clock = lambda: FIXED_TIME

    async def passes(pilot: Pilot[int]) -> None:
        await until(pilot, lambda: app.passes >= 3)
        await pilot.press("j", "j")
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(160, 50), run_before=passes)


def test_bulk_question(snap_compare, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Three domains marked (the gutter shows), one of them skipped, one question."""
    async def ask(pilot: Pilot[int]) -> None:
        await first_pass(pilot)
        await pilot.press("space", "space", "j", "space", "S")
        await pilot.pause(0.3)

    app = frozen_app(monkeypatch, tmp_path)
    assert snap_compare(app, terminal_size=(120, 36), run_before=ask)
