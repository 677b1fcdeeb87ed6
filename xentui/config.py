"""Typed settings from `$XDG_CONFIG_HOME/xentui/config.toml`; bad values fall back."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from xentui.backend.actions import ACTIONS

COLUMNS = (
    "name",
    "id",
    "state",
    "cpu",
    "cputime",
    "mem",
    "mempct",
    "maxmem",
    "vcpus",
    "rd",
    "wr",
    "rx",
    "tx",
    "uptime",
)


CONFIRM_DEFAULTS: dict[str, bool] = {name: spec.confirm for name, spec in ACTIONS.items()}
"""Which actions ask first unless the settings file says otherwise."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What a user may set; every field has a sane default."""

    interval: float = 2.0
    columns: tuple[str, ...] = COLUMNS
    sort: str = "name"
    reverse: bool = False
    keymap: dict[str, str] = field(default_factory=dict)
    """Binding id -> keys, e.g. {"start": "ctrl+s"}."""
    theme: str = "textual-dark"
    ascii: bool = False
    shutdown_timeout: float = 60.0
    """Seconds a graceful shutdown may take before the console offers force off."""
    log_file: bool = True
    confirm: dict[str, bool] = field(default_factory=lambda: dict(CONFIRM_DEFAULTS))
    """Action name -> whether it asks before it runs."""


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "xentui" / "config.toml"


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(base) / "xentui"


def _check(name: str, value: object) -> object:
    """The value converted to the field's type, or ValueError saying what is wrong."""
    if name in ("interval", "shutdown_timeout"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("must be a number of seconds")
        if value < (0.2 if name == "interval" else 1):
            raise ValueError("is too small")
        return float(value)
    if name == "columns":
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise ValueError("must be a list of column names")
        unknown = [c for c in value if c not in COLUMNS]
        if unknown:
            raise ValueError(f"has unknown columns {unknown} (known: {', '.join(COLUMNS)})")
        return tuple(["name", *[c for c in value if c != "name"]])
    if name == "sort":
        if value not in COLUMNS:
            raise ValueError(f"must be one of {', '.join(COLUMNS)}")
        return value
    if name in ("reverse", "ascii", "log_file"):
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if name == "keymap":
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise ValueError("must be a table of binding id = \"keys\"")
        return dict(value)
    if name == "confirm":
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, bool) for k, v in value.items()
        ):
            raise ValueError("must be a table of action = true or false")
        unknown = [k for k in value if k not in CONFIRM_DEFAULTS]
        if unknown:
            raise ValueError(
                f"names unknown actions {unknown} (known: {', '.join(CONFIRM_DEFAULTS)})"
            )
        always = [k for k, v in value.items() if not v and ACTIONS[k].type_name]
        if always:
            raise ValueError(f"cannot switch off {always}: they always ask for the name")
        return {**CONFIRM_DEFAULTS, **value}
    if name == "theme":
        if not isinstance(value, str):
            raise ValueError("must be a theme name")
        return value
    raise ValueError("is not a known setting")


def load_settings(path: Path | None = None) -> tuple[Settings, list[str]]:
    """Settings from the file (defaults if absent) and one message per problem found."""
    path = path or config_path()
    settings = Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return settings, []
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        return settings, [f"{path}: cannot read settings ({err}); using defaults"]
    problems: list[str] = []
    known = {f.name for f in fields(Settings)}
    changes: dict[str, object] = {}
    for key, value in data.items():
        if key not in known:
            problems.append(f"{path}: unknown setting {key!r} ignored")
            continue
        try:
            changes[key] = _check(key, value)
        except ValueError as err:
            problems.append(f"{path}: {key} {err}; using the default")
    return replace(settings, **changes), problems  # type: ignore[arg-type]
