"""XenAPI failures and transport errors turned into the backend's typed, readable errors."""

from __future__ import annotations

import http.client
import socket
import ssl
import xmlrpc.client

from xentui.backend.errors import (
    BackendError,
    classify,
)

_GONE = {"HANDLE_INVALID", "UUID_INVALID", "VM_NOT_FOUND"}
_NOT_NOW = {
    "VM_BAD_POWER_STATE", "OPERATION_NOT_ALLOWED", "OTHER_OPERATION_IN_PROGRESS",
    "OPERATION_BLOCKED", "VM_IS_TEMPLATE", "VM_IS_SNAPSHOT", "HOST_NOT_ENOUGH_FREE_MEMORY",
    "HOST_DISABLED", "VM_LACKS_FEATURE", "VM_LACKS_FEATURE_SHUTDOWN",
    "VM_LACKS_FEATURE_SUSPEND", "VM_MISSING_PV_DRIVERS", "NO_HOSTS_AVAILABLE",
}  # fmt: skip
_DENIED = {"RBAC_PERMISSION_DENIED", "PERMISSION_DENIED", "SESSION_AUTHENTICATION_FAILED"}
_UNSUPPORTED = {"MESSAGE_METHOD_UNKNOWN", "NOT_IMPLEMENTED"}
LOST_CODES = {"SESSION_INVALID", "HOST_IS_SLAVE", "HOST_STILL_BOOTING", "HOST_OFFLINE"}

TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    OSError, http.client.HTTPException, xmlrpc.client.ProtocolError, socket.timeout,
)
"""Errors meaning the master did not answer properly (refused, reset, timed out...)."""


def failure_text(details: list[str]) -> str:
    """XAPI's ErrorDescription on one line, readable: the code, then what it says."""
    code, params = (details[0] if details else "UNKNOWN"), [str(p) for p in details[1:]]
    if code == "VM_BAD_POWER_STATE" and len(params) >= 3:
        return f"the VM is {params[2]} (it must be {params[1].replace(', ', ' or ')})"
    if code == "OTHER_OPERATION_IN_PROGRESS" and params:
        return f"another operation is in progress ({params[0]})"
    if code == "HOST_NOT_ENOUGH_FREE_MEMORY" and len(params) >= 2:
        return f"no host has enough free memory ({params[0]} bytes needed)"
    if code == "SESSION_AUTHENTICATION_FAILED":
        return "the user name or password was refused (SESSION_AUTHENTICATION_FAILED)"
    if code in ("VM_IS_TEMPLATE", "VM_IS_SNAPSHOT"):
        return f"{code} (templates and snapshots cannot do this)"
    rest = " ".join(" ".join(p.split()) for p in params if not p.startswith("OpaqueRef:"))
    return f"{code}: {rest}" if rest else code


def transport_text(err: BaseException) -> str:
    """A transport error in a few words (no traceback, no stray newlines)."""
    if isinstance(err, ssl.SSLCertVerificationError):
        return (f"its certificate is not trusted ({err.verify_message}); to accept a "
                "self-signed one set xapi_accept_self_signed = true in the settings")
    if isinstance(err, TimeoutError | socket.timeout):
        return "no answer (timed out)"
    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    if isinstance(err, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(err, xmlrpc.client.ProtocolError):
        return f"HTTP {err.errcode} {err.errmsg}"
    text = " ".join(str(err).split()) or type(err).__name__
    return text


def translate(details: list[str], what: str) -> BackendError:
    """A XAPI failure raised while doing `what` as a typed error with one line of text."""
    code = details[0] if details else ""
    msg = f"{what}: {failure_text(details)}"
    return classify(code, msg, gone=_GONE, not_allowed=_NOT_NOW, denied=_DENIED,
                    unsupported=_UNSUPPORTED, lost=LOST_CODES)
