"""Helpers for the bad-input tests: an app factory, odd ports, raw guest XML."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

from xentui.config import Settings
from xentui.demo import guest_xml
from xentui.ui.app import XentuiApp
from xentui.ui.launch import make_app


def app_on(uri: str, **kw: object) -> XentuiApp:
    settings = kw.pop("settings", None) or Settings(interval=0.3, shutdown_timeout=5.0)
    return make_app(uri, settings=settings, log_to_file=False, **kw)  # type: ignore[arg-type]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def silent_listener() -> Iterator[int]:
    """A loopback port that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                accepted.append(server.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield server.getsockname()[1]
    finally:
        server.close()
        for s in accepted:
            s.close()


def plain_xml(name: str, **kw: object) -> str:
    """A guest definition for `defineXML` (no test-driver runstate; libvirt picks the UUID)."""
    xml = guest_xml("placeholder-name", **kw)  # type: ignore[arg-type]
    start, end = xml.index("<uuid>"), xml.index("</uuid>") + len("</uuid>")
    xml = xml[:start] + xml[end:]
    xml = xml[: xml.index("<test:runstate>")] + xml[xml.index("</test:runstate>") + 16:]
    escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return xml.replace("placeholder-name", escaped)
