"""The simulator's mutable database: XAPI objects, their generations and the sessions.

Like xapi's in-memory database, every write bumps one global *generation* counter
and stamps the object with it (created / modified / deleted); ``event.from`` reads
those stamps, so anything written here, by an API call or by a test "from outside",
becomes an event.  One condition variable guards everything and wakes the long polls.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import lifecycle, vms
from .errors import (
    HANDLE_INVALID,
    SESSION_AUTHENTICATION_FAILED,
    SESSION_INVALID,
    UUID_INVALID,
    XapiError,
)
from .records import CLASSES, Record, new_ref, new_uuid

# VM fields from which allowed_operations is derived.
_OPERATION_INPUTS = {
    "power_state", "current_operations", "blocked_operations", "is_a_template",
    "is_a_snapshot", "is_control_domain", "is_default_template", "other_config",
}  # fmt: skip


@dataclass
class Stamp:
    """When an object was created and last modified (in generations)."""

    created: int
    modified: int


@dataclass
class Tombstone:
    """A deleted object, kept so that ``event.from`` can report its ``del``."""

    cls: str
    ref: str
    created: int
    deleted: int


@dataclass
class Session:
    """A logged-in session (xapi keeps these in its ``session`` table)."""

    ref: str
    uuid: str
    user: str
    originator: str
    this_host: str
    last_active: float
    valid: bool = True


class Database:
    """All objects of the simulated pool, thread-safe, with test-facing helpers."""

    def __init__(
        self,
        *,
        users: Mapping[str, str] | None = None,
        seed: int = 0,
        session_timeout: float | None = None,
    ) -> None:
        self.cond = threading.Condition(threading.RLock())
        self.generation = 0
        self.tables: dict[str, dict[str, Record]] = {c: {} for c in CLASSES}
        self.stamps: dict[str, Stamp] = {}
        self.tombstones: list[Tombstone] = []
        self.sessions: dict[str, Session] = {}
        self.users: dict[str, str] = dict(users or {"root": "xenroot"})
        self.seed = seed
        self.session_timeout = session_timeout  # idle seconds before a session expires
        self.op_delay = 0.0  # seconds a lifecycle operation takes (see actions.py)
        self.closed = False
        self.agentless: set[str] = set()  # VMs whose guest reports no guest metrics
        self.workers: list[threading.Thread] = []  # Async.* task threads
        self.domids: dict[str, int] = {}  # the last domain id used on each host

    # -- storage -------------------------------------------------------------------

    def _bump(self) -> int:
        """Consume a generation and wake every waiting long poll."""
        self.generation += 1
        self.cond.notify_all()
        return self.generation

    def create(self, cls: str, record: Record, ref: str | None = None) -> str:
        """Insert a new object; returns its ref (an ``add`` event)."""
        with self.cond:
            ref = ref or new_ref()
            self.tables[cls][ref] = record
            if cls == "VM":
                record["allowed_operations"] = lifecycle.allowed_operations(record, ref)
            gen = self._bump()
            self.stamps[ref] = Stamp(gen, gen)
            return ref

    def update(self, cls: str, ref: str, **fields: Any) -> None:
        """Change fields of one object in one generation (a ``mod`` event)."""
        with self.cond:
            record = self.get(cls, ref)
            record.update(fields)
            if cls == "VM" and _OPERATION_INPUTS & fields.keys():
                record["allowed_operations"] = lifecycle.allowed_operations(record, ref)
            self.stamps[ref].modified = self._bump()

    def touch(self, cls: str, ref: str) -> int:
        """Mark an object modified without changing it (``event.inject``)."""
        with self.cond:
            self.get(cls, ref)
            gen = self._bump()
            self.stamps[ref].modified = gen
            return gen

    def delete(self, cls: str, ref: str) -> None:
        """Remove an object (a ``del`` event)."""
        with self.cond:
            self.get(cls, ref)
            del self.tables[cls][ref]
            stamp = self.stamps.pop(ref)
            self.tombstones.append(Tombstone(cls, ref, stamp.created, self._bump()))

    def get(self, cls: str, ref: str) -> Record:
        """The live record (callers hold ``cond``); HANDLE_INVALID when unknown."""
        record = self.tables[cls].get(ref) if isinstance(ref, str) else None
        if record is None:
            raise XapiError(HANDLE_INVALID, cls, str(ref))
        return record

    def snapshot(self, cls: str, ref: str) -> Record:
        """A copy of the record as ``get_record`` returns it."""
        with self.cond:
            return copy.deepcopy(self.get(cls, ref))

    def ref_by_uuid(self, cls: str, uuid: str) -> str:
        """The ref of the object with this uuid; UUID_INVALID when none."""
        with self.cond:
            for ref, record in self.tables[cls].items():
                if record["uuid"] == uuid:
                    return ref
        raise XapiError(UUID_INVALID, cls, uuid)

    def find(self, cls: str, key: str) -> str:
        """A ref from a ref, a uuid or a unique name_label (for tests and helpers)."""
        with self.cond:
            table = self.tables[cls]
            if key in table:
                return key
            hits = [r for r, rec in table.items() if key in (rec["uuid"], rec.get("name_label"))]
        if len(hits) != 1:
            raise KeyError(f"{cls} {key!r}: {len(hits)} matches")
        return hits[0]

    def changes_since(
        self, generation: int, wanted: Callable[[str, str], bool]
    ) -> tuple[list[tuple[int, str, str, str]], int]:
        """``(id, operation, class, ref)`` for every change after ``generation``.

        Also the newest generation among the wanted changes, reported or not (an
        object created and deleted since is not reported), as xapi's token.
        """
        with self.cond:
            out = []
            newest = generation
            for cls, table in self.tables.items():
                for ref in table:
                    stamp = self.stamps[ref]
                    if stamp.modified > generation and wanted(cls, ref):
                        newest = max(newest, stamp.modified)
                        if stamp.created > generation:
                            out.append((stamp.created, "add", cls, ref))
                        else:
                            out.append((stamp.modified, "mod", cls, ref))
            for tomb in self.tombstones:
                if tomb.deleted > generation and wanted(tomb.cls, tomb.ref):
                    newest = max(newest, tomb.deleted)
                    if tomb.created <= generation:
                        out.append((tomb.deleted, "del", tomb.cls, tomb.ref))
            return sorted(out), newest

    # -- sessions ------------------------------------------------------------------

    def login(self, user: str, password: str, originator: str, this_host: str) -> str:
        """Open a session; SESSION_AUTHENTICATION_FAILED on bad credentials."""
        with self.cond:
            if self.users.get(user) != password:
                raise XapiError(SESSION_AUTHENTICATION_FAILED, user, "Authentication failure")
            ref = new_ref()
            now = time.monotonic()
            self.sessions[ref] = Session(ref, new_uuid(), user, originator, this_host, now)
            return ref

    def check_session(self, ref: object, *, touch: bool = True) -> Session:
        """The valid session behind ``ref`` (now active again); SESSION_INVALID otherwise.

        With ``session_timeout`` set, a session idle for longer has expired, as xapi's
        session garbage collector destroys sessions whose ``last_active`` is too old.
        """
        with self.cond:
            session = self.sessions.get(ref) if isinstance(ref, str) else None
            now = time.monotonic()
            if session is not None and self.session_timeout is not None:
                if now - session.last_active > self.session_timeout:
                    session.valid = False
            if session is None or not session.valid:
                raise XapiError(SESSION_INVALID, str(ref))
            if touch:
                session.last_active = now
            return session

    def logout(self, ref: str) -> None:
        """Close a session (blocked ``event.from`` calls on it fail)."""
        with self.cond:
            self.check_session(ref).valid = False
            self.cond.notify_all()

    def expire_sessions(self, refs: Iterable[str] | None = None) -> None:
        """Time out sessions (all by default), as xapi's session GC does."""
        with self.cond:
            for ref in list(self.sessions if refs is None else refs):
                if ref in self.sessions:
                    self.sessions[ref].valid = False
            self.cond.notify_all()

    def check_password(self, user: str, password: str) -> bool:
        """Whether these credentials would log in (HTTP basic auth)."""
        with self.cond:
            return self.users.get(user) == password

    # -- derived fields ------------------------------------------------------------

    @property
    def pool(self) -> str:
        """The ref of the (only) pool."""
        with self.cond:
            return next(iter(self.tables["pool"]))

    @property
    def master(self) -> str:
        """The ref of the pool master host."""
        with self.cond:
            return str(self.tables["pool"][self.pool]["master"])

    # -- helpers for tests: change the pool "from outside", as xe or XenCenter would --

    def set_power_state(self, vm: str, state: str, host: str | None = None) -> None:
        """Force a VM (ref, uuid or name) into ``state`` on ``host`` (default: its own)."""
        with self.cond:
            ref = self.find("VM", vm)
            vms.place(self, ref, state, self.find("host", host) if host else None)

    def set_field(self, cls: str, key: str, field: str, value: Any) -> None:
        """Set any field of any object (ref, uuid or name), producing a ``mod`` event."""
        with self.cond:
            self.update(cls, self.find(cls, key), **{field: value})

    def add_vm(self, name: str, **kwargs: Any) -> str:
        """Create a VM with its metrics, VIFs and VBDs; see :func:`vms.create_vm`."""
        with self.cond:
            return vms.create_vm(self, name, **kwargs)

    def destroy_vm(self, vm: str) -> None:
        """Delete a VM and its metrics, VIFs and VBDs (``del`` events)."""
        with self.cond:
            vms.destroy_vm(self, self.find("VM", vm))

    def set_host_live(self, host: str, live: bool) -> None:
        """Mark a host's metrics live or not (a host that stopped heart-beating)."""
        with self.cond:
            ref = self.find("host", host)
            self.update("host_metrics", self.get("host", ref)["metrics"], live=live)

    def designate_new_master(self, host: str) -> None:
        """Make another host the pool master (servers of other hosts turn slave)."""
        with self.cond:
            self.update("pool", self.pool, master=self.find("host", host))
