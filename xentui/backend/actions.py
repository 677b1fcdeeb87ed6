"""The registry of domain actions: key, label, which states allow each, which capability
it needs, whether it asks first; and `why_not`, the one judge of whether it may run now.

Neutral: no libvirt here. Backends do the actions; the UI and batch read this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from xentui.backend.models import DomainKind, DomainSample, DomainState

S = DomainState
RUNNING = frozenset({S.RUNNING, S.BLOCKED})
ACTIVE = frozenset({S.RUNNING, S.BLOCKED, S.PAUSED, S.SHUTDOWN, S.CRASHED, S.PMSUSPENDED})
ANY = frozenset(DomainState)


class CapabilityView(Protocol):
    """What `why_not` needs of a driver's capabilities."""

    def has(self, name: str | None) -> bool: ...

    def missing_reason(self, name: str) -> str: ...

    def refusal(self, action: str, sample: DomainSample) -> str | None:
        """Why the backend itself refuses `action` on this domain now (XenAPI lists each
        VM's allowed operations), or None: the registry's rules decide."""
        ...


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """What the UI and batch need to know of an action before doing it."""

    name: str
    label: str
    key: str
    """Default key in the console; users may rebind it."""
    states: frozenset[DomainState]
    confirm: bool = False
    """Whether it asks before it runs unless the settings say otherwise: actions that
    stop, freeze or lose something do; the ones that are easy to undo do not."""
    type_name: bool = False
    """The confirmation asks for the domain's name (the worst ones)."""
    capability: str | None = None
    persistent_only: bool = False
    help: str = ""


ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec("start", "Start", "s", frozenset({S.SHUTOFF, S.CRASHED}),
                   help="boot the domain (restores a managed-save image if one exists)"),
        ActionSpec("shutdown", "Shut down", "S", RUNNING, confirm=True,
                   help="ask the guest to shut down (ACPI / PV shutdown)"),
        ActionSpec("reboot", "Reboot", "r", RUNNING, confirm=True, help="ask the guest to reboot"),
        ActionSpec("reset", "Reset", "X", ACTIVE - {S.SHUTDOWN}, confirm=True,
                   capability="reset", help="hard reset, like the reset button"),
        ActionSpec("destroy", "Force off", "F", ACTIVE, confirm=True,
                   help="pull the plug (virsh destroy)"),
        ActionSpec("pause", "Pause", "p", RUNNING, confirm=True,
                   help="stop scheduling the vCPUs"),
        ActionSpec("resume", "Resume", "p", frozenset({S.PAUSED}), help="resume a paused domain"),
        ActionSpec("save", "Save", "w", RUNNING | {S.PAUSED}, confirm=True,
                   capability="managed_save", persistent_only=True,
                   help="managed save: memory to disk, then stop"),
        ActionSpec("restore", "Restore", "W", frozenset({S.SHUTOFF}),
                   capability="managed_save", help="start from the managed-save image"),
        ActionSpec("snapshot", "Snapshot", "n", ANY - {S.NOSTATE}, capability="snapshots",
                   help="take a snapshot now"),
        ActionSpec("revert", "Revert snapshot", "N", ANY - {S.NOSTATE}, confirm=True,
                   capability="snapshots", help="revert to the newest snapshot"),
        ActionSpec("snapshot-delete", "Delete snapshot", "ctrl+n", ANY - {S.NOSTATE},
                   confirm=True, capability="snapshots", help="delete the newest snapshot"),
        ActionSpec("autostart", "Toggle autostart", "a", ANY - {S.NOSTATE},
                   persistent_only=True, help="start with the host, or not"),
        ActionSpec("undefine", "Undefine", "D", frozenset({S.SHUTOFF}), confirm=True,
                   type_name=True, persistent_only=True,
                   help="remove the definition (and its managed-save image, snapshots)"),
    )
}

DOM0_REASON = "Domain-0 is the control domain: it cannot be started, stopped or changed here"
SHUTDOWN_IGNORED_HINT = {
    DomainKind.VM: "the guest may ignore the request (no ACPI or PV shutdown support)",
    DomainKind.CONTAINER: "its init may ignore the request (libvirt asks through the "
                          "container's initctl pipe, or signals it)",
}
"""Why a domain of each kind may still run after a shutdown its hypervisor accepted."""
READONLY_REASON = "the connection is read-only (started with --readonly)"
TRANSIENT_REASON = "the domain is transient (not defined): it has no saved configuration"


def why_not(
    spec: ActionSpec,
    sample: DomainSample,
    caps: CapabilityView | None,
    *,
    readonly: bool = False,
) -> str | None:
    """Why `spec` cannot run on this domain now, or None if it can."""
    if readonly:
        return READONLY_REASON
    if sample.is_dom0:
        return DOM0_REASON
    if caps is not None and not caps.has(spec.capability):
        return caps.missing_reason(spec.capability or "")
    refusal = None if caps is None else caps.refusal(spec.name, sample)
    if refusal is not None:
        return refusal
    if sample.state not in spec.states:
        return f"not possible while the domain is {sample.state.value}"
    if spec.persistent_only and sample.persistent is False:
        return TRANSIENT_REASON
    return None
