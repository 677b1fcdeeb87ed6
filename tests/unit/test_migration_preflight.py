"""The migration pre-flight (a target on the source's own physical host, or with a domain
that collides with the migrating one, is refused before libvirt's Begin3 takes the job)
and the note a failed migration adds when the source still holds the domain's job; on
stand-in libvirt connections that record every call made to them."""

from __future__ import annotations

import uuid as uuids
from dataclasses import dataclass, field

import libvirt
import pytest

from xentui.backend.errors import ActionError, ConnectionLost, DomainGone, NotAllowed
from xentui.backend.libvirt.held_job import held_job_note, job_held
from xentui.backend.libvirt.host_identity import caps_host_uuid, smbios_uuid
from xentui.backend.libvirt.migration import flags_for, migrate
from xentui.backend.libvirt.preflight import check_target
from xentui.backend.models import MigrationOptions

JOB_FREE_CALLS = {"getCapabilities", "getSysinfo", "getHostname", "getType",
                  "lookupByUUIDString", "lookupByName", "name", "UUIDString", "isActive",
                  "jobInfo"}
"""What libvirt's libxl driver answers without taking the domain's job."""


def lv_error(code: int, message: str = "failed") -> libvirt.libvirtError:
    err = libvirt.libvirtError(message)
    err.err = (code, 0, message, 0, "", "", "", 0, 0)
    return err


def caps_xml(host: str | None) -> str:
    uuid = f"<uuid>{host}</uuid>" if host is not None else ""
    return f"<capabilities><host>{uuid}<cpu><arch>x86_64</arch></cpu></host></capabilities>"


def sysinfo_xml(system_uuid: str) -> str:
    return (f"<sysinfo type='smbios'><system><entry name='manufacturer'>QEMU</entry>"
            f"<entry name='uuid'>{system_uuid}</entry></system></sysinfo>")


@dataclass
class StubDomain:
    dom_name: str
    uuid: str
    active: bool = True
    job: int = libvirt.VIR_DOMAIN_JOB_NONE
    job_error: int | None = None
    migrate_error: int | None = None
    calls: list[str] = field(default_factory=list)

    def name(self) -> str:
        self.calls.append("name")
        return self.dom_name

    def UUIDString(self) -> str:
        self.calls.append("UUIDString")
        return self.uuid

    def isActive(self) -> int:
        self.calls.append("isActive")
        return int(self.active)

    def jobInfo(self) -> list[int]:
        self.calls.append("jobInfo")
        if self.job_error is not None:
            raise lv_error(self.job_error)
        return [self.job, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]

    def migrate3(self, dest: object, params: dict[str, object], flags: int) -> None:
        self.calls.append("migrate3")
        if self.migrate_error is not None:
            raise lv_error(self.migrate_error, "domain 'g' is already active")

    def migrateToURI3(self, uri: str, params: dict[str, object], flags: int) -> None:
        self.migrate3(None, params, flags)


@dataclass
class StubConn:
    host: str | None
    domains: list[StubDomain] = field(default_factory=list)
    driver: str = "Xen"
    smbios: str = "Not Settable"
    hostname: str = "dom0"
    caps_error: int | None = None
    fail_lookups: int | None = None
    calls: list[str] = field(default_factory=list)

    def getType(self) -> str:
        self.calls.append("getType")
        return self.driver

    def getCapabilities(self) -> str:
        self.calls.append("getCapabilities")
        if self.caps_error is not None:
            raise lv_error(self.caps_error, "cannot get capabilities")
        return caps_xml(self.host)

    def getSysinfo(self, flags: int) -> str:
        self.calls.append("getSysinfo")
        if self.driver == "Test":
            raise lv_error(libvirt.VIR_ERR_NO_SUPPORT, "not supported: virConnectGetSysinfo")
        return sysinfo_xml(self.smbios)

    def getHostname(self) -> str:
        self.calls.append("getHostname")
        return self.hostname

    def _find(self, call: str, match: str, key: str) -> StubDomain:
        self.calls.append(call)
        if self.fail_lookups is not None:
            raise lv_error(self.fail_lookups, "end of file while reading data")
        for dom in self.domains:
            if getattr(dom, match) == key:
                return dom
        raise lv_error(libvirt.VIR_ERR_NO_DOMAIN, "Domain not found")

    def lookupByUUIDString(self, uuid: str) -> StubDomain:
        return self._find("lookupByUUIDString", "uuid", uuid)

    def lookupByName(self, name: str) -> StubDomain:
        return self._find("lookupByName", "dom_name", name)

    def every_call(self) -> set[str]:
        return set(self.calls).union(*(d.calls for d in self.domains))


