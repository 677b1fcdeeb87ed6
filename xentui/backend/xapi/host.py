"""One XenAPI pool as one host of the fleet: `XapiHost` implements `api.HostBackend`.

Everything here runs on the asyncio loop; XML-RPC calls (all blocking) run in the
host's own small thread pool, the event long poll in its own thread and session.
The pool's members are in `info.members`; each VM's figures carry the member it runs
on (`resident`). A master that stops answering marks the host lost, and it logs in
again by itself with the same back-off as a libvirt host.
"""

from __future__ import annotations

import asyncio
import calendar
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import lru_cache, partial
from typing import Any, TypeVar

from xentui.backend.api import HostBackend, ProgressSink
from xentui.backend.console import ConsoleSession
from xentui.backend.errors import BackendError, ConnectError, ConnectionLost, Unsupported
from xentui.backend.history import History
from xentui.backend.models import (
    DiskCounters,
    DomainDetail,
    DomainEvent,
    DomainFigures,
    DomainRates,
    DomainSample,
    HostInfo,
    LinkState,
    LinkStatus,
    MigrationOptions,
    NetCounters,
    PassResult,
)
from xentui.backend.reconnect import start_reconnecting
from xentui.backend.xapi import actions
from xentui.backend.xapi.changes import PoolChanges
from xentui.backend.xapi.credentials import CredentialError, XapiOptions, find_password
from xentui.backend.xapi.detail import read_detail
from xentui.backend.xapi.errors import failure_text
from xentui.backend.xapi.events import EventWatcher
from xentui.backend.xapi.pool_rates import PoolRates
from xentui.backend.xapi.records import (
    PoolRecords,
    pool_info,
    read_pool,
    vm_sample,
)
from xentui.backend.xapi.session import Failure, XapiSession
from xentui.backend.xapi.uri import PoolAddress, parse_uri

NO_CONSOLE = ("the XenAPI backend has no serial console yet (XAPI offers consoles over its "
              "own protocol: use `xe console` on the pool)")

T = TypeVar("T")
HISTORY_SECONDS = 600.0
POOL_SIZE = 6


def _epoch(value: Any) -> float | None:
    """Epoch seconds of an API datetime (`20240101T12:00:00Z`); None for the epoch."""
    return _parse_epoch(str(getattr(value, "value", value)))


@lru_cache(maxsize=4096)
def _parse_epoch(text: str) -> float | None:
    """Each VM's start time is parsed once, not on every pass (strptime is slow)."""
    try:
        t = float(calendar.timegm(time.strptime(text, "%Y%m%dT%H:%M:%SZ")))
    except ValueError:
        return None
    return t if t > 0 else None


