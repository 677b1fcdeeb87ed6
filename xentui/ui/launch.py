"""Starting the console: the settings as this terminal can show them, the fleet from a URI
list or the CLI's options, and the event log file; `make_app` is the one factory the CLI,
tests and benchmarks use."""

from __future__ import annotations

import os
import sys
from dataclasses import replace

from xentui.cli import Options, build_fleet, open_fleet
from xentui.config import HostEntry, Settings, load_settings, log_path
from xentui.logfile import JsonLineLog
from xentui.ui.app import XentuiApp


def unicode_terminal() -> bool:
    """Whether the terminal's locale can show Unicode symbols (else ASCII is used)."""
    for var in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = os.environ.get(var)
        if value:
            return "utf-8" in value.lower() or "utf8" in value.lower()
    return (sys.stdout.encoding or "").lower().replace("-", "") == "utf8"


def user_settings() -> tuple[Settings, list[str]]:
    """The user's settings file (and what was wrong in it), ASCII where the terminal
    cannot show Unicode."""
    settings, problems = load_settings()
    if not settings.ascii and not unicode_terminal():
        settings = replace(settings, ascii=True)
    return settings, problems


def make_app(
    uri: str | list[str] | list[HostEntry],
    *,
    readonly: bool = False,
    interval: float | None = None,
    per_domain: bool = False,
    settings: Settings | None = None,
    live: bool = True,
    log_to_file: bool | None = None,
) -> XentuiApp:
    """The one factory the CLI, tests and benchmarks use: one URI, several, or named
    hosts. Without `settings`, the user's settings file is read."""
    problems: list[str] = []
    if settings is None:
        settings, problems = user_settings()
    items: list[str | HostEntry] = [uri] if isinstance(uri, str) else list(uri)
    entries = [e if isinstance(e, HostEntry) else HostEntry("", e) for e in items]
    fleet = build_fleet(entries, readonly=readonly, interval=interval or settings.interval,
                        per_domain=per_domain, live=live)
    use_file = settings.log_file if log_to_file is None else log_to_file
    logfile = JsonLineLog(log_path()) if use_file else None
    return XentuiApp(fleet, settings, logfile=logfile, live=live, problems=problems)


def run_console(opts: Options) -> int:
    """Run the console for the CLI's options; returns the exit code."""
    settings, problems = user_settings()
    fleet = open_fleet(opts, settings.hosts, opts.interval or settings.interval)
    logfile = JsonLineLog(log_path()) if settings.log_file else None
    app = XentuiApp(fleet, settings, logfile=logfile, problems=problems)
    app.run()
    return app.return_code or 0
