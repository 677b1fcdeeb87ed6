"""After a failed managed direct migration: whether the source daemon still holds the
domain's job, said in the error (blocking; run in the source host's pool).

libvirt's client (virDomainMigrateVersion3Full) answers a failed Prepare3 with Confirm3,
which ends the job Begin3 took on the source, only where the source driver offers change
protection. libvirt's libxl driver does not, so there the job stays held until libvirtd
restarts, and every later call that needs it fails after libxl's 30 s wait ("cannot
acquire state change lock"). libxl's `virDomainGetJobInfo` reads the job without taking
it, so it can tell.
"""

from __future__ import annotations

import libvirt

JOB_KEEPING_DRIVERS = frozenset({"XEN", "LIBXL"})
"""Drivers (by `virConnectGetType`, upper case) without change protection, whose
Begin3 job a failed managed direct migration leaves held."""


def job_held(src: libvirt.virConnect, dom: libvirt.virDomain) -> bool | None:
    """Whether `dom`'s job is still held on `src`, where the driver is one that keeps
    it; None when the driver is another, or the probe fails or is unsupported."""
    try:
        if src.getType().upper() not in JOB_KEEPING_DRIVERS:
            return None
        job_type = dom.jobInfo()[0]
    except libvirt.libvirtError:
        return None
    return job_type != libvirt.VIR_DOMAIN_JOB_NONE


def held_job_note(name: str, source: str) -> str:
    """What the error adds when `name`'s job stays held on the fleet host `source`."""
    return (f"libvirtd on {source} still holds {name}'s migration job (a libvirt libxl bug): "
            f"actions on {name} will fail until libvirtd restarts there")
