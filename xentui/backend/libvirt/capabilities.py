"""What one connection's driver can do, learnt from the driver (probes and its type)."""

from __future__ import annotations

import libvirt
from xentui.backend.libvirt.errors import UNSUPPORTED_CODES
from xentui.backend.models import Capabilities

BULK_GROUPS = {
    "state": libvirt.VIR_DOMAIN_STATS_STATE,
    "cpu": libvirt.VIR_DOMAIN_STATS_CPU_TOTAL,
    "balloon": libvirt.VIR_DOMAIN_STATS_BALLOON,
    "vcpu": libvirt.VIR_DOMAIN_STATS_VCPU,
    "block": libvirt.VIR_DOMAIN_STATS_BLOCK,
    "net": libvirt.VIR_DOMAIN_STATS_INTERFACE,
}
ABORTABLE_MIGRATION_DRIVERS = frozenset({"QEMU"})
"""Drivers whose migration job `abortJob` cancels (libxl has no abort; the test driver
does not migrate)."""
BULK_ALL = 0
for _flag in BULK_GROUPS.values():
    BULK_ALL |= _flag



def _unsupported(err: libvirt.libvirtError) -> bool:
    return err.get_error_code() in UNSUPPORTED_CODES


def _probe_bulk(conn: libvirt.virConnect) -> bool:
    try:
        conn.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_STATE, 0)
    except libvirt.libvirtError as err:
        if _unsupported(err):
            return False
        raise
    return True


def _probe_domain_call(conn: libvirt.virConnect, call: str) -> bool | None:
    """Try a harmless per-domain query; None when there is no domain to ask."""
    try:
        domains = conn.listAllDomains(0)
    except libvirt.libvirtError:
        return None
    for dom in domains:
        try:
            getattr(dom, call)(0)
        except libvirt.libvirtError as err:
            if _unsupported(err):
                return False
            continue
        return True
    return None


LXC_LACKS = frozenset({"snapshots", "reset", "managed_save", "migration"})
"""What libvirt's LXC driver (9.0, tried on a container) answers "not supported" to:
virDomainSnapshot*, virDomainReset, virDomainManagedSave, virDomainMigrate*. Its hasManagedSaveImage
answers, so the probe alone would not tell."""


def probe(conn: libvirt.virConnect) -> Capabilities:
    """Ask the driver what it supports (blocking; run it off the event loop)."""
    driver = conn.getType()
    xen = driver.lower() in ("xen", "libxl")
    lxc = driver.upper() == "LXC"
    lacks = LXC_LACKS if lxc else frozenset()
    snapshots = _probe_domain_call(conn, "snapshotNum")
    managed = _probe_domain_call(conn, "hasManagedSaveImage")
    return Capabilities(
        driver=driver,
        bulk_stats=_probe_bulk(conn),
        snapshots=(not xen) if snapshots is None else snapshots,
        reset=not xen,
        managed_save=True if managed is None else managed,
        console=driver.upper() in ("QEMU", "XEN", "LXC"),
        abort_migration=driver.upper() in ABORTABLE_MIGRATION_DRIVERS,
        containers=lxc,
    ).without(lacks)
