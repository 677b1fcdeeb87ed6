"""What bench/console.py wraps in the app to measure a run (pool calls, the sampler's
own CPU on the loop, frames, the first populated screen) and how it reads CPU time per
thread; the app's code is not changed."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import psutil


# -- measuring inside one run -------------------------------------------------------------
@dataclass
class Acc:
    """What the instrumented Host adds up (seconds)."""

    pool_cpu: float = 0.0
    loop_cpu: float = 0.0
    took: float = 0.0
    samples: int = 0
    frames: int = 0
    peak_rss: int = 0
    pool_calls: int = 0
    gc_s: float = 0.0
    gc_runs: int = 0
    connect_s: float = 0.0
    rows_at: float | None = None
    """perf_counter of the first frame listing every domain (figures or not)."""
    figures_at: float | None = None
    """perf_counter of the first frame listing every domain after the first pass."""


class _Stepped:
    """Await a coroutine, adding up the loop thread's CPU time spent inside it."""

    def __init__(self, coro: Any, acc: Acc) -> None:
        self.coro, self.acc = coro, acc

    def __await__(self) -> Generator[Any, Any, Any]:
        send: Any = None
        exc: BaseException | None = None
        while True:
            t = time.thread_time()
            try:
                yielded = self.coro.throw(exc) if exc is not None else self.coro.send(send)
            except StopIteration as stop:
                self.acc.loop_cpu += time.thread_time() - t
                return stop.value
            except BaseException:
                self.acc.loop_cpu += time.thread_time() - t
                raise
            self.acc.loop_cpu += time.thread_time() - t
            try:
                send, exc = (yield yielded), None
            except BaseException as err:
                send, exc = None, err


def instrument(app: Any, acc: Acc, *, encode: bool, rows: int = 0) -> None:
    """Wrap the app's Host (pool calls, sample) and display hook; no app code changes."""
    host = app.host
    orig_call = host.link.call
    orig_sample = host.sample
    orig_connect = host.connect

    async def connect() -> None:
        t = time.perf_counter()
        try:
            await orig_connect()
        finally:
            acc.connect_s = time.perf_counter() - t

    async def call(fn: Callable[..., Any], *args: Any) -> Any:
        def timed(*a: Any) -> Any:
            t = time.thread_time()
            try:
                return fn(*a)
            finally:
                acc.pool_cpu += time.thread_time() - t

        return await orig_call(timed, *args)

    async def sample() -> Any:
        result = await _Stepped(orig_sample(), acc)
        acc.took += result.took_s
        acc.samples += 1
        return result

    host.link.call = call
    host.sample = sample
    host.connect = connect

    from textual._compositor import CompositorUpdate

    orig_display = app._display

    def display(screen: Any, renderable: Any) -> None:
        orig_display(screen, renderable)
        if renderable is not None and not app._batch_count:
            acc.frames += 1
            if acc.figures_at is None and app.has_main() and len(app.main.table.order) == rows:
                now = time.perf_counter()
                acc.rows_at = acc.rows_at or now
                acc.figures_at = now if app.passes >= 1 else None
            if encode and isinstance(renderable, CompositorUpdate):
                renderable.render_segments(app.console)

    app._display = display


@dataclass
class Snap:
    wall: float
    cpu: float
    main_cpu: float
    pool_cpu: float
    loop_cpu: float
    took: float
    samples: int
    passes: int
    frames: int


def snap(app: Any, acc: Acc) -> Snap:
    assert threading.current_thread() is threading.main_thread()
    return Snap(time.perf_counter(), time.process_time(), time.thread_time(), acc.pool_cpu,
                acc.loop_cpu, acc.took, acc.samples, app.passes, acc.frames)


async def wait_until(app: Any, cond: Callable[[], bool], timeout: float, what: str,
                step: float = 0.01) -> None:
    end = time.perf_counter() + timeout
    while not cond():
        if app._exception is not None:
            raise RuntimeError(f"the app failed: {app._exception!r}")
        if time.perf_counter() > end:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(step)


def thread_cpu() -> dict[str, float]:
    """CPU seconds per thread of this process, keyed by a group name (libvirt's event
    thread, the libvirt call pools and pass threads, the main/UI loop, the rest)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = {}
    for t in psutil.Process().threads():
        name = names.get(t.id, "other")
        group = ("events" if name == "libvirt-events" else
                 "pool" if name.startswith(("libvirt-call", "libvirt-pass")) else
                 "main" if name == "MainThread" else "other")
        out[group] = out.get(group, 0.0) + t.user_time + t.system_time
    return out
