"""XAPI error codes and the exception that carries one to the XML-RPC envelope.

A handler raises :class:`XapiError`; the dispatcher turns it into
``{"Status": "Failure", "ErrorDescription": [code, *params]}`` exactly as xapi's
``Api_errors.Server_error`` is marshalled.
"""

from __future__ import annotations

# Codes used by the simulator, spelled as xapi's Api_errors module spells them.
SESSION_AUTHENTICATION_FAILED = "SESSION_AUTHENTICATION_FAILED"
SESSION_INVALID = "SESSION_INVALID"
HOST_IS_SLAVE = "HOST_IS_SLAVE"
HANDLE_INVALID = "HANDLE_INVALID"
UUID_INVALID = "UUID_INVALID"
MESSAGE_METHOD_UNKNOWN = "MESSAGE_METHOD_UNKNOWN"
MESSAGE_PARAMETER_COUNT_MISMATCH = "MESSAGE_PARAMETER_COUNT_MISMATCH"
FIELD_TYPE_ERROR = "FIELD_TYPE_ERROR"
MAP_DUPLICATE_KEY = "MAP_DUPLICATE_KEY"
VM_BAD_POWER_STATE = "VM_BAD_POWER_STATE"
VM_IS_TEMPLATE = "VM_IS_TEMPLATE"
VM_IS_SNAPSHOT = "VM_IS_SNAPSHOT"
OPERATION_NOT_ALLOWED = "OPERATION_NOT_ALLOWED"
OTHER_OPERATION_IN_PROGRESS = "OTHER_OPERATION_IN_PROGRESS"
ONLY_PROVISION_TEMPLATE = "ONLY_PROVISION_TEMPLATE"
ONLY_REVERT_SNAPSHOT = "ONLY_REVERT_SNAPSHOT"
HOST_NOT_ENOUGH_FREE_MEMORY = "HOST_NOT_ENOUGH_FREE_MEMORY"
HOST_DISABLED = "HOST_DISABLED"
EVENT_FROM_TOKEN_PARSE_FAILURE = "EVENT_FROM_TOKEN_PARSE_FAILURE"
EVENT_SUBSCRIPTION_PARSE_FAILURE = "EVENT_SUBSCRIPTION_PARSE_FAILURE"
INTERNAL_ERROR = "INTERNAL_ERROR"


class XapiError(Exception):
    """A structured XAPI failure: an error code and its string parameters."""

    def __init__(self, code: str, *params: str) -> None:
        super().__init__(code, *params)
        self.code = code
        self.params = [str(p) for p in params]

    @property
    def description(self) -> list[str]:
        """The ``ErrorDescription`` array: the code followed by its parameters."""
        return [self.code, *self.params]
