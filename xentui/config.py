"""Typed settings from `$XDG_CONFIG_HOME/xentui/config.toml`; bad values fall back."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from xentui.backend.actions import ACTIONS
from xentui.ui.columns import COLUMNS

OPTIONAL_COLUMNS = frozenset({"host", "type", "flavor", "project"})
"""Host and Type come by themselves when the console shows several hosts, or both VMs and
containers; OpenStack's Flavor and Project are for the settings' `columns` on compute
nodes."""
DEFAULT_COLUMNS = tuple(k for k in COLUMNS if k not in OPTIONAL_COLUMNS)


CONFIRM_DEFAULTS: dict[str, bool] = {name: spec.confirm for name, spec in ACTIONS.items()}
"""Which actions ask first unless the settings file says otherwise."""


@dataclass(frozen=True, slots=True)
class HostEntry:
    """A host named in the settings file: `[[hosts]]` with `name` and `uri`."""

    name: str
    uri: str


@dataclass(frozen=True, slots=True)
class Settings:
    """What a user may set; every field has a sane default."""

    interval: float = 2.0
    columns: tuple[str, ...] = DEFAULT_COLUMNS
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
    hosts: tuple[HostEntry, ...] = ()
    """The fleet to open when no -c/--connect is given."""
    xapi_password_file: str = ""
    """XenAPI pools: a file (mode 0600) holding the password; $XENTUI_XAPI_PASSWORD wins."""
    xapi_accept_self_signed: bool = False
    """XenAPI pools over https: accept a certificate no authority signed."""


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "xentui" / "config.toml"


def state_dir() -> Path:
    """`$XDG_STATE_HOME/xentui` (a relative value is ignored, as the XDG spec says), by
    default `~/.local/state/xentui`."""
    state = os.environ.get("XDG_STATE_HOME", "")
    base = Path(state) if state and os.path.isabs(state) else Path.home() / ".local" / "state"
    return base / "xentui"


def log_path() -> Path:
    """The event log file the console writes (JSON lines, rotated)."""
    return state_dir() / "events.jsonl"


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
    if name == "xapi_password_file":
        if not isinstance(value, str):
            raise ValueError("must be a file path")
        return value
    if name in ("reverse", "ascii", "log_file", "xapi_accept_self_signed"):
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
    if name == "hosts":
        return _check_hosts(value)
    if name == "theme":
        if not isinstance(value, str):
            raise ValueError("must be a theme name")
        return value
    raise ValueError("is not a known setting")


def _check_hosts(value: object) -> tuple[HostEntry, ...]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError("must be [[hosts]] tables with name and uri")
    out: list[HostEntry] = []
    for entry in value:
        name, uri = entry.get("name"), entry.get("uri")
        if not isinstance(uri, str) or not uri.strip():
            raise ValueError(f"entry {entry!r} has no uri")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise ValueError(f"entry {entry!r} has an empty name")
        extra = set(entry) - {"name", "uri"}
        if extra:
            raise ValueError(f"entry {entry!r} has unknown keys {sorted(extra)}")
        out.append(HostEntry((name or "").strip(), uri.strip()))
    names = [h.name for h in out if h.name]
    if len(names) != len(set(names)):
        raise ValueError("names a host twice")
    return tuple(out)


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
