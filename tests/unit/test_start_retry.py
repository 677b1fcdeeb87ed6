"""Start retries while Xen still reports "Domain is already active" after a shutdown."""

from __future__ import annotations

import libvirt
import pytest

from xentui.backend.libvirt.lifecycle import create_when_gone


def _error(code: int, message: str) -> libvirt.libvirtError:
    err = libvirt.libvirtError(message)
    err.err = (code, 0, message, 0, "", "", "", 0, 0)
    return err


class FlakyDomain:
    """A domain whose first `refusals` starts fail the way libxl's do after a shutdown."""

    def __init__(self, refusals: int, code: int = libvirt.VIR_ERR_OPERATION_INVALID,
                 message: str = "Requested operation is not valid: Domain is already active"):
        self.refusals = refusals
        self.calls = 0
        self.code, self.message = code, message

    def create(self) -> int:
        self.calls += 1
        if self.calls <= self.refusals:
            raise _error(self.code, self.message)
        return 0

    def isActive(self) -> int:
        return 0


def test_start_retries_until_the_old_instance_is_gone() -> None:
    dom = FlakyDomain(refusals=2)
    create_when_gone(dom, retry_s=5)  # type: ignore[arg-type]
    assert dom.calls == 3


def test_start_gives_up_after_the_retry_window() -> None:
    dom = FlakyDomain(refusals=100)
    with pytest.raises(libvirt.libvirtError):
        create_when_gone(dom, retry_s=0.6)  # type: ignore[arg-type]
    assert 2 <= dom.calls <= 3


def test_other_errors_are_not_retried() -> None:
    dom = FlakyDomain(refusals=1, code=libvirt.VIR_ERR_NO_DOMAIN, message="Domain not found")
    with pytest.raises(libvirt.libvirtError):
        create_when_gone(dom, retry_s=5)  # type: ignore[arg-type]
    assert dom.calls == 1
