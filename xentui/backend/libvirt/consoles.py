"""The consoles of one libvirt host: the sessions open on its connection, what is known
of its domains' console devices, and the teardown of ended streams in its pool."""

from __future__ import annotations

import asyncio

import libvirt
from xentui.backend.errors import BackendError, PermissionDenied, Unsupported
from xentui.backend.libvirt.connection import HostConnection
from xentui.backend.libvirt.console import LibvirtConsole, check_console, open_console
from xentui.backend.models import Capabilities, DomainSample, PassResult


class HostConsoles:
    """Console bookkeeping for one `LibvirtHost` (runs on the asyncio loop)."""

    def __init__(self, host_id: str, link: HostConnection) -> None:
        self.host_id = host_id
        self.link = link
        self.open: set[LibvirtConsole] = set()
        self._checks: dict[str, tuple[int | None, str | None]] = {}
        """uuid -> (the running instance's id, why its console cannot be attached)."""
        self._teardowns: set[asyncio.Task[None]] = set()

    def reason(self, sample: DomainSample, caps: Capabilities | None) -> str | None:
        """What is known against attaching this domain's console (no I/O)."""
        if caps is not None and not caps.console:
            return caps.missing_reason("console")
        known = self._checks.get(sample.uuid)
        return known[1] if known is not None and known[0] == sample.id else None

    async def check(self, conn: libvirt.virConnect, uuid: str, last: PassResult | None
                    ) -> str | None:
        """Read the domain's devices once per running instance: can its console attach?"""
        fig = last.domains.get(uuid) if last is not None else None
        known = self._checks.get(uuid)
        if fig is not None and known is not None and known[0] == fig.sample.id:
            return known[1]
        try:
            dom_id, reason = await self.link.call(check_console, conn, uuid)
        except libvirt.libvirtError:
            return None  # openConsole will say what is wrong, if anything
        if last is not None and len(self._checks) > 2 * len(last.domains) + 32:
            self._checks = {u: v for u, v in self._checks.items() if u in last.domains}
        self._checks[uuid] = (dom_id, reason)
        return reason

    async def attach(self, conn: libvirt.virConnect, uuid: str, force: bool, *,
                     readonly: bool, caps: Capabilities | None) -> LibvirtConsole:
        """Open a domain's console on the host's connection (a non-blocking stream)."""
        if readonly:
            raise PermissionDenied("Console: the connection is read-only")
        if caps is not None and not caps.console:
            raise Unsupported(f"Console: {caps.missing_reason('console')}")
        loop = asyncio.get_running_loop()
        try:
            session = await self.link.call(open_console, conn, uuid, force, self.host_id,
                                           loop, self._release)
        except libvirt.libvirtError as err:
            raise BackendError(f"Console: {' '.join(str(err).split())}") from err
        self.open.add(session)
        return session

    def _release(self, session: LibvirtConsole) -> None:
        """A session ended: abort its stream in the pool (abort waits on the daemon)."""
        self.open.discard(session)

        async def teardown() -> None:
            try:
                await self.link.call(session.teardown)
            except (BackendError, RuntimeError, libvirt.libvirtError):
                pass

        task = asyncio.get_running_loop().create_task(teardown())
        self._teardowns.add(task)
        task.add_done_callback(self._teardowns.discard)

    def end_all(self, reason: str) -> None:
        """End every open session (the link is lost, or the host is closing)."""
        for session in list(self.open):
            session.close(reason)

    async def settle(self, timeout: float) -> None:
        """Wait (bounded) for the streams being torn down, before the link closes."""
        if self._teardowns:
            await asyncio.wait(set(self._teardowns), timeout=timeout)

