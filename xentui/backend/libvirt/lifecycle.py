"""Lifecycle actions: one registry of what each does, when it is allowed, and doing it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import libvirt
from xentui.backend.actions import ACTIONS, why_not
from xentui.backend.errors import (
    ActionError,
    DomainGone,
    NotAllowed,
    PermissionDenied,
    Unsupported,
)
from xentui.backend.libvirt.errors import translate
from xentui.backend.libvirt.sampler import sample_one
from xentui.backend.models import Capabilities


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
        # Drivers lacking these flags refuse them differently: some with "not
        # supported", LXC with "unsupported flags" (an invalid argument).
        if err.get_error_code() not in (libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_INVALID_ARG):
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
        sample = replace(sample_one(dom, None), persistent=bool(dom.isPersistent()))
    except libvirt.libvirtError as err:
        if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            raise DomainGone(f"{spec.label}: the domain no longer exists") from err
        raise translate(err, spec.label) from err
    reason = why_not(spec, sample, caps)
    if reason is not None:
        if caps is not None and reason == caps.missing_reason(spec.capability or ""):
            raise Unsupported(f"{spec.label} {sample.name}: {reason}")
        raise NotAllowed(f"{spec.label} {sample.name}: {reason}")
    try:
        return f"{sample.name}: {_RUNNERS[name](dom)}"
    except libvirt.libvirtError as err:
        raise translate(err, f"{spec.label} {sample.name}") from err
