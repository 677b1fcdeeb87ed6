"""Command line: arguments, then the console or batch mode; exit codes."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import textwrap
from dataclasses import dataclass
from typing import NoReturn

from xentui import __version__
from xentui.backend.api import HostBackend
from xentui.backend.fleet import Fleet
from xentui.config import HostEntry

DEFAULT_URI = "xen:///system"
MIN_INTERVAL = 0.2
OPEN_TIMEOUT_S = 8.0
EXIT_OK, EXIT_CONNECT, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Options:
    """What the command line asked for."""

    uris: tuple[str, ...]
    """The -c/--connect URIs in order; empty: the settings file's hosts, else the default."""
    demo: bool
    readonly: bool
    interval: float | None
    """None: the settings file's interval (batch mode: 2 s)."""
    batch: bool
    iterations: int | None
    fmt: str
    per_domain: bool


_EPILOG = """\
host URIs (libvirt):
  xen:///system                      this Dom0 (the default)
  xen+ssh://root@dom0.example/system another Dom0 over ssh (no_tty=1 is added, so
                                     ssh never prompts: use a key or an agent)
  xen+tls://dom0.example/system      over TLS (libvirt's certificates)
  qemu:///system, lxc:///system      other libvirt drivers
  a fleet: give -c once per host, or name the hosts in the settings file:
    [[hosts]]
    name = "dom0-a"
    uri = "xen+ssh://root@dom0-a/system"

files:
  settings  $XDG_CONFIG_HOME/xentui/config.toml (~/.config/xentui/config.toml):
            interval, columns, sort, theme, ascii, shutdown_timeout, log_file,
            [keymap], [confirm], [[hosts]]; see README.md "Settings"
  log       $XDG_STATE_HOME/xentui/events.jsonl (~/.local/state/xentui/): every log
            line as JSON, rotated at 1 MB; libvirt's own messages go to libvirt.log
            in the same folder

keys:
  press ? in the console for every key and why an action is unavailable now;
  Ctrl+P opens the command palette. README.md "Keys" lists them all.

exit status: 0 ok; 1 no host could be reached; 2 bad usage.
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"xentui: {message} (see xentui --help)\n")


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= MIN_INTERVAL:
        raise argparse.ArgumentTypeError(f"the interval must be at least {MIN_INTERVAL} s")
    return value


def _iterations(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("iterations must be 1 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="xentui",
        description=textwrap.fill(
            "A keyboard-driven terminal console for Xen hosts, over libvirt: every domain "
            "of one host or a fleet with live CPU, memory, disk and network figures, graphs "
            "and a log, and start, shut down, reboot, force off, pause, resume, save, "
            "restore and snapshot from the keyboard. With -b it prints figures instead "
            "(like xentop -b).", 79),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"xentui {__version__}")
    p.add_argument("-c", "--connect", metavar="URI", action="append", default=[],
                   help="libvirt URI of a host (or xapi://USER@HOST for a XenAPI pool); "
                   "give it again for each host of a fleet "
                   f"(default: the settings' [[hosts]], else $LIBVIRT_DEFAULT_URI, else "
                   f"{DEFAULT_URI})")
    p.add_argument("--demo", action="store_true",
                   help="a simulated fleet of three Xen hosts (no libvirt, no real host)")
    p.add_argument("-r", "--readonly", action="store_true",
                   help="read-only connection; every action is refused")
    p.add_argument("-d", "--interval", type=_interval, default=None, metavar="SECONDS",
                   help=f"refresh period (default 2, minimum {MIN_INTERVAL})")
    p.add_argument("-b", "--batch", action="store_true", help="headless output, no screen")
    p.add_argument("-n", "--iterations", type=_iterations, default=None, metavar="N",
                   help="batch mode: stop after N passes (default: until interrupted)")
    p.add_argument("--format", dest="fmt", choices=("table", "csv", "json"), default="table",
                   help="batch mode output format")
    p.add_argument("--per-domain", action="store_true",
                   help="sample domain by domain even where bulk statistics exist")
    return p


def parse(argv: list[str] | None = None) -> Options:
    ns = build_parser().parse_args(argv)
    if ns.demo and ns.connect:
        build_parser().error("--demo and --connect are exclusive")
    uris: tuple[str, ...] = tuple(ns.connect)
    return Options(
        uris=uris,
        demo=ns.demo,
        readonly=ns.readonly,
        interval=ns.interval,
        batch=ns.batch,
        iterations=ns.iterations,
        fmt=ns.fmt,
        per_domain=ns.per_domain,
    )


def fleet_entries(opts: Options, saved: tuple[HostEntry, ...]) -> list[HostEntry]:
    """The hosts to open: the command line's (named as in the settings where a URI
    matches), else the settings file's, else $LIBVIRT_DEFAULT_URI or the default."""
    if opts.uris:
        names = {h.uri: h.name for h in saved}
        return [HostEntry(names.get(u, ""), u) for u in opts.uris]
    if saved:
        return list(saved)
    return [HostEntry("", os.environ.get("LIBVIRT_DEFAULT_URI") or DEFAULT_URI)]


