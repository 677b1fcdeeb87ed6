"""Lifecycle actions: one registry of what each does, when it is allowed, and doing it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import libvirt

from xentui.backend.capabilities import ZERO_UUID, Capabilities
from xentui.backend.errors import (
    ActionError,
    DomainGone,
    NotAllowed,
    PermissionDenied,
    Unsupported,
    translate,
)
from xentui.backend.models import DomainSample, DomainState
from xentui.backend.sampler import sample_one

S = DomainState
RUNNING = frozenset({S.RUNNING, S.BLOCKED})
ACTIVE = frozenset({S.RUNNING, S.BLOCKED, S.PAUSED, S.SHUTDOWN, S.CRASHED, S.PMSUSPENDED})
ANY = frozenset(DomainState)


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """What the UI and batch need to know of an action before doing it."""

    name: str
    label: str
    key: str
    """Default key in the console; users may rebind it."""
    states: frozenset[DomainState]
    destructive: bool = False
    capability: str | None = None
    persistent_only: bool = False
    help: str = ""


ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec("start", "Start", "s", frozenset({S.SHUTOFF, S.CRASHED}),
                   help="boot the domain (restores a managed-save image if one exists)"),
        ActionSpec("shutdown", "Shut down", "S", RUNNING,
                   help="ask the guest to shut down (ACPI / PV shutdown)"),
        ActionSpec("reboot", "Reboot", "r", RUNNING, help="ask the guest to reboot"),
        ActionSpec("reset", "Reset", "X", ACTIVE - {S.SHUTDOWN}, destructive=True,
                   capability="reset", help="hard reset, like the reset button"),
        ActionSpec("destroy", "Force off", "F", ACTIVE, destructive=True,
                   help="pull the plug (virsh destroy)"),
        ActionSpec("pause", "Pause", "p", RUNNING, help="stop scheduling the vCPUs"),
        ActionSpec("resume", "Resume", "p", frozenset({S.PAUSED}), help="resume a paused domain"),
        ActionSpec("save", "Save", "w", RUNNING | {S.PAUSED}, capability="managed_save",
                   persistent_only=True, help="managed save: memory to disk, then stop"),
        ActionSpec("restore", "Restore", "W", frozenset({S.SHUTOFF}),
                   capability="managed_save", help="start from the managed-save image"),
        ActionSpec("snapshot", "Snapshot", "n", ANY - {S.NOSTATE}, capability="snapshots",
                   help="take a snapshot now"),
        ActionSpec("revert", "Revert snapshot", "N", ANY - {S.NOSTATE}, destructive=True,
                   capability="snapshots", help="revert to the newest snapshot"),
        ActionSpec("snapshot-delete", "Delete snapshot", "ctrl+n", ANY - {S.NOSTATE},
                   destructive=True, capability="snapshots",
                   help="delete the newest snapshot"),
        ActionSpec("autostart", "Toggle autostart", "a", ANY - {S.NOSTATE},
                   persistent_only=True, help="start with the host, or not"),
        ActionSpec("undefine", "Undefine", "D", frozenset({S.SHUTOFF}), destructive=True,
                   persistent_only=True,
                   help="remove the definition (and its managed-save image, snapshots)"),
    )
}


def is_dom0(sample: DomainSample) -> bool:
    """Domain-0: id 0 on Xen, and the all-zero UUID (also in the demo host)."""
    return sample.id == 0 or sample.uuid == ZERO_UUID


def why_not(
    spec: ActionSpec,
    sample: DomainSample,
    caps: Capabilities | None,
    *,
    readonly: bool = False,
    persistent: bool | None = None,
) -> str | None:
    """Why `spec` cannot run on this domain now, or None if it can."""
    if readonly:
        return "the connection is read-only (started with --readonly)"
    if is_dom0(sample):
        return "Domain-0 is the control domain: libvirt cannot start, stop or change it"
    if caps is not None and not caps.has(spec.capability):
        return caps.missing_reason(spec.capability or "")
    if sample.state not in spec.states:
        return f"not possible while the domain is {sample.state.value}"
    if spec.persistent_only and persistent is False:
        return "the domain is transient (not defined): it has no saved configuration"
    return None


def _latest_snapshot(dom: libvirt.virDomain) -> libvirt.virDomainSnapshot:
    snaps = dom.listAllSnapshots(0)
    if not snaps:
        raise NotAllowed("the domain has no snapshot")
    try:
        return dom.snapshotCurrent(0)
    except libvirt.libvirtError:
        return snaps[-1]


def _snapshot(dom: libvirt.virDomain) -> str:
    base = time.strftime("xentui-%Y%m%d-%H%M%S")
    taken = set(dom.snapshotListNames(0))
    name, n = base, 1
    while name in taken:  # a second snapshot within the same second
        n += 1
        name = f"{base}-{n}"
    dom.snapshotCreateXML(f"<domainsnapshot><name>{name}</name></domainsnapshot>", 0)
    return f"snapshot {name} taken"


def _revert(dom: libvirt.virDomain) -> str:
    snap = _latest_snapshot(dom)
    dom.revertToSnapshot(snap, 0)
    return f"reverted to snapshot {snap.getName()}"


def _delete_snapshot(dom: libvirt.virDomain) -> str:
    snap = _latest_snapshot(dom)
    name = snap.getName()
    snap.delete(0)
    return f"snapshot {name} deleted"


START_RETRY_S = 5.0
"""How long a start keeps retrying while Xen still tears down the last instance."""


def create_when_gone(dom: libvirt.virDomain, retry_s: float = START_RETRY_S) -> None:
    """`dom.create()`, retried briefly while the driver says the domain is still active.

    For a few seconds after a shutdown Xen's libxl driver may read the domain as shut
    off yet refuse to start it with "Domain is already active".
    """
    deadline = time.monotonic() + retry_s
    while True:
        try:
            dom.create()
            return
        except libvirt.libvirtError as err:
            busy = err.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID and (
                "already active" in (err.get_error_message() or "")
            )
            if not busy or time.monotonic() >= deadline or dom.isActive():
                raise
        time.sleep(0.5)


def _restore(dom: libvirt.virDomain) -> str:
    if not dom.hasManagedSaveImage(0):
        raise NotAllowed("there is no managed-save image to restore; use start")
    create_when_gone(dom)
    return "restored from its managed-save image"


def _autostart(dom: libvirt.virDomain) -> str:
    new = 0 if dom.autostart() else 1
    dom.setAutostart(new)
    return "autostart on" if new else "autostart off"


def _undefine(dom: libvirt.virDomain) -> str:
    flags = (
        libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
    )
    try:
        dom.undefineFlags(flags)
    except libvirt.libvirtError as err:
        if err.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
            raise
        dom.undefine()
    return "undefined"


def _simple(call: Callable[[libvirt.virDomain], object], done: str) -> Callable[..., str]:
    def run(dom: libvirt.virDomain) -> str:
        call(dom)
        return done

    return run


_RUNNERS: dict[str, Callable[[libvirt.virDomain], str]] = {
    "start": _simple(create_when_gone, "started"),
    "shutdown": _simple(lambda d: d.shutdown(), "shutdown requested"),
    "reboot": _simple(lambda d: d.reboot(0), "reboot requested"),
    "reset": _simple(lambda d: d.reset(0), "reset"),
    "destroy": _simple(lambda d: d.destroy(), "forced off"),
    "pause": _simple(lambda d: d.suspend(), "paused"),
    "resume": _simple(lambda d: d.resume(), "resumed"),
    "save": _simple(lambda d: d.managedSave(0), "saved (managed save)"),
    "restore": _restore,
    "snapshot": _snapshot,
    "revert": _revert,
    "snapshot-delete": _delete_snapshot,
    "autostart": _autostart,
    "undefine": _undefine,
}


def perform(
    conn: libvirt.virConnect,
    uuid: str,
    name: str,
    caps: Capabilities | None,
    *,
    readonly: bool = False,
) -> str:
    """Do action `name` on the domain `uuid` (blocking); returns what happened.

    Re-reads the domain first, so a state that changed since the screen was drawn is
    judged as it is now. Raises a typed ActionError with a readable message.
    """
    spec = ACTIONS.get(name)
    if spec is None:
        raise ActionError(f"unknown action {name!r}")
    if readonly:
        raise PermissionDenied(f"{spec.label}: the connection is read-only")
    try:
        dom = conn.lookupByUUIDString(uuid)
        sample = sample_one(dom, None)
        persistent = bool(dom.isPersistent())
    except libvirt.libvirtError as err:
        if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            raise DomainGone(f"{spec.label}: the domain no longer exists") from err
        raise translate(err, spec.label) from err
    reason = why_not(spec, sample, caps, persistent=persistent)
    if reason is not None:
        if caps is not None and reason == caps.missing_reason(spec.capability or ""):
            raise Unsupported(f"{spec.label} {sample.name}: {reason}")
        raise NotAllowed(f"{spec.label} {sample.name}: {reason}")
    try:
        return f"{sample.name}: {_RUNNERS[name](dom)}"
    except libvirt.libvirtError as err:
        raise translate(err, f"{spec.label} {sample.name}") from err
