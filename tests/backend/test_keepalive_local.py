"""Over a local daemon's socket keepalive stays off while passes are answered (libvirt
would wake its event thread on every answer) and comes on once a call goes unanswered."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time

from tests.backend.conftest import daemon_node
from tests.support import daemons
from xentui.backend.errors import BackendError
from xentui.backend.libvirt import keepalive
from xentui.backend.libvirt.host import LibvirtHost as Host


async def test_answered_passes_leave_it_off_a_frozen_daemon_turns_it_on(
    testd: daemons.PrivateDaemon,
) -> None:
    host = Host(daemon_node(testd, 200), interval=0.2, per_domain=True)
    await host.connect()
    try:
        watch = host.link._keepalive
        assert watch is not None, "a local daemon's socket gets keepalive on demand"
        for _ in range(8):
            await host.sample()
            await asyncio.sleep(0.2)
        assert not watch.armed
        assert testd.pid is not None
        os.kill(testd.pid, signal.SIGSTOP)
        try:
            frozen = time.monotonic()
            waiting = asyncio.ensure_future(host.sample())
            while not watch.armed:
                assert time.monotonic() - frozen < keepalive.ARM_AFTER_S + 3, "never armed"
                await asyncio.sleep(0.05)
            assert time.monotonic() - frozen >= keepalive.ARM_AFTER_S * 0.9
        finally:
            os.kill(testd.pid, signal.SIGCONT)
        with contextlib.suppress(BackendError):
            await asyncio.wait_for(waiting, 10)
    finally:
        await host.close()
