"""SVG snapshots of the main screen, detail, help and confirmation (figures frozen)."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tests.support.frozen_app import frozen_app
from tests.support.pilot_helpers import until


async def first_pass(pilot: Pilot[int]) -> None:
    await until(pilot, lambda: pilot.app.passes >= 1)  # type: ignore[attr-defined]
    await pilot.pause()


def test_main_80x24(snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:
    assert snap_compare(frozen_app(monkeypatch), terminal_size=(80, 24), run_before=first_pass)


def test_main_160x50(snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:
    assert snap_compare(frozen_app(monkeypatch), terminal_size=(160, 50), run_before=first_pass)


def test_detail(snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:
    async def open_detail(pilot: Pilot[int]) -> None:
        await first_pass(pilot)
        await pilot.press("j", "j", "enter")  # backup: shut off, so no clock-driven counters
        screen = pilot.app.screen
        await until(pilot, lambda: getattr(screen, "detail", None) is not None)
        await pilot.pause()

    assert snap_compare(frozen_app(monkeypatch), terminal_size=(120, 40), run_before=open_detail)


def test_help(snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:
    async def open_help(pilot: Pilot[int]) -> None:
        await first_pass(pilot)
        await pilot.press("j", "question_mark")
        await pilot.pause()

    assert snap_compare(frozen_app(monkeypatch), terminal_size=(120, 40), run_before=open_help)


def test_confirm_force_off(snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:
    async def ask(pilot: Pilot[int]) -> None:
        await first_pass(pilot)
        await pilot.press("j", "j", "j", "j", "j", "F")
        await pilot.pause(0.3)

    assert snap_compare(frozen_app(monkeypatch), terminal_size=(100, 30), run_before=ask)
