"""A simulated pool laid out as a real one, for the XenAPI backend's tests.

Each host of the pool gets its own server on its own loopback address (127.0.0.11,
.12, .13) and the same port, and its ``address`` field says so: a member's
HOST_IS_SLAVE names the master's address, and each host's ``/rrd_updates`` is
reached at its own address, as in a real pool. Observers check effects through their
own XenAPI session, never through the backend.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
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
        return f"xapi+http://root@{ADDRESSES[host]}:{self.port}"

    def observer(self) -> Any:
        """A separate XenAPI session on the master (to check effects)."""
        session = XenAPI.Session(self.master.url)
        session.login_with_password("root", "xenroot", "2.21", "xentui-tests-observer")
        return session


def start_pool(new_server: Callable[..., XapiServer], **master_kwargs: Any) -> Pool:
    """Start the master and one server per member, every host at its own address."""
    master = new_server(seed=7, address=ADDRESSES["xcp-ng-01"], **master_kwargs)
    for name, address in ADDRESSES.items():
        master.db.set_field("host", name, "address", address)
    members = {
        name: new_server(db=master.db, host=name, address=address, port=master.port)
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
