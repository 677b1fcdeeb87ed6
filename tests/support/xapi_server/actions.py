"""VM lifecycle calls (``VM.start`` ... ``VM.snapshot``) and their ``Async.`` tasks.

Each call is checked against :mod:`lifecycle` first (the error xapi would answer),
then registered in the VM's ``current_operations`` (so ``allowed_operations``
shrinks, as on a real host while an operation runs), then takes ``db.op_delay``
seconds of simulated time, and only then changes the power state.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from . import lifecycle, vms
from .db import Database
from .errors import FIELD_TYPE_ERROR, HOST_DISABLED, INTERNAL_ERROR, XapiError
from .lifecycle import HALTED, PAUSED, RUNNING, SUSPENDED
from .records import new_ref, stamp, task_record

_BOOT = (("start_paused", bool), ("force", bool))

# method name -> typed parameters after the VM ref (the operation has the same name)
ACTIONS: dict[str, tuple[tuple[str, type], ...]] = {
    "start": _BOOT,
    "start_on": (("host", str), *_BOOT),
    "clean_shutdown": (),
    "hard_shutdown": (),
    "clean_reboot": (),
    "hard_reboot": (),
    "pause": (),
    "unpause": (),
    "suspend": (),
    "resume": _BOOT,
    "resume_on": (("host", str), *_BOOT),
    "snapshot": (("new_name", str),),
    "destroy": (),
}


def check_types(op: str, args: tuple[Any, ...]) -> None:
    """FIELD_TYPE_ERROR [name] for an argument of the wrong XML-RPC type."""
    for (name, kind), value in zip(ACTIONS[op], args, strict=True):
        if not isinstance(value, kind):
            raise XapiError(FIELD_TYPE_ERROR, name)


def _target_host(db: Database, op: str, vm: str, args: tuple[Any, ...]) -> str | None:
    """The host a start/resume lands on, checked before the operation begins."""
    if op in ("start", "resume"):
        return vms.pick_host(db, vm)
    if op in ("start_on", "resume_on"):
        host = str(args[0])
        rec = db.get("host", host)
        if not rec["enabled"]:
            raise XapiError(HOST_DISABLED, host)
        return host
    return None


def _apply(db: Database, op: str, vm: str, args: tuple[Any, ...], host: str | None) -> str:
    """The state change at the end of ``op``; returns the call's value."""
    if op in ("start", "start_on", "resume", "resume_on"):
        vms.place(db, vm, PAUSED if args[-2] else RUNNING, host)
    elif op in ("clean_shutdown", "hard_shutdown"):
        vms.place(db, vm, HALTED)
    elif op in ("clean_reboot", "hard_reboot"):
        vms.place(db, vm, RUNNING, new_domain=True)
    elif op in ("pause", "unpause", "suspend"):
        vms.place(db, vm, {"pause": PAUSED, "unpause": RUNNING, "suspend": SUSPENDED}[op])
    elif op == "snapshot":
        return vms.snapshot_vm(db, vm, str(args[0]))
    elif op == "destroy":
        vms.destroy_vm(db, vm)
    return ""


def _wait(db: Database, seconds: float) -> None:
    """Let simulated time pass (cut short when the server stops)."""
    deadline = time.monotonic() + seconds
    while not db.closed and time.monotonic() < deadline:
        time.sleep(min(0.02, max(0.0, deadline - time.monotonic())))


def run(db: Database, op: str, vm: str, args: tuple[Any, ...], task: str | None = None) -> str:
    """Perform ``VM.<op>(vm, *args)`` with xapi's checks; the result value or ``""``."""
    key = task or new_ref()  # xapi keys current_operations by task ref
    with db.cond:
        rec = db.get("VM", vm)
        error = lifecycle.operation_error(rec, vm, op)
        if error is not None:
            raise error
        host = _target_host(db, op, vm, args)
        db.update("VM", vm, current_operations={**rec["current_operations"], key: op})
    try:
        _wait(db, db.op_delay)
        with db.cond:
            db.get("VM", vm)  # destroyed meanwhile: HANDLE_INVALID
            return _apply(db, op, vm, args, host)
    finally:
        with db.cond:
            now = db.tables["VM"].get(vm)
            if now is not None and key in now["current_operations"]:
                ops = {k: v for k, v in now["current_operations"].items() if k != key}
                db.update("VM", vm, current_operations=ops)


def run_async(db: Database, name: str, this_host: str, work: Callable[[str], str]) -> str:
    """Create a pending task, run ``work(task)`` in the background, return the task ref.

    As in xapi, failures of the operation itself land in the task's ``error_info``.
    """
    task = db.create("task", task_record(name, this_host))

    def body() -> None:
        try:
            value = work(task)
            fields: dict[str, Any] = {
                "status": "success",
                "result": f"<value>{value}</value>" if value else "",
            }
        except XapiError as exc:
            fields = {"status": "failure", "error_info": exc.description}
        except Exception as exc:  # surfaced as xapi does, not lost in a thread
            fields = {"status": "failure", "error_info": [INTERNAL_ERROR, repr(exc)]}
        with db.cond:
            if task in db.tables["task"]:
                db.update("task", task, progress=1.0, finished=stamp(), **fields)

    worker = threading.Thread(target=body, name=f"xapi-sim {name}", daemon=True)
    with db.cond:
        db.workers = [w for w in db.workers if w.is_alive()] + [worker]
    worker.start()
    return task
