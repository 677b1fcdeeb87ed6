"""Pick the host to move a domain to, and how (live migration)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, OptionList, Static
from textual.widgets.option_list import Option

from xentui.backend.models import MigrationOptions
from xentui.ui.format import visible
from xentui.ui.typeahead import release_to


@dataclass(frozen=True, slots=True)
class MigrationChoice:
    """What the dialog settled: where to, and how."""

    target: str
    opts: MigrationOptions


def describe(opts: MigrationOptions) -> str:
    """The options in words, for the confirmation."""
    mode = ("peer-to-peer (the source host connects to the target itself)" if opts.p2p
            else "managed direct (over the two connections xentui holds)")
    target = "kept defined on the target" if opts.persist else "transient on the target"
    source = ("undefined on the source" if opts.undefine_source
              else "still defined (shut off) on the source")
    return f"Live, {mode}; {target}; {source}."


_OPTIONS = {
    "p2p": "Peer-to-peer: the source host connects to the target itself (p)",
    "persist": "Keep it persistent on the target (k)",
    "undefine": "Undefine it on the source (u)",
}


class MigrateScreen(ModalScreen[MigrationChoice | None]):
    """The other connected hosts and the options; Enter on a host picks it, Esc cancels."""

    DEFAULT_CSS = """
    MigrateScreen { align: center middle; background: $background 60%; }
    MigrateScreen > Vertical { width: auto; min-width: 40; max-width: 90%; height: auto;
                               padding: 1 2; border: thick $warning; background: $surface; }
    MigrateScreen OptionList { height: auto; max-height: 12; margin-top: 1; }
    MigrateScreen Checkbox { border: none; padding: 0; }
    MigrateScreen .detail { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="migrate.cancel"),
        Binding("p", "tick('p2p')", "Peer-to-peer", id="migrate.p2p"),
        Binding("k", "tick('persist')", "Persistent on the target", id="migrate.persist"),
        Binding("u", "tick('undefine')", "Undefine on the source", id="migrate.undefine"),
    ]

    def __init__(self, name: str, source: str, targets: list[str],
                 opts: MigrationOptions | None = None) -> None:
        super().__init__()
        self.domain_name = name
        self.source = source
        self.targets = targets
        self.initial = opts or MigrationOptions()

    def compose(self) -> ComposeResult:
        start = {"p2p": self.initial.p2p, "persist": self.initial.persist,
                 "undefine": self.initial.undefine_source}
        with Vertical():
            yield Static(Text(f"Migrate {visible(self.domain_name)} from "
                              f"{visible(self.source)} to:"), classes="question")
            yield OptionList(*(Option(Text(visible(t)), id=t) for t in self.targets))
            for key, label in _OPTIONS.items():
                yield Checkbox(Text(label), start[key], id=key)
            yield Static(Text("Live migration. Enter on a host picks it; p, k, u (or Tab and "
                              "Space) set the options; Esc cancels."), classes="detail")

    def on_mount(self) -> None:
        box = self.query_one(OptionList)
        self.set_focus(box)
        release_to(self.app, box)

    @property
    def options(self) -> MigrationOptions:
        """The options as ticked now."""
        ticked = {key: self.query_one(f"#{key}", Checkbox).value for key in _OPTIONS}
        return MigrationOptions(persist=ticked["persist"], undefine_source=ticked["undefine"],
                                p2p=ticked["p2p"])

    def action_tick(self, key: str) -> None:
        self.query_one(f"#{key}", Checkbox).toggle()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.dismiss(MigrationChoice(event.option.id, self.options))

    @property
    def closing_keys(self) -> frozenset[str]:
        """Esc cancels, and Enter picks the host highlighted in the focused list; see
        `key_routing`."""
        box = self.focused
        picks = isinstance(box, OptionList) and box.highlighted is not None
        return frozenset({"enter", "escape"} if picks else {"escape"})

    def action_cancel(self) -> None:
        self.dismiss(None)
