"""libvirt's own default event loop, run in one dedicated daemon thread.

libvirt allows one event implementation per process, registered before the first
connection is opened. We use libvirt's default implementation rather than `libvirtaio`:
the latter touches the asyncio loop from whichever thread made a libvirt call and binds
to a single asyncio loop for the life of the process. Callbacks fired on this thread
must only hand their data over (`loop.call_soon_threadsafe`) and return.
"""

from __future__ import annotations

import threading

import libvirt

_lock = threading.Lock()
_thread: threading.Thread | None = None


def _run() -> None:
    while True:
        try:
            libvirt.virEventRunDefaultImpl()
        except libvirt.libvirtError:
            continue


def _quiet(_ctx: object, _err: object) -> None:
    """Keep libvirt from printing errors on stderr: they reach users as exceptions."""


def ensure_event_loop() -> None:
    """Register libvirt's default event implementation and start its thread, once."""
    global _thread
    with _lock:
        if _thread is not None:
            return
        libvirt.registerErrorHandler(_quiet, None)
        libvirt.virEventRegisterDefaultImpl()
        _thread = threading.Thread(target=_run, name="libvirt-events", daemon=True)
        _thread.start()
