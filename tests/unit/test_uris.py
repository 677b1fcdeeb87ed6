"""URIs: ssh never prompts over the screen, and hosts get short names."""

from __future__ import annotations

import pytest

from xentui.backend.libvirt.connection import host_label, with_no_tty


@pytest.mark.parametrize(
    ("uri", "want"),
    [
        ("xen+ssh://root@dom0/system", "xen+ssh://root@dom0/system?no_tty=1"),
        ("qemu+ssh://h/system?keyfile=/k", "qemu+ssh://h/system?keyfile=/k&no_tty=1"),
        ("xen+ssh://h/system?no_tty=0", "xen+ssh://h/system?no_tty=0"),  # the user chose
        ("xen:///system", "xen:///system"),
        ("qemu+tcp://h/system", "qemu+tcp://h/system"),
    ],
)
def test_ssh_uris_get_no_tty(uri: str, want: str) -> None:
    assert with_no_tty(uri) == want


def test_host_label() -> None:
    assert host_label("xen+ssh://root@dom0.example.org/system") == "dom0.example.org"
    assert host_label("xen:///system") == "localhost"
