"""Modal questions before destructive actions: yes/no, or type the domain's name.

Every text shown here may hold a domain name, so all of it is built as `Text` and never
read as markup.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from xentui.ui.format import visible
from xentui.ui.typeahead import question_shown, release_to

_DIALOG_CSS = """
{screen} {
    align: center middle;
    background: $background 60%;
}
{screen} > Vertical {
    width: auto;
    min-width: 40;
    max-width: 90%;
    height: auto;
    max-height: 90%;
    padding: 1 2;
    border: thick $error;
    background: $surface;
}
{screen} .question { text-style: bold; width: auto; max-width: 100%; }
{screen} .detail { color: $text-muted; margin-top: 1; width: auto; max-width: 100%; }
{screen} .buttons { height: auto; width: auto; margin-top: 1; }
{screen} .buttons Button { margin-right: 2; }
{screen} .message { color: $error; height: auto; }
{screen} Input { width: 60; max-width: 100%; margin-top: 1; }
"""


class ConfirmScreen(ModalScreen[bool]):
    """Ask a yes/no question: `y` or Yes confirms; `n`, Esc or No refuses (the default)."""

    DEFAULT_CSS = _DIALOG_CSS.replace("{screen}", "ConfirmScreen")
    closing_keys: ClassVar[frozenset[str]] = frozenset({"y", "n", "escape", "enter"})
    """The keys that answer (Enter presses the focused button); see `key_routing`."""
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n", "answer(False)", "No", id="confirm.no"),
        Binding("escape", "answer(False)", "Cancel", id="confirm.cancel"),
    ]

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        self.shown = False
        """Set once on screen: from then on `y` answers it (keys typed earlier do not)."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(visible(self.question)), classes="question")
            if self.detail:
                yield Static(Text(visible(self.detail)), classes="detail")
            with Horizontal(classes="buttons"):
                yield Button(Text("Yes (y)"), id="yes", variant="error")
                yield Button(Text("No (n)"), id="no", variant="primary")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#no", Button))
        question_shown(self.app)  # keys typed before the question was shown never answer it
        self.shown = True

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class TypeNameScreen(ModalScreen[bool]):
    """Confirm only when the exact domain name is typed and Enter pressed; Esc refuses."""

    DEFAULT_CSS = _DIALOG_CSS.replace("{screen}", "TypeNameScreen")
    BINDINGS = [Binding("escape", "refuse", "Cancel", id="confirm.cancel")]

    def __init__(self, question: str, name: str, *,
                 prompt: str = "Type the domain's name to confirm: ",
                 placeholder: str = "domain name", noun: str = "domain's name") -> None:
        super().__init__()
        self.question = question
        self.expected = name
        self.prompt = prompt
        self.placeholder = placeholder
        self.noun = noun

    def compose(self) -> ComposeResult:
        prompt = Text(self.prompt)
        prompt.append(visible(self.expected), style="bold")
        with Vertical():
            yield Static(Text(visible(self.question)), classes="question")
            yield Static(prompt, classes="detail")
            yield Input(placeholder=self.placeholder, id="name")
            yield Static("", classes="message", id="message")
            yield Static(Text("Enter confirms, Esc cancels"), classes="detail")

    def on_mount(self) -> None:
        box = self.query_one(Input)
        self.set_focus(box)
        release_to(self.app, box)  # what was typed while the dialog opened goes in the box

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value == self.expected:
            self.dismiss(True)
            return
        self.query_one("#message", Static).update(
            Text(f"That is not the {self.noun}; nothing was done.")
        )

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self.query_one("#message", Static).update("")

    @property
    def closing_keys(self) -> frozenset[str]:
        """Esc closes it, and Enter when the name is right; see `key_routing`."""
        right = self.is_mounted and self.query_one(Input).value == self.expected
        return frozenset({"enter", "escape"} if right else {"escape"})

    def action_refuse(self) -> None:
        self.dismiss(False)
