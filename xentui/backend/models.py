"""Plain, frozen records that the backend hands to its users (batch mode, the UI)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Any

ZERO_UUID = "00000000-0000-0000-0000-000000000000"
"""Domain-0's UUID on every Xen host."""


class DomainState(enum.StrEnum):
    """A domain's run state, named as `virsh domstate` and the batch JSON name it."""

    NOSTATE = "nostate"
    RUNNING = "running"
    BLOCKED = "blocked"
    PAUSED = "paused"
    SHUTDOWN = "shutdown"
    SHUTOFF = "shutoff"
    CRASHED = "crashed"
    PMSUSPENDED = "pmsuspended"

    @classmethod
    def from_libvirt(cls, code: int) -> DomainState:
        """Map a `VIR_DOMAIN_*` state number; unknown numbers read as nostate."""
        return _STATE_BY_CODE.get(code, cls.NOSTATE)

    @property
    def active(self) -> bool:
        """Whether the domain has a running instance (an id, counters)."""
        return self not in _INACTIVE


_STATE_BY_CODE = dict(enumerate(DomainState))
_INACTIVE = frozenset((DomainState.SHUTOFF, DomainState.NOSTATE))
"""Looked up in a set made once: naming enum members through their class costs about
ten times more, and every domain asks several times per pass."""


class DomainKind(enum.StrEnum):
    """What a domain is: a virtual machine or an OS-level container (the backend decides)."""

    VM = "vm"
    CONTAINER = "container"


@dataclass(frozen=True, slots=True)
class DiskCounters:
    """Cumulative counters of one block device."""

    rd_bytes: int | None = None
    wr_bytes: int | None = None
    rd_reqs: int | None = None
    wr_reqs: int | None = None


@dataclass(frozen=True, slots=True)
class NetCounters:
    """Cumulative counters of one network interface (from the host's side)."""

    rx_bytes: int | None = None
    tx_bytes: int | None = None
    rx_pkts: int | None = None
    tx_pkts: int | None = None


@dataclass(frozen=True, slots=True, order=True)
class DomainRef:
    """A domain's key across a fleet: UUIDs repeat between hosts (Domain-0's is all
    zeros on every Xen host), so the host is part of it."""

    host: str
    uuid: str


@dataclass(frozen=True, slots=True)
class OpenStackInfo:
    """What OpenStack Nova wrote into a domain's metadata: the names people use."""

    name: str = ""
    """The instance's Nova name (libvirt's is `instance-0000002a`)."""
    flavor: str = ""
    project: str = ""
    user: str = ""


@dataclass(frozen=True, slots=True)
class DomainSample:
    """What one sampling pass read of one domain: raw counters, no rates."""

    uuid: str
    name: str
    id: int | None
    state: DomainState
    vcpus: int | None = None
    cpu_time_ns: int | None = None
    mem_kib: int | None = None
    maxmem_kib: int | None = None
    disks: dict[str, DiskCounters] = field(default_factory=dict)
    nets: dict[str, NetCounters] = field(default_factory=dict)
    at: float = 0.0
    """Monotonic time of the reading, seconds."""
    is_dom0: bool = False
    """The host's control domain (the backend decides: one definition)."""
    persistent: bool | None = None
    """Defined (has a saved configuration) or transient; None if unknown."""
    resident: str = ""
    """The physical host it runs on when one connection spans several (a XenAPI pool
    member's name); empty where the connection is the host."""
    openstack: OpenStackInfo | None = None
    """Nova's names where the domain is an OpenStack instance (read once per instance)."""
    io_at: float | None = None
    """Monotonic time the disk and NIC counters were read, when earlier than `at` (a
    backend may read off-screen domains' I/O less often); None: read with the rest."""

    @property
    def io_read_at(self) -> float:
        """When the I/O counters were read (monotonic seconds)."""
        return self.at if self.io_at is None else self.io_at

    @property
    def io_age_s(self) -> float:
        """How old the I/O counters were when this sample was taken (0: fresh)."""
        return self.at - self.io_read_at
    kind: DomainKind = DomainKind.VM


@dataclass(frozen=True, slots=True)
class DeviceRates:
    """Per-second rates of one device; None where unknown."""

    read_bps: float | None = None
    write_bps: float | None = None


