"""A migration job under way: its statistics as a neutral progress record, read every
PROGRESS_INTERVAL_S while it runs, and abort (the libvirt calls are blocking and go
through the host's pool, never on the asyncio loop)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import libvirt
from xentui.backend.api import ProgressSink
from xentui.backend.errors import BackendError, DomainGone
from xentui.backend.libvirt.errors import UNSUPPORTED_CODES, translate
from xentui.backend.models import MigrationProgress

PROGRESS_INTERVAL_S = 0.5
"""How often a migration's job statistics are read while it runs."""

_ACTIVE_JOBS = {libvirt.VIR_DOMAIN_JOB_BOUNDED, libvirt.VIR_DOMAIN_JOB_UNBOUNDED}


@dataclass(frozen=True, slots=True)
class JobFigures:
    """What one poll of `jobStats` gave; None for figures the driver lacks or that are
    not known yet (QEMU's first poll may give a total of 0)."""

    processed: int | None = None
    total: int | None = None
    remaining: int | None = None
    bps: float | None = None
    iteration: int | None = None
    at: float = 0.0
    """Monotonic time of the poll."""


def _positive(stats: dict[str, object], key: str) -> int | None:
    value = stats.get(key)
    return value if isinstance(value, int) and value > 0 else None


def read_job(dom: libvirt.virDomain, at: float) -> JobFigures | None:
    """Poll the domain's job; None when no job runs (not started yet, or over) or the
    driver keeps no statistics (then only the elapsed time is known)."""
    try:
        stats = dom.jobStats()
    except libvirt.libvirtError as err:
        if err.get_error_code() in UNSUPPORTED_CODES:
            return JobFigures(at=at)
        raise
    if stats.get("type") not in _ACTIVE_JOBS:
        return None
    total = _positive(stats, "data_total")
    return JobFigures(
        processed=stats.get("data_processed") if total else None,
        total=total,
        remaining=stats.get("data_remaining") if total else None,
        bps=_positive(stats, "memory_bps"),
        iteration=_positive(stats, "memory_iteration"),
        at=at,
    )


def progress(base: MigrationProgress, now: JobFigures, before: JobFigures | None,
             elapsed_s: float) -> MigrationProgress:
    """The progress record for a poll; the rate is the driver's own, else the bytes sent
    since the previous poll over the time between them."""
    rate = now.bps
    if rate is None and before is not None and None not in (now.processed, before.processed):
        dt = now.at - before.at
        if dt > 0:
            rate = max(0.0, ((now.processed or 0) - (before.processed or 0)) / dt)
    return MigrationProgress(
        base.host_id, base.uuid, base.name, base.target, elapsed_s,
        processed_bytes=now.processed, total_bytes=now.total,
        remaining_bytes=now.remaining, rate_bps=rate, iteration=now.iteration,
    )


def abort_job(conn: libvirt.virConnect, uuid: str) -> str:
    """Cancel the domain's job under way (a migration); the guest stays where it runs."""
    try:
        dom = conn.lookupByUUIDString(uuid)
        name = dom.name()
        dom.abortJob()
    except libvirt.libvirtError as err:
        if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            raise DomainGone("Abort migration: the domain no longer exists") from err
        raise translate(err, "Abort migration") from err
    return f"{name}: migration abort requested"


async def watch_migration(call: Callable[..., Awaitable[Any]], conn: libvirt.virConnect,
                          uuid: str, source_id: str, target_id: str,
                          sink: ProgressSink) -> None:
    """Report the domain's migration job to `sink` every PROGRESS_INTERVAL_S until
    cancelled; `call` runs a libvirt call in the source host's pool. A poll that fails is
    skipped (the job may be ending)."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        dom = await call(conn.lookupByUUIDString, uuid)
        name = await call(dom.name)
    except (BackendError, libvirt.libvirtError):
        return
    base = MigrationProgress(source_id, uuid, name, target_id, 0.0)
    before: JobFigures | None = None
    while True:
        await asyncio.sleep(PROGRESS_INTERVAL_S)
        try:
            now = await call(read_job, dom, time.monotonic())
        except (BackendError, libvirt.libvirtError):
            continue
        elapsed = loop.time() - started
        if now is None:
            sink(replace(base, elapsed_s=elapsed))
            continue
        sink(progress(base, now, before, elapsed))
        before = now
