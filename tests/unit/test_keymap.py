"""The user keymap check: unknown ids, bad keys and clashes are refused with a reason."""

from __future__ import annotations

from textual.binding import Binding

from xentui.ui.keymap import check_keymap

BINDINGS = [
    Binding("q", "quit", "Quit", id="quit"),
    Binding("s", "start", "Start", id="start"),
    Binding("S", "shutdown", "Shut down", id="shutdown"),
]


def test_valid_override_is_kept() -> None:
    assert check_keymap({"start": "ctrl+s"}, BINDINGS) == ({"start": "ctrl+s"}, [])


def test_unknown_id_and_bad_key_are_refused() -> None:
    kept, problems = check_keymap({"nope": "x", "start": "ctrl+"}, BINDINGS)
    assert kept == {}
    assert any("unknown binding id 'nope'" in p for p in problems)
    assert any("not a valid key list" in p for p in problems)


def test_clash_with_a_default_keeps_the_default() -> None:
    kept, problems = check_keymap({"start": "q"}, BINDINGS)
    assert kept == {}
    assert problems == ["keymap: 'q' would belong to both quit and start; start keeps its default"]


def test_swapping_two_keys_is_allowed() -> None:
    keymap = {"start": "S", "shutdown": "s"}
    assert check_keymap(keymap, BINDINGS) == (keymap, [])
