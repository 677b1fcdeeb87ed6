"""One libvirt host: connection, capabilities, sampling, history, events and actions.

`LibvirtHost` implements the neutral `api.HostBackend`. Everything here runs on the
asyncio loop; blocking libvirt calls go to the connection's own thread pool. There is
no module-level state: the hosts of a fleet live side by side.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import partial

import libvirt
from xentui.backend.api import HostBackend, ProgressSink
from xentui.backend.console import ConsoleSession
from xentui.backend.errors import (
    BackendError,
    ConnectError,
    ConnectionLost,
    NotAllowed,
    PermissionDenied,
    Unsupported,
)
from xentui.backend.history import History
from xentui.backend.libvirt import lifecycle
from xentui.backend.libvirt.capabilities import probe
from xentui.backend.libvirt.connection import (
    SHUTDOWN_GRACE_S,
    HostConnection,
    host_label,
    in_process,
    is_local,
    with_no_tty,
)
from xentui.backend.libvirt.consoles import HostConsoles
from xentui.backend.libvirt.detail import read_detail
from xentui.backend.libvirt.hostinfo import (
    FREE_MEMORY_EVERY_S,
    read_host_info,
    refresh_host_info,
)
from xentui.backend.libvirt.jobs import abort_job, watch_migration
from xentui.backend.libvirt.listing import read_listing
from xentui.backend.libvirt.migration import flags_for, migrate
from xentui.backend.libvirt.preflight import check_target
from xentui.backend.libvirt.sampler import Sampler, sample_one
from xentui.backend.models import (
    Capabilities,
    DomainDetail,
    DomainEvent,
    DomainFigures,
    DomainKind,
    DomainListing,
    DomainRates,
    DomainSample,
    HostInfo,
    LinkState,
    LinkStatus,
    MigrationOptions,
    PassResult,
)
from xentui.backend.rates import domain_rates, same_instance
from xentui.backend.reconnect import start_reconnecting
from xentui.backend.xen_io import XenLocalIo
from xentui.backend.xenstat import XenStat

HISTORY_SECONDS = 600.0

POOL_SIZE = 5
"""libvirtd serves at most 5 calls at once per client (max_client_requests): more
threads would only queue."""
SAMPLER_THREADS = 4
"""Pool threads a pass spreads its per-domain calls over (the pass itself holds one)."""


class LibvirtHost:
    """A libvirt host as xentui sees it. Listener callbacks run on the asyncio loop."""

    def __init__(
        self,
        uri: str,
        *,
        id: str | None = None,
        readonly: bool = False,
        interval: float = 2.0,
        per_domain: bool = False,
        open_timeout: float = 10.0,
        pool_size: int = POOL_SIZE,
    ) -> None:
        uri = with_no_tty(uri)
        self.id = id or host_label(uri)
        self.uri = uri
        self.readonly = readonly
        self.interval = interval
        self.force_per_domain = per_domain
        self.open_timeout = open_timeout
        self.local = is_local(uri)
        self.link = HostConnection(
            uri,
            readonly=readonly,
            pool_size=pool_size,
            on_event=self._on_event,
            on_closed=self._on_closed,
        )
        self.caps: Capabilities | None = None
        self.info: HostInfo | None = None
        self.last: PassResult | None = None
        self.history = History.for_span(HISTORY_SECONDS, interval)
        self.status = LinkStatus(LinkState.CONNECTING, uri, readonly, at=time.time(),
                                 host_id=self.id)
        self.event_listeners: list[Callable[[DomainEvent], object]] = []
        self.status_listeners: list[Callable[[LinkStatus], object]] = []
        self.domain_listeners: list[Callable[[str, DomainFigures | None], object]] = []
        self._sampler: Sampler | None = None
        self._xen_stat: XenStat | None = None
        """libxenstat's handle on a local Xen host (the sampler's figures source)."""
        self._prev: dict[str, DomainSample] = {}
        self._started: dict[str, float] = {}
        self._pending: set[str] = set()
        self._flush_task: asyncio.Task[None] | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self._closing = False
        self._watched: frozenset[str] | None = None
        self._share = 1.0
        self._free_read_at = -FREE_MEMORY_EVERY_S
        self._free_due = True
        """Read free memory at the next pass (a domain event came, or it is old)."""
        self.consoles = HostConsoles(self.id, self.link)
        self.rows_first: bool | None = None
        """List the domains before the first pass; None: where that pass is slow (the
        per-domain path over a daemon, a call per domain against a few listings)."""

    # -- connection ------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self.status.state is LinkState.CONNECTED

    def _set_status(
        self, state: LinkState, message: str = "", retry_in: float | None = None
    ) -> None:
        self.status = LinkStatus(state, self.uri, self.readonly, message, retry_in, time.time(),
                                 self.id)
        for listener in list(self.status_listeners):
            listener(self.status)

    async def connect(self) -> None:
        """Open the connection and learn the driver; ConnectError if that fails."""
        self._set_status(LinkState.CONNECTING, f"connecting to {self.uri}")
        try:
            conn = await self.link.open(self.open_timeout)
            self.caps = await self.link.call(probe, conn)
            self.info = await self.link.call(read_host_info, conn, self.uri)
            self._free_due = True  # the static facts come without free memory
        except ConnectError as err:
            self._set_status(LinkState.LOST, str(err))
            raise
        except (BackendError, OSError) as err:
            await self._drop()
            self._set_status(LinkState.LOST, str(err))
            raise ConnectError(f"cannot use {self.uri}: {err}") from err
        except Exception as err:  # a libvirtError while probing
            await self._drop()
            msg = f"cannot use {self.uri}: {' '.join(str(err).split())}"
            self._set_status(LinkState.LOST, msg)
            raise ConnectError(msg) from err
        bulk = self.caps.bulk_stats and not self.force_per_domain
        self._sampler = sampler = Sampler(
            conn, bulk=bulk, pool=self.link.pool, parallel=not in_process(self.uri),
            threads=SAMPLER_THREADS, interval=self.interval,
        )
        self._sampler.watched = self._watched
        self._sampler.turn_share = self._share
        self.link.answered = lambda: sampler.answered_at
        if self.local and self.caps.driver == "Xen":
            self._sampler.local_io = XenLocalIo.probe()
            await self._release_xen_stat()
            self._xen_stat = await asyncio.get_running_loop().run_in_executor(
                None, XenStat.probe)
            self._sampler.xen_stat = self._xen_stat
        mode = "read-only" if self.readonly else "read-write"
        self._set_status(LinkState.CONNECTED, f"connected to {self.uri} ({mode})")

    async def _drop(self) -> None:
        self._sampler = None
        await asyncio.get_running_loop().run_in_executor(None, self.link.release)
        await self._release_xen_stat()

    async def _release_xen_stat(self) -> None:
        """Close libxenstat's handle (its libxc and xenstore connections), off the loop:
        it waits for a read in progress."""
        stat, self._xen_stat = self._xen_stat, None
        if stat is not None:
            await asyncio.get_running_loop().run_in_executor(None, stat.close)

    def _on_closed(self, reason: str) -> None:
        self.mark_lost(f"connection to {self.uri} lost: {reason}")

    def mark_lost(self, message: str) -> None:
        """Declare the link dead, keep the last figures, and start reconnecting."""
        if start_reconnecting(self, message):
            self.consoles.end_all(f"the connection to {self.id} was lost")

    async def close(self) -> None:
        """Stop reconnecting, close the connection and the thread pool."""
        self._closing = True
        for task in (self._reconnect_task, self._flush_task):
            if task is not None and not task.done():
                task.cancel()
        self.consoles.end_all("xentui is closing")
        await self.consoles.settle(SHUTDOWN_GRACE_S)
        await asyncio.get_running_loop().run_in_executor(None, self.link.shutdown)
        await self._release_xen_stat()
        self._set_status(LinkState.CLOSED, f"closed {self.uri}")

    # -- sampling --------------------------------------------------------------------
    def watch(self, uuids: Iterable[str], share: float = 1.0) -> None:
        """The domains a person sees: their I/O counters are read every pass, the
        others' in turn, `share` of a screen's budget of them per pass (CPU, state and
        memory of every running domain are read every pass)."""
        self._watched = frozenset(uuids)
        self._share = share
        if self._sampler is not None:
            self._sampler.watched = self._watched
            self._sampler.turn_share = share

    def _figures(self, sample: DomainSample, rates: DomainRates | None = None,
                 held: dict[str, DomainFigures] | None = None) -> DomainFigures:
        """A sample's figures: rates against the previous pass (`held`: its figures, by
        UUID; default the last pass's), uptime, memory share. Runs per domain per pass."""
        if self.caps is not None and self.caps.containers:
            sample = replace(sample, kind=DomainKind.CONTAINER)
        uuid = sample.uuid
        prev = self._prev.get(uuid)
        if rates is None:
            if held is None:
                held = self.last.domains if self.last is not None else {}
            old = held.get(uuid)
            rates = domain_rates(prev, sample, None if old is None else old.rates)
        started = self._started
        if not sample.state.active:
            started.pop(uuid, None)
        elif prev is not None and (prev.id != sample.id or not prev.state.active):
            started[uuid] = time.time()  # a new instance (same_instance, inlined: hot)
        mem = sample.mem_kib
        total = self.info.memory_kib if self.info is not None else 0
        mem_pct = None if mem is None or not total else 100.0 * mem / total
        return DomainFigures(sample, rates, mem_pct, started.get(uuid), self.id)

    async def list_domains(self) -> DomainListing | None:
        """Every domain's name, id and state from a few listings (no figures yet); None
        where the first pass is quick anyway (bulk statistics, an in-process driver)."""
        sampler = self._sampler
        if sampler is None or not self.connected:
            raise ConnectionLost(self.status.message or f"not connected to {self.uri}")
        slow = not sampler.bulk and not in_process(self.uri)
        if not (slow if self.rows_first is None else self.rows_first):
            return None
        at = time.monotonic()
        try:
            samples = await self.link.call(read_listing, sampler.conn)
        except libvirt.libvirtError as err:
            raise BackendError(f"listing {self.uri} failed: {' '.join(str(err).split())}"
                               ) from err
        kind = DomainKind.CONTAINER if self.caps is not None and self.caps.containers else None
        figures = {s.uuid: DomainFigures(s if kind is None else replace(s, kind=kind),
                                         DomainRates(), host=self.id, listed_only=True)
                   for s in samples}
        return DomainListing(self.id, figures, at)

    async def sample(self) -> PassResult:
        """One pass over every domain; ConnectionLost if the link is down."""
        sampler = self._sampler
        if sampler is None or not self.connected or self.info is None:
            raise ConnectionLost(self.status.message or f"not connected to {self.uri}")
        wall = time.time()
        started = time.monotonic()
        t0 = time.perf_counter()
        read_free = self._free_due or started - self._free_read_at >= FREE_MEMORY_EVERY_S
        self._free_due = False  # an event during the pass asks again
        known, local = self.info, self.local

        def read() -> tuple[list[DomainSample], HostInfo]:
            """The domains and the host's moving figures in one pool job (one hand-off)."""
            return sampler.read(), refresh_host_info(sampler.conn, known, local, read_free)

        try:
            samples, info = await self.link.call(read)
        except ConnectionLost as err:
            self._free_due = True
            self.mark_lost(str(err))
            raise
        except Exception as err:
            self._free_due = True
            if not self.link.is_alive():
                self.mark_lost(f"connection to {self.uri} lost: {err}")
                raise ConnectionLost(self.status.message) from err
            raise BackendError(f"sampling {self.uri} failed: {' '.join(str(err).split())}") from err
        if read_free:
            self._free_read_at = started
        self.info = info
        held = self.last.domains if self.last is not None else {}
        figures = {s.uuid: self._figures(s, held=held) for s in samples}
        self._prev = {s.uuid: s for s in samples}
        took = time.perf_counter() - t0
        notice, sampler.notice = sampler.notice, ""
        result = PassResult(info, figures, wall, took, sampler.last_path, self.id, started,
                            notice)
        self.last = result
        self.history.record(wall, figures)
        return result

    # -- events ----------------------------------------------------------------------
    def _on_event(self, event: DomainEvent) -> None:
        event = replace(event, host_id=self.id)
        self._free_due = True  # a start, stop or balloon change moves free memory
        if self._sampler is not None:
            self._sampler.relist = True  # a define, undefine or rename changes the listing
            if event.kind == "metadata":
                self._sampler.forget(event.uuid)  # Nova's names may have changed
        for listener in list(self.event_listeners):
            listener(event)
        self._pending.add(event.uuid)
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        """Re-read the domains that events named; bursts coalesce into one round."""
        await asyncio.sleep(0)
        while self._pending:
            uuids, self._pending = list(self._pending), set()
            results = await asyncio.gather(
                *(self.refresh_domain(u) for u in uuids), return_exceptions=True
            )
            for uuid, res in zip(uuids, results, strict=True):
                if isinstance(res, BaseException):
                    continue
                for listener in list(self.domain_listeners):
                    listener(uuid, res)

    async def refresh_domain(self, uuid: str) -> DomainFigures | None:
        """Re-read one domain now (after an event); None if it no longer exists."""
        sampler = self._sampler
        if sampler is None or not self.connected:
            raise ConnectionLost(self.status.message)

        def read() -> DomainSample | None:
            try:
                dom = sampler.conn.lookupByUUIDString(uuid)
                persistent = bool(dom.isPersistent())
                sampler.note_persistence(uuid, persistent)
                return sample_one(dom, sampler.devices, persistent=persistent)
            except libvirt.libvirtError as err:
                if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                    return None
                raise

        sample = await self.link.call(read)
        last = self.last
        if sample is None:
            if last is not None and uuid in last.domains:
                domains = dict(last.domains)
                del domains[uuid]
                self.last = replace(last, domains=domains)
            return None
        prev = self._prev.get(uuid)
        old = last.domains.get(uuid) if last is not None else None
        keep_rates = old is not None and prev is not None and same_instance(prev, sample)
        fig = self._figures(sample, old.rates if keep_rates and old else DomainRates())
        if last is not None:
            self.last = replace(last, domains={**last.domains, uuid: fig})
        return fig

    # -- actions and details -----------------------------------------------------------
    def _conn(self) -> libvirt.virConnect:
        sampler = self._sampler
        if sampler is None or not self.connected:
            raise ConnectionLost(self.status.message or f"not connected to {self.uri}")
        return sampler.conn

    async def act(self, uuid: str, action: str) -> str:
        """Do a lifecycle action; returns a readable result or raises an ActionError."""
        conn = self._conn()
        return await self.link.call(
            partial(lifecycle.perform, readonly=self.readonly), conn, uuid, action, self.caps
        )

    async def migrate_to(self, uuid: str, target: HostBackend, opts: MigrationOptions,
                         progress: ProgressSink | None = None) -> str:
        """Live-migrate a domain to another libvirt host of the fleet, reporting its job
        statistics to `progress` while it runs. A pre-flight in the pool
        (`preflight.check_target`) first refuses a migration that cannot succeed."""
        if not isinstance(target, LibvirtHost):
            raise Unsupported(f"Migrate: {target.id} is not a libvirt host")
        if target is self:
            raise NotAllowed("Migrate: the target is the host the domain runs on")
        if self.readonly:
            raise PermissionDenied("Migrate: the connection is read-only")
        src, dest = self._conn(), target._conn()
        flags = flags_for(opts, self.caps.driver if self.caps is not None else "")

        def run() -> str:
            with target.link.borrowed():
                check_target(src, dest, uuid, self.id, target.id)
                return migrate(src, dest, target.uri, uuid, target.id, opts, flags,
                               source_name=self.id)

        job = asyncio.ensure_future(self.link.call(run))
        watch = None
        if progress is not None:
            watch = asyncio.get_running_loop().create_task(
                watch_migration(self.link.call, src, uuid, self.id, target.id, progress),
                name=f"migration-{uuid}")
        try:
            return await job
        finally:
            if watch is not None:
                watch.cancel()

    async def abort_migration(self, uuid: str) -> str:
        """Cancel the domain's migration under way; it keeps running here."""
        if self.readonly:
            raise PermissionDenied("Abort migration: the connection is read-only")
        caps = self.caps
        if caps is not None and not caps.abort_migration:
            raise Unsupported(f"Abort migration: {caps.missing_reason('abort_migration')}")
        return await self.link.call(abort_job, self._conn(), uuid)

    async def detail(self, uuid: str) -> DomainDetail:
        """Everything about one domain; DomainGone if it vanished."""
        conn = self._conn()
        return await self.link.call(read_detail, conn, uuid, self.caps)

    # -- console -----------------------------------------------------------------------
    def console_reason(self, sample: DomainSample) -> str | None:
        """What is known against attaching this domain's console (no I/O)."""
        return self.consoles.reason(sample, self.caps)

    async def check_console(self, uuid: str) -> str | None:
        """Whether the domain has a console that can be attached (read once per boot)."""
        return await self.consoles.check(self._conn(), uuid, self.last)

    async def open_console(self, uuid: str, force: bool = False) -> ConsoleSession:
        """Attach to a domain's console over this connection."""
        return await self.consoles.attach(self._conn(), uuid, force, readonly=self.readonly,
                                          caps=self.caps)
