"""The fleet: every host, one pass loop per host, one feed of records for subscribers.

Each host's loop runs on its own: a host that hangs or drops delays no other. The feed
carries the host in every record. Readings merge newest-wins by the time they were
taken, so a pass that read a domain before an event re-read it never puts the older
state back, and a domain an event found gone is not brought back by such a pass.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TypeAlias

from xentui.backend.api import HostBackend
from xentui.backend.errors import BackendError, ConnectError, ConnectionLost
from xentui.backend.models import (
    DomainDetail,
    DomainEvent,
    DomainFigures,
    DomainRef,
    DomainUpdate,
    LinkState,
    LinkStatus,
    MigrationOptions,
    PassFailure,
    PassResult,
)

Record: TypeAlias = PassResult | PassFailure | LinkStatus | DomainEvent | DomainUpdate
Listener = Callable[[Record], object]

BULK_PER_HOST = 3
"""Bulk actions in flight per host: libvirtd serves 5 calls per client at once, and the
host's passes and event re-reads need the rest."""


@dataclass
class _Book:
    """One host's merged view: the newest reading of each domain, and when domains
    were last found gone (monotonic seconds)."""

    domains: dict[str, DomainFigures] = field(default_factory=dict)
    gone: dict[str, float] = field(default_factory=dict)

    def take_pass(self, result: PassResult) -> dict[str, DomainFigures]:
        merged: dict[str, DomainFigures] = {}
        for uuid, fig in result.domains.items():
            held = self.domains.get(uuid)
            if uuid in self.gone and self.gone[uuid] >= fig.sample.at:
                continue  # read before an event found it gone
            merged[uuid] = held if held is not None and held.sample.at > fig.sample.at else fig
        for uuid, held in self.domains.items():
            if uuid not in merged and held.sample.at > result.at:
                merged[uuid] = held  # appeared (an event) after this pass listed domains
        self.gone = {u: t for u, t in self.gone.items() if t >= result.at}
        self.domains = merged
        return merged

    def take_one(self, uuid: str, fig: DomainFigures | None, at: float) -> bool:
        """Apply one re-read; False if an even newer reading is already held."""
        held = self.domains.get(uuid)
        if fig is None:
            self.gone[uuid] = at
            return self.domains.pop(uuid, None) is not None
        if held is not None and held.sample.at > fig.sample.at:
            return False
        self.gone.pop(uuid, None)
        self.domains[uuid] = fig
        return True


