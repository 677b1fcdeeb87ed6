"""Which VM operations a record allows, and the error xapi answers when it does not.

A transcription of the rules in xapi's ``xapi_vm_lifecycle.ml``
(``allowed_power_states``, ``is_allowed_concurrently``, ``check_operation_error``),
checked in xapi's order: power state first, then operations in progress, then the
template / snapshot / control-domain exceptions.  Guest-feature checks are left out:
every simulated guest behaves as if it had PV drivers.
"""

from __future__ import annotations

from .errors import (
    ONLY_PROVISION_TEMPLATE,
    ONLY_REVERT_SNAPSHOT,
    OPERATION_NOT_ALLOWED,
    OTHER_OPERATION_IN_PROGRESS,
    VM_BAD_POWER_STATE,
    VM_IS_SNAPSHOT,
    VM_IS_TEMPLATE,
    XapiError,
)
from .records import Record

HALTED, PAUSED, SUSPENDED, RUNNING = "Halted", "Paused", "Suspended", "Running"
ALL_STATES = (HALTED, PAUSED, SUSPENDED, RUNNING)

# The operations xapi's update_allowed_operations considers, in its order.
CANDIDATE_OPERATIONS = (
    "snapshot", "copy", "clone", "revert", "checkpoint", "start", "start_on", "pause",
    "unpause", "clean_shutdown", "clean_reboot", "hard_shutdown", "hard_reboot", "suspend",
    "resume", "resume_on", "export", "destroy", "provision", "changing_VCPUs_live",
    "pool_migrate", "migrate_send", "make_into_template", "changing_static_range",
    "changing_shadow_memory", "changing_dynamic_range",
)  # fmt: skip

# fmt: off
_BY_OPERATION: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("changing_shadow_memory", "make_into_template", "provision"), (HALTED,)),
    **dict.fromkeys(("start", "start_on"), (HALTED,)),
    "unpause": (PAUSED,),
    **dict.fromkeys(("resume", "resume_on"), (SUSPENDED,)),
    **dict.fromkeys(
        ("clean_reboot", "clean_shutdown", "changing_VCPUs_live", "pause", "pool_migrate",
         "suspend", "changing_memory_live", "data_source_op", "send_sysrq", "send_trigger"),
        (RUNNING,),
    ),
    "changing_dynamic_range": (HALTED, RUNNING),
    **dict.fromkeys(("destroy", "export"), (HALTED, SUSPENDED)),
    "hard_reboot": (PAUSED, RUNNING),
    **dict.fromkeys(("checkpoint", "hard_shutdown"), (PAUSED, SUSPENDED, RUNNING)),
    "migrate_send": (HALTED, SUSPENDED, RUNNING),
    **dict.fromkeys(("snapshot", "revert", "metadata_export"), ALL_STATES),
}

_TEMPLATE_OK = {
    "changing_dynamic_range", "changing_static_range", "changing_memory_limits",
    "changing_shadow_memory", "changing_VCPUs", "clone", "copy", "export",
    "metadata_export", "provision",
}
_SNAPSHOT_OK = {"revert", "clone", "copy", "export", "destroy", "hard_shutdown", "metadata_export"}
_CONTROL_DOMAIN_OK = {
    "data_source_op", "changing_memory_live", "awaiting_memory_live", "metadata_export",
    "changing_dynamic_range", "changing_memory_limits", "changing_static_range", "start",
    "start_on", "changing_VCPUs", "destroy",
}
# fmt: on


def allowed_power_states(vm: Record, op: str) -> tuple[str, ...]:
    """The power states in which ``op`` may start (xapi's ``allowed_power_states``)."""
    if op in ("changing_static_range", "changing_memory_limits", "changing_VCPUs"):
        return (HALTED, RUNNING) if vm["is_control_domain"] else (HALTED,)
    if op in ("clone", "copy"):
        return (HALTED, SUSPENDED) if vm["is_a_snapshot"] else (HALTED,)
    return _BY_OPERATION.get(op, ALL_STATES)


def _allowed_concurrently(op: str, current: list[str]) -> bool:
    """Whether ``op`` may start while ``current`` operations run on the same VM."""
    for group in ({"clone", "copy", "export"}, {"snapshot", "checkpoint"}):
        if op in group and all(c in group for c in current):
            return True
    if op == "hard_shutdown":
        return "hard_shutdown" not in current
    if op == "hard_reboot":
        return not {"hard_shutdown", "hard_reboot"} & set(current)
    return False


def operation_error(vm: Record, ref: str, op: str) -> XapiError | None:
    """The error xapi reports for ``op`` on this VM, or None when it is allowed."""
    state = vm["power_state"]
    if op in vm.get("blocked_operations", {}):
        return XapiError("OPERATION_BLOCKED", ref, vm["blocked_operations"][op])
    expected = allowed_power_states(vm, op)
    if state not in expected:
        return XapiError(
            VM_BAD_POWER_STATE, ref, ", ".join(s.lower() for s in expected), state.lower()
        )
    current = list(vm["current_operations"].values())
    if current and not _allowed_concurrently(op, current):
        shown = current[0] if len(current) == 1 else "{" + ",".join(current) + "}"
        return XapiError(OTHER_OPERATION_IN_PROGRESS, f"VM.{shown}", ref)
    if vm["is_a_template"] and not vm["is_a_snapshot"]:
        flag = vm["other_config"].get("default_template", "").lower() in ("1", "true")
        default = vm["is_default_template"] or flag
        ok = op in _TEMPLATE_OK or (op in ("destroy", "migrate_send") and not default)
        if not ok:
            return XapiError(VM_IS_TEMPLATE, ref, op)
    if vm["is_a_snapshot"] and op not in _SNAPSHOT_OK:
        return XapiError(VM_IS_SNAPSHOT, ref, op)
    if op == "provision" and not vm["is_a_template"]:
        return XapiError(ONLY_PROVISION_TEMPLATE)
    if op == "revert" and not vm["is_a_snapshot"]:
        return XapiError(ONLY_REVERT_SNAPSHOT)
    if vm["is_control_domain"]:
        if op in ("changing_VCPUs", "destroy"):
            return XapiError(OPERATION_NOT_ALLOWED, "This operation is not allowed on dom0")
        if op not in _CONTROL_DOMAIN_OK:
            return XapiError(
                OPERATION_NOT_ALLOWED, "This operation is not allowed on a control domain"
            )
    return None


def allowed_operations(vm: Record, ref: str) -> list[str]:
    """The ``allowed_operations`` field xapi derives for this record."""
    return [op for op in CANDIDATE_OPERATIONS if operation_error(vm, ref, op) is None]
