"""Typed, readable errors raised by the backend; never a raw libvirtError to the UI."""

from __future__ import annotations

import libvirt


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


def libvirt_message(err: libvirt.libvirtError) -> str:
    """libvirt's own message, on one line."""
    msg = err.get_error_message() or str(err)
    return " ".join(msg.split())


_GONE = {libvirt.VIR_ERR_NO_DOMAIN}
_UNSUPPORTED = {libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED}
_DENIED = {libvirt.VIR_ERR_OPERATION_DENIED, libvirt.VIR_ERR_AUTH_FAILED}
_LOST = {libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_ERR_RPC, libvirt.VIR_ERR_INVALID_CONN}
_STATE = {libvirt.VIR_ERR_OPERATION_INVALID}


def translate(err: libvirt.libvirtError, what: str) -> BackendError:
    """Turn a libvirtError raised while doing `what` into a typed, readable error."""
    code = err.get_error_code()
    msg = f"{what}: {libvirt_message(err)}"
    if code in _GONE:
        return DomainGone(msg)
    if code in _UNSUPPORTED:
        return Unsupported(msg)
    if code in _DENIED:
        return PermissionDenied(msg)
    if code in _STATE:
        return NotAllowed(msg)
    if code in _LOST:
        return ConnectionLost(msg)
    return ActionError(msg)
