"""Connection failures are quick, typed and readable, and never block the loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import threading
import time
from itertools import pairwise

import pytest

from xentui.backend.errors import ConnectError
from xentui.backend.libvirt.host import LibvirtHost as Host
from xentui.backend.models import LinkState


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "uri",
    [
        "::not a uri",
        "test://%zz",
        "nosuchdriver:///system",
        "test:///nonexistent/xentui/node.xml",
        pytest.param(None, id="closed-port"),
    ],
)
async def test_connect_errors_are_quick(uri):
    uri = uri or f"qemu+tcp://127.0.0.1:{closed_port()}/system"
    h = Host(uri, open_timeout=5)
    t0 = time.monotonic()
    with pytest.raises(ConnectError) as info:
        await h.connect()
    assert time.monotonic() - t0 < 3
    assert uri in str(info.value) and "\n" not in str(info.value)
    assert h.status.state is LinkState.LOST and not h.connected
    await h.close()


async def test_host_that_never_answers_times_out_without_blocking_the_loop():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    accepted: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            accepted.append(server.accept()[0])  # and never say a word

    threading.Thread(target=accept, daemon=True).start()
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.05)

    tick_task = asyncio.create_task(ticker())
    h = Host(f"qemu+tcp://127.0.0.1:{port}/system", open_timeout=1)
    try:
        t0 = time.monotonic()
        with pytest.raises(ConnectError, match="no answer"):
            await h.connect()
        took = time.monotonic() - t0
        assert 0.9 <= took < 2.0
        assert accepted, "the client never reached the listener"
        during = [t for t in ticks if t >= t0]
        assert len(during) >= took / 0.05 * 0.5
        gaps = [b - a for a, b in pairwise(during)]
        assert max(gaps) < 0.3
    finally:
        tick_task.cancel()
        await h.close()
        for s in accepted:
            s.close()
        server.close()


def test_backend_and_batch_import_headless():
    code = (
        "import xentui.backend.libvirt.host, xentui.batch, sys; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')); "
        "assert not bad, bad"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=30)
    assert res.returncode == 0, res.stderr
