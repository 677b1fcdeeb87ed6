"""Small helpers for driving the real app with the pilot in integration tests."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import libvirt
import pytest
from textual.pilot import Pilot

from xentui.ui.app import XentuiApp
from xentui.ui.screens.confirm import ConfirmScreen


async def until(pilot: Pilot[int], cond: Callable[[], bool], timeout: float = 5.0,
                what: str = "condition") -> float:
    """Let the app run until `cond()` holds; return how long it took; fail after `timeout`."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not cond():
        if loop.time() - start > timeout:
            raise AssertionError(f"{what} not reached within {timeout:g} s")
        await pilot.pause(0.02)
    return loop.time() - start


async def passes_far_apart(pilot: Pilot[int], app: XentuiApp, interval: float = 3600.0) -> int:
    """Set the host's interval to `interval` and wait for the pass already scheduled under
    the old one; the pass count after it. Passes fall on the ticks of the interval's
    clock, counted from the app's start, so the next comes at the first multiple of
    `interval` since then, not `interval` from now: with 60 s, a test a minute into the
    app could meet that tick within seconds (seen once in CI-like runs). An hour keeps
    it away from any test."""
    app.host.interval = interval
    before = app.passes
    await until(pilot, lambda: app.passes > before, 5.0, "the pass scheduled before")
    return app.passes


async def ready(pilot: Pilot[int], timeout: float = 10.0) -> XentuiApp:
    """The app, once its first pass is on screen."""
    app = pilot.app
    assert isinstance(app, XentuiApp)
    await until(pilot, lambda: app.passes >= 1, timeout, "first pass")
    return app


async def select(pilot: Pilot[int], obs: libvirt.virConnect, name: str) -> str:
    """Move the app's cursor to the domain called `name` (looked up on `obs`); its UUID."""
    app = await ready(pilot)
    uuid = obs.lookupByName(name).UUIDString()
    assert app.main.table.select(uuid)
    await pilot.pause()
    return uuid


def state(obs: libvirt.virConnect, name: str) -> int:
    """A domain's state number, read on the observer connection."""
    return obs.lookupByName(name).state()[0]


def domain_gone(obs: libvirt.virConnect, name: str) -> bool:
    """Whether no domain called `name` exists any more, on the observer connection."""
    try:
        obs.lookupByName(name)
    except libvirt.libvirtError:
        return True
    return False


def asking(app: XentuiApp) -> bool:
    """A yes/no question is on screen and takes answers (keys sent before it was shown
    are dropped, as keys a person typed before seeing it)."""
    screen = app.screen
    return isinstance(screen, ConfirmScreen) and screen.shown


_STAMP = re.compile(r"^\d\d:\d\d:\d\d ")


def log_lines(app: XentuiApp) -> list[str]:
    """The Log pane's entries as plain text, wrapped lines joined back (with no space)."""
    entries: list[str] = []
    for line in app.main.log_pane.lines:
        text = line.text.rstrip()
        if entries and not _STAMP.match(text):
            entries[-1] += text.lstrip()
        else:
            entries.append(text)
    return entries


def log_has(app: XentuiApp, *words: str) -> bool:
    """Whether one Log pane entry holds every one of `words` (spaces ignored: the pane
    wraps long lines)."""
    squeeze = [w.replace(" ", "") for w in words]
    return any(all(w in entry.replace(" ", "") for w in squeeze) for entry in log_lines(app))


def header(app: XentuiApp) -> str:
    """The host bar as plain text."""
    return str(app.main.query_one("#hostbar").render())


def virsh(uri: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `virsh -c uri args...` as a separate client."""
    exe = shutil.which("virsh")
    if exe is None:
        pytest.skip("virsh is not installed")
    res = subprocess.run([exe, "-q", "-c", uri, *args], capture_output=True, text=True,
                         timeout=30, env={**os.environ, "LC_ALL": "C"}, check=False)
    if check:
        assert res.returncode == 0, f"virsh {' '.join(args)}: {res.stderr.strip()}"
    return res


class Stopwatch:
    """Named durations, printed at the end of a test (visible with `pytest -s`)."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.marks: dict[str, float] = {}

    def __setitem__(self, name: str, seconds: float) -> None:
        self.marks[name] = seconds
        print(f"[{self.title}] {name}: {seconds:.2f} s", flush=True)


@pytest.fixture
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Private XDG config and state dirs; yields the log file's path."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    yield tmp_path / "state" / "xentui" / "events.jsonl"


def wait_for(cond: Callable[[], bool], timeout: float, what: str = "condition") -> float:
    """Block until `cond()` holds (for subprocess tests); return the time it took."""
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"{what} not reached within {timeout:g} s")
        time.sleep(0.02)
    return time.monotonic() - t0
