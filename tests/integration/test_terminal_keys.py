"""Keys as a person sends them: xentui in a real terminal (tmux), each burst delivered
by one `send-keys` call, domains checked on a second connection to the daemon."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import random
import shutil
import string
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import libvirt
import pytest

from tests.support.daemons import PrivateDaemon
from tests.support.demo_on_daemon import populate
from tests.ui.test_type_ahead import world

ROOT = Path(__file__).resolve().parents[2]
# One tmux server per test process: pytest-xdist workers and other runs on this machine
# each get their own (it exits with its last session).
SOCKET = f"xentui-tests-{os.getpid()}"
# Without COLUMNS/LINES (pytest-xdist workers have 80x24 there), which would size the app
# in the pane instead of the pane's own size.
TMUX_ENV = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")} | {"TMUX": ""}


@atexit.register
def _remove_tmux_socket() -> None:
    """tmux leaves its socket file behind when its last session ends."""
    path = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}" / SOCKET
    with contextlib.suppress(OSError):
        path.unlink()


@dataclass
class Terminal:
    """One tmux session running xentui."""

    name: str
    log: Path

    def tmux(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True,
                             timeout=10, env=TMUX_ENV)
        return out.stdout

    def send(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", self.name, *(["-l"] if literal else []), *keys)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def alive(self) -> bool:
        return self.tmux("display-message", "-p", "-t", self.name, "#{pane_dead}").strip() == "0"

    def wait(self, cond: Callable[[], bool], timeout: float, what: str) -> None:
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > end:
                raise AssertionError(f"{what} not seen within {timeout:g} s:\n{self.screen()}")
            time.sleep(0.1)

    def actions(self) -> list[str]:
        """The 'under way' lines of actions the app ran, from its log file."""
        if not self.log.exists():
            return []
        lines = [json.loads(ln) for ln in self.log.read_text().splitlines() if ln.strip()]
        return [r["text"] for r in lines if r.get("kind") == "action" and "under way" in r["text"]]


@pytest.fixture
def terminal(daemon: PrivateDaemon, observer: libvirt.virConnect,
             tmp_path: Path) -> Iterator[Terminal]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    populate(observer)
    name = f"xentui-{uuid.uuid4().hex[:8]}"
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
           "TERM": "xterm-256color", "LC_ALL": "C.UTF-8"}
    exports = " ".join(f"{k}={v}" for k, v in env.items())
    cmd = f"cd {ROOT} && env {exports} {sys.executable} -m xentui -c '{daemon.uri}' -d 0.5"
    term = Terminal(name, tmp_path / "state" / "xentui" / "events.jsonl")
    # remain-on-exit: if xentui dies, the pane stays (dead) with what it printed.
    term.tmux("new-session", "-d", "-s", name, "-x", "160", "-y", "45", "sh", "-c", cmd,
              ";", "set-option", "-t", name, "remain-on-exit", "on")
    try:
        term.wait(lambda: "web01" in term.screen(), 20, "the domain table")
        yield term
    finally:
        term.tmux("kill-session", "-t", name)


def select_web01(term: Terminal) -> None:
    """Filter down to web01 (cursor on it), then clear the filter: web01 stays selected."""
    term.send("/web01", literal=True)
    term.send("Enter")
    term.wait(lambda: "web02" not in term.screen(), 5, "the filter to web01")
    term.send("Escape")
    term.wait(lambda: "web02" in term.screen(), 5, "the filter cleared")


@pytest.mark.parametrize("typed", ["/pa", "/save", "/DnXFr", "/web"])
def test_typed_burst_reaches_only_the_filter(terminal: Terminal, observer: libvirt.virConnect,
                                             typed: str) -> None:
    before = world(observer)
    select_web01(terminal)
    terminal.send(typed, literal=True)
    terminal.wait(lambda: typed[1:] in terminal.screen(), 5, f"{typed[1:]!r} in the filter")
    time.sleep(1.0)
    assert world(observer) == before
    assert terminal.actions() == []


def test_pasting_200_characters(terminal: Terminal, observer: libvirt.virConnect) -> None:
    rng = random.Random(5)
    text = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(200))
    before = world(observer)
    select_web01(terminal)
    terminal.send("/" + text, literal=True)
    # The box is narrower than 200 characters: its visible end is what was typed last.
    terminal.wait(lambda: text[-40:] in terminal.screen(), 10, "the pasted text")
    time.sleep(1.0)
    assert world(observer) == before
    assert terminal.actions() == []


NAMED = ["Up", "Down", "Left", "Right", "Escape", "Enter", "Tab", "BTab", "Home", "End",
         "PPage", "NPage", "BSpace", "C-a", "C-e", "C-n", "C-r", "C-l", "C-p", "F1"]
PRINTABLE = [c for c in string.ascii_letters + string.digits + "/-_.:+? " if c not in "qQ"]


def test_keystroke_fuzz_in_a_real_terminal(terminal: Terminal,
                                           observer: libvirt.virConnect) -> None:
    """Random bursts; afterwards the app still runs and every domain that changed had an
    action run on it (from the app's own log file: confirmed ones only, see the pilot
    fuzz for the confirmation check)."""
    rng = random.Random(11)
    before = world(observer)
    for _ in range(40):
        if rng.random() < 0.5:
            terminal.send("".join(rng.choice(PRINTABLE) for _ in range(rng.randint(1, 6))),
                          literal=True)
        else:
            terminal.send(*(rng.choice(NAMED) for _ in range(rng.randint(1, 3))))
        time.sleep(rng.choice((0.0, 0.05, 0.2)))
    time.sleep(2.0)
    assert terminal.alive(), terminal.screen()
    assert "Traceback" not in terminal.screen()
    after = world(observer)
    changed = {name for name in before if after.get(name) != before[name]}
    acted = " ".join(terminal.actions())
    assert all(name in acted for name in changed), (changed, acted)


def test_bulk_marks_typed_in_bursts(terminal: Terminal, observer: libvirt.virConnect) -> None:
    """`/web⏎*` in one burst marks what the filter shows; `py` in one burst asks and
    does not take the `y` typed before the question was on screen; a `y` after it does."""
    running = libvirt.VIR_DOMAIN_RUNNING
    paused = libvirt.VIR_DOMAIN_PAUSED
    terminal.send("/web", literal=True)
    terminal.send("Enter")
    terminal.send("*")
    terminal.wait(lambda: "2 marked" in terminal.screen(), 5, "two marked")
    terminal.send("Escape")
    terminal.wait(lambda: "db01" in terminal.screen(), 5, "the filter cleared")
    terminal.send("py", literal=True)
    terminal.wait(lambda: "Pause 2 domains" in terminal.screen(), 5, "the question")
    time.sleep(0.5)
    assert {observer.lookupByName(n).state()[0] for n in ("web01", "web02")} == {running}
    terminal.send("y")
    terminal.wait(lambda: all(observer.lookupByName(n).state()[0] == paused
                              for n in ("web01", "web02")), 10, "both paused")
    assert observer.lookupByName("db01").state()[0] == running
    terminal.send("u")
    terminal.wait(lambda: "marked" not in terminal.screen(), 5, "the marks cleared")


def test_escape_and_a_key_in_one_burst_are_two_keys(terminal: Terminal,
                                                    observer: libvirt.virConnect) -> None:
    """Esc and the key behind it in one read look like Meta+key to Textual; they act as
    the two keys typed: Esc leaves the filter, then the detail screen, and the key after
    it reaches the table (here `p`, whose question is answered to pause web01)."""
    paused = libvirt.VIR_DOMAIN_PAUSED
    terminal.send("/web01", literal=True)
    terminal.wait(lambda: "web02" not in terminal.screen(), 5, "the filter to web01")
    terminal.send("Escape", "p")  # one burst: ESC p
    terminal.wait(lambda: "Pause web01 on vm?" in terminal.screen(), 5, "the question")
    assert "web02" in terminal.screen()  # Esc cleared the filter (no `p` typed into it)
    terminal.send("n")
    terminal.wait(lambda: "Pause web01: cancelled" in terminal.screen(), 5, "the question gone")
    terminal.send("Enter")
    terminal.wait(lambda: "Domain web01" in terminal.screen(), 5, "the detail screen")
    terminal.send("Escape", "p")
    terminal.wait(lambda: "Pause web01 on vm?" in terminal.screen(), 5, "the question")
    assert "Domain web01" not in terminal.screen()
    terminal.send("y")
    terminal.wait(lambda: observer.lookupByName("web01").state()[0] == paused, 10,
                  "web01 paused")


def test_keys_typed_behind_an_answer_reach_the_table(terminal: Terminal,
                                                     observer: libvirt.virConnect) -> None:
    """`y j p` in one burst at a question: `y` pauses web01, `j` moves to web02 and `p`
    asks about it (the closing dialog used to take the `j` and the `p`)."""
    select_web01(terminal)
    terminal.send("p")
    terminal.wait(lambda: "Pause web01 on vm?" in terminal.screen(), 5, "the question")
    terminal.send("y", "j", "p")  # one burst
    terminal.wait(lambda: observer.lookupByName("web01").state()[0] == libvirt.VIR_DOMAIN_PAUSED,
                  10, "web01 paused")
    terminal.wait(lambda: "Pause web02 on vm?" in terminal.screen(), 5, "the question on web02")
    terminal.send("n")
    terminal.wait(lambda: "Pause web02: cancelled" in terminal.screen(), 5, "the answer")
    assert observer.lookupByName("web02").state()[0] == libvirt.VIR_DOMAIN_RUNNING
