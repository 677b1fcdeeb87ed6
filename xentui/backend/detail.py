"""Everything about one domain for the detail screen (one blocking read)."""

from __future__ import annotations

from dataclasses import dataclass, field

import libvirt

from xentui.backend.capabilities import Capabilities
from xentui.backend.errors import DomainGone, translate
from xentui.backend.models import DomainState

_STATE_PREFIX = {
    DomainState.RUNNING: "VIR_DOMAIN_RUNNING_",
    DomainState.BLOCKED: "VIR_DOMAIN_BLOCKED_",
    DomainState.PAUSED: "VIR_DOMAIN_PAUSED_",
    DomainState.SHUTDOWN: "VIR_DOMAIN_SHUTDOWN_",
    DomainState.SHUTOFF: "VIR_DOMAIN_SHUTOFF_",
    DomainState.CRASHED: "VIR_DOMAIN_CRASHED_",
    DomainState.PMSUSPENDED: "VIR_DOMAIN_PMSUSPENDED_",
}


def reason_text(state: DomainState, reason: int) -> str:
    """libvirt's reason for a state, readable: 'booted', 'destroyed', 'user' ..."""
    prefix = _STATE_PREFIX.get(state)
    if prefix is None:
        return ""
    for attr in dir(libvirt):
        if attr.startswith(prefix) and getattr(libvirt, attr) == reason:
            return attr[len(prefix):].lower().replace("_", " ")
    return str(reason)


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
    notes: list[str] = field(default_factory=list)
    """What could not be read, said plainly."""


_VCPU_STATES = {0: "offline", 1: "running", 2: "blocked"}


def _try(notes: list[str], what: str, fn, default):  # type: ignore[no-untyped-def]
    try:
        return fn()
    except libvirt.libvirtError as err:
        if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            raise
        notes.append(f"{what}: {translate(err, what).args[0].split(': ', 1)[-1]}")
        return default


def read_detail(
    conn: libvirt.virConnect, uuid: str, caps: Capabilities | None
) -> DomainDetail:
    """Read one domain's details (blocking); DomainGone if it vanished."""
    try:
        dom = conn.lookupByUUIDString(uuid)
        code, reason = dom.state(0)
        state = DomainState.from_libvirt(code)
        notes: list[str] = []
        vcpus: list[VcpuInfo] = []
        memory: dict[str, int] = {}
        if state.active:
            info = _try(notes, "vCPUs", lambda: dom.vcpus()[0], [])
            vcpus = [VcpuInfo(n, _VCPU_STATES.get(s, str(s)), t, c) for n, s, t, c in info]
            memory = _try(notes, "memory statistics", lambda: dom.memoryStats(), {})
        snapshots: list[str] = []
        if caps is None or caps.snapshots:
            snapshots = _try(notes, "snapshots", lambda: dom.snapshotListNames(0), [])
        return DomainDetail(
            uuid=uuid,
            name=dom.name(),
            state=state,
            reason=reason_text(state, reason),
            persistent=bool(dom.isPersistent()),
            autostart=_try(notes, "autostart", lambda: bool(dom.autostart()), None),
            managed_save=_try(
                notes, "managed save", lambda: bool(dom.hasManagedSaveImage(0)), None
            ),
            vcpus=vcpus,
            memory=dict(memory),
            snapshots=list(snapshots),
            xml=dom.XMLDesc(0),
            notes=notes,
        )
    except libvirt.libvirtError as err:
        if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            raise DomainGone("the domain no longer exists") from err
        raise translate(err, "reading the domain") from err

