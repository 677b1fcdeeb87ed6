"""The serial console over the connection xentui holds, against a QEMU guest that prints a
banner on its serial port and echoes what it reads (tests/support/serial_guest.py).

Backend: open through the neutral interface, read and write, busy and takeover, the
guest destroyed and the daemon gone while attached. The real terminal (tmux) is in
test_console_terminal.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid as uuidlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import libvirt
import pytest

from tests.support.daemons import PrivateDaemon
from tests.support.pilot_helpers import ready, until
from tests.support.serial_guest import BANNER, serial_disk, serial_xml
from xentui.backend.console import ConsoleSession
from xentui.backend.errors import ConsoleBusy, Unsupported
from xentui.backend.libvirt.console import NO_DEVICE_REASON
from xentui.backend.libvirt.host import LibvirtHost
from xentui.config import Settings
from xentui.ui.launch import make_app

pytestmark = pytest.mark.integration


@dataclass
class Guest:
    uri: str
    name: str
    uuid: str


@contextlib.contextmanager
def running_guest(daemon: PrivateDaemon, *, console: bool = True) -> Iterator[Guest]:
    """A transient talking guest on `daemon` (destroyed afterwards)."""
    if not daemon.running():
        daemon.start()  # a test below stops libvirtd
    name = f"xt-serial-{uuidlib.uuid4().hex[:6]}"
    disk = serial_disk(daemon.images_dir, name)
    daemon.chown(disk)
    conn = libvirt.open(daemon.uri)
    try:
        dom = conn.createXML(serial_xml(name, disk, console=console), 0)
        yield Guest(daemon.uri, name, dom.UUIDString())
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            conn.close()  # it may be dead: a test restarts libvirtd
        with contextlib.suppress(libvirt.libvirtError):
            again = libvirt.open(daemon.uri)
            try:
                again.lookupByName(name).destroy()
            finally:
                again.close()
        disk.unlink(missing_ok=True)


@pytest.fixture
def guest(qemu_daemon: PrivateDaemon) -> Iterator[Guest]:
    with running_guest(qemu_daemon) as g:
        yield g


class Heard:
    """What a session received, and why it ended."""

    def __init__(self, session: ConsoleSession) -> None:
        self.data = bytearray()
        self.end: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        session.listen(self.data.extend,
                       lambda reason: self.end.done() or self.end.set_result(reason))

    async def until(self, needle: bytes, timeout: float = 10.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while needle not in self.data:
            if loop.time() > deadline:
                raise AssertionError(f"{needle!r} not received within {timeout:g} s: "
                                     f"{bytes(self.data[-200:])!r}")
            await asyncio.sleep(0.02)

    async def ended(self, timeout: float = 10.0) -> str:
        return await asyncio.wait_for(asyncio.shield(self.end), timeout)


@contextlib.asynccontextmanager
async def connected(uri: str) -> AsyncIterator[LibvirtHost]:
    host = LibvirtHost(uri, interval=60.0)
    await host.connect()
    await host.sample()
    try:
        yield host
    finally:
        await asyncio.wait_for(host.close(), 15)


async def test_read_write_busy_takeover_and_guest_end(guest: Guest) -> None:
    async with connected(guest.uri) as host:
        assert await host.check_console(guest.uuid) is None
        first = await host.open_console(guest.uuid)
        one = Heard(first)
        await one.until(BANNER)
        first.write(b"hello")
        await one.until(b"hello")  # the guest echoed it: bytes went both ways

        with pytest.raises(ConsoleBusy):
            await host.open_console(guest.uuid)
        assert first.ended is None, "a refused second open must not end the first"

        second = await host.open_console(guest.uuid, force=True)
        two = Heard(second)
        reason = await one.ended(10)
        assert reason, "the session taken over ended without a reason"
        second.write(b"again")
        await two.until(b"again")
        assert b"again" not in one.data

        virsh = libvirt.open(guest.uri)  # a separate client pulls the plug
        try:
            virsh.lookupByUUIDString(guest.uuid).destroy()
        finally:
            virsh.close()
        reason = await two.ended(10)
        assert "closed" in reason or "failed" in reason or "hung up" in reason, reason
        assert not host.consoles.open


async def test_a_domain_without_a_console_says_so(qemu_daemon: PrivateDaemon) -> None:
    with running_guest(qemu_daemon, console=False) as mute:
        async with connected(mute.uri) as host:
            assert await host.check_console(mute.uuid) == NO_DEVICE_REASON
            fig = host.last.domains[mute.uuid] if host.last else None
            assert fig is not None and host.console_reason(fig.sample) == NO_DEVICE_REASON
            with pytest.raises(Unsupported, match="no serial port or console"):
                await host.open_console(mute.uuid)


async def test_the_key_greys_for_a_domain_without_a_console(qemu_daemon: PrivateDaemon,
                                                           tmp_path, monkeypatch) -> None:
    """Selecting a domain is enough: its devices are read in the background. A domain
    with a console keeps `c` and has a palette entry."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    with running_guest(qemu_daemon, console=False) as mute, running_guest(qemu_daemon) as talk:
        app = make_app(mute.uri, settings=Settings(interval=0.5), log_to_file=False)
        async with app.run_test(size=(140, 40)) as pilot:
            await ready(pilot, 20)
            await until(pilot, lambda: len(app.main.table.figures) >= 2, 10, "both guests")
            assert app.main.table.select(mute.uuid)
            await until(pilot, lambda: app.main.check_action("console", ()) is None, 5,
                        "c greyed")
            rows = {desc: why for _k, desc, why in app.help_rows()}
            assert rows["Console"] == NO_DEVICE_REASON
            assert not any(c.title.startswith("Console") for c in app.main.palette_commands())

            assert app.main.table.select(talk.uuid)
            await pilot.pause(1.0)  # its devices are read too: they have a console
            assert app.main.check_action("console", ()) is True
            titles = [c.title for c in app.main.palette_commands()]
            assert f"Console {talk.name}" in titles


async def test_the_daemon_going_away_ends_the_session(qemu_daemon: PrivateDaemon) -> None:
    with running_guest(qemu_daemon) as g:
        async with connected(g.uri) as host:
            session = await host.open_console(g.uuid)
            heard = Heard(session)
            await heard.until(BANNER)
            qemu_daemon.stop_libvirtd()
            try:
                reason = await heard.ended(15)
            finally:
                qemu_daemon.start()  # the guest survives: its QEMU keeps running
            assert reason
            session.write(b"after the end")  # dropped, never raises
