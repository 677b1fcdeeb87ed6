"""Live migration between two libvirt hosts of the fleet (blocking; run in a pool).

Managed direct migration (`migrate3` over the two connections xentui holds) by default,
peer-to-peer (`migrateToURI3`, the source daemon connects to the target) on request.
Only flags the Xen libxl driver accepts are ever sent: LIVE, PEER2PEER, PERSIST_DEST,
UNDEFINE_SOURCE.
"""

from __future__ import annotations

import time

import libvirt
from xentui.backend.errors import DomainGone
from xentui.backend.libvirt.errors import translate
from xentui.backend.models import MigrationOptions


def flags_for(opts: MigrationOptions) -> int:
    flags = libvirt.VIR_MIGRATE_LIVE
    if opts.persist:
        flags |= libvirt.VIR_MIGRATE_PERSIST_DEST
    if opts.undefine_source:
        flags |= libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
    if opts.p2p:
        flags |= libvirt.VIR_MIGRATE_PEER2PEER
    return flags


def migrate(
    src: libvirt.virConnect, dest: libvirt.virConnect, dest_uri: str, uuid: str,
    target_name: str, opts: MigrationOptions,
) -> str:
    """Move the running domain `uuid` from `src` to the target; what happened, with the
    time it took. Raises a typed error with libvirt's reason on one line."""
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
            dom.migrateToURI3(dest_uri, {}, flags_for(opts))
        else:
            dom.migrate3(dest, {}, flags_for(opts))
    except libvirt.libvirtError as err:
        raise translate(err, f"Migrate {name} to {target_name}") from err
    return f"{name}: migrated to {target_name} in {time.monotonic() - t0:.1f} s"
