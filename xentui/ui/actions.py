"""Domain actions in the console: ask (as the settings say), run in a worker, report.

Built from the registry in `backend.actions`; every question, log line and notification
names the domain and its host.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual import on, work
from textual.app import App
from textual.screen import Screen

from xentui.backend.actions import ACTIONS, SHUTDOWN_IGNORED_HINT
from xentui.backend.errors import BackendError
from xentui.backend.fleet import Fleet
from xentui.backend.models import DomainFigures, DomainRef
from xentui.config import Settings
from xentui.ui import format as fmt
from xentui.ui.messages import ActionDone
from xentui.ui.screens.confirm import ConfirmScreen, TypeNameScreen
from xentui.ui.screens.migrate import MigrateScreen, MigrationChoice, describe
from xentui.ui.typeahead import HOLD_LIMIT_S, TypeAhead


class ActionsApp(App[int]):
    """The App's half that runs domain actions; `XentuiApp` builds on it and provides
    the fleet, the settings and the one place that reports outcomes."""

    fleet: Fleet
    settings: Settings
    type_ahead: TypeAhead

    def report(self, level: str, text: str, *, notify: bool = True, kind: str = "app") -> None:
        raise NotImplementedError

    def has_main(self) -> bool:
        raise NotImplementedError

    def host_label(self, host_id: str | None = None) -> str:
        raise NotImplementedError

    def push_dialog(self, screen: Screen[bool], callback: Callable[[bool | None], None]) -> None:
        """Push a question; keys typed while it opens wait for it (see `typeahead`)."""
        self._hold_keys()
        self.push_screen(screen, callback)

    def _hold_keys(self) -> None:
        """From now until a dialog takes them, keys wait instead of reaching the table."""
        if not self.type_ahead.holding:
            self.type_ahead.hold()
            self.set_timer(HOLD_LIMIT_S + 0.1, self._free_held_keys)

    def _free_held_keys(self) -> None:
        if self.type_ahead.overdue():
            count = self.type_ahead.release(None)
            self.report("warn", f"a dialog did not open: {count} keys typed meanwhile were "
                        "dropped", notify=False)

    def _question(self, fig: DomainFigures, label: str) -> str:
        return f"{label} {fmt.visible(fig.name)} on {fmt.visible(self.host_label(fig.host))}?"

    def _named(self, ref: DomainRef, name: str) -> str:
        """How a log line names a domain: with its host when the fleet has several."""
        return f"{name} on {self.host_label(ref.host)}" if len(self.fleet.hosts) > 1 else name

    def request_action(self, fig: DomainFigures, name: str) -> None:
        """Ask first if the settings say so for this action, then run it in a worker.
        Undefine, and force off of a domain with a managed-save image, always ask for
        the domain's name."""
        spec = ACTIONS[name]
        ask = spec.type_name or self.settings.confirm.get(name, spec.confirm)
        if name == "destroy":
            self._hold_keys()  # the dialog opens after a detail read: keys wait for it
            self._destroy_checked(fig, self._question(fig, spec.label), ask)
            return
        if not ask:
            self._run_action(fig.ref, fig.name, name)
            return
        go = partial(self._confirmed, fig.ref, fig.name, name)
        what = self._question(fig, spec.label)
        if spec.type_name:
            self.push_dialog(TypeNameScreen(f"{what} Type its name to confirm.", fig.name), go)
        else:
            self.push_dialog(ConfirmScreen(what, spec.help), go)

    @work(exclusive=False, group="actions", exit_on_error=False)
    async def _destroy_checked(self, fig: DomainFigures, what: str, ask: bool) -> None:
        """Force off asks for the name when a managed-save image would be orphaned."""
        try:
            detail = await self.fleet.detail(fig.ref)
            saved = bool(detail.managed_save)
        except BackendError:
            saved = False
        go = partial(self._confirmed, fig.ref, fig.name, "destroy")
        if saved:
            self.push_dialog(TypeNameScreen(
                f"{what} It has a managed-save image. Type its name to confirm.", fig.name), go)
        elif ask:
            self.push_dialog(ConfirmScreen(what, ACTIONS["destroy"].help), go)
        else:
            self.type_ahead.release(self.focused)
            go(True)

    def _confirmed(self, ref: DomainRef, name: str, action: str, ok: bool | None) -> None:
        if ok:
            self._run_action(ref, name, action)
        else:
            self.report("info", f"{ACTIONS[action].label} {self._named(ref, name)}: cancelled",
                        notify=False, kind="action")

    @work(exclusive=False, group="actions", exit_on_error=False)
    async def _run_action(self, ref: DomainRef, name: str, action: str) -> None:
        self.report("info", f"{ACTIONS[action].label} {self._named(ref, name)}: under way…",
                    notify=False, kind="action")
        where = f" (on {self.host_label(ref.host)})" if len(self.fleet.hosts) > 1 else ""
        try:
            text = await self.fleet.act(ref, action)
        except BackendError as err:
            self.post_message(ActionDone(ref, action, False, f"{err}{where}"))
        else:
            self.post_message(ActionDone(ref, action, True, f"{text}{where}"))

    # -- migration -----------------------------------------------------------------
    def migrate_targets(self, fig: DomainFigures) -> list[str]:
        """The other connected hosts a domain could move to."""
        return [h.id for h in self.fleet.hosts.values() if h.id != fig.host and h.connected]

    def request_migrate(self, fig: DomainFigures) -> None:
        """Pick a target host, confirm, then migrate in a worker."""
        targets = self.migrate_targets(fig)
        if not targets:
            self.report("warn", "Migrate: no other connected host")
            return

        def picked(choice: MigrationChoice | None) -> None:
            if choice is None:
                return
            to = choice.target
            question = (f"Migrate {fmt.visible(fig.name)} from "
                        f"{fmt.visible(self.host_label(fig.host))} to {fmt.visible(to)}?")
            self.push_dialog(ConfirmScreen(question, describe(choice.opts)),
                             partial(self._migrate_confirmed, fig.ref, fig.name, choice))

        self._hold_keys()
        self.push_screen(MigrateScreen(fig.name, self.host_label(fig.host), targets), picked)

    def _migrate_confirmed(self, ref: DomainRef, name: str, choice: MigrationChoice,
                           ok: bool | None) -> None:
        if ok:
            self._run_migrate(ref, name, choice)
        else:
            self.report("info", f"Migrate {self._named(ref, name)}: cancelled", notify=False,
                        kind="action")

    @work(exclusive=False, group="actions", exit_on_error=False)
    async def _run_migrate(self, ref: DomainRef, name: str, choice: MigrationChoice) -> None:
        self.report("info", f"Migrate {self._named(ref, name)} to {choice.target}: under way…",
                    notify=False, kind="action")
        try:
            text = await self.fleet.migrate(ref, choice.target, choice.opts)
        except BackendError as err:
            self.post_message(ActionDone(ref, "migrate", False, f"{err} (still on "
                                         f"{self.host_label(ref.host)})"))
        else:
            self.post_message(ActionDone(ref, "migrate", True, text))

    @on(ActionDone)
    def _action_done(self, msg: ActionDone) -> None:
        self.report("info" if msg.ok else "error", msg.text, kind="action")
        if not self.has_main():
            return
        if msg.action == "migrate":
            return  # the fleet reads both hosts again itself
        if msg.ok and msg.action == "shutdown":
            self.set_timer(self.settings.shutdown_timeout,
                           partial(self._shutdown_overdue, msg.ref))
        self._refresh_one(msg.ref)

    @work(exclusive=False, group="refresh", exit_on_error=False)
    async def _refresh_one(self, ref: DomainRef) -> None:
        """Re-read the domain an action touched (drivers that emit no event, too); the
        fleet feeds the result to everyone."""
        try:
            await self.fleet.refresh(ref)
        except BackendError:
            return

    def _shutdown_overdue(self, ref: DomainRef) -> None:
        """A graceful shutdown still running after the timeout: say so, offer force off."""
        fig = self.fleet.find(ref)
        if fig is None or not fig.sample.state.active:
            return
        wait = f"{self.settings.shutdown_timeout:g} s"
        self.report("warn", f"{self._named(ref, fig.name)} has not shut down after {wait}: "
                    f"{SHUTDOWN_IGNORED_HINT[fig.sample.kind]}")
        self.push_dialog(
            ConfirmScreen(f"{fmt.visible(fig.name)} on {fmt.visible(self.host_label(ref.host))} "
                          f"has not shut down after {wait}. Force it off?",
                          ACTIONS["destroy"].help),
            partial(self._confirmed, ref, fig.name, "destroy"),
        )
