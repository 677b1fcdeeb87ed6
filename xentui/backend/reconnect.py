"""Getting a host back after its link dropped: one backoff schedule and one loop, for
every backend (libvirt, XenAPI). Neutral: no hypervisor library here."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Protocol

from xentui.backend.errors import ConnectError
from xentui.backend.models import LinkState, LinkStatus

BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)


def backoff(attempt: int) -> float:
    """Seconds to wait before reconnect attempt number `attempt` (0-based)."""
    return BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]


class Reconnectable(Protocol):
    """What the loop needs of a host."""

    status: LinkStatus
    _closing: bool
    _reconnect_task: asyncio.Task[None] | None

    def _set_status(self, state: LinkState, message: str = "",
                    retry_in: float | None = None) -> None: ...

    async def connect(self) -> None: ...

    async def _drop(self) -> None: ...


def start_reconnecting(host: Reconnectable, message: str) -> bool:
    """Declare the link lost and start the loop; False if closing or already at it."""
    if host._closing or (host._reconnect_task is not None and not host._reconnect_task.done()):
        return False
    host._set_status(LinkState.LOST, message, backoff(0))
    host._reconnect_task = asyncio.get_running_loop().create_task(_reconnect(host))
    return True


async def _reconnect(host: Reconnectable) -> None:
    await host._drop()
    attempt = 0
    while not host._closing:
        wait = backoff(attempt)
        host._set_status(LinkState.LOST, host.status.message, wait)
        await asyncio.sleep(wait)
        attempt += 1
        try:
            await host.connect()
        except ConnectError as err:
            host.status = replace(host.status, message=str(err))
            continue
        return
