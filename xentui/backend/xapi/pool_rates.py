"""The pool's rates: one RRD export per live member, read in the background.

A pass starts the reads it needs and waits a little for them; a member that answers
slowly lands in the next pass, one that fails is asked again later, so one dead member
never slows the pool's passes. Rates are kept per member and apply to the VMs
resident there.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from xentui.backend.errors import BackendError
from xentui.backend.models import DomainRates
from xentui.backend.xapi import rrd
from xentui.backend.xapi.records import PoolRecords
from xentui.backend.xapi.session import XapiSession
from xentui.backend.xapi.uri import PoolAddress

WAIT_S = 1.0
"""How long a pass waits for the members' exports; slower ones land next pass."""
RETRY_S = 30.0
"""A member whose export failed is asked again after this long."""

Caller = Callable[..., Awaitable[Any]]
"""Runs a blocking function off the loop (the host's thread pool)."""


def member_urls(recs: PoolRecords, session: XapiSession, address: PoolAddress) -> dict[str, str]:
    """Live host ref -> the base URL of its HTTP handlers (the master: the session's)."""
    master = str(recs.pool.get("master", ""))
    return {
        ref: session.url if ref == master else address.url(str(host.get("address", "")))
        for ref, host in recs.hosts.items()
        if recs.is_live(ref)
    }


class PoolRates:
    """The newest rates of each member's VMs, refreshed by background reads."""

    def __init__(self, call: Caller) -> None:
        self._call = call
        self._rates: dict[str, dict[str, DomainRates]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._retry_at: dict[str, float] = {}

    async def refresh(self, recs: PoolRecords, session: XapiSession, address: PoolAddress,
                      wait_s: float = WAIT_S) -> None:
        """Start the reads due (none twice at once) and wait up to `wait_s` for them."""
        now = time.monotonic()
        loop = asyncio.get_running_loop()
        for ref, url in member_urls(recs, session, address).items():
            busy = self._tasks.get(ref)
            if (busy is not None and not busy.done()) or self._retry_at.get(ref, 0.0) > now:
                continue
            self._tasks[ref] = loop.create_task(self._read(session, ref, url))
        reading = [t for t in self._tasks.values() if not t.done()]
        if reading:
            await asyncio.wait(reading, timeout=wait_s)

    async def _read(self, session: XapiSession, ref: str, url: str) -> None:
        try:
            self._rates[ref] = await self._call(rrd.fetch_rates, session, url)
            self._retry_at.pop(ref, None)
        except (BackendError, ValueError, SyntaxError):
            self._rates.pop(ref, None)
            self._retry_at[ref] = time.monotonic() + RETRY_S

    def of(self, vm: dict[str, Any]) -> DomainRates:
        """The rates of a VM record: its member's newest export, empty without a domain."""
        if vm.get("power_state") not in ("Running", "Paused"):
            return DomainRates()
        return self._rates.get(str(vm.get("resident_on")), {}).get(str(vm["uuid"]),
                                                                     DomainRates())

    def forget(self) -> None:
        """Drop every reading and stop the reads in flight (the session is going)."""
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()
        self._rates.clear()
