"""Messages from the fleet's feed and from workers to the UI (posted, never direct).
Every one carries its host."""

from __future__ import annotations

from textual.message import Message

from xentui.backend.models import (
    DomainEvent,
    DomainFigures,
    DomainListing,
    DomainRef,
    LinkStatus,
    MigrationProgress,
    PassResult,
)


class PassDone(Message):
    """Hosts' passes finished, gathered until the UI takes them: the results of one tick
    (the fleet hands them on together) are one message, newest result of each host."""

    def __init__(self, results: dict[str, PassResult] | None = None) -> None:
        super().__init__()
        self.results: dict[str, PassResult] = dict(results or {})


class RowsListed(Message):
    """A host's domains as listed before its first pass: rows without figures yet."""

    def __init__(self, listing: DomainListing) -> None:
        super().__init__()
        self.listing = listing


class PassFailed(Message):
    def __init__(self, host_id: str, text: str, lost: bool) -> None:
        super().__init__()
        self.host_id = host_id
        self.text = text
        self.lost = lost


class LinkChanged(Message):
    def __init__(self, status: LinkStatus) -> None:
        super().__init__()
        self.status = status


class EventsArrived(Message):
    """Domain events, gathered until the UI takes them: a burst is one message."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[DomainEvent] = []


class DomainsChanged(Message):
    """Domains re-read between passes (None: no longer exists), gathered until the UI
    takes them: a burst of events (a bulk action) is one message, newest reading each."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[DomainRef, DomainFigures | None] = {}


class ActionDone(Message):
    """A lifecycle action ended: ok with what happened, or not with the reason."""

    def __init__(self, ref: DomainRef, action: str, ok: bool, text: str) -> None:
        super().__init__()
        self.ref = ref
        self.action = action
        self.ok = ok
        self.text = text


class BulkOutcomes(Message):
    """Outcomes of a bulk action's domains, (ok, line) each, gathered until the UI
    takes them: the log gets every line, the screen one message per frame."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[tuple[bool, str]] = []
        self.taken = False
        """Set when the UI took the lines: later outcomes go in a new message."""


class BulkDone(Message):
    """A bulk action ended on every domain it reached; `failed` are the ones refused."""

    def __init__(self, action: str, refs: list[DomainRef], failed: list[DomainRef]) -> None:
        super().__init__()
        self.action = action
        self.refs = refs
        self.failed = failed


class MigrationProgressed(Message):
    """A migration under way moved on (or finished). Bursts coalesce per domain."""

    def __init__(self, progress: MigrationProgress) -> None:
        super().__init__()
        self.progress = progress

    def can_replace(self, message: Message) -> bool:
        return (isinstance(message, MigrationProgressed)
                and message.progress.ref == self.progress.ref)
