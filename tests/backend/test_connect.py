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

import libvirt
import pytest

from xentui.backend.errors import ConnectError
from xentui.backend.libvirt import connection
from xentui.backend.libvirt.host import LibvirtHost as Host
from xentui.backend.models import LinkState
from xentui.demo import demo_uri


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


async def test_a_second_open_waits_only_for_an_unanswered_first(
        node_file, monkeypatch: pytest.MonkeyPatch) -> None:
    """An open still waiting on libvirt refuses a second one (none stacks up behind a
    host that never answers); once libvirt has answered, a new open goes ahead at once,
    even while the first attempt's thread is still handing its answer over."""
    release, handed_over = threading.Event(), threading.Event()
    real_open, real_deliver = connection._open_blocking, connection._deliver

    def slow_open(uri: str, readonly: bool) -> libvirt.virConnect:
        release.wait(10)
        return real_open(uri, readonly)

    def lingering_deliver(*args: object) -> bool:
        taken = real_deliver(*args)  # type: ignore[arg-type]
        handed_over.wait(10)  # the thread lives on after the answer is taken
        return taken

    monkeypatch.setattr(connection, "_open_blocking", slow_open)
    monkeypatch.setattr(connection, "_deliver", lingering_deliver)
    link = connection.HostConnection(demo_uri(node_file))
    try:
        first = asyncio.create_task(link.open(timeout=10))
        await asyncio.sleep(0.1)
        with pytest.raises(ConnectError, match="previous attempt is still waiting"):
            await link.open(timeout=10)
        release.set()
        conn = await first
        assert conn.getURI().startswith("test://")
        link.release()
        second = await link.open(timeout=10)  # the first's thread has not ended yet
        assert second.isAlive() == 1
        assert [t for t in threading.enumerate() if t.name == "libvirt-open"]
    finally:
        release.set()
        handed_over.set()
        link.shutdown()


async def test_a_call_cancelled_while_queued_is_not_left_in_flight(node_file) -> None:
    """Closing waits for calls in flight; a call whose caller was cancelled before a
    pool thread took it never runs, and must not hold the close for its grace."""
    link = connection.HostConnection(demo_uri(node_file), pool_size=1)
    await link.open(timeout=10)
    gate, ran = threading.Event(), []
    try:
        busy = asyncio.create_task(link.call(gate.wait, 10))
        queued = asyncio.create_task(link.call(ran.append, "queued"))
        await asyncio.sleep(0.1)
        queued.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await queued
        gate.set()
        assert await busy is True
        t0 = time.monotonic()
        assert await asyncio.to_thread(link.wait_idle, 5.0)
        assert time.monotonic() - t0 < 1.0
        assert ran == []
    finally:
        gate.set()
        link.shutdown()


def test_backend_and_batch_import_headless():
    code = (
        "import xentui.backend.libvirt.host, xentui.batch, sys; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')); "
        "assert not bad, bad"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=30)
    assert res.returncode == 0, res.stderr
