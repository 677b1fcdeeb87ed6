"""The terminal side of an attached console, on a pseudo-terminal: raw while attached,
restored afterwards, the title on top, keys up to Ctrl+] to the guest, the guest's
bytes to the screen, and the session's end returning by itself."""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import struct
import termios
from collections.abc import Iterator

import pytest

from xentui.backend.console import ConsoleSession
from xentui.ui.console_terminal import RETURNED, TerminalBridge


class Recorder(ConsoleSession):
    """A session that keeps what was written to it."""

    def __init__(self) -> None:
        super().__init__("web01", "xen-demo")
        self.sent = bytearray()
        self.released = False

    def _send(self, data: bytes) -> None:
        self.sent += data

    def _release(self) -> None:
        self.released = True


@pytest.fixture
def tty_pair() -> Iterator[tuple[int, int]]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    try:
        yield master, slave
    finally:
        os.close(master)
        os.close(slave)


async def read_until(fd: int, needle: bytes, timeout: float = 3.0) -> bytes:
    loop = asyncio.get_running_loop()
    got = bytearray()
    deadline = loop.time() + timeout
    os.set_blocking(fd, False)
    while needle not in got:
        if loop.time() > deadline:
            raise AssertionError(f"{needle!r} not written: {bytes(got)!r}")
        try:
            got += os.read(fd, 4096)
        except BlockingIOError:
            await asyncio.sleep(0.01)
    return bytes(got)


async def test_keys_to_the_guest_until_ctrl_bracket(tty_pair: tuple[int, int]) -> None:
    master, slave = tty_pair
    before = termios.tcgetattr(slave)
    session = Recorder()
    session.received(b"early banner\r\n")  # before the bridge listens: kept, then shown
    bridge = TerminalBridge(session, "xentui: console of web01 on xen-demo", slave, slave)
    task = asyncio.create_task(bridge.run())
    shown = await read_until(master, b"early banner")
    assert b"xentui: console of web01 on xen-demo" in shown
    assert not termios.tcgetattr(slave)[3] & termios.ICANON  # raw while attached
    session.received(b"login: ")
    await read_until(master, b"login: ")
    os.write(master, b"root\r")
    await asyncio.sleep(0.1)
    os.write(master, b"ls\x1dnot for the guest")
    assert await asyncio.wait_for(task, 3) == RETURNED
    assert bytes(session.sent) == b"root\rls"
    assert termios.tcgetattr(slave) == before  # the terminal is as it was


async def test_the_session_ending_returns_by_itself(tty_pair: tuple[int, int]) -> None:
    master, slave = tty_pair
    before = termios.tcgetattr(slave)
    session = Recorder()
    task = asyncio.create_task(TerminalBridge(session, "title", slave, slave).run())
    await read_until(master, b"title")
    session.finish("the console closed")
    assert await asyncio.wait_for(task, 3) == "the console closed"
    assert termios.tcgetattr(slave) == before
    session.write(b"late")
    assert session.sent == b""  # an ended session takes no more bytes
