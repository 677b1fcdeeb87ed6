"""Keys typed while a dialog is opening wait for it, in order, instead of reaching the
screen underneath.

Terminals deliver keystrokes in bursts (a fast typist, a paste, an SSH session that
batches them). Textual mounts a pushed screen asynchronously, so without this the keys
that follow `D` in one burst would reach the domain table's one-key actions. While
held, keys and pastes are queued; the dialog, once mounted, takes them: a text field
receives them as if typed into it, a yes/no question drops them (keys typed before a
question was on screen never answer it).

A terminal sends Esc as a lone ESC byte and Meta+key as ESC before the key: when Esc and
the next key arrive in one read (a burst), Textual reads them as Meta+key (`alt+j`).
xentui binds no Meta keys, so `escape_then_key` splits such a key back into the two the
person typed. (For Esc before a punctuation key, Enter or space Textual drops the Esc
before the App sees anything; that cannot be mended here.)
"""

from __future__ import annotations

import time

from textual import events
from textual.widget import Widget

HOLD_LIMIT_S = 3.0
"""A dialog that never takes its keys (it failed to mount) frees them after this."""


def escape_then_key(event: events.Key) -> tuple[events.Key, events.Key] | None:
    """Esc and the key typed behind it, when `event` is the Meta+key Textual read them
    as (None for any other key). Both keep the time the pair was read."""
    char = event.character
    if not event.key.startswith("alt+") or char is None or len(char) != 1 or not char.isalnum():
        return None
    pair = (events.Key("escape", "\x1b"), events.Key(char, char))
    for part in pair:
        part.time = event.time
    return pair


class TypeAhead:
    """The queue of held input events; the App routes input through `take`."""

    def __init__(self) -> None:
        self._held: list[events.Event] | None = None
        self._since = 0.0
        self.dropped = 0
        """How many held events a question dropped (for tests and the log)."""
        self.answers_from = 0.0
        """Keys made before this monotonic time were typed before the last question."""
        self.holds = 0
        """How many holds have started: a timer or message meant for one hold checks it."""

    @property
    def holding(self) -> bool:
        return self._held is not None

    def hold(self) -> None:
        """Start queueing keys and pastes (call it just before pushing the dialog)."""
        if self._held is None:
            self._held = []
            self._since = time.monotonic()
            self.holds += 1

    def overdue(self) -> bool:
        """Whether a hold has lasted longer than any dialog takes to open."""
        return self._held is not None and time.monotonic() - self._since >= HOLD_LIMIT_S

    def take(self, event: events.Event) -> bool:
        """Queue `event` if holding and it is fresh keyboard input; True if taken."""
        if (
            self._held is None
            or not isinstance(event, events.Key | events.Paste)
            or event.is_forwarded
        ):
            return False
        self._held.append(event)
        return True

    def stale(self, event: events.Event) -> bool:
        """Whether `event` is keyboard input typed before the last question was shown."""
        if isinstance(event, events.Key | events.Paste) and not event.is_forwarded:
            if event.time < self.answers_from:
                self.dropped += 1
                return True
        return False

    def question_shown(self) -> None:
        """A yes/no question is on screen: drop what was typed before it."""
        self.answers_from = time.monotonic()
        self.release(None)

    def drain(self) -> list[events.Event]:
        """Stop holding; the queued events, in order, for the App to handle again
        against the focus as it is now (after the filter or a dialog closed)."""
        held, self._held = self._held or [], None
        return held

    def release(self, target: Widget | None) -> int:
        """Stop holding; hand the queued events to `target` in order, or drop them if
        None. Returns how many there were."""
        held, self._held = self._held or [], None
        if target is None:
            self.dropped += len(held)
        else:
            for event in held:
                target._forward_event(event)
        return len(held)


def release_to(app: object, target: Widget | None) -> None:
    """Let the app's held keys go to `target`, if the app holds any."""
    gate = getattr(app, "type_ahead", None)
    if isinstance(gate, TypeAhead):
        gate.release(target)


def question_shown(app: object) -> None:
    """Tell the app a yes/no question is now on screen (see `TypeAhead.question_shown`)."""
    gate = getattr(app, "type_ahead", None)
    if isinstance(gate, TypeAhead):
        gate.question_shown()