def new_uuid() -> str:
    return str(uuids.uuid4())


def ends(target_domains: list[StubDomain], *, same_host: bool = False,
         host_uuids: bool = True) -> tuple[StubConn, StubConn, StubDomain]:
    """A source running guest `g`, and a target with `target_domains`."""
    guest = StubDomain("g", new_uuid())
    here = new_uuid() if host_uuids else None
    there = here if same_host else (new_uuid() if host_uuids else None)
    return StubConn(here, [guest]), StubConn(there, target_domains), guest


def refusal(src: StubConn, dest: StubConn, guest: StubDomain) -> str:
    with pytest.raises(NotAllowed) as refused:
        check_target(src, dest, guest.uuid, "src", "dst")  # type: ignore[arg-type]
    text = str(refused.value)
    assert text.startswith("Migrate") and "\n" not in text
    assert src.every_call() | dest.every_call() <= JOB_FREE_CALLS
    return text


NOT_UUIDS = ("00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
             "Not Settable", "Not Specified", "")


def test_a_machines_uuids_are_read_only_when_they_are_uuids() -> None:
    host = new_uuid()
    assert caps_host_uuid(caps_xml(host)) == host
    assert caps_host_uuid(caps_xml(f"  {host.upper()}\n")) == host
    assert smbios_uuid(sysinfo_xml(host.upper())) == host
    assert caps_host_uuid(caps_xml(None)) is None
    assert smbios_uuid(caps_xml(host)) is None and caps_host_uuid(sysinfo_xml(host)) is None
    for not_one in (*NOT_UUIDS, host[:-1], "g" + host[1:]):
        assert caps_host_uuid(caps_xml(not_one)) is None, not_one
        assert smbios_uuid(sysinfo_xml(not_one)) is None, not_one
    for broken in ("", "<capabilities><host>", "\x00", "<a/>"):
        assert caps_host_uuid(broken) is None and smbios_uuid(broken) is None


def test_a_target_on_the_same_physical_host_is_refused_by_its_host_uuid() -> None:
    src, dest, guest = ends([], same_host=True)
    text = refusal(src, dest, guest)
    assert src.host is not None
    assert text == (f"Migrate: dst is the same physical host as src (host UUID {src.host}); "
                    "pick another host")
    assert "getSysinfo" not in src.every_call() | dest.every_call()


def test_without_host_uuids_the_smbios_uuid_and_the_hostname_tell_the_same_host() -> None:
    machine = new_uuid()
    src, dest, guest = ends([], host_uuids=False)
    src.smbios = dest.smbios = machine.upper()
    text = refusal(src, dest, guest)
    assert f"(SMBIOS UUID {machine}, hostname dom0)" in text


def test_one_smbios_uuid_on_two_hostnames_or_two_host_uuids_is_two_machines() -> None:
    machine = new_uuid()
    src, dest, guest = ends([], host_uuids=False)
    src.smbios = dest.smbios = machine
    dest.hostname = "other"
    check_target(src, dest, guest.uuid, "src", "dst")  # type: ignore[arg-type]
    src, dest, guest = ends([])  # each its own host UUID: libvirt's identity decides
    src.smbios = dest.smbios = machine
    check_target(src, dest, guest.uuid, "src", "dst")  # type: ignore[arg-type]


def test_a_target_running_a_domain_with_the_same_uuid_is_refused() -> None:
    src, dest, guest = ends([])
    dest.domains.append(StubDomain("copy", guest.uuid, active=True))
    text = refusal(src, dest, guest)
    assert "dst already runs a domain copy with g's UUID" in text


def test_without_host_uuids_the_same_host_shows_as_the_domain_already_there() -> None:
    src, dest, guest = ends([], same_host=True, host_uuids=False)
    dest.domains.append(guest)  # one daemon behind both connections
    assert "dst already runs g (a domain with its UUID)" in refusal(src, dest, guest)


def test_a_definition_with_the_uuid_under_another_name_is_refused() -> None:
    src, dest, guest = ends([])
    dest.domains.append(StubDomain("other", guest.uuid, active=False))
    assert "dst has a domain other with g's UUID" in refusal(src, dest, guest)


def test_another_domain_with_the_name_is_refused_running_or_not() -> None:
    for active in (True, False):
        src, dest, guest = ends([])
        dest.domains.append(StubDomain("g", new_uuid(), active=active))
        assert "dst already has another domain named g" in refusal(src, dest, guest)