class Fleet:
    """Hosts by id, each with its own pass loop; subscribers get every record."""

    def __init__(self, hosts: Iterable[HostBackend], *, live: bool = True) -> None:
        self.hosts: dict[str, HostBackend] = {}
        for host in hosts:
            if host.id in self.hosts:
                raise ValueError(f"two hosts are called {host.id!r}")
            self.hosts[host.id] = host
        self.live = live
        """False: one pass per host, then the loops end (snapshots, one-shot batch)."""
        self._listeners: list[Listener] = []
        self._books = {h: _Book() for h in self.hosts}
        self._wake = {h: asyncio.Event() for h in self.hosts}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._closing = False
        for host in self.hosts.values():
            host.status_listeners.append(self._on_status)
            host.event_listeners.append(self._emit)
            host.domain_listeners.append(self._domain_listener(host))

    # -- feed ------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Receive every record; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _emit(self, record: Record) -> None:
        for listener in list(self._listeners):
            listener(record)

    def _on_status(self, status: LinkStatus) -> None:
        if status.state is LinkState.CONNECTED:
            self.poll_now(status.host_id)
        self._emit(status)

    def _domain_listener(self, host: HostBackend) -> Callable[[str, DomainFigures | None], None]:
        def changed(uuid: str, fig: DomainFigures | None) -> None:
            self._take_one(host, uuid, fig)

        return changed

    def _take_one(self, host: HostBackend, uuid: str, fig: DomainFigures | None) -> None:
        at = fig.sample.at if fig is not None else asyncio.get_running_loop().time()
        if self._books[host.id].take_one(uuid, fig, at):
            self._emit(DomainUpdate(host.id, uuid, fig))

    # -- loops -----------------------------------------------------------------------
    def start(self) -> None:
        """Start every host's loop (once; later calls do nothing)."""
        loop = asyncio.get_running_loop()
        for host_id, host in self.hosts.items():
            if host_id not in self._tasks:
                self._tasks[host_id] = loop.create_task(self._run(host), name=f"pass-{host_id}")

    def poll_now(self, host_id: str) -> None:
        """Run that host's next pass at once (after a reconnect, or when asked)."""
        wake = self._wake.get(host_id)
        if wake is not None:
            wake.set()

    async def _run(self, host: HostBackend) -> None:
        loop = asyncio.get_running_loop()
        wake = self._wake[host.id]
        try:
            await host.connect()
        except ConnectError as err:
            self._emit(PassFailure(host.id, str(err), lost=True))
            if self.live:
                host.mark_lost(str(err))
        while not self._closing:
            timeout: float | None = None
            wake.clear()
            if host.connected:
                started = loop.time()
                await self._pass(host)
                timeout = max(0.05, host.interval - (loop.time() - started))
            if not self.live:
                return
            try:
                await asyncio.wait_for(wake.wait(), timeout)
            except TimeoutError:
                pass

    async def _pass(self, host: HostBackend) -> None:
        try:
            result = await host.sample()
        except ConnectionLost as err:
            self._emit(PassFailure(host.id, str(err), lost=True))
        except BackendError as err:
            self._emit(PassFailure(host.id, str(err), lost=False))
        else:
            merged = self._books[host.id].take_pass(result)
            self._emit(replace(result, domains=merged))

    async def close(self) -> None:
        """End every loop and close every host."""
        self._closing = True
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        await asyncio.gather(*(h.close() for h in self.hosts.values()), return_exceptions=True)
        self._listeners.clear()

    # -- one domain ------------------------------------------------------------------
    def domains(self, host_id: str) -> dict[str, DomainFigures]:
        """The merged view of one host's domains."""
        return self._books[host_id].domains

    def find(self, ref: DomainRef) -> DomainFigures | None:
        book = self._books.get(ref.host)
        return None if book is None else book.domains.get(ref.uuid)

    def host(self, ref: DomainRef | str) -> HostBackend:
        return self.hosts[ref if isinstance(ref, str) else ref.host]

    async def act(self, ref: DomainRef, action: str) -> str:
        return await self.host(ref).act(ref.uuid, action)

    async def refresh(self, ref: DomainRef) -> DomainFigures | None:
        """Re-read one domain now (after an action) and feed the result."""
        host = self.host(ref)
        fig = await host.refresh_domain(ref.uuid)
        self._take_one(host, ref.uuid, fig)
        return fig

    async def migrate(self, ref: DomainRef, target: str, opts: MigrationOptions) -> str:
        """Move a running domain to another host; both hosts are read again at once, so
        the row leaves one and appears on the other."""
        try:
            return await self.host(ref).migrate_to(ref.uuid, self.hosts[target], opts)
        finally:
            self.poll_now(ref.host)
            self.poll_now(target)

    async def detail(self, ref: DomainRef) -> DomainDetail:
        return await self.host(ref).detail(ref.uuid)

    async def act_many(self, refs: Iterable[DomainRef], action: str,
                       done: Callable[[DomainRef, str | None, BackendError | None], object]
                       ) -> None:
        """Run one action on many domains, concurrently but at most `BULK_PER_HOST` at
        a time on each host (its passes keep their share of the host's calls). `done`
        hears each domain's outcome as it comes; each is re-read and fed afterwards."""
        limits: dict[str, asyncio.Semaphore] = {}

        async def one(ref: DomainRef) -> None:
            async with limits.setdefault(ref.host, asyncio.Semaphore(BULK_PER_HOST)):
                try:
                    text = await self.act(ref, action)
                except BackendError as err:
                    done(ref, None, err)
                    return
                done(ref, text, None)
                with contextlib.suppress(BackendError):
                    await self.refresh(ref)

        await asyncio.gather(*(one(ref) for ref in refs))
