"""Checks a user keymap (binding id -> keys) against the console's bindings."""

from __future__ import annotations

import re
from collections.abc import Iterable

from textual.binding import Binding

_KEY = re.compile(r"^(?:(?:ctrl|shift|alt|super|meta)\+)*[A-Za-z0-9_]+$|^.$")


def _keys(text: str) -> list[str]:
    return [k.strip() for k in text.split(",")]


def check_keymap(
    keymap: dict[str, str], bindings: Iterable[Binding]
) -> tuple[dict[str, str], list[str]]:
    """The overrides that can be applied, and one message per one that cannot.

    An override is refused if its id is unknown, a key is malformed, or a key would
    then belong to two bindings (say `start = "q"` while `q` quits).
    """
    known = {b.id: b for b in bindings if b.id}
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
        owner: dict[str, str] = {}
        clash: str | None = None
        for bid, binding in known.items():
            for key in _keys(accepted.get(bid, binding.key)):
                other = owner.setdefault(key, bid)
                if other != bid:
                    clash = bid if bid in accepted else other
                    problems.append(
                        f"keymap: {key!r} would belong to both {other} and {bid}; "
                        f"{clash} keeps its default"
                    )
                    break
            if clash:
                break
        if clash is None or clash not in accepted:
            return accepted, problems
        del accepted[clash]
