"""Command line: arguments, then the console or batch mode; exit codes."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import dataclass
from typing import NoReturn

from xentui import __version__

DEFAULT_URI = "xen:///system"
MIN_INTERVAL = 0.2
OPEN_TIMEOUT_S = 8.0
EXIT_OK, EXIT_CONNECT, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Options:
    """What the command line asked for."""

    uri: str
    demo: bool
    readonly: bool
    interval: float | None
    """None: the settings file's interval (batch mode: 2 s)."""
    batch: bool
    iterations: int | None
    fmt: str
    per_domain: bool


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
        description="A keyboard-driven terminal console for Xen hosts, over libvirt.",
    )
    p.add_argument("--version", action="version", version=f"xentui {__version__}")
    p.add_argument("-c", "--connect", metavar="URI", help="libvirt URI "
                   f"(default: $LIBVIRT_DEFAULT_URI, else {DEFAULT_URI})")
    p.add_argument("--demo", action="store_true", help="use the bundled Xen-shaped demo host")
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
    if ns.demo:
        from xentui.demo import demo_uri

        uri = demo_uri()
    else:
        uri = ns.connect or os.environ.get("LIBVIRT_DEFAULT_URI") or DEFAULT_URI
    return Options(
        uri=uri,
        demo=ns.demo,
        readonly=ns.readonly,
        interval=ns.interval,
        batch=ns.batch,
        iterations=ns.iterations,
        fmt=ns.fmt,
        per_domain=ns.per_domain,
    )


async def _batch(opts: Options) -> int:
    # Imported by main() before the loop starts: importing libvirt inside this task
    # blocked the event loop for ~0.15 s (an asyncio slow-callback warning).
    from xentui.backend.errors import ConnectError
    from xentui.backend.host import Host
    from xentui.batch import run_batch

    host = Host(
        opts.uri,
        readonly=opts.readonly,
        interval=opts.interval or 2.0,
        per_domain=opts.per_domain,
        open_timeout=OPEN_TIMEOUT_S,
    )
    try:
        await host.connect()
    except ConnectError as err:
        print(f"xentui: {err}", file=sys.stderr)
        return EXIT_CONNECT
    try:
        return await run_batch(host, fmt=opts.fmt, iterations=opts.iterations)
    finally:
        host.status_listeners.clear()
        await host.close()


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
    from xentui.ui.app import run_console

    return run_console(opts)