@dataclass(frozen=True, slots=True)
class DomainRates:
    """Rates derived from two samples of the same domain instance."""

    cpu_pct: float | None = None
    disk_rd_bps: float | None = None
    disk_wr_bps: float | None = None
    net_rx_bps: float | None = None
    net_tx_bps: float | None = None
    disks: dict[str, DeviceRates] = field(default_factory=dict)
    nets: dict[str, DeviceRates] = field(default_factory=dict)
    """For NICs, read is rx and write is tx."""


@dataclass(frozen=True, slots=True)
class DomainFigures:
    """One domain as shown: its sample, its rates and figures relative to the host."""

    sample: DomainSample
    rates: DomainRates
    mem_pct: float | None = None
    started_at: float | None = None
    """Wall-clock time when this instance was first seen running (uptime), if known."""
    host: str = ""
    """The id of the host it was read on."""
    listed_only: bool = False
    """Only what the domain listing says (name, id, state): the figures are not read
    yet. A reading with figures always replaces it; it never replaces such a reading."""

    @property
    def uuid(self) -> str:
        return self.sample.uuid

    @property
    def ref(self) -> DomainRef:
        return DomainRef(self.host, self.sample.uuid)

    @property
    def name(self) -> str:
        return self.sample.name

    @property
    def is_dom0(self) -> bool:
        return self.sample.is_dom0


@dataclass(frozen=True, slots=True)
class Dom0Load:
    """The control domain's own figures as the local kernel reports them (psutil)."""

    cpu_pct: float
    mem_used_kib: int
    mem_total_kib: int
    load: tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class PoolMember:
    """One physical host of a pool that a single connection manages (XenAPI)."""

    name: str
    uuid: str
    address: str
    cpus: int
    memory_kib: int
    free_kib: int | None
    live: bool
    master: bool = False


@dataclass(frozen=True, slots=True)
class HostInfo:
    """The hypervisor host behind a connection."""

    uri: str
    hostname: str
    hypervisor: str
    hv_version: str
    libvirt_version: str
    cpus: int
    mhz: int
    cpu_model: str
    memory_kib: int
    free_kib: int | None = None
    dom0: Dom0Load | None = None
    members: tuple[PoolMember, ...] = ()
    """The hosts of a pool behind this connection (empty for a single host)."""

    @property
    def physical_hosts(self) -> int:
        """How many machines this connection manages: a pool's members, else itself."""
        return len(self.members) or 1


@dataclass(frozen=True, slots=True)
class PassResult:
    """The outcome of one sampling pass over a host."""

    host: HostInfo
    domains: dict[str, DomainFigures]
    wall_time: float
    """Wall-clock time (epoch seconds) at the start of the pass."""
    took_s: float
    path: str
    """Which sampling path ran: 'bulk' or 'per-domain'."""
    host_id: str = ""
    at: float = 0.0
    """Monotonic time at the start of the pass (every sample in it was read later)."""
    notice: str = ""
    """A one-off word for the log from this pass (a reading path given up), or ''."""


@dataclass(frozen=True, slots=True)
class DomainListing:
    """A host's domains as its listing shows them before the first pass has read their
    figures (every one `listed_only`), so that the rows can be shown at once."""

    host_id: str
    domains: dict[str, DomainFigures]
    at: float = 0.0
    """Monotonic time the listing was taken."""


@dataclass(frozen=True, slots=True)
class PassFailure:
    """A pass (or the first connection) failed; `lost` when the link is down."""

    host_id: str
    text: str
    lost: bool


@dataclass(frozen=True, slots=True)
class DomainUpdate:
    """One domain re-read between passes (an event, an action); None: it is gone."""

    host_id: str
    uuid: str
    figures: DomainFigures | None

    @property
    def ref(self) -> DomainRef:
        return DomainRef(self.host_id, self.uuid)


class LinkState(enum.StrEnum):
    """Where a host connection stands."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    LOST = "lost"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """A change of a host connection's state, with a readable message."""

    state: LinkState
    uri: str
    readonly: bool = False
    message: str = ""
    retry_in: float | None = None
    at: float = 0.0
    host_id: str = ""


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """A libvirt domain event, turned into plain data with readable text."""

    uri: str
    uuid: str
    name: str
    kind: str
    """Short kind: 'lifecycle', 'reboot', 'watchdog', 'io-error', ..."""
    event: str
    """Readable event name, e.g. 'Started', 'Stopped', 'Rebooted'."""
    detail: str
    """Readable detail, e.g. 'booted', 'destroyed'."""
    at: float
    """Wall-clock time (epoch seconds)."""
    host_id: str = ""

    @property
    def text(self) -> str:
        return f"{self.name}: {self.event} ({self.detail})" if self.detail else (
            f"{self.name}: {self.event}"
        )


