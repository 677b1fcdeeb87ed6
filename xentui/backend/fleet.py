"""The fleet: every host, one pass loop per host, one feed of records for subscribers.

Each host's loop runs on its own: a host that hangs or drops delays no other. The feed
carries the host in every record. Readings merge newest-wins by the time they were
taken, so a pass that read a domain before an event re-read it never puts the older
state back, and a domain an event found gone is not brought back by such a pass.
Before a host's first pass, its domain listing (where the backend offers one) puts up
the rows without figures; any reading with figures replaces such a row, never the reverse.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TypeAlias

from xentui.backend.api import HostBackend, ListsDomainsFirst
from xentui.backend.errors import BackendError, ConnectError, ConnectionLost, NotAllowed
from xentui.backend.models import (
    DomainDetail,
    DomainEvent,
    DomainFigures,
    DomainListing,
    DomainRef,
    DomainUpdate,
    LinkState,
    LinkStatus,
    MigrationOptions,
    MigrationProgress,
    PassFailure,
    PassResult,
)
from xentui.backend.pass_ticks import PassTicks

Record: TypeAlias = (
    PassResult | PassFailure | LinkStatus | DomainEvent | DomainUpdate | MigrationProgress
    | DomainListing
)
Listener = Callable[[Record], object]

BULK_PER_HOST = 3
"""Bulk actions in flight per host: libvirtd serves 5 calls per client at once, and the
host's passes and event re-reads need the rest."""
SHARE_SLACK = 0.1
"""A host is told its new part of the fleet's domains once it moved by more than this
fraction (domains come and go; a host coming back after a loss moves it a lot)."""


@dataclass
class _Book:
    """One host's merged view: the newest reading of each domain, and when domains
    were last found gone (monotonic seconds)."""

    domains: dict[str, DomainFigures] = field(default_factory=dict)
    gone: dict[str, float] = field(default_factory=dict)

    def take_listing(self, listing: DomainListing) -> dict[str, DomainFigures]:
        """Show listed domains that no reading holds yet (the first pass is still
        reading their figures); the domains it does not list are not dropped."""
        for uuid, fig in listing.domains.items():
            if uuid in self.gone and self.gone[uuid] >= fig.sample.at:
                continue
            if not _keeps(self.domains.get(uuid), fig):
                self.domains[uuid] = fig
        return self.domains

    def take_pass(self, result: PassResult) -> dict[str, DomainFigures]:
        merged: dict[str, DomainFigures] = {}
        for uuid, fig in result.domains.items():
            held = self.domains.get(uuid)
            if uuid in self.gone and self.gone[uuid] >= fig.sample.at:
                continue  # read before an event found it gone
            merged[uuid] = held if held is not None and _keeps(held, fig) else fig
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
        if _keeps(held, fig):
            return False
        self.gone.pop(uuid, None)
        self.domains[uuid] = fig
        return True


