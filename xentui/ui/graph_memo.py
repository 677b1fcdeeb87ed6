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

NAN = float("nan")
T = TypeVar("T")


def bucket_peak(values: Sequence[float]) -> float:
    """The largest finite value (NaN if none): a bucket's column height."""
    # v - v is 0.0 for finite values only (NaN for NaN and the infinities)
    return max((v for v in values if v - v == 0.0), default=NAN)


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

    def columns(self, origin: Hashable, values: Sequence[float], width: int, first: int,
                k: int) -> list[float]:
        """What `charts.resample` gives for `values` longer than `width` bucketed `k` to a
        column, each complete bucket's peak worked out once per origin."""
        self._used.add(origin)
        held = self._peaks.get(origin)
        if held is None or held[0] != k:
            held = self._peaks[origin] = (k, {})
        peaks = held[1]
        n = len(values)
        base = (first + n - 1) // k - width + 1  # the slot of column 0
        if len(peaks) > 2 * width:  # slots gone off the left edge
            for slot in [s for s in peaks if s < base]:
                del peaks[slot]
        out: list[float] = []
        lo = base * k - first
        for slot in range(base, base + width):
            hi = lo + k
            if lo >= 0 and hi <= n:  # every pass of the bucket is held: it cannot change
                p = peaks.get(slot)
                if p is None:
                    p = peaks[slot] = bucket_peak(values[lo:hi])
            else:
                a, b = max(lo, 0), min(hi, n)
                p = bucket_peak(values[a:b]) if a < b else NAN
            out.append(p)
            lo = hi
        return out

    def piece(self, key: Hashable, inputs: Hashable, make: Callable[[], T]) -> T:
        """What `make` builds from `inputs`, built again only when they change."""
        self._used.add(key)
        held = self._pieces.get(key)
        if held is not None and held[0] == inputs:
            return held[1]  # type: ignore[return-value]
        made = make()
        self._pieces[key] = (inputs, made)
        return made
