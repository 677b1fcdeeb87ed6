"""Checks a user keymap (binding id -> keys) against the console's bindings."""

from __future__ import annotations

import re
from collections.abc import Iterable

from textual.binding import Binding

_KEY = re.compile(r"^(?:(?:ctrl|shift|alt|super|meta)\+)*[A-Za-z0-9_]+$|^.$")


def _keys(text: str) -> list[str]:
    return [k.strip() for k in text.split(",")]


def check_keymap(
    keymap: dict[str, str],
    bindings: Iterable[Binding],
    *,
    scopes: Iterable[Iterable[Binding]] | None = None,
) -> tuple[dict[str, str], list[str]]:
    """The overrides that can be applied, and one message per one that cannot.

    An override is refused if its id is unknown, a key is malformed, or a key would
    then belong to two bindings of one scope (say `start = "q"` while `q` quits).
    `scopes` are the sets of bindings active together (the App's with each screen's);
    by default all `bindings` are one scope.
    """
    every = list(bindings)
    known = {b.id: b for b in every if b.id}
    groups = [[b for b in scope if b.id] for scope in scopes] if scopes else [every]
    problems: list[str] = []
    accepted: dict[str, str] = {}
    for bid, keys in keymap.items():
        if bid not in known:
            problems.append(f"keymap: unknown binding id {bid!r} (known: {', '.join(known)})")
        elif not all(_KEY.match(k) for k in _keys(keys)):
            problems.append(f"keymap: {bid} = {keys!r} is not a valid key list")
        else:
            accepted[bid] = keys
    while True:
        clash = _first_clash(groups, accepted, problems)
        if clash is None or clash not in accepted:
            return accepted, problems
        del accepted[clash]


def _first_clash(
    groups: list[list[Binding]], accepted: dict[str, str], problems: list[str]
) -> str | None:
    """The id that must give up its override for a clash in some scope (None: none)."""
    for group in groups:
        owner: dict[str, str] = {}
        for binding in group:
            bid = binding.id or ""
            for key in _keys(accepted.get(bid, binding.key)):
                other = owner.setdefault(key, bid)
                if other != bid:
                    clash = bid if bid in accepted else other
                    problems.append(
                        f"keymap: {key!r} would belong to both {other} and {bid}; "
                        f"{clash} keeps its default"
                    )
                    return clash
    return None
