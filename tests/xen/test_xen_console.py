"""The console of the rig's PV guest `tiny` over xen+ssh:// (the connection xentui holds,
no second login): its busybox shell on hvc0 runs what is typed; Domain-0 has none."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.xen.conftest import Rig
from xentui.backend.console import DOM0_CONSOLE_REASON, console_why_not
from xentui.backend.libvirt.host import LibvirtHost as Host

pytestmark = pytest.mark.xen


async def test_tiny_console_over_ssh(tiny_running: Rig) -> None:
    host = Host(tiny_running.ssh_uri, interval=1.0)
    await host.connect()
    try:
        result = await host.sample()
        figs = {f.name: f for f in result.domains.values()}
        dom0, tiny = figs["Domain-0"], figs["tiny"]
        assert console_why_not(dom0.sample, readonly=False,
                               known=host.console_reason(dom0.sample)) == DOM0_CONSOLE_REASON
        assert await host.check_console(tiny.uuid) is None
        session = await host.open_console(tiny.uuid)
        heard = bytearray()
        session.listen(heard.extend, lambda _reason: None)
        session.write(b"\recho xentui-$((6*7))\r")  # the shell, not an echo, makes the 42
        deadline = time.monotonic() + 30
        while b"xentui-42" not in heard:
            assert session.ended is None, session.ended
            assert time.monotonic() < deadline, bytes(heard[-300:])
            await asyncio.sleep(0.1)
        session.close()
    finally:
        await host.close()
