"""What one connection's driver can do, learnt from the driver (probes and its type)."""

from __future__ import annotations

from dataclasses import dataclass

import libvirt

ZERO_UUID = "00000000-0000-0000-0000-000000000000"

BULK_GROUPS = {
    "state": libvirt.VIR_DOMAIN_STATS_STATE,
    "cpu": libvirt.VIR_DOMAIN_STATS_CPU_TOTAL,
    "balloon": libvirt.VIR_DOMAIN_STATS_BALLOON,
    "vcpu": libvirt.VIR_DOMAIN_STATS_VCPU,
    "block": libvirt.VIR_DOMAIN_STATS_BLOCK,
    "net": libvirt.VIR_DOMAIN_STATS_INTERFACE,
}
BULK_ALL = 0
for _flag in BULK_GROUPS.values():
    BULK_ALL |= _flag

_NO_SUPPORT = {libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED}


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
        }.get(name, f"{name} is")
        return f"{what} not supported by the {self.driver} driver"


def _unsupported(err: libvirt.libvirtError) -> bool:
    return err.get_error_code() in _NO_SUPPORT


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


def probe(conn: libvirt.virConnect) -> Capabilities:
    """Ask the driver what it supports (blocking; run it off the event loop)."""
    driver = conn.getType()
    xen = driver.lower() in ("xen", "libxl")
    snapshots = _probe_domain_call(conn, "snapshotNum")
    managed = _probe_domain_call(conn, "hasManagedSaveImage")
    return Capabilities(
        driver=driver,
        bulk_stats=_probe_bulk(conn),
        snapshots=(not xen) if snapshots is None else snapshots,
        reset=not xen,
        managed_save=True if managed is None else managed,
        console=driver.upper() in ("QEMU", "XEN", "LXC"),
    )
