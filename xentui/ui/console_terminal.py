"""The terminal while attached to a console: raw mode, keys to the guest, the guest's
bytes to the screen, a line at the top saying how to get back, and Ctrl+] to return.

Runs on the asyncio loop while Textual is suspended: stdin is read with `add_reader`
(never a blocking read), the screen is written by a small thread (a terminal that stops
reading must not stall the loop), and the terminal is restored however it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import signal
import sys
import termios
import threading
import tty

from xentui.backend.console import ConsoleSession

ESCAPE_BYTE = 0x1D
"""Ctrl+] (as `virsh console` and `xl console`): back to xentui."""
RETURNED = "returned with Ctrl+]"
STDIN_CLOSED = "the terminal's input closed"
LEAVE = b"\x1b[r\x1b[0m\x1b[?1049l"
"""Whole screen scrolls again, attributes reset, back from the alternate screen."""


def _fd(stream: object) -> int:
    """A standard stream's descriptor if it is a terminal, else -1."""
    try:
        fd = stream.fileno()  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return -1
    return fd if isinstance(fd, int) and os.isatty(fd) else -1


def terminal_fds() -> tuple[int, int] | None:
    """The terminal's input and output (Textual writes to stderr); None: not a terminal."""
    stdin = _fd(sys.__stdin__)
    out = _fd(sys.__stderr__)
    if out < 0:
        out = _fd(sys.__stdout__)
    return None if stdin < 0 or out < 0 else (stdin, out)


def _dims(size: os.terminal_size) -> tuple[int, int]:
    """Columns and rows; a terminal that reports no size (0) is taken as 80x24."""
    return (size.columns or 80), max(size.lines or 24, 2)


def banner(title: str, size: os.terminal_size) -> bytes:
    """Alternate screen, `title` in reverse video on row 1, rows below scroll, cursor at
    row 2. The title is already free of control characters."""
    cols, rows = _dims(size)
    line = title[:cols].ljust(cols)
    text = f"\x1b[?1049h\x1b[H\x1b[2J\x1b[7m{line}\x1b[0m\x1b[2;{rows}r\x1b[2;1H"
    return text.encode("utf-8", "replace")


def redraw_title(title: str, size: os.terminal_size) -> bytes:
    """After a resize: the title again and the scroll region, the cursor kept."""
    cols, rows = _dims(size)
    line = title[:cols].ljust(cols)
    return f"\x1b7\x1b[2;{rows}r\x1b[1;1H\x1b[7m{line}\x1b[0m\x1b8".encode("utf-8", "replace")


class ScreenWriter(threading.Thread):
    """Writes bytes to the terminal in order, off the loop."""

    def __init__(self, fd: int) -> None:
        super().__init__(name="console-screen", daemon=True)
        self.fd = fd
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()

    def put(self, data: bytes) -> None:
        self._queue.put(data)

    def run(self) -> None:
        while (data := self._queue.get()) is not None:
            view = memoryview(data)
            try:
                while view:
                    view = view[os.write(self.fd, view):]
            except OSError:
                return

    def stop(self, timeout: float = 1.0) -> None:
        """Write what is queued, then stop (bounded: a stuck terminal is left behind)."""
        self._queue.put(None)
        self.join(timeout)


class TerminalBridge:
    """Joins the terminal to a console session until Ctrl+] or the session's end."""

    def __init__(self, session: ConsoleSession, title: str, fd_in: int, fd_out: int) -> None:
        self.session = session
        self.title = title
        self.fd_in = fd_in
        self.fd_out = fd_out
        self._done: asyncio.Future[str] | None = None

    def _end(self, reason: str) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_result(reason)

    def _keys(self) -> None:
        try:
            data = os.read(self.fd_in, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._end(STDIN_CLOSED)
            return
        cut = data.find(ESCAPE_BYTE)
        if cut < 0:
            self.session.write(data)
            return
        self.session.write(data[:cut])
        self._end(RETURNED)

    async def run(self) -> str:
        """Attach; return why it ended. The terminal is as it was afterwards."""
        loop = asyncio.get_running_loop()
        self._done = loop.create_future()
        saved = termios.tcgetattr(self.fd_in)
        screen = ScreenWriter(self.fd_out)
        screen.start()
        resized = False
        try:
            tty.setraw(self.fd_in)
            screen.put(banner(self.title, os.get_terminal_size(self.fd_out)))
            self.session.listen(screen.put, self._end)
            loop.add_reader(self.fd_in, self._keys)
            with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
                loop.add_signal_handler(signal.SIGWINCH, lambda: screen.put(
                    redraw_title(self.title, os.get_terminal_size(self.fd_out))))
                resized = True
            return await self._done
        finally:
            loop.remove_reader(self.fd_in)
            if resized:
                loop.remove_signal_handler(signal.SIGWINCH)
            self.session.unlisten()
            screen.put(LEAVE)
            screen.stop()
            termios.tcsetattr(self.fd_in, termios.TCSADRAIN, saved)
