"""Settings and the CLI's dispatch: a pool URI becomes a XapiHost with the settings'
password file and certificate policy; libvirt URIs stay libvirt hosts."""

from __future__ import annotations

from pathlib import Path

import pytest

from xentui.backend.api import HostBackend
from xentui.backend.libvirt.host import LibvirtHost
from xentui.backend.xapi.host import XapiHost
from xentui.cli import build_fleet, fleet_entries, parse
from xentui.config import load_settings


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    path = tmp_path / "xentui" / "config.toml"
    path.parent.mkdir()
    return path


def test_xapi_settings_are_read_and_checked(config: Path) -> None:
    config.write_text('xapi_password_file = "/etc/xentui/pool.pw"\n'
                      "xapi_accept_self_signed = true\n")
    settings, problems = load_settings()
    assert problems == []
    assert settings.xapi_password_file == "/etc/xentui/pool.pw"
    assert settings.xapi_accept_self_signed is True
    config.write_text("xapi_password_file = 3\nxapi_accept_self_signed = \"yes\"\n")
    settings, problems = load_settings()
    assert len(problems) == 2 and settings.xapi_accept_self_signed is False


def test_pool_uris_from_the_command_line_and_the_settings_become_xapi_hosts(
    config: Path,
) -> None:
    config.write_text('xapi_password_file = "/etc/xentui/pool.pw"\n'
                      "xapi_accept_self_signed = true\n"
                      '[[hosts]]\nname = "lab"\nuri = "xapi://root@pool.example"\n'
                      '[[hosts]]\nname = "dom0"\nuri = "test:///default"\n')
    settings, _problems = load_settings()
    opts = parse(["-c", "xapi+http://root@127.0.0.1:8080", "-c", "xapi://root@pool.example"])
    fleet = build_fleet(fleet_entries(opts, settings.hosts), readonly=False, interval=1.0,
                        per_domain=False)
    first, second = fleet.hosts.values()
    assert isinstance(first, XapiHost) and first.id == "127.0.0.1"
    assert isinstance(first, HostBackend)
    assert isinstance(second, XapiHost) and second.id == "lab"
    assert second.options.password_file == "/etc/xentui/pool.pw"
    assert second.options.accept_self_signed is True
    fleet = build_fleet(list(settings.hosts), readonly=True, interval=1.0, per_domain=False)
    assert [type(h) for h in fleet.hosts.values()] == [XapiHost, LibvirtHost]
    assert all(h.readonly for h in fleet.hosts.values())
