"""How a pool's changes reach xentui: `event.from` answers applied to the kept records,
lifecycle events told, and each VM they touch shown again (`XapiHost` mixes this in).

The event thread's first answer (every object) becomes the records a pass shows;
each later answer changes them, so a pass reads no VM records. Until that first
answer is in, a change re-reads the VM it names.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from xentui.backend.errors import ConnectionLost
from xentui.backend.models import (
    DomainEvent,
    DomainFigures,
    DomainRates,
    DomainSample,
    LinkStatus,
    PassResult,
)
from xentui.backend.rates import same_instance
from xentui.backend.xapi import actions
from xentui.backend.xapi.errors import translate
from xentui.backend.xapi.records import Change, PoolRecords, is_listed, records_of
from xentui.backend.xapi.session import Failure, XapiSession

VmRecords = tuple[dict[str, Any], dict[str, Any] | None]
"""A VM's record and its VM_metrics record."""

EVENT_WORDS = {
    ("Halted", "Running"): ("Started", "booted"),
    ("Suspended", "Running"): ("Started", "resumed"),
    ("Running", "Halted"): ("Stopped", "shut down"),
    ("Paused", "Halted"): ("Stopped", "forced off"),
    ("Running", "Paused"): ("Suspended", "paused"),
    ("Paused", "Running"): ("Resumed", "unpaused"),
    ("Running", "Suspended"): ("Stopped", "suspended to disk"),
}
"""XAPI power-state changes as lifecycle events (event, detail), as libvirt words them."""


