"""Fixtures for the XAPI simulator tests: a fresh pool per test, clients, helpers.

Clients are the official ``XenAPI`` package (a test dependency) over real HTTP, and
a bare ``xmlrpc.client`` proxy that shows the envelopes the XenAPI client unwraps.
Every server a test starts must be stopped by the end of it, its port closed and
its threads gone: the ``xapi`` fixture checks.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import xmlrpc.client
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import XenAPI

from tests.support.xapi_server import XapiServer
from tests.xapi.backend_rig import Pool, start_pool
from xentui.backend.xapi.host import XapiHost

USER, PASSWORD = "root", "xenroot"
NULL = "OpaqueRef:NULL"

# What xapi's update_allowed_operations gives an ordinary guest (no template, no
# snapshot, PV drivers) in each power state, worked out from the power-state table
# of xapi_vm_lifecycle.ml by hand, not by the simulator's code.
ALLOWED = {
    "Halted": {
        "snapshot", "copy", "clone", "start", "start_on", "export", "destroy",
        "migrate_send", "make_into_template", "changing_static_range",
        "changing_shadow_memory", "changing_dynamic_range",
    },
    "Running": {
        "snapshot", "checkpoint", "pause", "clean_shutdown", "clean_reboot", "hard_shutdown",
        "hard_reboot", "suspend", "changing_VCPUs_live", "pool_migrate", "migrate_send",
        "changing_dynamic_range",
    },
    "Paused": {"snapshot", "checkpoint", "unpause", "hard_shutdown", "hard_reboot"},
    "Suspended": {
        "snapshot", "checkpoint", "hard_shutdown", "resume", "resume_on", "export", "destroy",
        "migrate_send",
    },
}  # fmt: skip


class TimeoutTransport(xmlrpc.client.Transport):
    """An XML-RPC transport whose socket operations give up after ``timeout`` seconds."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def make_connection(self, host: Any) -> Any:
        conn = super().make_connection(host)
        conn.timeout = self.timeout
        return conn


def login(url: str, *, timeout: float | None = None) -> Any:
    """A logged-in ``XenAPI.Session`` on ``url`` (optionally with a socket timeout)."""
    transport = TimeoutTransport(timeout) if timeout else None
    session = XenAPI.Session(url, transport=transport)
    session.login_with_password(USER, PASSWORD, "2.21", "xentui-tests")
    return session


def raw_call(url: str, method: str, *params: Any) -> dict[str, Any]:
    """One XML-RPC call without the XenAPI client: the envelope as sent."""
    proxy = xmlrpc.client.ServerProxy(url, allow_none=True)
    try:
        return getattr(proxy, method)(*params)  # type: ignore[no-any-return]
    finally:
        proxy("close")()


def vm_ref(session: Any, name: str) -> str:
    """The ref of the only VM called ``name``."""
    (ref,) = session.xenapi.VM.get_by_name_label(name)
    return str(ref)


def failure_of(call: Callable[..., Any], *args: Any) -> list[str]:
    """The ErrorDescription a call fails with (it must fail with a XenAPI.Failure)."""
    with pytest.raises(XenAPI.Failure) as info:
        call(*args)
    return list(info.value.details)


def event_from(session: Any, classes: list[str], token: str, timeout: float) -> dict[str, Any]:
    """``event.from`` (``from`` is a Python keyword, hence getattr)."""
    return getattr(session.xenapi.event, "from")(classes, token, timeout)  # type: ignore[no-any-return]


def sim_threads() -> list[str]:
    """Names of the simulator's threads still alive."""
    return [t.name for t in threading.enumerate() if t.name.startswith("xapi-sim")]


def assert_gone(port: int) -> None:
    """Nothing listens on ``port`` any more and no simulator thread is left."""
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))
    deadline = time.monotonic() + 2
    while sim_threads() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sim_threads() == []
    assert XapiServer.live_servers() == []


@pytest.fixture
def xapi() -> Iterator[XapiServer]:
    """A simulated pool on 127.0.0.1 (ephemeral port), stopped and checked afterwards."""
    server = XapiServer(seed=7).start()
    ports = [server.port]
    try:
        yield server
    finally:
        ports += [m.port for m in server.members]
        server.stop()
    for port in ports:
        assert_gone(port)


@pytest.fixture
def new_server() -> Iterator[Callable[..., XapiServer]]:
    """Start servers of the test's own (``XapiServer`` arguments); all stopped and checked."""
    started: list[XapiServer] = []

    def start(**kwargs: Any) -> XapiServer:
        server = XapiServer(**kwargs).start()
        started.append(server)
        return server

    yield start
    ports = [p for s in started for p in (s.port, *(m.port for m in s.members))]
    for server in started:
        if not server.stopping:
            server.stop()
    for port in ports:
        assert_gone(port)


@pytest.fixture
def session(xapi: XapiServer) -> Iterator[Any]:
    """A XenAPI session logged in to ``xapi`` (as the master)."""
    s = login(xapi.url)
    yield s
    if xapi.local_host == xapi.db.master and not xapi.outage:
        s.xenapi.session.logout()


# -- the XenAPI backend's tests (tests/xapi/test_backend_*.py) ---------------------------


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> str:
    """The pool's password, given the way a user gives it: the environment."""
    monkeypatch.setenv("XENTUI_XAPI_PASSWORD", PASSWORD)
    return PASSWORD


@pytest.fixture
def pool(new_server: Callable[..., XapiServer], password: str) -> Pool:
    """A pool laid out as a real one: every host on its own address (see backend_rig)."""
    return start_pool(new_server)


@pytest.fixture
async def xhost(pool: Pool) -> AsyncIterator[XapiHost]:
    """A XapiHost connected to the pool's master, closed afterwards."""
    host = XapiHost(pool.uri(), id="lab-pool", interval=0.5, call_timeout=2.0, poll_s=2.0)
    await host.connect()
    try:
        yield host
    finally:
        await host.close()
    deadline = time.monotonic() + 3
    while any(t.name == "xapi-events" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the event thread outlived close()"
        await asyncio.sleep(0.02)