def build_fleet(
    entries: list[HostEntry], *, readonly: bool, interval: float, per_domain: bool,
    live: bool = True,
) -> Fleet:
    """One host per entry (libvirt, or a XenAPI pool for xapi URIs), ids unique (a
    repeated host name gets '#2', ...)."""
    from xentui.backend.libvirt.connection import host_label
    from xentui.backend.libvirt.host import LibvirtHost
    from xentui.backend.xapi.uri import is_xapi_uri

    hosts: list[HostBackend] = []
    taken: set[str] = set()
    for entry in entries:
        base = entry.name or host_label(entry.uri)
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}#{n}"
        taken.add(name)
        if is_xapi_uri(entry.uri):
            hosts.append(xapi_host(entry.uri, id=name, readonly=readonly, interval=interval))
            continue
        hosts.append(LibvirtHost(entry.uri, id=name, readonly=readonly, interval=interval,
                                 per_domain=per_domain, open_timeout=OPEN_TIMEOUT_S))
    return Fleet(hosts, live=live)


def xapi_host(uri: str, *, id: str, readonly: bool, interval: float) -> HostBackend:
    """A XenAPI pool (the package is loaded only when a URI names one); its password
    file and certificate policy come from the settings file."""
    from xentui.backend.xapi.credentials import XapiOptions
    from xentui.backend.xapi.host import XapiHost
    from xentui.config import load_settings

    settings, _problems = load_settings()
    options = XapiOptions(settings.xapi_password_file, settings.xapi_accept_self_signed)
    return XapiHost(uri, id=id, readonly=readonly, interval=interval, options=options)


def open_fleet(opts: Options, saved: tuple[HostEntry, ...], interval: float) -> Fleet:
    """The fleet the options ask for: the simulated demo, or libvirt hosts."""
    if opts.demo:
        from xentui.demo.host import demo_fleet

        return demo_fleet(interval=interval, readonly=opts.readonly)
    return build_fleet(fleet_entries(opts, saved), readonly=opts.readonly, interval=interval,
                       per_domain=opts.per_domain)


async def _batch(opts: Options) -> int:
    from xentui.batch import run_batch
    from xentui.config import load_settings

    settings, _problems = load_settings()
    fleet = open_fleet(opts, settings.hosts, opts.interval or 2.0)
    try:
        return await run_batch(fleet, fmt=opts.fmt, iterations=opts.iterations)
    finally:
        await fleet.close()


def route_libvirt_logs() -> None:
    """Send libvirt's own log lines (it writes warnings straight to fd 2, which would
    scribble over the screen) to a file in the state directory, unless the user chose
    an output. Must run before libvirt is imported: it reads this once, at load."""
    if os.environ.get("LIBVIRT_LOG_OUTPUTS"):
        return
    from xentui.config import state_dir

    folder = state_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        os.environ["LIBVIRT_LOG_OUTPUTS"] = "4:stderr"
        return
    os.environ["LIBVIRT_LOG_OUTPUTS"] = f"3:file:{folder / 'libvirt.log'}"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `xentui` command."""
    opts = parse(argv)
    route_libvirt_logs()
    if opts.batch:
        import xentui.batch  # noqa: F401  (loads libvirt before the loop runs)

        try:
            return asyncio.run(_batch(opts))
        except KeyboardInterrupt:
            return EXIT_OK
        except BrokenPipeError:
            sys.stderr.close()
            return EXIT_OK
    from xentui.gcpolicy import tune_collector
    from xentui.ui.launch import run_console

    tune_collector()  # a process-wide policy, so here, once: see xentui/gcpolicy.py
    return run_console(opts)
