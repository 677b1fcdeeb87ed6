"""Where the App sends a burst of keys: each key to what is on screen when the person
would have seen it, had they typed slowly.

Three moments make Textual send keys elsewhere than a person expects, because a burst
(a fast typist, a paste, an SSH session that batches keystrokes) is read before the
screen changes:

- Enter or Esc closing the filter: the keys behind them wait until the filter has given
  the keyboard back to the table (`filter_closed`), else `/web⏎*` puts `*` in the filter.
  So do the keys behind an Esc that clears a filter kept on screen: Esc reaches the
  screen through the focused pane's queue, and the moves and Enter behind it (priority
  bindings, run as they are read) would act on the filtered list and be undone by it.
- Esc and a key read together, which Textual reads as Meta+key (see `typeahead`).
- A key that closes a dialog or the detail screen (a screen's `closing_keys`: `y` in a
  yes/no question, Esc in the detail screen): the keys behind it wait until the screen
  has gone (or `CLOSE_WAIT_S` has passed: the key did not close it), else `yj` answers
  the question and loses the `j` to the closing dialog. Screens name only keys that do
  close them then: the held keys are handed on together, and a burst into a text field
  can reorder there (Textual runs a field's bindings, such as Backspace, when the key
  has gone back up to the App, after the characters behind it were typed in).

Held keys are replayed through the App in order, so each goes through these rules again;
a question opened by a replayed key still drops the keys typed before it was shown. They
are replayed from a message on the App's own queue, and keys read meanwhile stay held
until then and go behind them: no key overtakes one typed before it.
"""

from __future__ import annotations

import time
from functools import partial

from textual import events
from textual.constants import ESCAPE_DELAY
from textual.message import Message
from textual.screen import Screen

from xentui.ui.actions import ActionsApp
from xentui.ui.screens.main import MainScreen
from xentui.ui.typeahead import escape_then_key

CLOSE_WAIT_S = 1.0
"""Longest wait for a screen to close after one of its closing keys."""
CLOSE_POLL_S = 0.01


class HeldKeysDue(Message):
    """The held keys can go where they were typed for (handled on the App's queue)."""

    def __init__(self, hold: int) -> None:
        super().__init__()
        self.hold = hold
        """Which hold (`TypeAhead.holds`) this is for: a later hold is not this one's."""


def keys_that_close(screen: Screen) -> frozenset[str]:  # type: ignore[type-arg]
    """The keys that close `screen` now (its `closing_keys`; none if it declares none)."""
    keys: object = getattr(screen, "closing_keys", frozenset())
    return keys if isinstance(keys, frozenset) else frozenset()


class KeyRoutingApp(ActionsApp):
    """The App's routing of keyboard input; `XentuiApp` builds on it."""

    _held_for_filter = False
    _replay_asked = 0
    """The hold whose replay is on the App's queue."""

    @property
    def main(self) -> MainScreen:
        raise NotImplementedError

    async def on_event(self, event: events.Event) -> None:
        if not isinstance(event, events.Key) or event.is_forwarded:
            if not (self.type_ahead.take(event) or self.type_ahead.stale(event)):
                await super().on_event(event)
            return
        if (pair := escape_then_key(event)) is not None:
            await self._escape_then(*pair)
            return
        if self.type_ahead.take(event) or self.type_ahead.stale(event):
            return
        on_main = self.has_main() and self.screen is self.main
        closing_filter = on_main and ((event.key in ("enter", "escape") and self.main.typing())
                                      or self.main.closes_filter(event.key))
        closing = (self.screen if self.has_main() and not on_main
                   and event.key in keys_that_close(self.screen) else None)
        await super().on_event(event)
        if closing_filter:
            # The filter gives the keyboard back to the table when it has handled Enter
            # or Esc; keys typed behind them wait until then (see `filter_closed`).
            self._hold_keys()
            self._held_for_filter = True
        elif closing is not None:
            self._hold_until_closed(closing, CLOSE_WAIT_S)

    def _hold_until_closed(self, screen: Screen, wait: float) -> None:  # type: ignore[type-arg]
        """Hold the keys typed from now until `screen` has gone, `wait` s at most."""
        if not self.type_ahead.holding:
            self._hold_keys()
            self._replay_once_closed(screen, time.monotonic() + wait, self.type_ahead.holds)

    def _replay_once_closed(self, screen: Screen, deadline: float,  # type: ignore[type-arg]
                            hold: int) -> None:
        """Replay the held keys once `screen` is no longer on top (or at `deadline`)."""
        if self.type_ahead.holds != hold or not self.type_ahead.holding:
            return
        if self.screen is screen and screen.is_attached and time.monotonic() < deadline:
            self.set_timer(CLOSE_POLL_S,
                           partial(self._replay_once_closed, screen, deadline, hold))
            return
        self._replay_held()

    def _replay_held(self) -> None:
        """Ask for the held keys to be handled again, ahead of any read since."""
        if self.type_ahead.holding and self._replay_asked != self.type_ahead.holds:
            self._replay_asked = self.type_ahead.holds
            self.post_message(HeldKeysDue(self.type_ahead.holds))

    async def on_held_keys_due(self, message: HeldKeysDue) -> None:
        if message.hold != self.type_ahead.holds:
            return  # that hold ended otherwise (a dialog took its keys); this is another
        for event in self.type_ahead.drain():
            await self.on_event(event)  # a key that starts a new hold holds the rest

    async def _escape_then(self, escape: events.Key, key: events.Key) -> None:
        """Esc and a key read together: Esc as if typed alone, then the key. When Esc
        went to a dialog, the palette or the detail screen, the key (and any typed behind
        it) waits until Esc has closed it (as long as a terminal would have kept the two
        apart at most), so that it reaches what is on screen then, as if typed slowly."""
        await self.on_event(escape)
        if self.has_main() and self.screen is not self.main:
            self._hold_until_closed(self.screen, ESCAPE_DELAY)
        await self.on_event(key)

    def filter_closed(self) -> None:
        """The filter handed the keyboard back: replay the keys held behind Enter/Esc."""
        if self._held_for_filter:
            self._held_for_filter = False
            self._replay_held()
