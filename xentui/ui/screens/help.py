"""The `?` screen: every key, what it does, and why it cannot run now if it cannot."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static


class HelpScreen(ModalScreen[None]):
    """A scrollable table of (keys, description, note or reason it is disabled)."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        background: $background 60%;
    }
    HelpScreen > Vertical {
        width: 90%;
        max-width: 110;
        height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen #help-title { text-style: bold; height: 1; }
    HelpScreen DataTable { height: 1fr; }
    HelpScreen #help-hint { color: $text-muted; height: 1; }
    """
    closing_keys: ClassVar[frozenset[str]] = frozenset({"escape", "q", "question_mark"})
    """See `key_routing`."""
    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close", id="help.close"),
    ]

    def __init__(
        self, rows: list[tuple[str, str, str]], title: str = "Help: keys and actions"
    ) -> None:
        super().__init__()
        self.rows = list(rows)
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text), id="help-title")
            yield DataTable(cursor_type="row", zebra_stripes=True, id="help-table")
            yield Static(Text("Esc, q or ? closes"), id="help-hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(Text("Keys"), Text("Action"), Text("Note"))
        for keys, description, note in self.rows:
            table.add_row(
                Text(keys, style="bold"),
                Text(description),
                Text(note, style="dim italic"),
            )
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
