"""Everything about one domain for the detail screen (one blocking read)."""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any, TypeVar

import libvirt
from xentui.backend.errors import DomainGone
from xentui.backend.libvirt.domxml import device_sources, parse_devices
from xentui.backend.libvirt.errors import libvirt_message, translate
from xentui.backend.models import Capabilities, DomainDetail, DomainState, VcpuInfo

T = TypeVar("T")

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


_VCPU_STATES = {0: "offline", 1: "running", 2: "blocked"}


class _CVcpuInfo(ctypes.Structure):
    _fields_ = [
        ("number", ctypes.c_uint),
        ("state", ctypes.c_int),
        ("cpu_time", ctypes.c_ulonglong),
        ("cpu", ctypes.c_int),
    ]


def _vcpus_without_maps(dom: libvirt.virDomain) -> list[tuple[int, int, int, int]] | None:
    """virDomainGetVcpus called directly, without pinning maps; None if that fails."""
    try:
        lib = ctypes.CDLL("libvirt.so.0")
        fn = lib.virDomainGetVcpus
        fn.argtypes = [ctypes.c_void_p, ctypes.POINTER(_CVcpuInfo), ctypes.c_int,
                       ctypes.c_void_p, ctypes.c_int]
        fn.restype = ctypes.c_int
        n = int(dom.info()[3])
        buf = (_CVcpuInfo * max(n, 1))()
        got = fn(dom.c_pointer(), buf, n, None, 0)
    except (OSError, AttributeError, TypeError, ValueError):
        return None
    if got < 0:
        return None
    return [(v.number, v.state, v.cpu_time, v.cpu) for v in buf[:got]]


def _vcpu_info(dom: libvirt.virDomain) -> Any:
    """(number, state, cpu time ns, physical CPU) of each vCPU.

    libvirt-python's vcpus() first sizes the pinning maps with virNodeGetCPUMap, which
    the Xen libxl driver does not implement, so it fails there although the driver
    answers virDomainGetVcpus itself: then ask for the vCPUs without the maps.
    """
    try:
        return dom.vcpus()[0]
    except libvirt.libvirtError as err:
        if err.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
            raise
        found = _vcpus_without_maps(dom)
        if found is None:
            raise
        return found


def _try(notes: list[str], what: str, fn: Callable[[], T], default: T) -> T:
    """`fn()`, or `default` with a note saying why it could not be read."""
    try:
        return fn()
    except libvirt.libvirtError as err:
        if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            raise
        notes.append(f"{what}: {libvirt_message(err)}")
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
            info: list[tuple[int, int, int, int]] = _try(
                notes, "vCPUs", lambda: _vcpu_info(dom), []
            )
            vcpus = [VcpuInfo(n, _VCPU_STATES.get(s, str(s)), t, c) for n, s, t, c in info]
            memory = _try(notes, "memory statistics", lambda: dom.memoryStats(), {})
        snapshots: list[str] = []
        if caps is None or caps.snapshots:
            snapshots = _try(notes, "snapshots", lambda: dom.snapshotListNames(0), [])
        xml = dom.XMLDesc(0)
        devices = parse_devices(xml)
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
            xml=xml,
            disks=devices.disks,
            nets=devices.nets,
            sources=device_sources(xml),
            notes=notes,
            openstack=devices.openstack,
        )
    except libvirt.libvirtError as err:
        if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            raise DomainGone("the domain no longer exists") from err
        raise translate(err, "reading the domain") from err

