"""A deterministic simulation of a small fleet of Xen hosts, for the demo.

Three Xen-shaped hosts by default, each with Domain-0 and a handful of guests in mixed states
whose CPU, memory, disks and NICs move as a real Xen host's do (see `sim_load`). Time is
a number of seconds the caller hands in (`advance_to`), never the clock: the same seed and
the same times give the same samples. Actions change state as Xen would, and each change
queues a `DomainEvent`. Pure Python: nothing from libvirt, textual or rich.
"""

from __future__ import annotations

import heapq
import math
import random
import uuid as uuidlib
from collections.abc import Iterator

from xentui.backend.actions import ACTIONS, why_not
from xentui.backend.models import (
    DomainEvent,
    DomainSample,
    DomainState,
    HostInfo,
)
from xentui.demo.sim_guest import (
    BOOTED,
    DOM0_UUID,
    FROM_SNAPSHOT,
    GIB_KIB,
    HOST_SHAPES,
    MIGRATED,
    NAMES,
    PEGGED_NAMES,
    RESTORED,
    SCRIPT_FIRST_S,
    SCRIPT_OFF_S,
    SCRIPT_PERIOD_S,
    SHUTOFF_DESTROYED,
    SHUTOFF_FROM_SNAPSHOT,
    SHUTOFF_SAVED,
    SHUTOFF_SHUTDOWN,
    UNPAUSED,
    USER,
    DemoDomain,
    DemoError,
    Guest,
    S,
    SimHost,
    host_name,
)
from xentui.demo.sim_load import LOAD_KINDS, NS_PER_PCT_S, make_profile, mix


