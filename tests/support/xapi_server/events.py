"""``event.from``: xapi's token-based long poll over the database generations.

Modelled on xapi's ``xapi_event.ml`` (``Token``, ``Subscription``, ``from_inner``):

* A token is ``"%020d,%020d"``: a database generation and a message generation (the
  latter always 0 here: messages are not modelled).  The empty token means "from the
  beginning", so every live subscribed object comes back as an ``add`` (the initial
  dump).  Anything else that does not parse: EVENT_FROM_TOKEN_PARSE_FAILURE [token].
* After a token only changes since it come back, one event per object: ``add`` for
  objects created since, ``mod`` for objects only modified since, ``del`` for objects
  that existed before the token and are gone (created *and* deleted since: nothing).
  Each event carries ``id`` (its generation), ``class`` (lower case), ``operation``,
  ``ref`` and, except for ``del``, ``snapshot`` (the record as ``get_record`` gives it).
* The answer's token is the newest generation among the *subscribed* changes
  returned (the given one when there were none), and ``valid_ref_counts`` counts the
  objects of every class.
* With nothing to report the call blocks until a subscribed change or until
  ``timeout`` seconds pass, then answers an empty batch.  A logout or an expiry of
  the session while it blocks answers SESSION_INVALID [session].
* Subscriptions are ``"*"``, a class (case-insensitive) or ``"class/ref"``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .db import Database
from .errors import (
    EVENT_FROM_TOKEN_PARSE_FAILURE,
    EVENT_SUBSCRIPTION_PARSE_FAILURE,
    FIELD_TYPE_ERROR,
    XapiError,
)

# How often a blocked poll re-checks its session (for idle expiry) without a change.
_RECHECK = 0.1


def make_token(generation: int) -> str:
    """The token for "everything up to ``generation`` has been seen"."""
    return f"{generation:020d},{0:020d}"


def parse_token(token: object) -> int:
    """The generation in a token; EVENT_FROM_TOKEN_PARSE_FAILURE [token] if malformed."""
    if token == "":
        return 0
    parts = token.split(",") if isinstance(token, str) else []
    try:
        if len(parts) == 2:
            int(parts[1])
            return int(parts[0])
    except ValueError:
        pass
    raise XapiError(EVENT_FROM_TOKEN_PARSE_FAILURE, str(token))


def parse_classes(classes: object) -> Callable[[str, str], bool]:
    """A predicate ``(class, ref) -> subscribed`` for xapi's subscription strings."""
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise XapiError(FIELD_TYPE_ERROR, "classes")
    everything = False
    whole: set[str] = set()
    objects: set[tuple[str, str]] = set()
    for sub in classes:
        if sub == "*":
            everything = True
        elif "/" in sub:
            cls, ref = sub.split("/", 1)
            objects.add((cls.lower(), ref))
        elif sub:
            whole.add(sub.lower())
        else:
            raise XapiError(EVENT_SUBSCRIPTION_PARSE_FAILURE, sub)

    def wanted(cls: str, ref: str) -> bool:
        low = cls.lower()
        return everything or low in whole or (low, ref) in objects

    return wanted


def _batch(
    db: Database, since: int, wanted: Callable[[str, str], bool]
) -> tuple[list[dict[str, Any]], int]:
    """The events after generation ``since`` and the next token's generation."""
    events = []
    changes, newest = db.changes_since(since, wanted)
    for gen, op, cls, ref in changes:
        event: dict[str, Any] = {
            "id": str(gen),
            "timestamp": f"{time.time():.6f}",
            "class": cls.lower(),
            "operation": op,
            "ref": ref,
        }
        if op != "del":
            event["snapshot"] = db.snapshot(cls, ref)
        events.append(event)
    return events, newest


def event_from(
    db: Database,
    session: str,
    classes: object,
    token: object,
    timeout: object,
    stopping: Callable[[], bool] = lambda: False,
) -> dict[str, Any]:
    """Answer ``event.from(session, classes, token, timeout)``.

    ``stopping``: the server is going away; the poll ends at once (and its answer is
    never sent).
    """
    since = parse_token(token)
    wanted = parse_classes(classes)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise XapiError(FIELD_TYPE_ERROR, "timeout")
    deadline = time.monotonic() + float(timeout)
    with db.cond:
        while True:
            db.check_session(session, touch=False)
            events, newest = _batch(db, since, wanted)
            remaining = deadline - time.monotonic()
            if events or remaining <= 0 or db.closed or stopping():
                break
            db.cond.wait(min(remaining, _RECHECK))
        counts = {cls.lower(): len(table) for cls, table in db.tables.items()}
        return {"events": events, "valid_ref_counts": counts, "token": make_token(newest)}
