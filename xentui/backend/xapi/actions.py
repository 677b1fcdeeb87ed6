"""Lifecycle actions through XenAPI, and what each VM's `allowed_operations` permits.

`XapiCapabilities` is the pool's capability view: the registry's rules first, then
XAPI's own list of operations allowed on that VM now (kept fresh by passes and
events), so a greyed action says why in XAPI's terms.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from xentui.backend.actions import ACTIONS, why_not
from xentui.backend.errors import ActionError, DomainGone, NotAllowed, PermissionDenied, Unsupported
from xentui.backend.models import DomainSample
from xentui.backend.xapi.errors import translate
from xentui.backend.xapi.records import vm_sample
from xentui.backend.xapi.session import Failure, XapiSession

ACTION_WAIT_S = 120.0
"""How long an action's outcome is waited for (a clean shutdown may take minutes);
after that the XAPI task goes on and the change arrives through events."""
TASK_POLL_S = 0.2


@dataclass(frozen=True, slots=True)
class XapiOp:
    """The XenAPI call behind a registry action and the operation XAPI lists for it."""

    method: str
    operation: str
    done: str


OPS: dict[str, XapiOp] = {
    "start": XapiOp("start", "start", "started"),
    "shutdown": XapiOp("clean_shutdown", "clean_shutdown", "shut down"),
    "reboot": XapiOp("clean_reboot", "clean_reboot", "rebooted"),
    "reset": XapiOp("hard_reboot", "hard_reboot", "reset (hard reboot)"),
    "destroy": XapiOp("hard_shutdown", "hard_shutdown", "forced off"),
    "pause": XapiOp("pause", "pause", "paused"),
    "resume": XapiOp("unpause", "unpause", "resumed"),
    "save": XapiOp("suspend", "suspend", "suspended (memory saved to disk)"),
    "restore": XapiOp("resume", "resume", "resumed from its suspend image"),
    "snapshot": XapiOp("snapshot", "snapshot", "snapshot taken"),
}
HAS = frozenset({"snapshots", "reset", "managed_save"})
UNMAPPED_REASON = "not available for XenAPI pools in xentui (use xe or XenCenter)"


@dataclass(frozen=True, slots=True)
class VmOps:
    """What XAPI says of one VM now: its power state and the operations it allows."""

    power_state: str
    allowed: frozenset[str]
    current: tuple[str, ...] = ()


def vm_ops(vm: dict[str, Any]) -> VmOps:
    return VmOps(
        str(vm.get("power_state", "")),
        frozenset(str(o) for o in vm.get("allowed_operations", [])),
        tuple(str(o) for o in dict(vm.get("current_operations", {})).values()),
    )


@dataclass(eq=False)
class XapiCapabilities:
    """The capability view of a pool: every action's capability exists; XAPI's
    per-VM `allowed_operations` judge each VM."""

    driver: str = "XenAPI"
    ops: dict[str, VmOps] = field(default_factory=dict)
    """VM uuid -> what XAPI allows it now."""

    def has(self, name: str | None) -> bool:
        """The capabilities the registry's actions name that a pool has; not the
        console, bulk statistics or migration (not done for pools)."""
        return name is None or name in HAS

    def missing_reason(self, name: str) -> str:
        if name == "migration":
            return "moving VMs of a XenAPI pool is not supported by xentui (use xe vm-migrate)"
        return f"{name.replace('_', ' ')} is not available through XenAPI in xentui"

    def refusal(self, action: str, sample: DomainSample) -> str | None:
        op = OPS.get(action)
        if op is None:
            return UNMAPPED_REASON
        known = self.ops.get(sample.uuid)
        if known is None or op.operation in known.allowed:
            return None
        why = f"XenAPI does not allow {op.operation} now: the VM is {known.power_state.lower()}"
        if known.current:
            why += f", busy with {', '.join(known.current)}"
        return why


def _args(name: str, sample: DomainSample) -> tuple[Any, ...]:
    if name in ("start", "restore"):
        return (False, False)  # start_paused, force
    if name == "snapshot":
        return (f"{sample.name} {time.strftime('%Y-%m-%d %H:%M:%S')}",)
    return ()


def perform(
    session: XapiSession, uuid: str, name: str, caps: XapiCapabilities, *, readonly: bool
) -> str:
    """Do registry action `name` on the VM `uuid` (blocking); returns what happened.

    Re-reads the VM first, so it is judged as it is now; XAPI's own refusal (e.g.
    VM_BAD_POWER_STATE) becomes a typed error with one line of text.
    """
    spec = ACTIONS.get(name)
    if spec is None:
        raise ActionError(f"unknown action {name!r}")
    if readonly:
        raise PermissionDenied(f"{spec.label}: the connection is read-only")
    op = OPS.get(name)
    if op is None:
        raise Unsupported(f"{spec.label}: {UNMAPPED_REASON}")
    try:
        ref = session.call("VM.get_by_uuid", uuid)
        vm = session.call("VM.get_record", ref)
    except Failure as err:
        if str(err.details[0]) in ("UUID_INVALID", "HANDLE_INVALID"):
            raise DomainGone(f"{spec.label}: the VM no longer exists") from None
        raise translate([str(d) for d in err.details], spec.label) from None
    sample = vm_sample(vm, None, {}, 0.0)
    fresh = XapiCapabilities(ops={uuid: vm_ops(vm)})
    reason = why_not(spec, sample, fresh)
    if reason is not None:
        raise NotAllowed(f"{spec.label} {sample.name}: {reason}")
    what = f"{spec.label} {sample.name}"
    try:
        task = session.call(f"Async.VM.{op.method}", ref, *_args(name, sample))
        outcome = wait_for_task(session, str(task), ACTION_WAIT_S)
    except Failure as err:
        raise translate([str(d) for d in err.details], what) from None
    if outcome is None:
        return f"{sample.name}: {spec.label.lower()} under way (XAPI is still working on it)"
    if outcome:
        raise translate(outcome, what)
    return f"{sample.name}: {op.done}"


def wait_for_task(session: XapiSession, task: str, wait_s: float) -> list[str] | None:
    """Poll an `Async.*` task: [] when it succeeded, its error_info when it failed, None
    when it still runs after `wait_s` (it is left to finish; XAPI removes it later).

    Short calls instead of one long one: a pool thread is never held by a call that a
    stalled master would leave hanging for minutes."""
    deadline = time.monotonic() + wait_s
    while True:
        status = str(session.call("task.get_status", task))
        if status not in ("pending", "cancelling"):
            error = [str(e) for e in session.call("task.get_error_info", task)]
            try:
                session.call("task.destroy", task)
            except Failure:
                pass
            if status == "success":
                return []
            return error or [f"TASK_{status.upper()}"]
        if time.monotonic() >= deadline:
            return None
        time.sleep(TASK_POLL_S)
