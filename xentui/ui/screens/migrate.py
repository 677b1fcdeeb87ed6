"""Pick the host to move a domain to (live migration)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from xentui.ui.format import visible
from xentui.ui.typeahead import release_to


class MigrateScreen(ModalScreen[str | None]):
    """A list of the other connected hosts; Enter picks one, Esc cancels."""

    DEFAULT_CSS = """
    MigrateScreen { align: center middle; background: $background 60%; }
    MigrateScreen > Vertical { width: auto; min-width: 40; max-width: 90%; height: auto;
                               padding: 1 2; border: thick $warning; background: $surface; }
    MigrateScreen OptionList { height: auto; max-height: 12; margin-top: 1; }
    MigrateScreen .detail { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="migrate.cancel")]

    def __init__(self, name: str, source: str, targets: list[str]) -> None:
        super().__init__()
        self.domain_name = name
        self.source = source
        self.targets = targets

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"Migrate {visible(self.domain_name)} from "
                              f"{visible(self.source)} to:"), classes="question")
            yield OptionList(*(Option(Text(visible(t)), id=t) for t in self.targets))
            yield Static(Text("Live, kept defined on the target, removed from the source. "
                              "Enter picks, Esc cancels."), classes="detail")

    def on_mount(self) -> None:
        box = self.query_one(OptionList)
        self.set_focus(box)
        release_to(self.app, box)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
