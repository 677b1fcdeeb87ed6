"""Bulk actions: which actions may act on many domains at once, and which of the marked
domains each would reach. Neutral: the console and scripts share it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from xentui.backend.actions import ACTIONS, CapabilityView, why_not
from xentui.backend.models import DomainFigures

BULK_ACTIONS = frozenset({"start", "shutdown", "reboot", "pause", "resume", "destroy"})
"""Easy to name for a set and clear in outcome; the rest act on one domain at a time."""

SINGLE_REASON = "acts on one domain at a time: clear the marks first (u)"


@dataclass
class BulkPlan:
    """What a bulk action would do: the domains it reaches and the ones it skips, why."""

    action: str
    targets: list[DomainFigures] = field(default_factory=list)
    skipped: list[tuple[DomainFigures, str]] = field(default_factory=list)

    @property
    def hosts(self) -> list[str]:
        return sorted({f.host for f in self.targets})

    def reason(self) -> str | None:
        """Why nothing would happen (None: at least one domain is reached)."""
        if self.action not in BULK_ACTIONS:
            return SINGLE_REASON
        if self.targets:
            return None
        if not self.skipped:
            return "no domain marked"
        reasons = list(dict.fromkeys(why for _f, why in self.skipped))
        return f"none of the {len(self.skipped)} marked domains can: " + "; ".join(reasons[:2])


Judge = Callable[[DomainFigures], tuple[CapabilityView | None, bool, bool]]
"""For a domain: its host's capabilities, whether that host is read-only, connected."""


def plan(action: str, marked: Iterable[DomainFigures], judge: Judge) -> BulkPlan:
    """Split the marked domains into those `action` can reach now and those it skips."""
    out = BulkPlan(action)
    if action not in BULK_ACTIONS:
        return out
    spec = ACTIONS[action]
    for fig in marked:
        caps, readonly, connected = judge(fig)
        why = "its host is not connected" if not connected else why_not(
            spec, fig.sample, caps, readonly=readonly)
        if why is None:
            out.targets.append(fig)
        else:
            out.skipped.append((fig, why))
    return out


def names(figs: list[DomainFigures], limit: int = 8) -> str:
    """A short list of domain names for a question: the first few, then how many more."""
    shown = ", ".join(f.name for f in figs[:limit])
    more = len(figs) - limit
    return f"{shown} and {more} more" if more > 0 else shown
