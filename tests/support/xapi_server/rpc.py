"""XML-RPC dispatch with XAPI's envelopes.

Every call answers a struct ``{"Status": "Success", "Value": v}`` or
``{"Status": "Failure", "ErrorDescription": [code, *params]}`` (XML-RPC faults are
never used for API errors).  Methods are ``<class>.<message>`` with the session ref
as first parameter, except ``session.login_with_password``; ``Async.VM.<action>``
answers a task ref.  A server whose host is not the pool master answers every call,
login included, with ``HOST_IS_SLAVE [master address]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import actions, events, lifecycle
from .db import Database
from .errors import (
    FIELD_TYPE_ERROR,
    HOST_IS_SLAVE,
    INTERNAL_ERROR,
    MAP_DUPLICATE_KEY,
    MESSAGE_METHOD_UNKNOWN,
    MESSAGE_PARAMETER_COUNT_MISMATCH,
    XapiError,
)
from .records import CLASSES, FIELDS, NAMED_CLASSES

_SETTABLE = {"name_label", "name_description", "other_config", "tags", "affinity"}
_CONFIG_MAP = ("add_to_other_config", "remove_from_other_config")


def success(value: Any) -> dict[str, Any]:
    """A Success envelope (``void`` is the empty string on the wire)."""
    return {"Status": "Success", "Value": "" if value is None else value}


def failure(error: XapiError) -> dict[str, Any]:
    """A Failure envelope."""
    return {"Status": "Failure", "ErrorDescription": error.description}


def _arity(method: str, args: tuple[Any, ...], expected: int, session: bool = True) -> None:
    """MESSAGE_PARAMETER_COUNT_MISMATCH [method, expected, received] (session counted)."""
    extra = 1 if session else 0
    if len(args) != expected:
        raise XapiError(
            MESSAGE_PARAMETER_COUNT_MISMATCH, method, str(expected + extra), str(len(args) + extra)
        )


def _strings(*values: Any) -> None:
    """FIELD_TYPE_ERROR when a parameter that must be a string is not."""
    for value in values:
        if not isinstance(value, str):
            raise XapiError(FIELD_TYPE_ERROR, str(value))


class Dispatcher:
    """Answers the XML-RPC calls of one server, the one running on ``local_host()``."""

    def __init__(
        self,
        db: Database,
        local_host: Callable[[], str],
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self.db = db
        self.local_host = local_host
        self.stopping = stopping

    def dispatch(self, method: str, params: tuple[Any, ...]) -> dict[str, Any]:
        """The envelope answering ``method(*params)``."""
        try:
            return success(self._call(method, params))
        except XapiError as exc:
            return failure(exc)
        except Exception as exc:  # a simulator bug still answers like xapi would
            return failure(XapiError(INTERNAL_ERROR, f"{type(exc).__name__}: {exc}"))

    def _call(self, method: str, params: tuple[Any, ...]) -> Any:
        """Route one call; raises XapiError for every API-level failure."""
        with self.db.cond:
            master = self.db.master
            if self.local_host() != master:
                raise XapiError(HOST_IS_SLAVE, self.db.get("host", master)["address"])
        if method == "session.login_with_password":
            return self._login(params)
        session = self.db.check_session(params[0] if params else "")
        args = params[1:]
        if method.startswith("Async."):
            cls, _, name = method.removeprefix("Async.").partition(".")
            if cls != "VM" or name not in actions.ACTIONS:
                raise XapiError(MESSAGE_METHOD_UNKNOWN, method)
            self._check_action(method, name, args)
            return actions.run_async(
                self.db,
                method,
                session.this_host,
                lambda task: actions.run(self.db, name, args[0], args[1:], task),
            )
        cls, _, name = method.partition(".")
        if cls == "session":
            return self._session(method, name, session.ref, args)
        if cls == "event":
            return self._event(method, name, session.ref, args)
        if cls == "VM" and name in actions.ACTIONS:
            self._check_action(method, name, args)
            return actions.run(self.db, name, args[0], args[1:])
        if cls == "VM" and name == "assert_operation_valid":
            _arity(method, args, 2)
            with self.db.cond:
                error = lifecycle.operation_error(self.db.get("VM", args[0]), args[0], args[1])
            if error is not None:
                raise error
            return ""
        if cls == "task" and name == "destroy":
            _arity(method, args, 1)
            self.db.delete("task", args[0])
            return ""
        if cls in CLASSES:
            return self._generic(method, cls, name, args)
        raise XapiError(MESSAGE_METHOD_UNKNOWN, method)

    def _login(self, params: tuple[Any, ...]) -> str:
        """``session.login_with_password(uname, pwd[, version[, originator]])``."""
        if not 2 <= len(params) <= 4:
            _arity("session.login_with_password", params, 4, session=False)
        _strings(*params)
        originator = params[3] if len(params) == 4 else ""
        return self.db.login(params[0], params[1], originator, self.local_host())

    def _session(self, method: str, name: str, session: str, args: tuple[Any, ...]) -> Any:
        """``session.logout`` and the getters of the caller's own session."""
        if name == "logout":
            _arity(method, args, 0)
            self.db.logout(session)
            return ""
        fields = {"get_uuid": "uuid", "get_this_host": "this_host", "get_this_user": "user"}
        if name in fields:
            _arity(method, args, 1)
            return getattr(self.db.check_session(args[0]), fields[name])
        raise XapiError(MESSAGE_METHOD_UNKNOWN, method)

    def _event(self, method: str, name: str, session: str, args: tuple[Any, ...]) -> Any:
        """``event.from`` (blocking) and ``event.inject``."""
        if name == "from":
            _arity(method, args, 3)
            classes, token, timeout = args
            return events.event_from(self.db, session, classes, token, timeout, self.stopping)
        if name == "inject":
            _arity(method, args, 2)
            cls = next((c for c in CLASSES if c.lower() == str(args[0]).lower()), str(args[0]))
            if cls not in CLASSES:
                raise XapiError(MESSAGE_METHOD_UNKNOWN, f"{args[0]}.inject")
            return events.make_token(self.db.touch(cls, args[1]) - 1)
        raise XapiError(MESSAGE_METHOD_UNKNOWN, method)

    def _check_action(self, method: str, name: str, args: tuple[Any, ...]) -> None:
        """Arity and argument types of a VM lifecycle call."""
        _arity(method, args, 1 + len(actions.ACTIONS[name]))
        _strings(args[0])
        actions.check_types(name, args[1:])

    def _generic(self, method: str, cls: str, name: str, args: tuple[Any, ...]) -> Any:
        """The messages every class has: get_all*, get_record, get_by_*, get_/set_<field>."""
        db = self.db
        with db.cond:
            table = db.tables[cls]
            if name == "get_all":
                _arity(method, args, 0)
                return list(table)
            if name == "get_all_records":
                _arity(method, args, 0)
                return {ref: db.snapshot(cls, ref) for ref in table}
            if name == "get_by_uuid":
                _arity(method, args, 1)
                return db.ref_by_uuid(cls, args[0])
            if name == "get_by_name_label" and cls in NAMED_CLASSES:
                _arity(method, args, 1)
                return [ref for ref, rec in table.items() if rec["name_label"] == args[0]]
            if name == "get_record":
                _arity(method, args, 1)
                return db.snapshot(cls, args[0])
            field = name[4:]
            getter = name.startswith("get_") and field in FIELDS[cls]
            setter = name.startswith("set_") and field in _SETTABLE & FIELDS[cls]
            if not (
                getter or setter or name in ("add_to_other_config", "remove_from_other_config")
            ):
                raise XapiError(MESSAGE_METHOD_UNKNOWN, method)
            if not args:
                _arity(method, args, 1)
            record = db.get(cls, args[0])
            if getter:
                _arity(method, args, 1)
                return db.snapshot(cls, args[0])[field]
            if setter:
                _arity(method, args, 2)
                db.update(cls, args[0], **{field: args[1]})
                return ""
            if name in _CONFIG_MAP:
                config = dict(record["other_config"])
                if name.startswith("add"):
                    _arity(method, args, 3)
                    _strings(args[1], args[2])
                    if args[1] in config:
                        raise XapiError(MAP_DUPLICATE_KEY, cls, "other_config", args[0], args[1])
                    config[args[1]] = args[2]
                else:
                    _arity(method, args, 2)
                    config.pop(args[1], None)
                db.update(cls, args[0], other_config=config)
                return ""
        raise XapiError(MESSAGE_METHOD_UNKNOWN, method)
