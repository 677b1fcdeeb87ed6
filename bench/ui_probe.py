"""Where the UI thread's time goes at 10 domains: the app at rest, then per pass.

    python bench/ui_probe.py [--n 10] [--seconds 20] [--sample] [--top 40] [--demo] [--down N]

Runs the real app headless (160x50, test driver in-process, 1 s interval, frames encoded
as for a terminal, as bench/console.py does) and measures the main thread's CPU
(`time.thread_time`) over two windows: `rest` with the passes stopped (Textual's own cost
with nothing arriving: timers, the clock, the cursor), then `passes` with them running.
`--sample` also samples the main thread's stack every 2 ms from another thread during the
passes window (a poor man's py-spy; samples in the event loop's `select` are idle) and
prints the functions most often on the stack, inclusive and exclusive.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

SIZE = (160, 50)


class Sampler:
    """Samples one thread's Python stack at a fixed period from a daemon thread."""

    def __init__(self, thread_id: int, period: float = 0.002) -> None:
        self.thread_id, self.period = thread_id, period
        self.incl: collections.Counter[str] = collections.Counter()
        self.excl: collections.Counter[str] = collections.Counter()
        self.busy = self.total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            frame = sys._current_frames().get(self.thread_id)
            if frame is None:
                continue
            self.total += 1
            if frame.f_code.co_name == "select":
                continue
            self.busy += 1
            seen: set[str] = set()
            top = True
            while frame is not None:
                code = frame.f_code
                key = f"{Path(code.co_filename).name}:{code.co_name}"
                if top:
                    self.excl[key] += 1
                    top = False
                if key not in seen:
                    self.incl[key] += 1
                    seen.add(key)
                frame = frame.f_back


def timed(spent: dict[str, float]) -> None:
    """Add up the main thread's CPU per message type, per compositor refresh and in a few
    of the pass handler's steps (class-level wrappers: the app's code is unchanged)."""
    from textual.message_pump import MessagePump
    from textual.screen import Screen

    from xentui.ui.screens.main import MainScreen
    from xentui.ui.widgets.domain_table import DomainTable
    from xentui.ui.widgets.graphs import PerformanceView
    from xentui.ui.widgets.host_bar import HostBar

    def wrap(cls: Any, name: str, key: Any) -> None:
        orig = getattr(cls, name)
        if asyncio.iscoroutinefunction(orig):
            async def awrapped(self: Any, *a: Any, **kw: Any) -> Any:
                t = time.thread_time()
                try:
                    return await orig(self, *a, **kw)
                finally:
                    spent[key(self, *a) if callable(key) else key] += time.thread_time() - t
            setattr(cls, name, awrapped)
        else:
            def wrapped(self: Any, *a: Any, **kw: Any) -> Any:
                t = time.thread_time()
                try:
                    return orig(self, *a, **kw)
                finally:
                    spent[key(self, *a) if callable(key) else key] += time.thread_time() - t
            setattr(cls, name, wrapped)

    import asyncio.events

    def handle_key(handle: Any) -> str:
        cb = handle._callback
        coro = getattr(getattr(cb, "__self__", None), "get_coro", lambda: None)()
        name = getattr(coro, "__qualname__", None) or getattr(cb, "__qualname__", repr(cb))
        return f"loop: {name}"

    wrap(asyncio.events.Handle, "_run", handle_key)
    wrap(MessagePump, "_dispatch_message",
         lambda self, msg: f"msg {type(msg).__name__} -> {type(self).__name__}")
    wrap(Screen, "_compositor_refresh", "compositor refresh")
    from textual.widget import Widget
    wrap(Widget, "render_lines", lambda self, crop: f"  render_lines {type(self).__name__}")
    for cls in (DomainTable, PerformanceView):
        wrap(cls, "render_line", f"    content lines {cls.__name__}")
    counts = spent
    orig_rl = Widget.render_lines

    def counted(self: Any, crop: Any) -> Any:
        counts[f"  (lines asked, x1000) {type(self).__name__}"] += crop.height / 1000
        return orig_rl(self, crop)

    Widget.render_lines = counted  # type: ignore[method-assign]
    from textual._compositor import Compositor
    from textual.app import App

    from xentui.ui.chops import RowsCompositor
    wrap(Compositor, "render_partial_update", "  compositor: partial update")
    wrap(RowsCompositor, "render_partial_update", "  compositor: partial update")
    wrap(App, "_display", "  compositor: display (encode, write)")
    wrap(DomainTable, "set_hosts_figures", "  pass: table")
    wrap(MainScreen, "fit_columns", "  pass: columns")
    wrap(MainScreen, "show_graphs", "  pass: graphs")
    wrap(HostBar, "show", "  pass: header")
    wrap(MainScreen, "bindings_changed", "  pass: bindings")
    wrap(PerformanceView, "refresh_graphs", "  pass: refresh_graphs")


def profile_only(target: str) -> Any:
    """cProfile the calls of one method (all instances), nothing else."""
    import cProfile
    import importlib

    module, cls_name, name = target.rsplit(".", 2)
    cls = getattr(importlib.import_module(module), cls_name)
    orig = getattr(cls, name)
    prof = cProfile.Profile(time.thread_time)  # CPU time: not other processes' turns

    def profiled(self: Any, *a: Any, **kw: Any) -> Any:
        prof.enable()
        try:
            return orig(self, *a, **kw)
        finally:
            prof.disable()

    setattr(cls, name, profiled)
    return prof


