"""Messages from the backend's callbacks and workers to the UI (posted, never direct)."""

from __future__ import annotations

from textual.message import Message

from xentui.backend.models import DomainEvent, DomainFigures, LinkStatus, PassResult


class PassDone(Message):
    """A sampling pass finished. Bursts coalesce: only the newest matters."""

    def __init__(self, result: PassResult) -> None:
        super().__init__()
        self.result = result

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PassDone)


class PassFailed(Message):
    def __init__(self, text: str, lost: bool) -> None:
        super().__init__()
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
    """One domain was re-read after an event; None when it no longer exists."""

    def __init__(self, uuid: str, figures: DomainFigures | None) -> None:
        super().__init__()
        self.uuid = uuid
        self.figures = figures

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DomainChanged) and message.uuid == self.uuid


class ActionDone(Message):
    """A lifecycle action ended: ok with what happened, or not with the reason."""

    def __init__(self, uuid: str, action: str, ok: bool, text: str) -> None:
        super().__init__()
        self.uuid = uuid
        self.action = action
        self.ok = ok
        self.text = text
