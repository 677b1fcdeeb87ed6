"""Bulk actions in the console: one question for the marked domains, then every domain's
outcome as its own log line and one notification at the end.

The calls run in the fleet (at most a few at a time per host); outcomes come back as
messages, so the screen keeps answering keys while hundreds of domains change.
"""

from __future__ import annotations

from collections import Counter
from functools import partial

from textual import on, work

from xentui.backend.actions import ACTIONS
from xentui.backend.bulk import BulkPlan, names
from xentui.backend.errors import BackendError
from xentui.backend.models import DomainRef
from xentui.ui import format as fmt
from xentui.ui.actions import ActionsApp
from xentui.ui.messages import BulkDone, BulkOutcomes
from xentui.ui.screens.confirm import ConfirmScreen, TypeNameScreen


class BulkActionsApp(ActionsApp):
    """The App's half that runs one action on the marked domains."""

    def _bulk_question(self, plan: BulkPlan) -> tuple[str, str]:
        spec = ACTIONS[plan.action]
        hosts = plan.hosts
        where = f" on {len(hosts)} hosts" if len(hosts) > 1 else (
            f" on {fmt.visible(self.host_label(hosts[0]))}" if hosts else "")
        count = len(plan.targets)
        question = f"{spec.label} {count} domain{'s' if count != 1 else ''}{where}?"
        detail = fmt.visible(names(plan.targets))
        if plan.skipped:
            why = Counter(reason for _f, reason in plan.skipped).most_common(1)[0][0]
            detail += (f"\nSkipped: {len(plan.skipped)} marked "
                       f"({fmt.visible(names([f for f, _r in plan.skipped], 4))}): {why}")
        return question, detail

    def request_bulk(self, plan: BulkPlan) -> None:
        """Ask once for the whole set (force off asks for the count to be typed)."""
        question, detail = self._bulk_question(plan)
        refs = [f.ref for f in plan.targets]
        go = partial(self._bulk_confirmed, refs, {f.ref: f.name for f in plan.targets},
                     plan.action)
        if plan.action == "destroy":
            count = str(len(refs))
            self.push_dialog(TypeNameScreen(f"{question} {detail}", count,
                                            prompt="Type the number of domains to confirm: ",
                                            placeholder="number", noun="number of domains"), go)
        else:
            self.push_dialog(ConfirmScreen(question, detail), go)

    def _bulk_confirmed(self, refs: list[DomainRef], named: dict[DomainRef, str], action: str,
                        ok: bool | None) -> None:
        label = ACTIONS[action].label
        if not ok:
            self.report("info", f"{label} {len(refs)} domains: cancelled", notify=False,
                        kind="action")
            return
        self.report("info", f"{label} {len(refs)} domains: under way…", notify=False,
                    kind="action")
        self._run_bulk(refs, named, action)

    @work(exclusive=False, group="actions", exit_on_error=False)
    async def _run_bulk(self, refs: list[DomainRef], named: dict[DomainRef, str],
                        action: str) -> None:
        failed: list[DomainRef] = []
        gathering = [BulkOutcomes()]
        gathering[0].taken = True

        def done(ref: DomainRef, text: str | None, err: BackendError | None) -> None:
            who = self._named(ref, named[ref])
            if gathering[0].taken:
                gathering[0] = BulkOutcomes()
                self.post_message(gathering[0])
            if err is not None:
                failed.append(ref)
                gathering[0].lines.append((False, f"{who}: {err}"))
            else:
                gathering[0].lines.append((True, text or who))

        await self.fleet.act_many(refs, action, done)
        self.post_message(BulkDone(action, refs, failed))

    @on(BulkOutcomes)
    def _bulk_outcomes(self, msg: BulkOutcomes) -> None:
        msg.taken = True
        for ok, line in msg.lines:
            self.report("info" if ok else "error", line, notify=False, kind="action")

    @on(BulkDone)
    def _bulk_done(self, msg: BulkDone) -> None:
        label = ACTIONS[msg.action].label
        ok = len(msg.refs) - len(msg.failed)
        text = f"{label}: {ok} of {len(msg.refs)} domains done"
        if msg.failed:
            text += f", {len(msg.failed)} failed (see the log)"
        self.report("error" if msg.failed else "info", text, kind="action")
        if msg.action == "shutdown" and ok:
            done = [r for r in msg.refs if r not in msg.failed]
            self.set_timer(self.settings.shutdown_timeout, partial(self._bulk_overdue, done))

    def _bulk_overdue(self, refs: list[DomainRef]) -> None:
        """Graceful shutdowns still running after the timeout: one question for all."""
        figs = [f for r in refs if (f := self.fleet.find(r)) is not None and f.sample.state.active]
        if not figs:
            return
        if len(figs) == 1:
            self._shutdown_overdue(figs[0].ref)
            return
        wait = f"{self.settings.shutdown_timeout:g} s"
        self.report("warn", f"{len(figs)} domains have not shut down after {wait}: "
                    f"{names(figs)}")
        plan = BulkPlan("destroy", targets=figs)
        self.request_bulk(plan)
