"""The simulated fleet's pieces: one guest (its state and counters over simulated time)
and one host (its guests), plus the names and shapes the demo draws from. Pure Python;
`sim.DemoFleet` runs them."""

from __future__ import annotations

from dataclasses import dataclass, field

from xentui.backend.models import DiskCounters, DomainSample, DomainState, NetCounters
from xentui.demo.sim_load import NS_PER_PCT_S, Profile

S = DomainState
DOM0_UUID = "00000000-0000-0000-0000-000000000000"
GIB_KIB = 1024 * 1024
COUNTING = frozenset({S.RUNNING, S.BLOCKED, S.SHUTDOWN})
"""States in which a guest's counters grow (a paused guest's stand still)."""
SCRIPT_FIRST_S, SCRIPT_PERIOD_S, SCRIPT_OFF_S = 120.0, 240.0, 40.0

# libvirt's state reason numbers, so the detail view can name them.
BOOTED, MIGRATED, RESTORED, FROM_SNAPSHOT, UNPAUSED = 1, 2, 3, 4, 5
USER = 1
SHUTOFF_SHUTDOWN, SHUTOFF_DESTROYED, SHUTOFF_SAVED, SHUTOFF_FROM_SNAPSHOT = 1, 2, 5, 7

NAMES = (
    "web01", "web02", "web03", "db01", "db02", "cache", "mail", "proxy", "monitor",
    "backup", "dns01", "dns02", "ldap", "git", "wiki", "vpn", "log01", "mq01", "app01",
    "app02", "api01", "search01", "files", "nfs01", "jump", "metrics", "vault", "redis01",
    "print", "ntp", "sso", "registry",
)
PEGGED_NAMES = ("build-runner", "ci-worker", "render01", "transcode")
HOST_SHAPES = (  # cpus, mhz, GiB, Domain-0 vCPUs and GiB, CPU model
    (8, 3400, 64, 2, 4, "Intel(R) Xeon(R) E-2288G"),
    (16, 2800, 128, 4, 8, "AMD EPYC 7302P"),
    (24, 2400, 256, 4, 8, "Intel(R) Xeon(R) Silver 4214R"),
)


class DemoError(Exception):
    """An action the demo refuses, with a message to show as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class DemoDomain:
    """What the demo knows of a domain beyond its sample (uptime, snapshots, ...)."""

    host: str
    uuid: str
    name: str
    load: str
    persistent: bool
    autostart: bool
    managed_save: bool
    snapshots: tuple[str, ...]
    started_at: float | None
    """Simulated time the running instance started (negative: before time 0)."""


@dataclass(eq=False)
class Guest:
    uuid: str
    name: str
    vcpus: int
    profile: Profile
    persistent: bool = True
    is_dom0: bool = False
    state: DomainState = S.SHUTOFF
    reason: int = 0
    id: int | None = None
    started_at: float | None = None
    synced_to: float = 0.0
    cpu_ns: float = 0.0
    disk_bytes: dict[str, list[float]] = field(default_factory=dict)
    net_bytes: list[float] = field(default_factory=lambda: [0.0, 0.0])
    held_mem: int | None = None
    """The balloon's size when paused: it stands still until resumed."""
    managed_save: bool = False
    autostart: bool = False
    snapshots: list[tuple[str, DomainState]] = field(default_factory=list)
    snap_seq: int = 0
    gen: int = 0
    """Bumped on every state change, so a stale timer (a shutdown overtaken) does nothing."""
    script_off: bool = False

    @property
    def maxmem_kib(self) -> int:
        return self.profile.balloon.maxmem_kib

    def mem_at(self, t: float) -> int:
        return self.held_mem if self.held_mem is not None else self.profile.balloon.at(t)

    def sync(self, t: float) -> None:
        """Let the counters grow up to time t."""
        t0, self.synced_to = self.synced_to, max(t, self.synced_to)
        if t <= t0 or self.state not in COUNTING:
            return
        p = self.profile
        self.cpu_ns += p.cpu.integral(t0, t) * NS_PER_PCT_S
        for disk in p.disks:
            acc = self.disk_bytes.setdefault(disk.dev, [0.0, 0.0])
            acc[0] += disk.read.bytes(t0, t)
            acc[1] += disk.write.bytes(t0, t)
        if p.rx is not None and p.tx is not None:
            self.net_bytes[0] += p.rx.bytes(t0, t)
            self.net_bytes[1] += p.tx.bytes(t0, t)

    def fresh_instance(self, dom_id: int, now: float) -> None:
        """A new run of the domain: a new id, counters from zero."""
        self.id, self.started_at, self.synced_to = dom_id, now, now
        self.cpu_ns, self.disk_bytes, self.net_bytes = 0.0, {}, [0.0, 0.0]
        self.held_mem = None

    def sample(self, at: float, now: float) -> DomainSample:
        p = self.profile
        if not self.state.active:
            return DomainSample(
                self.uuid, self.name, None, self.state, self.vcpus,
                maxmem_kib=self.maxmem_kib, at=at, is_dom0=self.is_dom0,
                persistent=self.persistent,
            )
        disks = {
            d.dev: DiskCounters(
                int(rd), int(wr), int(rd) // d.read.unit_bytes, int(wr) // d.write.unit_bytes
            )
            for d in p.disks
            for rd, wr in [self.disk_bytes.get(d.dev, [0.0, 0.0])]
        }
        nets = {}
        if p.rx is not None and p.tx is not None:
            rx, tx = (int(b) for b in self.net_bytes)
            nets[f"vif{self.id}.0"] = NetCounters(
                rx, tx, rx // p.rx.unit_bytes, tx // p.tx.unit_bytes
            )
        return DomainSample(
            self.uuid, self.name, self.id, self.state, self.vcpus,
            int(self.cpu_ns), self.mem_at(now), self.maxmem_kib, disks, nets, at,
            self.is_dom0, self.persistent,
        )


@dataclass(eq=False)
class SimHost:
    name: str
    cpus: int
    mhz: int
    cpu_model: str
    memory_kib: int
    guests: dict[str, Guest]
    next_id: int = 1

    @property
    def uri(self) -> str:
        return f"demo://{self.name}"

    def committed_kib(self) -> int:
        """Memory promised to the active domains (their maximum): what admission checks."""
        return sum(g.maxmem_kib for g in self.guests.values() if g.state.active)


def host_name(i: int) -> str:
    return f"xen-{chr(ord('a') + i)}" if i < 26 else f"xen-{i + 1}"
