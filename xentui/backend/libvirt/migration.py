"""Live migration between two libvirt hosts of the fleet (blocking; run in a pool).

Managed direct migration (`migrate3` over the two connections xentui holds) by default,
peer-to-peer (`migrateToURI3`, the source daemon connects to the target) on request.
Only flags the source's driver accepts are ever sent (`ACCEPTED_FLAGS`).
"""

from __future__ import annotations

import time

import libvirt
from xentui.backend.errors import DomainGone, Unsupported
from xentui.backend.libvirt.errors import translate
from xentui.backend.libvirt.held_job import held_job_note, job_held
from xentui.backend.models import MigrationOptions

LIBXL_FLAGS = (
    libvirt.VIR_MIGRATE_LIVE
    | libvirt.VIR_MIGRATE_PEER2PEER
    | libvirt.VIR_MIGRATE_TUNNELLED
    | libvirt.VIR_MIGRATE_PERSIST_DEST
    | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
    | libvirt.VIR_MIGRATE_PAUSED
)
"""Every flag the Xen libxl driver's migration accepts (it refuses the call otherwise)."""

ACCEPTED_FLAGS: dict[str, int] = {"XEN": LIBXL_FLAGS, "LIBXL": LIBXL_FLAGS}
"""Drivers (by `virConnectGetType`, upper case) that accept only some migration flags;
a driver not named here gets the flags the options ask for."""

_FLAG_NAMES = {
    getattr(libvirt, n): n.removeprefix("VIR_MIGRATE_") for n in dir(libvirt)
    if n.startswith("VIR_MIGRATE_") and not n.startswith("VIR_MIGRATE_MAX_SPEED")
    and isinstance(getattr(libvirt, n), int)
}
"""Flag bit -> its name, for messages (the MAX_SPEED constants are not migrate flags)."""


def flags_for(opts: MigrationOptions, driver: str = "") -> int:
    """The migrate call's flags for these options; Unsupported if the source's `driver`
    does not accept one of them (TUNNELLED only goes with PEER2PEER)."""
    flags = libvirt.VIR_MIGRATE_LIVE
    if opts.persist:
        flags |= libvirt.VIR_MIGRATE_PERSIST_DEST
    if opts.undefine_source:
        flags |= libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
    if opts.p2p:
        flags |= libvirt.VIR_MIGRATE_PEER2PEER
    return checked(flags, driver)


def checked(flags: int, driver: str) -> int:
    """`flags` if `driver` accepts them all, else Unsupported naming the ones it does not."""
    accepted = ACCEPTED_FLAGS.get(driver.upper())
    if flags & libvirt.VIR_MIGRATE_TUNNELLED and not flags & libvirt.VIR_MIGRATE_PEER2PEER:
        raise Unsupported("Migrate: a tunnelled migration must be peer-to-peer")
    if accepted is None or not flags & ~accepted:
        return flags
    extra = [name for bit, name in sorted(_FLAG_NAMES.items()) if bit & flags & ~accepted]
    raise Unsupported(f"Migrate: the {driver} driver does not accept {', '.join(extra)}")


def migrate(
    src: libvirt.virConnect, dest: libvirt.virConnect, dest_uri: str, uuid: str,
    target_name: str, opts: MigrationOptions, flags: int, *, source_name: str,
) -> str:
    """Move the running domain `uuid` from `src` (the fleet host `source_name`) to the
    target with `flags` (from `flags_for`); what happened, with the time it took. Raises
    a typed error with libvirt's reason and the time it took on one line, which also says
    so when the failed migration left the domain's job held on the source (`held_job`: a
    managed direct one on libxl does). No pre-flight here: `preflight.check_target`
    comes first."""
    try:
        dom = src.lookupByUUIDString(uuid)
        name = dom.name()
    except libvirt.libvirtError as err:
        if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            raise DomainGone("Migrate: the domain no longer exists") from err
        raise translate(err, "Migrate") from err
    t0 = time.monotonic()
    try:
        if opts.p2p:
            dom.migrateToURI3(dest_uri, {}, flags)
        else:
            dom.migrate3(dest, {}, flags)
    except libvirt.libvirtError as err:
        took = time.monotonic() - t0
        failed = translate(err, f"Migrate {name} to {target_name} failed after {took:.1f} s")
        if job_held(src, dom):
            failed = type(failed)(f"{failed}; {held_job_note(name, source_name)}")
        raise failed from err
    return f"{name}: migrated to {target_name} in {time.monotonic() - t0:.1f} s"
