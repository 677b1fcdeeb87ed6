"""`c` in a real terminal: xentui in tmux attaches to a QEMU guest's serial console,
reads its banner, types into it and reads the echo, returns with Ctrl+] to a console
that still works; takes over a console another client holds after a yes; comes back by
itself, with a log line, when the guest is destroyed while attached.

What the guest received is checked through its echo (the guest's own serial port); the
other client is a libvirt connection of this test process.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
import uuid as uuidlib
from collections.abc import Callable, Iterator
from pathlib import Path

import libvirt
import pytest

from tests.integration.test_console import Guest, running_guest
from tests.integration.test_terminal_keys import ROOT, Terminal
from tests.support.daemons import PrivateDaemon
from tests.support.serial_guest import BANNER

pytestmark = pytest.mark.integration

TITLE = "xentui: console of"


@pytest.fixture
def guest(qemu_daemon: PrivateDaemon) -> Iterator[Guest]:
    with running_guest(qemu_daemon) as g:
        yield g


@pytest.fixture
def term(guest: Guest, tmp_path: Path) -> Iterator[Terminal]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    name = f"xentui-console-{uuidlib.uuid4().hex[:8]}"
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
           "TERM": "xterm-256color", "LC_ALL": "C.UTF-8"}
    exports = " ".join(f"{k}={v}" for k, v in env.items())
    cmd = f"cd {ROOT} && env {exports} {sys.executable} -m xentui -c '{guest.uri}' -d 0.5"
    t = Terminal(name, tmp_path / "state" / "xentui" / "events.jsonl")
    t.tmux("new-session", "-d", "-s", name, "-x", "140", "-y", "40", "sh", "-c", cmd,
           ";", "set-option", "-t", name, "remain-on-exit", "on")
    try:
        t.wait(lambda: guest.name in t.screen(), 30, "the domain table")
        yield t
    finally:
        t.tmux("kill-session", "-t", name)


def log_texts(t: Terminal) -> list[str]:
    if not t.log.exists():
        return []
    return [json.loads(ln)["text"] for ln in t.log.read_text().splitlines() if ln.strip()]


def wait(t: Terminal, cond: Callable[[], bool], timeout: float, what: str) -> None:
    """`Terminal.wait`, with the app's log file added to a failure."""
    try:
        t.wait(cond, timeout, what)
    except AssertionError as err:
        raise AssertionError(f"{err}\nlog file:\n" + "\n".join(log_texts(t))) from None


def cut_off(stream: libvirt.virStream, timeout: float) -> bool:
    """Whether the daemon ended this (non-blocking) stream within `timeout`. This process
    runs no libvirt event loop: a call on the connection makes it read what came in."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            stream.connect().getLibVersion()
            data = stream.recv(4096)
        except libvirt.libvirtError:
            return True
        if data == b"":
            return True
        if data == -2:
            time.sleep(0.05)
    return False


def attached(t: Terminal) -> bool:
    return t.screen().startswith(TITLE)


def at_table(t: Terminal, name: str) -> bool:
    screen = t.screen()
    return "Domains" in screen and name in screen and TITLE not in screen


def test_attach_type_return_take_over_and_guest_end(term: Terminal, guest: Guest) -> None:
    t = term
    # The guest is the daemon's only domain: the cursor is on it. (No filter dance: an
    # Escape and the next key read together by a busy machine arrive as Alt+key.)
    wait(t, lambda: "Domains 1 (1 running)" in t.screen(), 10, "one running domain")
    t.send("c")
    wait(t, lambda: attached(t), 10, "the console's top line")
    top = t.screen().splitlines()[0]
    assert guest.name in top and "Ctrl+] returns" in top
    wait(t, lambda: BANNER.decode() in t.screen(), 10, "the guest's banner")
    t.send("hello", literal=True)
    wait(t, lambda: "hello" in t.screen(), 5, "the guest's echo of hello")

    t.send("C-]")
    wait(t, lambda: at_table(t, guest.name), 5, "the console's table again")
    assert any("returned with Ctrl+]" in line for line in log_texts(t))
    t.send("?")  # keys still reach the app
    wait(t, lambda: "Esc, q or ? closes" in t.screen(), 5, "the help screen")
    t.send("Escape")
    wait(t, lambda: at_table(t, guest.name), 5, "help closed")

    # Another client holds the console: the app asks, then takes it over.
    other = libvirt.open(guest.uri)
    try:
        stream = other.newStream(libvirt.VIR_STREAM_NONBLOCK)
        other.lookupByUUIDString(guest.uuid).openConsole(None, stream, 0)
        t.send("c")
        wait(t, lambda: "Another session holds the console" in t.screen(), 10, "the question")
        t.send("y")
        wait(t, lambda: attached(t), 10, "the console after taking it over")
        t.send("again", literal=True)
        wait(t, lambda: "again" in t.screen(), 5, "the guest's echo of again")
        assert cut_off(stream, 5), "the other client still holds the console"
    finally:
        other.close()

    # The guest is destroyed while attached: back to the table by itself, with a reason.
    killer = libvirt.open(guest.uri)
    try:
        killer.lookupByUUIDString(guest.uuid).destroy()
    finally:
        killer.close()
    wait(t, lambda: at_table(t, guest.name), 10, "the table after the guest ended")
    wait(t, lambda: any("console closed" in line for line in log_texts(t)), 5, "the log line")
    wait(t, lambda: "Domains 0" in t.screen(), 5, "the transient guest gone from the table")
    assert t.alive()