def fill_history(app: Any) -> None:
    """Give each host's history a full span of the past, each moment holding the last
    pass's figures (the test driver's are steady), as if the console had been open for
    the whole span: the graphs then bucket their columns as they do after ten minutes."""
    for host in app.fleet.hosts.values():
        history, last = host.history, host.last
        if last is None:
            continue
        now = time.time()
        for k in range(history.capacity - len(history), 0, -1):
            history.record(now - k * host.interval, last.domains)


async def probe(n: int, seconds: float, sample: bool, top: int, whole: Any = None,
                demo: bool = False, down: int = 0, filled: bool = False) -> None:
    from textual._compositor import CompositorUpdate

    from xentui.config import Settings
    from xentui.demo import demo_uri, synthetic_node
    from xentui.gcpolicy import tune_collector
    from xentui.ui.launch import make_app

    tune_collector()
    with tempfile.TemporaryDirectory(prefix="xentui-probe-") as tmp:
        node = Path(tmp) / "node.xml"
        node.write_text(synthetic_node(n), encoding="utf-8")
        settings = Settings(interval=1.0, log_file=False)
        app: Any
        if demo:  # one simulated host, its graphs already holding ten minutes
            from xentui.demo.host import demo_fleet
            from xentui.ui.app import XentuiApp

            app = XentuiApp(demo_fleet(interval=1.0, hosts=1), settings)
        else:
            app = make_app(demo_uri(node), settings=settings, log_to_file=False)
        frames = [0]
        written = [0, 0]
        """Characters written for the terminal and dirty spans, over all frames."""
        orig_display = app._display

        def display(screen: Any, renderable: Any) -> None:
            orig_display(screen, renderable)
            if renderable is not None:
                frames[0] += 1
                if isinstance(renderable, CompositorUpdate):
                    written[0] += len(renderable.render_segments(app.console))
                    written[1] += len(getattr(renderable, "spans", ()))

        app._display = display
        spent: collections.defaultdict[str, float] = collections.defaultdict(float)
        timed(spent)
        async with app.run_test(size=SIZE) as pilot:
            while app.passes < 4:
                await asyncio.sleep(0.05)
            if filled:  # a console left open: the graphs hold a full history
                fill_history(app)
            if down:
                await pilot.press(*["j"] * down)
                await asyncio.sleep(1.5)
            main_id = threading.get_ident()

            async def window(label: str) -> None:
                spent.clear()
                p0, f0, c0, w0 = app.passes, frames[0], time.thread_time(), time.perf_counter()
                b0 = list(written)
                await asyncio.sleep(seconds)
                c, w = time.thread_time() - c0, time.perf_counter() - w0
                passes, fr = app.passes - p0, frames[0] - f0
                per = f", {1000 * c / passes:.2f} ms/pass" if passes else ""
                chars, spans = written[0] - b0[0], written[1] - b0[1]
                print(f"{label:8} main thread {100 * c / w:.3f}% of a core over {w:.1f} s; "
                      f"{passes} passes, {fr} frames{per}; per pass {spans / max(1, passes):.1f}"
                      f" dirty spans, {chars / max(1, passes):.0f} characters written")
                for key, v in sorted(spent.items(), key=lambda kv: -kv[1])[:top]:
                    print(f"    {1000 * v / max(1, passes):7.3f} ms/pass  {key}")

            sampler = Sampler(main_id) if sample else None
            switch = sys.getswitchinterval()
            if sampler is not None:
                # The main thread's work comes in bursts shorter than the GIL's 5 ms
                # switch interval: a sampler waiting for the GIL would only get it when
                # the main thread goes idle in select, and see nothing busy.
                sys.setswitchinterval(0.0002)
                sampler.start()
            if whole is not None:
                whole.enable()
            await window("passes")
            if whole is not None:
                whole.disable()
            if sampler is not None:
                sampler.stop()
                sys.setswitchinterval(switch)
            for task in app.fleet._tasks.values():
                task.cancel()
            await asyncio.sleep(1.5)
            await window("rest")
    if sampler is not None:
        print(f"\nsamples: {sampler.total}, busy {sampler.busy}")
        for title, counts in (("inclusive", sampler.incl), ("exclusive", sampler.excl)):
            print(f"\n-- {title} (% of busy samples) --")
            for key, k in counts.most_common(top):
                print(f"{100 * k / max(1, sampler.busy):6.1f}  {key}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--sample", action="store_true")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--profile",
                    help="cProfile one method only, e.g. textual.screen.Screen._compositor_refresh")
    ap.add_argument("--demo", action="store_true",
                    help="one simulated demo host (figures that move, ten minutes of graphs) "
                         "instead of the test driver's steady figures")
    ap.add_argument("--down", type=int, default=0,
                    help="move the cursor down this many rows first (graphs of another domain)")
    ap.add_argument("--filled", action="store_true",
                    help="fill the graphs' history first (a console left open ten minutes)")
    ap.add_argument("--profile-window", action="store_true",
                    help="cProfile the main thread over the whole passes window (CPU time)")
    args = ap.parse_args()
    prof = profile_only(args.profile) if args.profile else None
    if args.profile_window:
        import cProfile
        prof = cProfile.Profile(time.thread_time)
    asyncio.run(probe(args.n, args.seconds, args.sample, args.top,
                      prof if args.profile_window else None, args.demo, args.down,
                      args.filled))
    if prof is not None:
        import pstats
        pstats.Stats(prof).sort_stats("tottime").print_stats(args.top)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
