"""The console's collector policy: the young generation's threshold only."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from xentui.gcpolicy import YOUNG_THRESHOLD, tune_collector


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    """The process's thresholds, put back afterwards (the policy is process-wide)."""
    before = gc.get_threshold()
    gc.set_threshold(700, 7, 9)
    yield gc.get_threshold()
    gc.set_threshold(*before)


def test_raises_the_young_threshold_and_keeps_the_others(thresholds: tuple[int, int, int]) -> None:
    tune_collector()
    assert gc.get_threshold() == (YOUNG_THRESHOLD, thresholds[1], thresholds[2])
    assert gc.isenabled()
