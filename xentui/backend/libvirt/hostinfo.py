"""Facts about the host behind a connection, and Dom0's own load when it is local."""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import replace

import psutil

import libvirt
from xentui.backend.models import Dom0Load, HostInfo


def _version(n: int) -> str:
    return f"{n // 1_000_000}.{n // 1000 % 1000}.{n % 1000}"


def read_host_info(conn: libvirt.virConnect, uri: str) -> HostInfo:
    """Static facts: node CPUs, MHz, memory; hypervisor type and version (blocking)."""
    model, mem_mib, cpus, mhz, *_ = conn.getInfo()
    try:
        hv_version = _version(conn.getVersion())
    except libvirt.libvirtError:
        hv_version = "?"
    try:
        hostname = conn.getHostname()
    except libvirt.libvirtError:
        hostname = socket.gethostname()
    return HostInfo(
        uri=uri,
        hostname=hostname,
        hypervisor=conn.getType(),
        hv_version=hv_version,
        libvirt_version=_version(conn.getLibVersion()),
        cpus=cpus,
        mhz=mhz,
        cpu_model=model,
        memory_kib=mem_mib * 1024,
    )


FREE_MEMORY_EVERY_S = 5.0
"""Seconds between reads of a host's free memory while no domain event comes: it moves
when domains start, stop or balloon (events ask for a read at the next pass), and a
fleet of twenty hosts would otherwise make twenty more calls every interval."""


def refresh_host_info(conn: libvirt.virConnect, info: HostInfo, local: bool,
                      read_free: bool = True) -> HostInfo:
    """The moving parts: free memory (`read_free` False keeps the held figure), and
    Dom0's load when the host is this machine."""
    free_kib = info.free_kib
    if read_free:
        try:
            free_kib = conn.getFreeMemory() // 1024
        except libvirt.libvirtError:
            free_kib = None
    return replace(info, free_kib=free_kib, dom0=read_dom0_load() if local else None)


DOM0_MIN_AGE_S = 0.5


class _Dom0Reading:
    """This machine's load is one fact however many local connections ask for it: read
    at most every DOM0_MIN_AGE_S (psutil's CPU figure is 'since the previous call', so
    twenty hosts asking in turn would each see a 50 ms slice)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._at = -DOM0_MIN_AGE_S
        self._last: Dom0Load | None = None

    def get(self) -> Dom0Load:
        with self._lock:
            now = time.monotonic()
            if self._last is None or now - self._at >= DOM0_MIN_AGE_S:
                vm = psutil.virtual_memory()
                self._last = Dom0Load(
                    cpu_pct=psutil.cpu_percent(None) * (psutil.cpu_count() or 1),
                    mem_used_kib=(vm.total - vm.available) // 1024,
                    mem_total_kib=vm.total // 1024,
                    load=os.getloadavg(),
                )
                self._at = now
            return self._last


_DOM0 = _Dom0Reading()


def read_dom0_load() -> Dom0Load:
    """This machine's CPU (over the last half second or more), memory and load."""
    return _DOM0.get()
