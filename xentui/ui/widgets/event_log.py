"""The `Log` pane: timestamped, levelled lines, bounded, optionally mirrored to a file."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import RichLog

from xentui.logfile import JsonLineLog
from xentui.ui.format import visible

MAX_LINES = 2000
SHOW_EVERY_S = 0.25
"""Lines reach the pane in batches at most this far apart (the file gets each at once)."""

LEVELS: dict[str, tuple[str, str]] = {
    "info": ("info ", "dim"),
    "warn": ("WARN ", "bold yellow"),
    "error": ("ERROR", "bold red"),
}
"""Level -> (tag shown before the text, style); the tag says it without colour."""

_ALIASES = {"warning": "warn", "err": "error", "critical": "error", "debug": "info"}


def level_of(level: str) -> str:
    """A known level name for whatever the caller passed ('warning' -> 'warn')."""
    name = level.lower()
    name = _ALIASES.get(name, name)
    return name if name in LEVELS else "info"


def log_line(level: str, text: str, when: float | None = None) -> Text:
    """`HH:MM:SS TAG text` as a Text; `text` is taken literally, never as markup."""
    stamp = time.strftime("%H:%M:%S", time.localtime(time.time() if when is None else when))
    tag, style = LEVELS[level_of(level)]
    line = Text(end="")
    line.append(stamp, style="dim")
    line.append(" ")
    line.append(tag, style=style)
    line.append(" ")
    line.append(visible(text), style="red" if level_of(level) == "error" else "")
    return line


class EventLog(RichLog):
    """A bounded log of what happened: events, action results, errors.

    `add()` is the one way in. When a `JsonLineLog` is given every line is also
    appended to it; if that file fails, one warning says so and the pane carries on.
    """

    DEFAULT_CSS = """
    EventLog {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(
        self,
        *,
        mirror: JsonLineLog | None = None,
        max_lines: int = MAX_LINES,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(
            max_lines=max_lines,
            min_width=20,
            wrap=True,
            highlight=False,
            markup=False,
            auto_scroll=True,
            name=name,
            id=id,
            classes=classes,
        )
        self.mirror = mirror
        self._mirror_failed = False
        self._pending: list[Text] = []
        self._flush_due = False
        self._shown_at = 0.0

    def add(
        self,
        level: str,
        text: str,
        when: float | None = None,
        *,
        kind: str = "ui",
        **fields: object,
    ) -> None:
        """Append `HH:MM:SS TAG text`; mirror it to the file as a JSON record if set.

        The file gets the line at once; the pane takes lines in batches at most
        `SHOW_EVERY_S` apart: each batch costs the screen a layout pass, so a burst of
        hundreds of lines (a bulk action) must not cost hundreds."""
        when = time.time() if when is None else when
        self._show(log_line(level, text, when))
        mirror = self.mirror
        if mirror is None or self._mirror_failed:
            return
        if not mirror.write(level_of(level), kind, text, when=when, **fields):
            self._mirror_failed = True
            self._show(log_line("warn", mirror.error or "event log file disabled"))

    def _show(self, line: Text) -> None:
        self._pending.append(line)
        if self._flush_due:
            return
        self._flush_due = True
        wait = self._shown_at + SHOW_EVERY_S - time.monotonic()
        if wait <= 0:
            self.call_later(self.flush)
        else:
            self.set_timer(wait, self.flush)

    def flush(self) -> None:
        """Write the lines waiting for the pane."""
        pending, self._pending = self._pending, []
        self._flush_due = False
        self._shown_at = time.monotonic()
        for line in pending:
            self.write(line)
