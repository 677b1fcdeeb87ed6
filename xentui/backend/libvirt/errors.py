"""libvirt errors turned into the backend's typed, readable errors."""

from __future__ import annotations

import libvirt
from xentui.backend.errors import (
    BackendError,
    classify,
)


def libvirt_message(err: libvirt.libvirtError) -> str:
    """libvirt's own message, on one line."""
    msg = err.get_error_message() or str(err)
    return " ".join(msg.split())


_GONE = {libvirt.VIR_ERR_NO_DOMAIN}
UNSUPPORTED_CODES = {libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED}
_DENIED = {libvirt.VIR_ERR_OPERATION_DENIED, libvirt.VIR_ERR_AUTH_FAILED}
LOST_CODES = {libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_ERR_RPC, libvirt.VIR_ERR_INVALID_CONN}
_STATE = {libvirt.VIR_ERR_OPERATION_INVALID}


_NO_SUPPORT_PREFIX = "this function is not supported by the connection driver:"


def _unsupported_text(message: str) -> str:
    """libvirt's "this function is not supported by the connection driver: virX" said as
    "the host's driver does not support this (virX)"."""
    if not message.startswith(_NO_SUPPORT_PREFIX):
        return message
    call = message[len(_NO_SUPPORT_PREFIX):].strip()
    return f"the host's driver does not support this ({call})"


def translate(err: libvirt.libvirtError, what: str) -> BackendError:
    """Turn a libvirtError raised while doing `what` into a typed, readable error."""
    code = err.get_error_code()
    text = libvirt_message(err)
    msg = f"{what}: {_unsupported_text(text) if code in UNSUPPORTED_CODES else text}"
    return classify(code, msg, gone=_GONE, not_allowed=_STATE, denied=_DENIED,
                    unsupported=UNSUPPORTED_CODES, lost=LOST_CODES)
