"""The App's half that follows migrations under way: their progress line, and abort
(asked first, then `abortJob` in a worker), where the source's driver can abort."""

from __future__ import annotations

from functools import partial

from textual import on, work
from textual.css.query import NoMatches

from xentui.backend.actions import READONLY_REASON
from xentui.backend.errors import BackendError
from xentui.backend.models import DomainFigures, DomainRef
from xentui.ui import format as fmt
from xentui.ui.actions import ActionsApp
from xentui.ui.messages import MigrationProgressed
from xentui.ui.screens.confirm import ConfirmScreen
from xentui.ui.widgets.migration_line import MigrationLine

NO_MIGRATION_REASON = "no migration of this domain is under way"


class MigrationApp(ActionsApp):
    """Shows the fleet's migrations under way and aborts one on request."""

    def abort_reason(self, fig: DomainFigures | None) -> str | None:
        """Why the selected domain's migration cannot be aborted now (None: it can)."""
        if fig is None:
            return "no domain selected"
        host = self.fleet.hosts[fig.host]
        if host.readonly:
            return READONLY_REASON
        caps = host.caps
        if caps is not None and not caps.has("abort_migration"):
            return caps.missing_reason("abort_migration")
        if self.fleet.migration(fig.ref) is None:
            return NO_MIGRATION_REASON
        return None

    def request_abort(self, fig: DomainFigures | None) -> None:
        """Ask, then cancel the selected domain's migration."""
        reason = self.abort_reason(fig)
        progress = self.fleet.migration(fig.ref) if fig is not None else None
        if fig is None or progress is None or reason is not None:
            self.report("warn", f"Abort migration: {reason}")
            return
        source = self.host_label(fig.host)
        question = (f"Abort the migration of {fmt.visible(fig.name)} from "
                    f"{fmt.visible(source)} to {fmt.visible(progress.target)}?")
        self.push_dialog(ConfirmScreen(question, f"The guest keeps running on {source}."),
                         partial(self._abort_confirmed, fig.ref, fig.name))

    def _abort_confirmed(self, ref: DomainRef, name: str, ok: bool | None) -> None:
        if ok:
            self._run_abort(ref)
        else:
            self.report("info", f"Abort the migration of {self._named(ref, name)}: cancelled",
                        notify=False, kind="action")

    @work(exclusive=False, group="actions", exit_on_error=False)
    async def _run_abort(self, ref: DomainRef) -> None:
        try:
            text = await self.fleet.abort_migration(ref)
        except BackendError as err:
            self.report("error", str(err), kind="action")
        else:
            self.report("info", text, notify=False, kind="action")

    @on(MigrationProgressed)
    def _migration_progressed(self, _msg: MigrationProgressed) -> None:
        if not self.has_main():
            return
        try:
            line = self.screen_stack[0].query_one(MigrationLine)
        except NoMatches:
            return
        line.show(self.fleet.migrations(), ascii=self.settings.ascii)