@dataclass(frozen=True, slots=True)
class Capabilities:
    """Features of a connection's driver; the lifecycle registry and sampler consult it."""

    driver: str
    """The driver's own name (`virConnectGetType`): 'Xen', 'QEMU', 'TEST', ..."""
    bulk_stats: bool
    snapshots: bool
    reset: bool
    managed_save: bool
    console: bool
    abort_migration: bool = False
    """A migration under way can be cancelled (QEMU; the Xen libxl driver cannot)."""
    migration: bool = True
    """Live migration between hosts of the driver (LXC refuses it)."""

    containers: bool = False
    """The driver runs OS-level containers (libvirt's LXC driver), not virtual machines."""

    def without(self, names: frozenset[str]) -> Capabilities:
        """These capabilities with the named ones switched off."""
        off: dict[str, Any] = dict.fromkeys(names, False)
        return replace(self, **off) if off else self

    def has(self, name: str | None) -> bool:
        """Whether a named capability (as the lifecycle registry names them) is present."""
        return True if name is None else bool(getattr(self, name, False))

    def missing_reason(self, name: str) -> str:
        """A readable sentence saying why an action needing `name` cannot run here."""
        what = {
            "snapshots": "snapshots are",
            "reset": "reset is",
            "managed_save": "managed save is",
            "console": "the console is",
            "bulk_stats": "bulk statistics are",
            "abort_migration": "aborting a migration is",
            "migration": "live migration is",
        }.get(name, f"{name} is")
        return f"{what} not supported by the {self.driver} driver"

    def refusal(self, action: str, sample: DomainSample) -> str | None:
        """libvirt drivers refuse nothing beyond what the registry's rules say."""
        return None


@dataclass(frozen=True, slots=True)
class VcpuInfo:
    number: int
    state: str
    cpu_time_ns: int
    pcpu: int


@dataclass(frozen=True, slots=True)
class DomainDetail:
    """A domain's full picture at one moment; items a driver lacks are None/empty."""

    uuid: str
    name: str
    state: DomainState
    reason: str
    persistent: bool
    autostart: bool | None
    managed_save: bool | None
    vcpus: list[VcpuInfo] = field(default_factory=list)
    memory: dict[str, int] = field(default_factory=dict)
    snapshots: list[str] = field(default_factory=list)
    xml: str = ""
    """The definition as the backend has it (libvirt: domain XML), shown as text."""
    disks: tuple[str, ...] = ()
    nets: tuple[str, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)
    """Device -> where it points (disk file, NIC bridge and MAC)."""
    notes: list[str] = field(default_factory=list)
    """What could not be read, said plainly."""
    openstack: OpenStackInfo | None = None


@dataclass(frozen=True, slots=True)
class MigrationOptions:
    """How to move a running domain to another host."""

    persist: bool = True
    """Keep it defined on the target."""
    undefine_source: bool = True
    """Remove its definition from the source."""
    p2p: bool = False
    """Peer-to-peer: the source's daemon talks to the target itself."""


@dataclass(frozen=True, slots=True)
class MigrationProgress:
    """Where a live migration stands: what the driver's job statistics say (QEMU: bytes
    and rate; the Xen libxl driver: elapsed time only); figures a driver lacks are None."""

    host_id: str
    """The source host."""
    uuid: str
    name: str
    target: str
    """The target host's id."""
    elapsed_s: float
    processed_bytes: int | None = None
    """Sent so far, all passes over memory together."""
    total_bytes: int | None = None
    remaining_bytes: int | None = None
    """Still to send in this pass (memory the guest dirties is sent again)."""
    rate_bps: float | None = None
    """Bytes per second."""
    iteration: int | None = None
    """Which pass over the guest's memory (1: the first copy)."""
    finished: bool = False
    """The migration ended (either way); the outcome comes with the action's result."""

    @property
    def ref(self) -> DomainRef:
        return DomainRef(self.host_id, self.uuid)

    @property
    def fraction(self) -> float | None:
        """How far the current pass is, 0..1; None without byte figures."""
        if not self.total_bytes or self.remaining_bytes is None:
            return None
        return max(0.0, min(1.0, 1.0 - self.remaining_bytes / self.total_bytes))

    @property
    def eta_s(self) -> float | None:
        """Seconds until this pass is sent at the current rate; None when unknown."""
        if self.remaining_bytes is None or not self.rate_bps:
            return None
        return self.remaining_bytes / self.rate_bps
