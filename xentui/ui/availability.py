"""Why each key of the main screen can or cannot act now: one answer for the footer's
greying, the key that says why, and the action itself, so the three never disagree."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.actions import parse

from xentui.backend.actions import ACTIONS, CapabilityView, why_not
from xentui.backend.bulk import SINGLE_REASON, BulkPlan, plan
from xentui.backend.models import DomainFigures
from xentui.ui.console_attach import console_reason

if TYPE_CHECKING:
    from xentui.ui.app import XentuiApp
    from xentui.ui.widgets.domain_table import DomainTable


class Availability:
    """Answers "why not?" for the selected domain, or the marked ones while marks exist."""

    def __init__(self, app: XentuiApp, table: DomainTable) -> None:
        self.app = app
        self.table = table

    def selected(self) -> DomainFigures | None:
        uuid = self.table.selected
        return None if uuid is None else self.table.figures.get(uuid)

    def bulk_plan(self, name: str) -> BulkPlan:
        """What `name` would do to the marked domains now."""
        hosts = self.app.fleet.hosts

        def judge(fig: DomainFigures) -> tuple[CapabilityView | None, bool, bool]:
            host = hosts[fig.host]
            return host.caps, host.readonly, host.connected

        return plan(name, self.table.marked_figures(), judge)

    def action_reason(self, name: str) -> str | None:
        """Why the lifecycle action cannot run now (None: it can)."""
        if self.table.marked:
            return self.bulk_plan(name).reason()
        fig = self.selected()
        if fig is None:
            return "no domain selected"
        host = self.app.fleet.hosts[fig.host]
        if not host.connected:
            return "not connected"
        return why_not(ACTIONS[name], fig.sample, host.caps, readonly=host.readonly)

    def pause_action(self) -> str:
        """What the pause key does now: pause, or resume a paused domain (or set)."""
        if self.table.marked:
            if self.bulk_plan("pause").targets or not self.bulk_plan("resume").targets:
                return "pause"
            return "resume"
        fig = self.selected()
        return "resume" if fig is not None and fig.sample.state.value == "paused" else "pause"

    def migrate_reason(self) -> str | None:
        """Why the selected domain cannot be migrated now (None: it can)."""
        fig = self.selected()
        if fig is None:
            return "no domain selected"
        if self.table.marked:
            return SINGLE_REASON
        host = self.app.fleet.hosts[fig.host]
        if host.readonly:
            return "the connection is read-only"
        if fig.sample.is_dom0:
            return "Domain-0 cannot be migrated"
        if host.caps is not None and not host.caps.has("migration"):
            return host.caps.missing_reason("migration")
        if fig.sample.state.value not in ("running", "blocked", "paused"):
            return f"not possible while the domain is {fig.sample.state.value}"
        if not self.app.migrate_targets(fig):
            return "no other connected host"
        if self.app.fleet.migration(fig.ref) is not None:
            return "its migration is under way"
        return None

    def reason(self, action: str, parameters: tuple[object, ...] = ()) -> str | None:
        """Why the screen action cannot run now (None: it can, or it is not gated)."""
        if action == "lifecycle" and parameters:
            return self.action_reason(str(parameters[0]))
        if action == "toggle_pause":
            return self.action_reason(self.pause_action())
        if action == "detail":
            return "no domain selected" if self.selected() is None else None
        if action == "migrate":
            return self.migrate_reason()
        if action == "abort_migration":
            return self.app.abort_reason(self.selected())
        if action == "console":
            return console_reason(self.app, self.selected())
        return None

    def binding_reason(self, action: str) -> str | None:
        """`reason` for a binding's action string, e.g. "lifecycle('start')"."""
        _namespace, name, parameters = parse(action)
        return self.reason(name, parameters)