def _keeps(held: DomainFigures | None, fig: DomainFigures) -> bool:
    """Whether the held reading stays over `fig`: the newer one wins, except that a
    reading with figures always wins over a listed-only one, whatever their times."""
    if held is None or held.listed_only != fig.listed_only:
        return held is not None and fig.listed_only
    return held.sample.at > fig.sample.at


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
        self._watched: dict[str, frozenset[str]] = {}
        """Each host's domains on screen, once the screen has said (batch mode never)."""
        self._shares: dict[str, float] = {}
        """Each watched host's part of the fleet's domains, as last told to it."""
        self._wake = {h: asyncio.Event() for h in self.hosts}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._closing = False
        self._migrations: dict[DomainRef, MigrationProgress] = {}
        self._aborts: set[DomainRef] = set()  # migrations whose abort was asked for
        self._ticks = PassTicks(self._take_pass)
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

    def _moving(self, host_id: str) -> tuple[set[str], set[str]]:
        """Domains migrating from and to this host now. Until a migration ends its row
        stays on the source as last read: the target lists a paused copy meanwhile (two
        rows) and the source may stop listing it before the call returns (no row)."""
        out = {m.uuid for m in self._migrations.values() if m.host_id == host_id}
        into = {m.uuid for m in self._migrations.values() if m.target == host_id}
        return out, into

    def _take_one(self, host: HostBackend, uuid: str, fig: DomainFigures | None) -> None:
        out, into = self._moving(host.id)
        if uuid in into or (fig is None and uuid in out):
            return
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
        if self.live and host.connected:
            await self._list_first(host)
        while not self._closing:
            timeout: float | None = None
            wake.clear()
            if host.connected:
                started = loop.time()
                await self._pass(host)
                timeout = (self._ticks.wait_after(host.interval, started) if self.live
                           else max(0.05, host.interval - (loop.time() - started)))
            if not self.live:
                return
            try:
                await asyncio.wait_for(wake.wait(), timeout)
            except TimeoutError:
                pass

    async def _list_first(self, host: HostBackend) -> None:
        """Put the rows on screen from the domain listing before the first pass, where
        the backend lists faster than it reads; if the listing fails the pass says why,
        so nothing is reported here."""
        if not isinstance(host, ListsDomainsFirst):
            return
        try:
            listing = await host.list_domains()
        except BackendError:
            return
        if listing is None:
            return
        merged = self._books[host.id].take_listing(listing)
        self._emit(replace(listing, host_id=host.id, domains=dict(merged)))

    async def _pass(self, host: HostBackend) -> None:
        tick = self._ticks.begin(host.id, host.interval) if self.live else None
        try:
            result = await host.sample()
        except ConnectionLost as err:
            self._ticks.end(tick, host.id, None)
            self._emit(PassFailure(host.id, str(err), lost=True))
        except BackendError as err:
            self._ticks.end(tick, host.id, None)
            self._emit(PassFailure(host.id, str(err), lost=False))
        else:
            self._ticks.end(tick, host.id, result)

    def _take_pass(self, host_id: str, result: PassResult) -> None:
        """Merge a pass into the host's book (newest wins) and feed it; `_ticks` calls
        this when the pass's tick is handed on, so events in between are not undone."""
        book = self._books[host_id]
        out, into = self._moving(host_id)
        if out or into:
            kept = {u: f for u, f in result.domains.items() if u not in into}
            for uuid in out - kept.keys():
                if uuid in book.domains:
                    kept[uuid] = book.domains[uuid]
            result = replace(result, domains=kept)
        merged = book.take_pass(result)
        self._emit(replace(result, domains=merged))
        self._tell_shares()

    async def close(self) -> None:
        """End every loop and close every host."""
        self._closing = True
        self._ticks.close()
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

    def migration(self, ref: DomainRef) -> MigrationProgress | None:
        """The newest progress of the domain's migration under way (None: none runs)."""
        return self._migrations.get(ref)

    def migrations(self) -> list[MigrationProgress]:
        """Every migration under way, newest progress of each."""
        return list(self._migrations.values())

    async def migrate(self, ref: DomainRef, target: str, opts: MigrationOptions) -> str:
        """Move a running domain to another host; its progress goes to the feed while it
        runs (a last record says it finished). The row stays on the source until it
        ends; then the domain is read again on both hosts and both readings go out
        together, so the row moves without a moment of two rows or none."""
        if ref in self._migrations:
            raise NotAllowed("Migrate: a migration of this domain is already under way")
        fig = self.find(ref)
        loop = asyncio.get_running_loop()
        started = loop.time()
        first = MigrationProgress(ref.host, ref.uuid, fig.name if fig else ref.uuid, target, 0.0)
        self._migrations[ref] = first
        self._emit(first)
        try:
            return await self.host(ref).migrate_to(ref.uuid, self.hosts[target], opts,
                                                   self._progress)
        except BackendError as err:
            # The driver's words for an aborted job vary (QEMU may report the broken
            # pipe it caused): say plainly that the operator stopped it.
            if ref in self._aborts:
                raise type(err)(f"{err}; aborted on request") from err
            raise
        finally:
            self._aborts.discard(ref)
            hosts = (self.host(ref), self.hosts[target])
            readings = await asyncio.gather(*(h.refresh_domain(ref.uuid) for h in hosts),
                                            return_exceptions=True)
            last = self._migrations.pop(ref, first)
            self._emit(replace(last, elapsed_s=loop.time() - started, finished=True))
            # Both readings at once, the source's first, with nothing awaited in between.
            for host, reading in zip(hosts, readings, strict=True):
                if not isinstance(reading, BaseException):
                    self._take_one(host, ref.uuid, reading)
            self.poll_now(ref.host)
            self.poll_now(target)

    def _progress(self, progress: MigrationProgress) -> None:
        if progress.ref in self._migrations:  # a late reading of a finished one is dropped
            self._migrations[progress.ref] = progress
            self._emit(progress)

    async def abort_migration(self, ref: DomainRef) -> str:
        """Cancel the domain's migration under way; it keeps running where it was."""
        if ref not in self._migrations:
            raise NotAllowed("Abort migration: no migration of this domain is under way")
        self._aborts.add(ref)
        try:
            return await self.host(ref).abort_migration(ref.uuid)
        except BaseException:
            self._aborts.discard(ref)
            raise

    def watch(self, host_id: str, uuids: Iterable[str]) -> None:
        """Tell a host which of its domains are on screen, and its part of the fleet's
        domains (see HostBackend.watch)."""
        host = self.hosts.get(host_id)
        if host is not None:
            self._watched[host_id] = frozenset(uuids)
            self._shares[host_id] = share = self._share(host_id)
            host.watch(self._watched[host_id], share)

    def _share(self, host_id: str, total: int | None = None) -> float:
        """The host's part of the `total` domains the fleet knows (1.0 while none is)."""
        if total is None:
            total = sum(len(book.domains) for book in self._books.values())
        return len(self._books[host_id].domains) / total if total else 1.0

    def _tell_shares(self) -> None:
        """Re-tell the watched hosts whose part of the fleet moved by over SHARE_SLACK."""
        total = sum(len(book.domains) for book in self._books.values())
        for host_id, told in self._shares.items():
            share = self._share(host_id, total)
            if abs(share - told) > SHARE_SLACK * told:
                self._shares[host_id] = share
                self.hosts[host_id].watch(self._watched[host_id], share)

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