class XapiHost(PoolChanges):
    """A XenServer / XCP-ng pool as xentui sees it. Listener callbacks run on the loop."""

    def __init__(
        self,
        uri: str,
        *,
        id: str | None = None,
        readonly: bool = False,
        interval: float = 2.0,
        options: XapiOptions | None = None,
        call_timeout: float = 8.0,
        poll_s: float = 10.0,
    ) -> None:
        self.uri = uri
        self.readonly = readonly
        self.interval = interval
        self.options = options or XapiOptions()
        self.call_timeout = call_timeout
        self.poll_s = poll_s
        self._address: PoolAddress | None = None
        self._bad_uri = ""
        try:
            self._address = parse_uri(uri)
        except ValueError as err:
            self._bad_uri = str(err)
        self.id = id or (self._address.host if self._address else uri)
        self.pool = ThreadPoolExecutor(POOL_SIZE, thread_name_prefix="xapi-call")
        self.caps = actions.XapiCapabilities()
        self.info: HostInfo | None = None
        self.last: PassResult | None = None
        self.history = History.for_span(HISTORY_SECONDS, interval)
        self.status = LinkStatus(LinkState.CONNECTING, uri, readonly, at=time.time(),
                                 host_id=self.id)
        self.status_listeners: list[Callable[[LinkStatus], object]] = []
        self.event_listeners: list[Callable[[DomainEvent], object]] = []
        self.domain_listeners: list[Callable[[str, DomainFigures | None], object]] = []
        self.session: XapiSession | None = None
        self._watcher: EventWatcher | None = None
        self._recs: PoolRecords | None = None
        self._kept = False
        """Whether `_recs` is kept current by `event.from` (then a pass reads no records)."""
        self._uuid_of: dict[str, str] = {}
        self._power: dict[str, str] = {}
        self._ops_at: dict[str, float] = {}
        """When an event last told a VM's allowed operations (monotonic seconds)."""
        self._prev: dict[str, DomainSample] = {}
        self.rates = PoolRates(self._call)
        self._pending: set[str] = set()
        self._flush_task: asyncio.Task[None] | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self._closing = False

    # -- plumbing --------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self.status.state is LinkState.CONNECTED

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking call in the host's pool (never on the loop)."""
        try:
            future = asyncio.get_running_loop().run_in_executor(self.pool, partial(fn, *args))
        except RuntimeError:  # the pool was shut down: this host is closing
            raise ConnectionLost(f"{self.uri} is closing") from None
        return await future

    def _set_status(self, state: LinkState, message: str = "", retry_in: float | None = None
                    ) -> None:
        self.status = LinkStatus(state, self.uri, self.readonly, message, retry_in, time.time(),
                                 self.id)
        for listener in list(self.status_listeners):
            listener(self.status)

    def _password(self) -> str:
        try:
            return find_password(self.options)
        except CredentialError as err:
            raise ConnectError(f"cannot log in to {self.id}: {err}") from None

    def _new_session(self) -> XapiSession:
        assert self._address is not None
        return XapiSession(self._address, self._password,
                           accept_self_signed=self.options.accept_self_signed,
                           timeout=self.call_timeout)

    # -- connection ------------------------------------------------------------------
    async def connect(self) -> None:
        """Log in (following a member's redirect), read the pool, start the events."""
        self._set_status(LinkState.CONNECTING, f"connecting to {self.uri}")
        if self.session is not None or self._watcher is not None:
            await self._drop()
        if self._address is None:
            self._set_status(LinkState.LOST, self._bad_uri)
            raise ConnectError(self._bad_uri)
        session, events = self._new_session(), self._new_session()
        try:
            await self._call(session.login_via, self._other_members())
            recs = await self._call(read_pool, session, time.monotonic())
            events.url, events.master_host = session.url, session.master_host
            await self._call(events.login)
        except (ConnectError, ConnectionLost, Failure) as err:
            for half in (session, events):  # whatever logged in before the failure
                asyncio.get_running_loop().run_in_executor(None, half.logout)
            if isinstance(err, ConnectError):
                self._set_status(LinkState.LOST, str(err))
                raise
            text = str(err) if isinstance(err, BackendError) else failure_text(err.details)
            msg = f"cannot use {self.uri}: {text}"
            self._set_status(LinkState.LOST, msg)
            raise ConnectError(msg) from None
        self.session = session
        self._take_records(recs)
        self._watcher = EventWatcher(events, asyncio.get_running_loop(), self._on_changes,
                                     self._on_events_failed, poll_s=self.poll_s)
        self._watcher.start()
        mode = "read-only" if self.readonly else "read-write"
        self._set_status(LinkState.CONNECTED,
                         f"connected to {self.uri} (pool master {session.master_host}, {mode})")

    def _other_members(self) -> list[str]:
        """Addresses of the pool's other hosts as last seen (to find a new master)."""
        members = self.info.members if self.info is not None else ()
        return [m.address for m in members if m.address and not m.master]

    def _on_events_failed(self, message: str) -> None:
        self.mark_lost(f"{self.id}: {message}")

    async def _drop(self) -> None:
        """Forget the sessions; log them out off the loop without waiting for long."""
        watcher, session = self._watcher, self.session
        self._watcher, self.session = None, None
        self._kept = False
        self.rates.forget()

        def release() -> None:
            if watcher is not None:
                watcher.stop()
            if session is not None:
                session.logout()

        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(asyncio.shield(loop.run_in_executor(None, release)), 4.0)
        except TimeoutError:
            pass

    def mark_lost(self, message: str) -> None:
        """Declare the link dead, keep the last figures, and start logging in again."""
        start_reconnecting(self, message)

    async def close(self) -> None:
        """Stop reconnecting, log out, stop the threads."""
        self._closing = True
        for task in (self._reconnect_task, self._flush_task):
            if task is not None and not task.done():
                task.cancel()
        await self._drop()
        self.pool.shutdown(wait=False)
        self._set_status(LinkState.CLOSED, f"closed {self.uri}")

    # -- sampling --------------------------------------------------------------------
    def _take_records(self, recs: PoolRecords) -> None:
        self.info = pool_info(self.uri, recs)
        if self._kept and recs is self._recs:
            return  # events keep the VMs' states and allowed operations current
        if not self._kept:  # a reading never replaces the records events keep current
            self._recs = recs
        listed = recs.listed()
        self._uuid_of = {ref: str(vm["uuid"]) for ref, vm in recs.vms.items()}
        self._power = {str(vm["uuid"]): str(vm["power_state"]) for vm in listed.values()}
        fresher = {u: ops for u, ops in self.caps.ops.items()
                   if self._ops_at.get(u, 0.0) > recs.at}  # an event's newer reading wins
        self.caps.ops = {str(vm["uuid"]): actions.vm_ops(vm) for vm in listed.values()}
        self.caps.ops.update((u, ops) for u, ops in fresher.items() if u in self.caps.ops)
        self._ops_at = {u: t for u, t in self._ops_at.items() if t > recs.at}

    def _figures(self, vm: dict[str, Any], metrics: dict[str, Any] | None, at: float,
                 rates: DomainRates) -> DomainFigures:
        recs = self._recs
        names = recs.host_names if recs is not None else {}
        sample = vm_sample(vm, metrics, names, at)
        if rates.disks or rates.nets:  # the devices the RRDs name (no counters in XAPI)
            sample = replace(sample, disks=dict.fromkeys(rates.disks, DiskCounters()),
                             nets=dict.fromkeys(rates.nets, NetCounters()))
        mem_pct = None
        resident = next((m for m in self.info.members if m.name == sample.resident), None) \
            if self.info is not None else None
        total = resident.memory_kib if resident else (self.info.memory_kib if self.info else 0)
        if sample.mem_kib is not None and total:
            mem_pct = 100.0 * sample.mem_kib / total
        started = _epoch(metrics.get("start_time")) if metrics and sample.state.active else None
        return DomainFigures(sample, rates, mem_pct, started, self.id)

    async def _pass_records(self, session: XapiSession, started: float) -> PoolRecords:
        """The records a pass shows: the ones events keep current, with the pool record
        read again (one small call: it proves the master still answers, and a new
        master shows at once); read whole until the event thread's first answer is in."""
        pools: dict[str, Any] = {}
        try:
            if self._kept:
                pools = await self._call(session.call, "pool.get_all_records")
            else:
                recs = await self._call(read_pool, session, started)
        except ConnectionLost as err:
            self.mark_lost(str(err))
            raise
        except Failure as err:
            raise BackendError(f"reading {self.id} failed: {failure_text(err.details)}"
                               ) from None
        if self._kept and self._recs is not None:  # it may have come in meanwhile
            recs = self._recs
            recs.at = started
            for ref, record in pools.items():
                recs.apply("pool", "mod", ref, dict(record))
        return recs

    async def sample(self) -> PassResult:
        """One pass over the pool; ConnectionLost if the master does not answer."""
        session = self.session
        if session is None or not self.connected:
            raise ConnectionLost(self.status.message or f"not connected to {self.uri}")
        wall, started, t0 = time.time(), time.monotonic(), time.perf_counter()
        recs = await self._pass_records(session, started)
        self._take_records(recs)
        if self._address is not None:
            await self.rates.refresh(recs, session, self._address)
        figures: dict[str, DomainFigures] = {}
        for vm in recs.listed().values():
            metrics = recs.vm_metrics.get(str(vm.get("metrics")))
            fig = self._figures(vm, metrics, started, self.rates.of(vm))
            figures[fig.uuid] = fig
        self._prev = {u: f.sample for u, f in figures.items()}
        assert self.info is not None
        result = PassResult(self.info, figures, wall, time.perf_counter() - t0, "xapi",
                            self.id, started)
        self.last = result
        self.history.record(wall, figures)
        return result

    # -- actions and details -----------------------------------------------------------
    def _session(self) -> XapiSession:
        session = self.session
        if session is None or not self.connected:
            raise ConnectionLost(self.status.message or f"not connected to {self.uri}")
        return session

    async def act(self, uuid: str, action: str) -> str:
        """Do a lifecycle action through XenAPI; a readable outcome or a typed error."""
        session = self._session()
        return await self._call(partial(actions.perform, readonly=self.readonly),
                                session, uuid, action, self.caps)

    async def migrate_to(self, uuid: str, target: HostBackend, opts: MigrationOptions,
                         progress: ProgressSink | None = None) -> str:
        raise Unsupported(f"Migrate: {self.caps.missing_reason('migration')}")

    async def abort_migration(self, uuid: str) -> str:
        raise Unsupported(f"Abort migration: {self.caps.missing_reason('migration')}")

    def console_reason(self, sample: DomainSample) -> str | None:
        return NO_CONSOLE

    async def check_console(self, uuid: str) -> str | None:
        return NO_CONSOLE

    async def open_console(self, uuid: str, force: bool = False) -> ConsoleSession:
        raise Unsupported(f"Console: {NO_CONSOLE}")

    def watch(self, uuids: Iterable[str], share: float = 1.0) -> None:
        """Nothing to do: one rrd_updates read per pool host covers every VM."""

    async def detail(self, uuid: str) -> DomainDetail:
        """Everything about one VM; DomainGone if it vanished."""
        session = self._session()
        return await self._call(read_detail, session, uuid)
