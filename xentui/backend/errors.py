"""Typed, readable errors raised by every backend; never a raw library error to the UI."""

from __future__ import annotations


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