class DemoFleet:
    """A simulated fleet of Xen hosts, deterministic for a seed and a sequence of times."""

    def __init__(self, seed: int = 7, hosts: int = 3) -> None:
        if hosts < 1:
            raise ValueError("a demo fleet needs at least one host")
        self.seed = seed
        self.now = 0.0
        self._rng = random.Random(seed)
        self._hosts: dict[str, SimHost] = {}
        self._events: list[DomainEvent] = []
        self._timers: list[tuple[float, int, str, str, int]] = []
        self._timer_seq = 0
        self._uuids: set[str] = set()
        names = list(NAMES)
        self._rng.shuffle(names)
        for i in range(hosts):
            self._build_host(i, names)
        self.scripted_uuid = self._pick_scripted()
        if self.scripted_uuid is not None:
            self._timer(SCRIPT_FIRST_S, "script-down", self.scripted_uuid, -1)

    # -- building -------------------------------------------------------------------------

    def _new_uuid(self) -> str:
        while True:
            u = str(uuidlib.UUID(int=self._rng.getrandbits(128), version=4))
            if u not in self._uuids:
                self._uuids.add(u)
                return u

    def _build_host(self, i: int, names: list[str]) -> None:
        rng = self._rng
        cpus, mhz, gib, d0_vcpus, d0_gib, model = HOST_SHAPES[i % len(HOST_SHAPES)]
        name = host_name(i)
        dom0 = Guest(
            DOM0_UUID, "Domain-0", d0_vcpus,
            make_profile("dom0", d0_vcpus, d0_gib * GIB_KIB, rng, mix(self.seed, i, 0),
                         ballooned=False, disks=0, nic=False),
            is_dom0=True, state=S.RUNNING, reason=BOOTED, id=0,
        )
        host = SimHost(name, cpus, mhz, model, gib * GIB_KIB, {DOM0_UUID: dom0})
        self._hosts[name] = host
        n = rng.randint(6, 10)
        n_off = 1 if n < 7 else rng.randint(1, 2)
        states = [S.PAUSED] + [S.SHUTOFF] * n_off + [S.RUNNING] * (n - 1 - n_off)
        rng.shuffle(states)
        running = [k for k, st in enumerate(states) if st is S.RUNNING]
        transient = rng.choice(running)
        kinds = [rng.choice(LOAD_KINDS[:3]) for _ in states]
        order = running[:]
        rng.shuffle(order)
        for kind, k in zip(("pegged", "idle", "busy", "bursty"), order, strict=False):
            kinds[k] = kind
        budget = host.memory_kib * 0.8 - dom0.maxmem_kib
        sizes = [rng.choice((1, 2, 2, 4, 4, 8, 16)) * GIB_KIB for _ in states]
        while sum(sizes) > budget:
            big = sizes.index(max(sizes))
            sizes[big] //= 2
        uptime_max = 0.0
        for k, (state, kind) in enumerate(zip(states, kinds, strict=True)):
            if kind == "pegged":
                taken = self._all_names()
                gname = next((p for p in PEGGED_NAMES if p not in taken), f"runner{i:02d}")
                vcpus = rng.choice((2, 4))
            else:
                gname = names.pop() if names else f"vm{i}-{k:02d}"
                vcpus = min(rng.choice((1, 1, 2, 2, 4, 8)), cpus // 2)
            profile = make_profile(
                kind, vcpus, sizes[k], rng, mix(self.seed, i, k + 1),
                ballooned=rng.random() < 0.7, disks=2 if rng.random() < 0.35 else 1,
            )
            guest = Guest(self._new_uuid(), gname, vcpus, profile, persistent=k != transient)
            guest.autostart = guest.persistent and rng.random() < 0.6
            guest.state = state
            if state.active:
                uptime = math.exp(rng.uniform(math.log(3600), math.log(60 * 86400)))
                if k == transient:
                    uptime = rng.uniform(600, 7200)
                uptime_max = max(uptime_max, uptime)
                guest.started_at = -uptime
                guest.reason = USER if state is S.PAUSED else BOOTED
                ran = uptime * (0.5 if state is S.PAUSED else 1.0)
                guest.cpu_ns = profile.cpu.mean * ran * NS_PER_PCT_S
                guest.disk_bytes = {
                    d.dev: [d.read.rate.base * ran, d.write.rate.base * ran]
                    for d in profile.disks
                }
                if profile.rx is not None and profile.tx is not None:
                    guest.net_bytes = [profile.rx.rate.base * ran, profile.tx.rate.base * ran]
                if state is S.PAUSED:
                    guest.held_mem = profile.balloon.at(0.0)
            else:
                guest.reason = SHUTOFF_SHUTDOWN
            host.guests[guest.uuid] = guest
        dom0.started_at = -(uptime_max + rng.uniform(600, 86400))
        active = sorted(
            (g for g in host.guests.values() if g.state.active and not g.is_dom0),
            key=lambda g: g.started_at or 0.0,
        )
        for g in active:
            g.id = host.next_id
            host.next_id += 1

    def _all_names(self) -> set[str]:
        return {g.name for h in self._hosts.values() for g in h.guests.values()}

    def _pick_scripted(self) -> str | None:
        first = next(iter(self._hosts.values()))
        for kind in ("idle", "bursty", "busy"):
            for g in first.guests.values():
                if (g.state is S.RUNNING and g.persistent and not g.is_dom0
                        and g.profile.cpu.kind == kind):
                    return g.uuid
        return None

    # -- time -----------------------------------------------------------------------------

    def _timer(self, due: float, what: str, uuid: str, gen: int) -> None:
        self._timer_seq += 1
        heapq.heappush(self._timers, (due, self._timer_seq, what, uuid, gen))

    def advance_to(self, t: float) -> None:
        """Move simulated time forward to t seconds (a t in the past changes nothing)."""
        if t <= self.now:
            return
        while self._timers and self._timers[0][0] <= t:
            due, _seq, what, uuid, gen = heapq.heappop(self._timers)
            self.now = max(self.now, due)
            found = self._find(uuid)
            if found is not None:
                found[1].sync(self.now)
                self._fire(what, found[0], found[1], gen)
        self.now = t
        for host in self._hosts.values():
            for g in host.guests.values():
                g.sync(t)

    def _fire(self, what: str, host: SimHost, g: Guest, gen: int) -> None:
        if what == "script-down":
            self._timer(self.now + SCRIPT_PERIOD_S, "script-down", g.uuid, -1)
            if g.state is S.RUNNING:
                self._begin_shutdown(host, g)
                g.script_off = True
                self._timer(self.now + SCRIPT_OFF_S, "script-up", g.uuid, -1)
        elif what == "script-up":
            if g.state is S.SHUTOFF and g.script_off and self._fits(host, g):
                self._boot(host, g, "booted", BOOTED)
        elif gen == g.gen and what == "shutdown-done":
            self._emit(host, g, "Shutdown", "finished")
            self._stop(host, g, "shutdown", SHUTOFF_SHUTDOWN)
        elif gen == g.gen and what == "reboot-done":
            self._set(g, S.RUNNING, BOOTED)
            g.fresh_instance(self._next_id(host), self.now)
            self._emit(host, g, "Rebooted", "", kind="reboot")

    def prefill(self, seconds: float = 600.0, step: float = 2.0) -> Iterator[
        tuple[float, str, list[DomainSample]]
    ]:
        """Run the fleet forward `seconds` from now, yielding (t, host, samples) every `step`
        seconds (starting with now), to fill a history before the screen opens."""
        start = self.now
        for k in range(int(seconds / step) + 1):
            t = start + k * step
            self.advance_to(t)
            for name in self._hosts:
                yield t, name, self.samples(name, t)

    # -- reading --------------------------------------------------------------------------

    def host_names(self) -> list[str]:
        return list(self._hosts)

    def _host(self, name: str) -> SimHost:
        try:
            return self._hosts[name]
        except KeyError:
            raise DemoError(f"no demo host named {name!r}") from None

    def _guest(self, host: str, uuid: str) -> Guest:
        h = self._host(host)
        try:
            return h.guests[uuid]
        except KeyError:
            raise DemoError(f"no domain with UUID {uuid} on {host}") from None

    def _find(self, uuid: str) -> tuple[SimHost, Guest] | None:
        for h in self._hosts.values():
            if uuid in h.guests:
                return h, h.guests[uuid]
        return None

    def host_info(self, host: str) -> HostInfo:
        """The host now; free memory is total − every active domain's current memory."""
        h = self._host(host)
        used = sum(g.mem_at(self.now) for g in h.guests.values() if g.state.active)
        return HostInfo(
            uri=h.uri, hostname=h.name, hypervisor="Xen", hv_version="4.17",
            libvirt_version="demo", cpus=h.cpus, mhz=h.mhz, cpu_model=h.cpu_model,
            memory_kib=h.memory_kib, free_kib=h.memory_kib - used,
        )

    def samples(self, host: str, at: float | None = None) -> list[DomainSample]:
        """Every domain of a host as it is now (Domain-0 first, then by id, shut off last);
        `at` is the time stamped on the samples (default: the simulated time)."""
        h = self._host(host)
        stamp = self.now if at is None else at
        guests = sorted(
            h.guests.values(), key=lambda g: (g.id is None, g.id or 0, g.name)
        )
        return [g.sample(stamp, self.now) for g in guests]

    def domain(self, host: str, uuid: str) -> DemoDomain:
        g = self._guest(host, uuid)
        return DemoDomain(
            host, g.uuid, g.name, g.profile.cpu.kind, g.persistent, g.autostart,
            g.managed_save, tuple(n for n, _s in g.snapshots),
            g.started_at if g.state.active else None,
        )

    def drain_events(self) -> list[DomainEvent]:
        """The events queued since the last call (each is returned once)."""
        out, self._events = self._events, []
        return out

    # -- state changes --------------------------------------------------------------------

    def _emit(self, host: SimHost, g: Guest, event: str, detail: str, *,
              kind: str = "lifecycle") -> None:
        self._events.append(DomainEvent(host.uri, g.uuid, g.name, kind, event, detail, self.now))

    def _set(self, g: Guest, state: DomainState, reason: int) -> None:
        g.gen += 1
        if state is S.PAUSED and g.held_mem is None:
            g.held_mem = g.mem_at(self.now)
        elif state is not S.PAUSED:
            g.held_mem = None
        g.state, g.reason = state, reason

    def _next_id(self, host: SimHost) -> int:
        host.next_id += 1
        return host.next_id - 1

    def _fits(self, host: SimHost, g: Guest) -> bool:
        return host.committed_kib() + g.maxmem_kib <= host.memory_kib

    def _need_room(self, label: str, host: SimHost, g: Guest) -> None:
        if not self._fits(host, g):
            free = (host.memory_kib - host.committed_kib()) // 1024
            raise DemoError(
                f"{label}: not enough free memory on {host.name} "
                f"({g.maxmem_kib // 1024} MiB needed, {free} MiB free)"
            )

    def _boot(self, host: SimHost, g: Guest, detail: str, reason: int) -> None:
        self._set(g, S.RUNNING, reason)
        g.fresh_instance(self._next_id(host), self.now)
        g.script_off = False
        self._emit(host, g, "Started", detail)

    def _stop(self, host: SimHost, g: Guest, detail: str, reason: int) -> None:
        self._set(g, S.SHUTOFF, reason)
        g.id = g.started_at = None
        self._emit(host, g, "Stopped", detail)
        if not g.persistent:  # a transient domain is gone once it stops
            del host.guests[g.uuid]

    def _begin_shutdown(self, host: SimHost, g: Guest, what: str = "shutdown-done") -> None:
        self._set(g, S.SHUTDOWN, USER)
        delay = 3.0 + mix(self.seed, int(self.now), g.gen) % 6
        self._timer(self.now + delay, what, g.uuid, g.gen)

    def act(self, host: str, uuid: str, action: str) -> str:
        """Do an action (a name in ACTIONS) on a domain now; returns what happened.

        Raises DemoError for an unknown host, domain or action, or a state that forbids it.
        """
        spec = ACTIONS.get(action)
        if spec is None:
            raise DemoError(f"unknown action {action!r}")
        h, g = self._host(host), self._guest(host, uuid)
        why = why_not(spec, g.sample(self.now, self.now), None)
        if why is not None:
            raise DemoError(f"{spec.label}: {why}")
        label = spec.label
        if action == "start" and g.managed_save:
            action, label = "restore", "Start"
        if action == "start":
            self._need_room(label, h, g)
            self._boot(h, g, "booted", BOOTED)
            return f"{g.name}: started (id {g.id})"
        if action == "restore":
            if not g.managed_save:
                raise DemoError(f"Restore: {g.name} has no saved image")
            self._need_room(label, h, g)
            g.managed_save = False
            self._boot(h, g, "restored", RESTORED)
            return f"{g.name}: restored (id {g.id})"
        if action == "shutdown":
            self._begin_shutdown(h, g)
            return f"{g.name}: shutting down"
        if action == "reboot":
            self._begin_shutdown(h, g, "reboot-done")
            return f"{g.name}: rebooting"
        if action == "reset":
            self._set(g, S.RUNNING, BOOTED)
            g.fresh_instance(self._next_id(h), self.now)
            self._emit(h, g, "Rebooted", "reset", kind="reboot")
            return f"{g.name}: reset (id {g.id})"
        if action == "destroy":
            self._stop(h, g, "destroyed", SHUTOFF_DESTROYED)
            return f"{g.name}: forced off"
        if action == "pause":
            self._set(g, S.PAUSED, USER)
            self._emit(h, g, "Suspended", "paused")
            return f"{g.name}: paused"
        if action == "resume":
            self._set(g, S.RUNNING, UNPAUSED)
            self._emit(h, g, "Resumed", "unpaused")
            return f"{g.name}: resumed"
        if action == "save":
            g.managed_save = True
            self._stop(h, g, "saved", SHUTOFF_SAVED)
            return f"{g.name}: saved to disk"
        if action == "autostart":
            g.autostart = not g.autostart
            return f"{g.name}: autostart {'on' if g.autostart else 'off'}"
        if action == "undefine":
            del h.guests[g.uuid]
            self._emit(h, g, "Undefined", "removed")
            return f"{g.name}: undefined"
        return self._snapshot_action(h, g, action, label)

    def _snapshot_action(self, h: SimHost, g: Guest, action: str, label: str) -> str:
        if action == "snapshot":
            g.snap_seq += 1
            name = f"snap{g.snap_seq}"
            g.snapshots.append((name, g.state))
            return f"{g.name}: snapshot {name} taken"
        if action not in ("revert", "snapshot-delete"):
            raise DemoError(f"{label}: not available in the demo")
        if not g.snapshots:
            raise DemoError(f"{label}: {g.name} has no snapshots")
        if action == "snapshot-delete":
            name, _state = g.snapshots.pop()
            return f"{g.name}: snapshot {name} deleted"
        name, state = g.snapshots[-1]
        if state.active and not g.state.active:
            self._need_room(label, h, g)
            g.fresh_instance(self._next_id(h), self.now)
            self._set(g, S.RUNNING, FROM_SNAPSHOT)
            self._emit(h, g, "Started", "from snapshot")
        elif not state.active and g.state.active:
            self._stop(h, g, "from snapshot", SHUTOFF_FROM_SNAPSHOT)
            return f"{g.name}: reverted to {name}"
        if state is S.PAUSED:
            self._set(g, S.PAUSED, FROM_SNAPSHOT)
            self._emit(h, g, "Suspended", "from snapshot")
        elif state.active:
            self._set(g, S.RUNNING, FROM_SNAPSHOT)
        return f"{g.name}: reverted to {name}"

    def migrate(self, uuid: str, src: str, dst: str) -> str:
        """Live-migrate a running (or paused) guest: a new id on the target, the same counters."""
        h_src, h_dst = self._host(src), self._host(dst)
        g = self._guest(src, uuid)
        if g.is_dom0:
            raise DemoError("Migrate: Domain-0 is the control domain: it cannot be migrated")
        if h_src is h_dst:
            raise DemoError(f"Migrate: {g.name} is already on {src}; pick another host")
        if g.state not in (S.RUNNING, S.BLOCKED, S.PAUSED):
            raise DemoError(f"Migrate: not possible while the domain is {g.state.value}")
        self._need_room("Migrate", h_dst, g)
        g.sync(self.now)
        self._emit(h_src, g, "Stopped", "migrated")
        del h_src.guests[uuid]
        h_dst.guests[uuid] = g
        g.id = self._next_id(h_dst)
        g.gen += 1
        if g.state is not S.PAUSED:
            g.reason = MIGRATED
        self._emit(h_dst, g, "Started", "migrated")
        return f"{g.name}: migrated from {src} to {dst} (id {g.id})"
