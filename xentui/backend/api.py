"""The host interface: what the fleet, the console and batch mode need from a backend.

A backend (libvirt today; XenAPI, a demo simulation) implements `HostBackend` and speaks
only in the neutral records of `models`. Nothing here imports a hypervisor library.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, runtime_checkable

from xentui.backend.actions import CapabilityView
from xentui.backend.console import ConsoleSession
from xentui.backend.history import History
from xentui.backend.models import (
    DomainDetail,
    DomainEvent,
    DomainFigures,
    DomainListing,
    DomainSample,
    HostInfo,
    LinkStatus,
    MigrationOptions,
    MigrationProgress,
    PassResult,
)

ProgressSink = Callable[[MigrationProgress], object]
"""Where a backend sends a migration's progress records while it runs."""


@runtime_checkable
class HostBackend(Protocol):
    """One host (really one connection). Listener callbacks run on the asyncio loop;
    every coroutine may be awaited from the loop without blocking it."""

    id: str
    """The host's key everywhere (a label: the settings' name, or the URI's host)."""
    uri: str
    readonly: bool
    interval: float
    status_listeners: list[Callable[[LinkStatus], object]]
    event_listeners: list[Callable[[DomainEvent], object]]
    domain_listeners: list[Callable[[str, DomainFigures | None], object]]

    @property
    def status(self) -> LinkStatus: ...

    @property
    def info(self) -> HostInfo | None: ...

    @property
    def caps(self) -> CapabilityView | None: ...

    @property
    def last(self) -> PassResult | None:
        """The newest pass."""

    @property
    def history(self) -> History: ...

    @property
    def connected(self) -> bool: ...

    async def connect(self) -> None:
        """Open the connection; ConnectError if that fails."""

    async def sample(self) -> PassResult:
        """One pass over every domain; ConnectionLost if the link is down."""

    async def refresh_domain(self, uuid: str) -> DomainFigures | None:
        """Re-read one domain now; None if it no longer exists."""

    async def act(self, uuid: str, action: str) -> str:
        """Run a lifecycle action (a name in `actions.ACTIONS`); a readable outcome."""

    async def migrate_to(self, uuid: str, target: HostBackend, opts: MigrationOptions,
                         progress: ProgressSink | None = None) -> str:
        """Live-migrate a running domain to `target` (another host of the fleet), sending
        progress records to `progress` while it runs where the driver has figures."""

    async def abort_migration(self, uuid: str) -> str:
        """Cancel the domain's migration under way (it stays here); Unsupported where
        the driver cannot."""

    def console_reason(self, sample: DomainSample) -> str | None:
        """Why this domain's console cannot be attached, from what the host knows
        already (its driver, an earlier `check_console`); None: it may be. No I/O."""

    async def check_console(self, uuid: str) -> str | None:
        """Look at the domain's devices: why its console cannot be attached (None: it
        can); remembered for `console_reason` while this instance runs."""

    async def open_console(self, uuid: str, force: bool = False) -> ConsoleSession:
        """Attach to the domain's console; ConsoleBusy if another session holds it and
        `force` is off (with `force` that session is cut off)."""

    async def detail(self, uuid: str) -> DomainDetail:
        """Everything about one domain; DomainGone if it vanished."""

    def watch(self, uuids: Iterable[str], share: float = 1.0) -> None:
        """The domains a person can see now; a backend may read the others' I/O
        counters less often (each sample says how old its I/O counters are). `share`:
        this host's part of the fleet's domains (1.0 alone), so that what a fleet
        spends on unseen domains is one screen's budget, not one per host."""

    def mark_lost(self, message: str) -> None:
        """Declare the link dead and start reconnecting by itself."""

    async def close(self) -> None:
        """Stop reconnecting and release everything."""


@runtime_checkable
class ListsDomainsFirst(Protocol):
    """A backend that can list its domains much faster than a pass reads them (libvirt:
    a few listings against a call per domain). The fleet shows that listing as the rows
    while the first pass reads the figures; a backend without it shows the first pass."""

    async def list_domains(self) -> DomainListing | None:
        """Every domain's name, id and state, each `listed_only`; None where the first
        pass would be about as quick; ConnectionLost if the link is down."""
