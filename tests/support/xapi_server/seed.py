"""The default pool a fresh server holds: what a console should show, and hide.

Three hosts (``xcp-ng-01`` is the master), each with its control domain
``Control domain on host: <name>``; six guests in every power state; two templates
(one a default template) and a snapshot.  A console's VM list should show exactly
the six guests (:data:`GUESTS`).  Every live guest but ``batch`` has guest metrics.
"""

from __future__ import annotations

import time

from . import vms
from .db import Database
from .records import MIB, host_metrics_record, host_record, pool_record, stamp

GIB = 1024 * MIB

HOSTS = (
    # name, address (TEST-NET-1), physical CPUs, memory (GiB)
    ("xcp-ng-01", "192.0.2.11", 16, 64),
    ("xcp-ng-02", "192.0.2.12", 8, 32),
    ("xcp-ng-03", "192.0.2.13", 8, 32),
)

# name -> power state, host, vCPUs, memory (MiB), VIFs, disks
GUESTS: dict[str, tuple[str, str | None, int, int, int, int]] = {
    "web": ("Running", "xcp-ng-01", 2, 2048, 1, 2),
    "db": ("Running", "xcp-ng-02", 4, 8192, 2, 1),
    "cache": ("Running", "xcp-ng-01", 1, 1024, 1, 1),
    "batch": ("Paused", "xcp-ng-02", 2, 1536, 1, 1),
    "archive": ("Suspended", None, 1, 1024, 1, 1),
    "spare": ("Halted", None, 1, 512, 0, 1),
}

AGENTLESS = ("batch",)  # guests without a guest agent: no VM_guest_metrics
TEMPLATES = ("Debian Bookworm 12", "Custom web template")
SNAPSHOT = ("web", "web before upgrade")
DOM0_MEMORY_MIB = 4096
UPTIME = 3 * 86400  # seconds the seeded live VMs have been up


def populate(db: Database, pool_name: str = "Test pool") -> None:
    """Fill an empty database with the default pool."""
    with db.cond:
        hosts = {}
        for name, address, cpus, mem_gib in HOSTS:
            metrics = db.create("host_metrics", host_metrics_record(mem_gib * GIB))
            hosts[name] = db.create("host", host_record(name, address, cpus, metrics))
        db.create("pool", pool_record(pool_name, hosts[HOSTS[0][0]]))
        for name, ref in hosts.items():
            dom0 = vms.create_vm(
                db,
                f"Control domain on host: {name}",
                control_domain=True,
                vcpus=min(8, int(db.get("host", ref)["cpu_info"]["cpu_count"])),
                memory_mib=DOM0_MEMORY_MIB,
                vifs=0,
                disks=0,
            )
            vms.place(db, dom0, "Running", ref)
            db.update("host", ref, control_domain=dom0)
        for name, (state, host, vcpus, mem, vifs, disks) in GUESTS.items():
            vms.create_vm(
                db,
                name,
                power_state=state,
                host=host,
                vcpus=vcpus,
                memory_mib=mem,
                vifs=vifs,
                disks=disks,
                cdrom=name == "web",
                agent=name not in AGENTLESS,
            )
        vms.create_vm(
            db, TEMPLATES[0], default_template=True, vifs=0, disks=0,
            other_config={"default_template": "true"},
        )  # fmt: skip
        vms.create_vm(db, TEMPLATES[1], template=True, vcpus=2, memory_mib=2048)
        vms.snapshot_vm(db, db.find("VM", SNAPSHOT[0]), SNAPSHOT[1])
        booted = stamp(time.time() - UPTIME)  # live VMs have RRD history to show
        for vm in db.tables["VM"].values():
            if vm["power_state"] in ("Running", "Paused"):
                db.update("VM_metrics", vm["metrics"], start_time=booted)


def default_database(*, seed: int = 0, users: dict[str, str] | None = None) -> Database:
    """A new database holding the default pool."""
    db = Database(seed=seed, users=users)
    populate(db)
    return db
