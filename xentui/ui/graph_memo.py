"""What the Performance pane's graphs keep from one pass to the next.

A graph of a full history buckets ~600 values into its columns; from one pass to the
next only the newest column can change (and, every few passes, the graph moves a column
left). So the peak of each bucket whose passes are all held is kept, by the series'
origin (see `Series.origin`), and a graph's rows are kept while its columns' marks stay
the same. Entries a build did not use are dropped after it: memory follows what is on
screen, not every domain ever shown.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

T = TypeVar("T")


class GraphMemo:
    """Bucket peaks by (origin, values per column) and built pieces by key, kept across
    builds while they are used; `begin` and `end` bracket one build of the pane."""

    def __init__(self) -> None:
        self._peaks: dict[Hashable, tuple[int, dict[int, float]]] = {}
        self._pieces: dict[Hashable, tuple[Hashable, object]] = {}
        self._used: set[Hashable] = set()

    def begin(self) -> None:
        self._used = set()

    def end(self) -> None:
        """Forget what the build just ended did not use."""
        for store in (self._peaks, self._pieces):
            for key in [k for k in store if k not in self._used]:
                del store[key]

    def __len__(self) -> int:
        return len(self._peaks) + len(self._pieces)

    def peaks(self, origin: Hashable, k: int) -> dict[int, float]:
        """The kept bucket peaks of a series bucketed `k` values to a column, by slot
        (`charts.resample` reads and fills them); a new `k` starts afresh."""
        self._used.add(origin)
        held = self._peaks.get(origin)
        if held is None or held[0] != k:
            held = self._peaks[origin] = (k, {})
        return held[1]

    def joined(self, key: Hashable, parts: Sequence[object], make: Callable[[], T]) -> T:
        """What `make` builds from `parts`, built again unless they are the very objects
        it was last built from (pieces the memo kept are the same objects)."""
        self._used.add(key)
        held = self._pieces.get(key)
        if held is not None:
            was = held[0]
            if isinstance(was, tuple) and len(was) == len(parts) and all(
                    a is b for a, b in zip(was, parts, strict=True)):
                return held[1]  # type: ignore[return-value]
        made = make()
        self._pieces[key] = (tuple(parts), made)
        return made

    def piece(self, key: Hashable, inputs: Hashable, make: Callable[[], T]) -> T:
        """What `make` builds from `inputs`, built again only when they change."""
        self._used.add(key)
        held = self._pieces.get(key)
        if held is not None and held[0] == inputs:
            return held[1]  # type: ignore[return-value]
        made = make()
        self._pieces[key] = (inputs, made)
        return made