@pytest.mark.parametrize("kept", [False, True], ids=["empty", "kept-definition"])
def test_an_empty_target_or_one_keeping_the_domain_shut_off_passes(kept: bool) -> None:
    src, dest, guest = ends([])
    if kept:
        dest.domains.append(StubDomain("g", guest.uuid, active=False))
    check_target(src, dest, guest.uuid, "src", "dst")  # type: ignore[arg-type]
    assert {"getCapabilities", "lookupByUUIDString", "lookupByName"} <= dest.every_call()
    assert src.every_call() | dest.every_call() <= JOB_FREE_CALLS


def test_a_driver_without_capabilities_leaves_the_domain_checks_to_decide() -> None:
    src, dest, guest = ends([], same_host=True)
    src.caps_error = dest.caps_error = libvirt.VIR_ERR_NO_SUPPORT
    check_target(src, dest, guest.uuid, "src", "dst")  # type: ignore[arg-type]
    dest.domains.append(guest)
    assert "dst already runs g" in refusal(src, dest, guest)
    src.caps_error = libvirt.VIR_ERR_RPC
    with pytest.raises(ConnectionLost, match=r"^Migrate: cannot read the hosts' capab"):
        check_target(src, dest, guest.uuid, "src", "dst")  # type: ignore[arg-type]


def test_a_domain_gone_from_the_source_and_a_target_that_cannot_answer() -> None:
    src, dest, guest = ends([])
    with pytest.raises(DomainGone, match=r"^Migrate: the domain no longer exists$"):
        check_target(src, dest, new_uuid(), "src", "dst")  # type: ignore[arg-type]
    dest.fail_lookups = libvirt.VIR_ERR_RPC
    with pytest.raises(ConnectionLost) as lost:
        check_target(src, dest, guest.uuid, "src", "dst")  # type: ignore[arg-type]
    assert str(lost.value) == "Migrate: cannot check dst: end of file while reading data"


def failed_migration(src: StubConn, guest: StubDomain, p2p: bool = False) -> ActionError:
    opts = MigrationOptions(p2p=p2p)
    with pytest.raises(ActionError) as failed:
        migrate(src, StubConn(None), "xen+ssh://dst/system", guest.uuid,  # type: ignore[arg-type]
                "dst", opts, flags_for(opts, src.driver), source_name="src")
    assert "\n" not in str(failed.value)
    return failed.value


@pytest.mark.parametrize("p2p", [False, True], ids=["direct", "peer-to-peer"])
def test_a_failed_migration_on_libxl_says_when_the_source_still_holds_the_job(
    p2p: bool,
) -> None:
    src, _dest, guest = ends([])
    guest.migrate_error = libvirt.VIR_ERR_OPERATION_INVALID
    guest.job = libvirt.VIR_DOMAIN_JOB_UNBOUNDED
    err = failed_migration(src, guest, p2p)
    assert isinstance(err, NotAllowed)  # libvirt's error code still decides the kind
    assert str(err).startswith("Migrate g to dst failed after ")
    assert str(err).endswith(": domain 'g' is already active; " + held_job_note("g", "src"))
    assert "libvirtd on src still holds g's migration job" in str(err)
    assert "libvirtd restarts there" in str(err)


def test_the_error_is_libvirts_own_when_the_job_is_free_or_the_probe_cannot_tell() -> None:
    for case in ("job free", "probe fails", "probe unsupported", "another driver"):
        src, _dest, guest = ends([])
        guest.migrate_error = libvirt.VIR_ERR_INTERNAL_ERROR
        guest.job = libvirt.VIR_DOMAIN_JOB_UNBOUNDED
        if case == "job free":
            guest.job = libvirt.VIR_DOMAIN_JOB_NONE
        elif case == "probe fails":
            guest.job_error = libvirt.VIR_ERR_RPC
        elif case == "probe unsupported":
            guest.job_error = libvirt.VIR_ERR_NO_SUPPORT
        else:
            src.driver = "QEMU"
        err = failed_migration(src, guest)
        assert str(err).endswith(": domain 'g' is already active"), (case, err)
        assert ("jobInfo" in guest.calls) == (case != "another driver"), case


def test_job_held_reads_the_job_type() -> None:
    src, _dest, guest = ends([])
    assert job_held(src, guest) is False  # type: ignore[arg-type]
    guest.job = libvirt.VIR_DOMAIN_JOB_UNBOUNDED
    assert job_held(src, guest) is True  # type: ignore[arg-type]
    src.driver = "libxl"
    assert job_held(src, guest) is True  # type: ignore[arg-type]
    src.driver = "Test"
    assert job_held(src, guest) is None  # type: ignore[arg-type]
