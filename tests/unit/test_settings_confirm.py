"""The `[confirm]` table of the settings file: which actions ask first."""

from __future__ import annotations

from pathlib import Path

from xentui.backend.actions import ACTIONS
from xentui.config import CONFIRM_DEFAULTS, load_settings

ASK_BY_DEFAULT = {"shutdown", "reboot", "reset", "destroy", "pause", "save", "revert",
                  "snapshot-delete", "undefine"}
AT_ONCE_BY_DEFAULT = {"start", "resume", "snapshot", "autostart"}


def load(tmp_path: Path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_settings(path)


def test_defaults_ask_for_what_is_hard_to_undo() -> None:
    assert {a for a, on in CONFIRM_DEFAULTS.items() if on} >= ASK_BY_DEFAULT
    assert not any(CONFIRM_DEFAULTS[a] for a in AT_ONCE_BY_DEFAULT)
    assert set(CONFIRM_DEFAULTS) == set(ACTIONS)


def test_the_file_switches_single_actions(tmp_path: Path) -> None:
    settings, problems = load(tmp_path, "[confirm]\npause = false\nstart = true\n")
    assert problems == []
    assert settings.confirm["pause"] is False
    assert settings.confirm["start"] is True
    assert settings.confirm["shutdown"] is True  # the rest keep their defaults


def test_bad_confirm_tables_fall_back_with_a_message(tmp_path: Path) -> None:
    for text, needle in [
        ("[confirm]\npause = 1\n", "true or false"),
        ("[confirm]\nfly = true\n", "unknown"),
        ("[confirm]\nundefine = false\n", "always ask"),
        ("confirm = 3\n", "table"),
    ]:
        settings, problems = load(tmp_path, text)
        assert settings.confirm == CONFIRM_DEFAULTS, text
        assert len(problems) == 1 and needle in problems[0], (text, problems)