class PoolChanges:
    """The event half of `XapiHost`: the attributes below are the host's own."""

    uri: str
    id: str
    session: XapiSession | None
    status: LinkStatus
    caps: actions.XapiCapabilities
    last: PassResult | None
    event_listeners: list[Callable[[DomainEvent], object]]
    domain_listeners: list[Callable[[str, DomainFigures | None], object]]
    _recs: PoolRecords | None
    _kept: bool
    _uuid_of: dict[str, str]
    _power: dict[str, str]
    _ops_at: dict[str, float]
    _prev: dict[str, DomainSample]
    _pending: set[str]
    _flush_task: asyncio.Task[None] | None
    _call: Callable[..., Awaitable[Any]]

    @property
    def connected(self) -> bool:
        raise NotImplementedError

    @property
    def records_from_events(self) -> bool:
        """Whether `event.from` keeps the pool's records current (passes read none)."""
        return self._kept

    def _take_records(self, recs: PoolRecords) -> None:
        raise NotImplementedError

    def _figures(self, vm: dict[str, Any], metrics: dict[str, Any] | None, at: float,
                 rates: DomainRates) -> DomainFigures:
        raise NotImplementedError

    def _on_changes(self, changes: list[Change], dump: bool) -> None:
        """One `event.from` answer: the first one's dump becomes the kept records; later
        ones change them, and each VM they touch is shown again."""
        if dump:
            self._kept = False
            self._take_records(records_of(changes, time.monotonic()))
            self._kept = True
            return
        recs = self._recs
        if recs is None:
            return
        owners = {str(vm.get("metrics")): ref for ref, vm in recs.vms.items()} \
            if any(c[0] == "vm_metrics" for c in changes) else {}
        for cls, op, ref, snapshot in changes:
            recs.apply(cls, op, ref, snapshot)
            if cls == "vm":
                self._on_vm_change(op, ref, snapshot)
            elif cls == "vm_metrics" and ref in owners and owners[ref] in recs.vms:
                self._on_vm_change("mod", owners[ref], recs.vms[owners[ref]])

    def _on_vm_change(self, op: str, ref: str, vm: dict[str, Any] | None) -> None:
        """A VM changed on the pool (any client): log it, re-read it, tell listeners."""
        uuid = str(vm["uuid"]) if vm is not None else self._uuid_of.get(ref, "")
        if not uuid:
            return
        self._uuid_of[ref] = uuid
        if vm is not None and not is_listed(vm):
            return
        before = self._power.get(uuid)
        after = str(vm["power_state"]) if vm is not None else None
        if vm is not None:
            self._power[uuid] = str(vm["power_state"])
            self.caps.ops[uuid] = actions.vm_ops(vm)
            self._ops_at[uuid] = time.monotonic()
        words = ("Defined", "created") if op == "add" else ("Undefined", "destroyed") \
            if op == "del" else EVENT_WORDS.get((before or "", after or ""))
        if words is not None:
            name = str(vm.get("name_label", "")) if vm is not None else (
                self.last.domains[uuid].name if self.last and uuid in self.last.domains else uuid)
            event = DomainEvent(self.uri, uuid, name, "lifecycle", words[0], words[1],
                                time.time(), self.id)
            for listener in list(self.event_listeners):
                listener(event)
        self._pending.add(uuid)
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        """Show the VMs that events named again (from the kept records, else re-read);
        a burst coalesces into one round."""
        await asyncio.sleep(0)
        while self._pending:
            uuids, self._pending = list(self._pending), set()
            if self._kept:
                ref_of = {u: r for r, u in self._uuid_of.items()}
                results: list[DomainFigures | BaseException | None] = [
                    self._kept_figure(u, ref_of.get(u, "")) for u in uuids]
            else:
                results = await asyncio.gather(*(self.refresh_domain(u) for u in uuids),
                                               return_exceptions=True)
            for uuid, res in zip(uuids, results, strict=True):
                if isinstance(res, BaseException):
                    continue
                for listener in list(self.domain_listeners):
                    listener(uuid, res)

    def _kept_figure(self, uuid: str, ref: str) -> DomainFigures | None:
        """A VM's figures from the kept records (None: gone or no longer listed)."""
        recs = self._recs
        vm = recs.vms.get(ref) if recs is not None else None
        metrics = recs.vm_metrics.get(str(vm.get("metrics"))) if recs and vm else None
        return self._take_vm(uuid, (vm, metrics) if vm is not None else None,
                             time.monotonic())

    def _read_vm(self, session: XapiSession, uuid: str
                 ) -> VmRecords | None:
        try:
            ref = session.call("VM.get_by_uuid", uuid)
            vm = session.call("VM.get_record", ref)
            metrics = session.call("VM_metrics.get_record", vm["metrics"])
        except Failure as err:
            if str(err.details[0]) in ("UUID_INVALID", "HANDLE_INVALID"):
                return None
            raise
        return dict(vm), dict(metrics)

    async def refresh_domain(self, uuid: str) -> DomainFigures | None:
        """Re-read one VM now; None if it no longer exists (or became a template)."""
        session = self.session
        if session is None or not self.connected:
            raise ConnectionLost(self.status.message)
        at = time.monotonic()
        try:
            found = await self._call(self._read_vm, session, uuid)
        except Failure as err:
            raise translate([str(d) for d in err.details], f"re-reading {uuid}") from None
        return self._take_vm(uuid, found, at)

    def _take_vm(self, uuid: str, found: VmRecords | None,
                 at: float) -> DomainFigures | None:
        """One VM's newest records into its figures, the last pass and its operations."""
        last = self.last
        if found is None or not is_listed(found[0]):
            self.caps.ops.pop(uuid, None)
            if last is not None and uuid in last.domains:
                self.last = replace(last, domains={u: f for u, f in last.domains.items()
                                                   if u != uuid})
            return None
        vm, metrics = found
        self.caps.ops[uuid] = actions.vm_ops(vm)
        self._ops_at[uuid] = at
        self._power[uuid] = str(vm["power_state"])
        prev, old = self._prev.get(uuid), last.domains.get(uuid) if last else None
        fig = self._figures(vm, metrics, at, DomainRates())
        if old is not None and prev is not None and same_instance(prev, fig.sample):
            fig = replace(fig, rates=old.rates)
        if last is not None:
            self.last = replace(last, domains={**last.domains, uuid: fig})
        return fig
