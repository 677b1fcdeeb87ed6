"""A simulated pool laid out as a real one, for the XenAPI backend's tests.

Each host of the pool gets its own server on its own loopback address (127.0.0.11,
.12, .13) and the same port, and its ``address`` field says so: a member's
HOST_IS_SLAVE names the master's address, and each host's ``/rrd_updates`` is
reached at its own address, as in a real pool. Observers check effects through their
own XenAPI session, never through the backend.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import XenAPI

from tests.support.xapi_server import XapiServer
from tests.support.xapi_server.seed import HOSTS

ADDRESSES = {name: f"127.0.0.{11 + i}" for i, (name, *_rest) in enumerate(HOSTS)}


@dataclass
class Pool:
    """The master's server and the members' servers of one simulated pool."""

    master: XapiServer
    members: dict[str, XapiServer]

    @property
    def port(self) -> int:
        return self.master.port

    def uri(self, host: str = "xcp-ng-01") -> str:
        """The backend's URI for the server of `host` (default: the master)."""
        scheme = "xapi" if self.master.tls else "xapi+http"
        return f"{scheme}://root@{ADDRESSES[host]}:{self.port}"

    def observer(self) -> Any:
        """A separate XenAPI session on the master (to check effects)."""
        session = XenAPI.Session(self.master.url, ignore_ssl=bool(self.master.tls))
        session.login_with_password("root", "xenroot", "2.21", "xentui-tests-observer")
        return session


def self_signed(folder: Path) -> tuple[str, str]:
    """A self-signed certificate and its key, as XCP-ng installs one (openssl)."""
    cert, key = folder / "xapi.pem", folder / "xapi.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=xcp-ng-01", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return str(cert), str(key)


def start_pool(new_server: Callable[..., XapiServer], tls: tuple[str, str] | None = None
               ) -> Pool:
    """Start the master and one server per member, every host at its own address."""
    master = new_server(seed=7, address=ADDRESSES["xcp-ng-01"], tls=tls)
    for name, address in ADDRESSES.items():
        master.db.set_field("host", name, "address", address)
    members = {
        name: new_server(db=master.db, host=name, address=address, port=master.port, tls=tls)
        for name, address in ADDRESSES.items()
        if name != "xcp-ng-01"
    }
    return Pool(master, members)


async def eventually(cond: Callable[[], bool], timeout: float, what: str) -> float:
    """Wait (on the loop) until `cond()` holds; how long it took; fail after `timeout`."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not cond():
        if loop.time() - start > timeout:
            raise AssertionError(f"{what} not reached within {timeout:g} s")
        await asyncio.sleep(0.01)
    return loop.time() - start
