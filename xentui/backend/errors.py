"""Typed, readable errors raised by every backend; never a raw library error to the UI."""

from __future__ import annotations

from collections.abc import Collection


class BackendError(Exception):
    """Base of every error the backend raises on purpose; str() is for people."""


class ConnectError(BackendError):
    """The connection could not be opened (bad URI, unreachable, denied, timed out)."""


class ConnectionLost(BackendError):
    """The connection died while a call was in flight."""


class ActionError(BackendError):
    """A lifecycle action could not be done."""


class DomainGone(ActionError):
    """The domain no longer exists."""


class Unsupported(ActionError):
    """The driver does not support this operation."""


class NotAllowed(ActionError):
    """The domain's state, its kind (Domain-0) or the connection forbids this now."""


class PermissionDenied(ActionError):
    """libvirt refused the operation for lack of rights (or the connection is read-only)."""


class ConsoleBusy(NotAllowed):
    """Another session holds the domain's console; it can be taken over (forced)."""


def classify(code: object, msg: str, *, gone: Collection[object],
             not_allowed: Collection[object], denied: Collection[object],
             unsupported: Collection[object], lost: Collection[object]) -> BackendError:
    """A backend's error code as the typed error the UI knows (each backend names which
    of its codes fall where); anything else is an ActionError."""
    kinds: tuple[tuple[Collection[object], type[BackendError]], ...] = (
        (gone, DomainGone), (not_allowed, NotAllowed), (denied, PermissionDenied),
        (unsupported, Unsupported), (lost, ConnectionLost))
    return next((kind(msg) for codes, kind in kinds if code in codes), ActionError(msg))
