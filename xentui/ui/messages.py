"""Messages from the fleet's feed and from workers to the UI (posted, never direct).
Every one carries its host."""

from __future__ import annotations

from textual.message import Message

from xentui.backend.models import (
    DomainEvent,
    DomainFigures,
    DomainRef,
    LinkStatus,
    MigrationProgress,
    PassResult,
)


class PassDone(Message):
    """A host's pass finished. Bursts coalesce per host: only its newest matters."""

    def __init__(self, result: PassResult) -> None:
        super().__init__()
        self.result = result

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PassDone) and message.result.host_id == self.result.host_id


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


class DomainEventArrived(Message):
    def __init__(self, event: DomainEvent) -> None:
        super().__init__()
        self.event = event


class DomainChanged(Message):
    """One domain was re-read between passes; None when it no longer exists."""

    def __init__(self, ref: DomainRef, figures: DomainFigures | None) -> None:
        super().__init__()
        self.ref = ref
        self.figures = figures

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DomainChanged) and message.ref == self.ref


class ActionDone(Message):
    """A lifecycle action ended: ok with what happened, or not with the reason."""

    def __init__(self, ref: DomainRef, action: str, ok: bool, text: str) -> None:
        super().__init__()
        self.ref = ref
        self.action = action
        self.ok = ok
        self.text = text


class MigrationProgressed(Message):
    """A migration under way moved on (or finished). Bursts coalesce per domain."""

    def __init__(self, progress: MigrationProgress) -> None:
        super().__init__()
        self.progress = progress

    def can_replace(self, message: Message) -> bool:
        return (isinstance(message, MigrationProgressed)
                and message.progress.ref == self.progress.ref)
