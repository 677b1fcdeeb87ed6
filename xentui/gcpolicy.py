"""The garbage collector's policy for the long-running console: set once, at start."""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 5000
"""Allocations between young-generation collections (CPython's default is 700). A pass
over a big host makes thousands of short-lived records per second, nearly all freed by
reference counting; at 700 the collector ran about ten times a pass at 1000 domains and
promoted the pass's records to older generations, which are scanned again later."""


def tune_collector() -> None:
    """Collect the young generation less often (process-wide: call from the entry point)."""
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
