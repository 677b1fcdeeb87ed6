"""Readable event text (xentui.backend.events.lifecycle_text)."""

from __future__ import annotations

import libvirt
from hypothesis import given
from hypothesis import strategies as st

from xentui.backend.libvirt.events import lifecycle_text

EVENTS = {
    name[len("VIR_DOMAIN_EVENT_"):]: getattr(libvirt, name)
    for name in dir(libvirt)
    if name.startswith("VIR_DOMAIN_EVENT_")
    and name[len("VIR_DOMAIN_EVENT_"):].isalpha()
    and isinstance(getattr(libvirt, name), int)
    and name != "VIR_DOMAIN_EVENT_ID_LAST"
}


@given(st.integers(-(2**31), 2**31), st.integers(-(2**31), 2**31))
def test_never_raises_and_gives_text(event, detail):
    name, text = lifecycle_text(event, detail)
    assert isinstance(name, str) and name
    assert isinstance(text, str)
    assert "_" not in text and text == text.lower()


def test_every_libvirt_lifecycle_detail_is_named_after_libvirt():
    """Each VIR_DOMAIN_EVENT_<EVENT>_<DETAIL> constant reads as '<detail>'."""
    checked = 0
    for event_name, event in EVENTS.items():
        if event_name in ("ID",):
            continue
        prefix = f"VIR_DOMAIN_EVENT_{event_name}_"
        for attr in dir(libvirt):
            if not attr.startswith(prefix) or attr.endswith("_LAST"):
                continue
            detail = getattr(libvirt, attr)
            name, text = lifecycle_text(event, detail)
            assert name.lower() == event_name.lower()
            assert text == attr[len(prefix):].lower().replace("_", " ")
            checked += 1
    assert checked >= 20  # libvirt defines dozens; a silent empty loop must fail


def test_examples_people_see():
    assert lifecycle_text(libvirt.VIR_DOMAIN_EVENT_STOPPED,
                          libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED) == ("Stopped", "destroyed")
    assert lifecycle_text(libvirt.VIR_DOMAIN_EVENT_STARTED,
                          libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED) == ("Started", "booted")


@given(st.integers(min_value=max(EVENTS.values()) + 1, max_value=10**6), st.integers(1, 99))
def test_unknown_event_is_still_readable(event, detail):
    name, text = lifecycle_text(event, detail)
    assert str(event) in name
    assert text == f"detail {detail}"
