"""The demo fleet behind the neutral host interface: `xentui --demo`.

`DemoWorld` runs one `DemoFleet` simulation in step with the clock (simulated seconds
follow real ones) and hands its events to the host they belong to; each `DemoHost` is
one simulated Xen host, shaped like any other backend. Nothing here touches libvirt or a
real URI: only `--demo` builds these.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import replace

from xentui.backend.api import HostBackend, ProgressSink
from xentui.backend.console import ConsoleSession
from xentui.backend.errors import (
    ActionError,
    ConnectionLost,
    DomainGone,
    NotAllowed,
    PermissionDenied,
    Unsupported,
)
from xentui.backend.fleet import Fleet
from xentui.backend.history import History
from xentui.backend.models import (
    Capabilities,
    DomainDetail,
    DomainEvent,
    DomainFigures,
    DomainRates,
    DomainSample,
    HostInfo,
    LinkState,
    LinkStatus,
    MigrationOptions,
    PassResult,
)
from xentui.backend.rates import domain_rates, same_instance
from xentui.demo.sim import DemoError, DemoFleet

HISTORY_SECONDS = 600.0
DEMO_SCHEME = "demo://"
NO_CONSOLE = "the demo host simulates its domains: there is no console to attach"
CAPS = Capabilities(driver="Xen (demo)", bulk_stats=False, snapshots=True, reset=True,
                    managed_save=True, console=False)


class DemoWorld:
    """One simulation for every demo host, its clock, and the way back to the hosts."""

    def __init__(
        self, *, seed: int = 7, hosts: int = 3, clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.sim = DemoFleet(seed, hosts)
        self.clock = clock
        self.wall = wall
        self.hosts: dict[str, DemoHost] = {}
        self._mono0 = clock()
        self._wall0 = wall()
        self._t0 = 0.0

    def sim_time(self) -> float:
        """Simulated seconds now (they follow the clock from the moment the world opens)."""
        return self._t0 + (self.clock() - self._mono0)

    def mono_of(self, t: float) -> float:
        return self._mono0 + (t - self._t0)

    def wall_of(self, t: float) -> float:
        return self._wall0 + (t - self._t0)

    def advance(self) -> None:
        """Bring the simulation to now and deliver what happened meanwhile."""
        self.sim.advance_to(self.sim_time())
        for event in self.sim.drain_events():
            name = event.uri.removeprefix(DEMO_SCHEME)
            host = self.hosts.get(name)
            if host is not None:
                host.deliver(replace(event, at=self.wall_of(event.at), host_id=name))

    def prefill(self, seconds: float, step: float) -> None:
        """Fill every host's history with `seconds` of simulated past ending now."""
        mono_end, wall_end = self.clock(), self.wall()
        start = self.sim.now
        for t, name, samples in self.sim.prefill(seconds, step):
            host = self.hosts.get(name)
            if host is not None:
                ago = seconds - (t - start)
                host.take_past(wall_end - ago, [replace(s, at=mono_end - ago) for s in samples])
        self._t0, self._mono0, self._wall0 = self.sim.now, mono_end, wall_end
        self.sim.drain_events()  # the past's events are not news


class DemoHost:
    """One simulated Xen host behind `api.HostBackend`."""

    def __init__(self, world: DemoWorld, name: str, *, interval: float,
                 readonly: bool = False) -> None:
        self.world = world
        self.id = name
        self.uri = f"{DEMO_SCHEME}{name}"
        self.readonly = readonly
        self.interval = interval
        self.caps: Capabilities | None = CAPS
        self.info: HostInfo | None = None
        self.last: PassResult | None = None
        self.history = History.for_span(HISTORY_SECONDS, interval)
        self.status = LinkStatus(LinkState.CONNECTING, self.uri, readonly, at=time.time(),
                                 host_id=name)
        self.status_listeners: list[Callable[[LinkStatus], object]] = []
        self.event_listeners: list[Callable[[DomainEvent], object]] = []
        self.domain_listeners: list[Callable[[str, DomainFigures | None], object]] = []
        self._prev: dict[str, DomainSample] = {}
        self._closed = False
        world.hosts[name] = self

    @property
    def connected(self) -> bool:
        return self.status.state is LinkState.CONNECTED

    def _set_status(self, state: LinkState, message: str) -> None:
        self.status = LinkStatus(state, self.uri, self.readonly, message, None, time.time(),
                                 self.id)
        for listener in list(self.status_listeners):
            listener(self.status)

    async def connect(self) -> None:
        self.info = self.world.sim.host_info(self.id)
        mode = "read-only" if self.readonly else "read-write"
        self._set_status(LinkState.CONNECTED, f"connected to {self.uri} (DEMO, {mode})")

    def mark_lost(self, message: str) -> None:
        self._set_status(LinkState.LOST, message)

    def watch(self, uuids: Iterable[str], share: float = 1.0) -> None:
        """The simulation computes every figure every pass: nothing to save."""

    async def close(self) -> None:
        self._closed = True
        self._set_status(LinkState.CLOSED, f"closed {self.uri}")

    # -- figures ---------------------------------------------------------------------
    def _figures(self, sample: DomainSample, rates: DomainRates | None = None) -> DomainFigures:
        if rates is None:
            rates = domain_rates(self._prev.get(sample.uuid), sample)
        info = self.info
        mem_pct = None
        if sample.mem_kib is not None and info is not None and info.memory_kib:
            mem_pct = 100.0 * sample.mem_kib / info.memory_kib
        started = None
        if sample.state.active:
            since = self.world.sim.domain(self.id, sample.uuid).started_at
            started = None if since is None else self.world.wall_of(since)
        return DomainFigures(sample, rates, mem_pct, started, self.id)

    def take_past(self, wall: float, samples: list[DomainSample]) -> None:
        """One moment of the simulated past, for the graphs' history."""
        figures = {s.uuid: self._figures(s) for s in samples}
        self._prev = {s.uuid: s for s in samples}
        self.history.record(wall, figures)

    def deliver(self, event: DomainEvent) -> None:
        for listener in list(self.event_listeners):
            listener(event)

    async def sample(self) -> PassResult:
        if self._closed or not self.connected:
            raise ConnectionLost(f"not connected to {self.uri}")
        t0 = time.perf_counter()
        wall = self.world.wall()
        started = self.world.clock()
        self.world.advance()
        info = self.world.sim.host_info(self.id)
        self.info = info
        samples = [replace(s, at=started) for s in self.world.sim.samples(self.id)]
        figures = {s.uuid: self._figures(s) for s in samples}
        self._prev = {s.uuid: s for s in samples}
        took = time.perf_counter() - t0
        result = PassResult(info, figures, wall, took, "demo", self.id, started)
        self.last = result
        self.history.record(wall, figures)
        return result

    async def refresh_domain(self, uuid: str) -> DomainFigures | None:
        self.world.advance()
        found = [s for s in self.world.sim.samples(self.id) if s.uuid == uuid]
        if not found:
            return None
        sample = replace(found[0], at=self.world.clock())
        prev = self._prev.get(uuid)
        old = self.last.domains.get(uuid) if self.last is not None else None
        keep = old is not None and prev is not None and same_instance(prev, sample)
        return self._figures(sample, old.rates if keep and old else DomainRates())

    async def act(self, uuid: str, action: str) -> str:
        if self.readonly:
            raise PermissionDenied(f"{action}: the connection is read-only")
        self.world.advance()
        try:
            text = self.world.sim.act(self.id, uuid, action)
        except DemoError as err:
            message = str(err)
            if "no domain" in message:
                raise DomainGone(message) from err
            if "not possible" in message or "not enough" in message:
                raise NotAllowed(message) from err
            raise ActionError(message) from err
        self.world.advance()
        return text

    async def migrate_to(self, uuid: str, target: HostBackend, opts: MigrationOptions,
                         progress: ProgressSink | None = None) -> str:
        """Move a simulated domain at once (no job to report progress on)."""
        if self.readonly:
            raise PermissionDenied("Migrate: the connection is read-only")
        if not isinstance(target, DemoHost) or target.world is not self.world:
            raise NotAllowed(f"Migrate: {target.id} is not a host of this demo")
        self.world.advance()
        try:
            text = self.world.sim.migrate(uuid, self.id, target.id)
        except DemoError as err:
            raise NotAllowed(str(err)) from err
        self.world.advance()
        return text

    async def abort_migration(self, uuid: str) -> str:
        """Demo migrations end as soon as they start: there is never one to cancel."""
        raise NotAllowed("Abort migration: no migration of this domain is under way")

    def console_reason(self, sample: DomainSample) -> str | None:
        return NO_CONSOLE

    async def check_console(self, uuid: str) -> str | None:
        return NO_CONSOLE

    async def open_console(self, uuid: str, force: bool = False) -> ConsoleSession:
        raise Unsupported(f"Console: {NO_CONSOLE}")

    async def detail(self, uuid: str) -> DomainDetail:
        try:
            d = self.world.sim.domain(self.id, uuid)
        except DemoError as err:
            raise DomainGone(str(err)) from err
        sample = next(s for s in self.world.sim.samples(self.id) if s.uuid == uuid)
        return DomainDetail(
            uuid=uuid, name=d.name, state=sample.state, reason="", persistent=d.persistent,
            autostart=d.autostart, managed_save=d.managed_save, snapshots=list(d.snapshots),
            xml=f"<!-- demo domain {d.name}: a simulation, no libvirt XML -->",
            disks=tuple(sample.disks), nets=tuple(sample.nets),
            notes=[f"simulated load: {d.load}"],
        )


def demo_fleet(*, interval: float, readonly: bool = False, live: bool = True,
               seed: int = 7, hosts: int = 3, past_s: float = HISTORY_SECONDS,
               clock: Callable[[], float] = time.monotonic,
               wall: Callable[[], float] = time.time) -> Fleet:
    """The demo fleet, its graphs already holding `past_s` of simulated history (fixed
    clocks give the same figures every time: snapshot tests use that)."""
    world = DemoWorld(seed=seed, hosts=hosts, clock=clock, wall=wall)
    members = [DemoHost(world, name, interval=interval, readonly=readonly)
               for name in world.sim.host_names()]
    if past_s > 0:
        world.prefill(past_s, max(interval, 1.0))
    return Fleet(members, live=live)
