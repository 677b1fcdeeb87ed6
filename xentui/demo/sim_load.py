"""How a simulated guest's figures move: CPU load models, ballooned memory, disk and NIC traffic.

Every figure is a pure function of the guest's parameters (drawn once from the fleet's seed)
and a time in seconds, with a closed-form (or bucket-exact) integral, so cumulative counters
grow exactly as fast as the rates say and the same times give the same numbers. No clock,
no randomness at read time, and nothing from libvirt, textual or rich.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Protocol

NS_PER_PCT_S = 10_000_000
"""Nanoseconds of CPU time that 1 % of one CPU accumulates in one second."""

_MASK = (1 << 64) - 1


def mix(*parts: int) -> int:
    """A 64-bit hash of integers (splitmix64 steps): stable across runs and processes."""
    x = 0x9E3779B97F4A7C15
    for part in parts:
        x = (x ^ (part & _MASK)) & _MASK
        x = (x + 0x9E3779B97F4A7C15) & _MASK
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
        x ^= x >> 31
    return x


def unit(*parts: int) -> float:
    """A number in [0, 1) hashed from integers."""
    return (mix(*parts) >> 11) / float(1 << 53)


@dataclass(frozen=True, slots=True)
class Wave:
    """`base + Σ a·sin(ω·t + φ)`: a level that wanders smoothly and never crosses its band."""

    base: float
    terms: tuple[tuple[float, float, float], ...] = ()
    """(amplitude, angular frequency in rad/s, phase) of each sine."""

    @classmethod
    def wander(
        cls, rng: random.Random, base: float, spread: float, periods: tuple[float, float]
    ) -> Wave:
        """A wave around `base` that stays within `base ± spread`: a slow and a faster sine."""
        lo, hi = periods
        slow = 2 * math.pi / rng.uniform(lo * 2, hi * 2)
        fast = 2 * math.pi / rng.uniform(lo / 2, hi / 2)
        return cls(
            base,
            (
                (spread * 0.62, slow, rng.uniform(0, 2 * math.pi)),
                (spread * 0.37, fast, rng.uniform(0, 2 * math.pi)),
            ),
        )

    def at(self, t: float) -> float:
        return self.base + sum(a * math.sin(w * t + p) for a, w, p in self.terms)

    def integral(self, t0: float, t1: float) -> float:
        """∫ from t0 to t1 of the wave (exact)."""
        total = self.base * (t1 - t0)
        for a, w, p in self.terms:
            total += a / w * (math.cos(w * t0 + p) - math.cos(w * t1 + p))
        return total

    @property
    def low(self) -> float:
        return self.base - sum(abs(a) for a, _w, _p in self.terms)

    @property
    def high(self) -> float:
        return self.base + sum(abs(a) for a, _w, _p in self.terms)


class CpuLoad(Protocol):
    """A guest's CPU use in percent of one CPU (a 4-vCPU guest flat out reads 400)."""

    @property
    def kind(self) -> str: ...

    @property
    def mean(self) -> float: ...

    def pct(self, t: float) -> float: ...

    def integral(self, t0: float, t1: float) -> float:
        """Percent-seconds used between t0 and t1; times NS_PER_PCT_S gives CPU time."""
        ...


@dataclass(frozen=True, slots=True)
class SteadyLoad:
    """Idle, busy, pegged or Domain-0: a level wandering within a band."""

    kind: str
    wave: Wave

    @property
    def mean(self) -> float:
        return self.wave.base

    def pct(self, t: float) -> float:
        return self.wave.at(t)

    def integral(self, t0: float, t1: float) -> float:
        return self.wave.integral(t0, t1)


@dataclass(frozen=True, slots=True)
class BurstyLoad:
    """Mostly idle; now and then a slot of `bucket_s` seconds runs hot."""

    floor: Wave
    key: int
    peak: float
    chance: float = 0.18
    bucket_s: float = 20.0
    kind: str = "bursty"

    @property
    def mean(self) -> float:
        return self.floor.base + self.chance * self.peak * 0.8

    def _burst(self, k: int) -> float:
        if unit(self.key, k, 0) >= self.chance:
            return 0.0
        return self.peak * (0.6 + 0.4 * unit(self.key, k, 1))

    def pct(self, t: float) -> float:
        return self.floor.at(t) + self._burst(math.floor(t / self.bucket_s))

    def integral(self, t0: float, t1: float) -> float:
        if t1 <= t0:
            return 0.0
        size = self.bucket_s
        total = self.floor.integral(t0, t1)
        k0, k1 = math.floor(t0 / size), math.floor(t1 / size)
        if k1 - k0 > 20_000:  # a jump over days: the slots in between count at their mean
            middle = (k1 - k0 - 1) * size * self.chance * self.peak * 0.8
            return total + middle + self._bursts(t0, (k0 + 1) * size) + self._bursts(
                k1 * size, t1
            )
        return total + self._bursts(t0, t1)

    def _bursts(self, t0: float, t1: float) -> float:
        size = self.bucket_s
        total = 0.0
        for k in range(math.floor(t0 / size), math.floor(t1 / size) + 1):
            lo, hi = max(t0, k * size), min(t1, (k + 1) * size)
            if hi > lo:
                total += self._burst(k) * (hi - lo)
        return total


LOAD_KINDS = ("idle", "busy", "bursty", "pegged")


def make_cpu(kind: str, vcpus: int, rng: random.Random, key: int) -> CpuLoad:
    """A CPU load model of a kind: idle 1–3 %, busy 30–70 %, bursty, pegged ≈ vcpus × 100,
    or dom0 (a few percent)."""
    if kind == "idle":
        return SteadyLoad(kind, Wave.wander(rng, rng.uniform(1.8, 2.2), 0.75, (30, 300)))
    if kind == "busy":
        return SteadyLoad(kind, Wave.wander(rng, rng.uniform(46, 54), 15.0, (40, 400)))
    if kind == "pegged":
        full = 100.0 * vcpus
        return SteadyLoad(kind, Wave.wander(rng, full * 0.995, full * 0.003, (10, 60)))
    if kind == "dom0":
        return SteadyLoad(kind, Wave.wander(rng, rng.uniform(2.8, 3.4), 1.4, (20, 200)))
    if kind == "bursty":
        floor = Wave.wander(rng, rng.uniform(1.6, 2.0), 0.6, (30, 300))
        peak = rng.uniform(35, 85) * min(vcpus, 2)
        return BurstyLoad(floor, key, peak)
    raise ValueError(f"unknown load kind {kind!r}")


@dataclass(frozen=True, slots=True)
class Balloon:
    """Memory the balloon driver leaves the guest: moves slowly between lo and hi of maxmem."""

    maxmem_kib: int
    lo: float = 1.0
    hi: float = 1.0
    omega: float = 0.0
    phase: float = 0.0

    def at(self, t: float) -> int:
        if self.lo >= 1.0:
            return self.maxmem_kib
        share = self.lo + (self.hi - self.lo) * (0.5 + 0.5 * math.sin(self.omega * t + self.phase))
        return min(self.maxmem_kib, int(self.maxmem_kib * share) // 1024 * 1024)


@dataclass(frozen=True, slots=True)
class Traffic:
    """Bytes per second one way (a disk's reads, a NIC's receive side), and the mean size
    of one request or packet, to count those too."""

    rate: Wave
    unit_bytes: int

    def bytes(self, t0: float, t1: float) -> float:
        return self.rate.integral(t0, t1)


@dataclass(frozen=True, slots=True)
class DiskLoad:
    dev: str
    read: Traffic
    write: Traffic


@dataclass(frozen=True, slots=True)
class Profile:
    """Everything that moves in one guest: its CPU, its balloon, its disks and its NIC."""

    cpu: CpuLoad
    balloon: Balloon
    disks: tuple[DiskLoad, ...]
    rx: Traffic | None
    tx: Traffic | None


def _traffic(rng: random.Random, lo: float, hi: float, unit_bytes: int) -> Traffic:
    base = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    return Traffic(Wave.wander(rng, base, base * 0.75, (30, 900)), unit_bytes)


def make_profile(
    kind: str,
    vcpus: int,
    maxmem_kib: int,
    rng: random.Random,
    key: int,
    *,
    ballooned: bool = True,
    disks: int = 1,
    nic: bool = True,
) -> Profile:
    """A guest's profile drawn from `rng`: each guest gets its own rates and rhythms."""
    cpu = make_cpu(kind, vcpus, rng, key)
    if ballooned:
        lo = rng.uniform(0.55, 0.75)
        balloon = Balloon(
            maxmem_kib, lo, rng.uniform(lo + 0.1, 0.97),
            2 * math.pi / rng.uniform(1200, 3600), rng.uniform(0, 2 * math.pi),
        )
    else:
        balloon = Balloon(maxmem_kib)
    scale = {"idle": 0.3, "busy": 3.0, "bursty": 1.0, "pegged": 2.0}.get(kind, 1.0)
    devs = tuple(
        DiskLoad(
            f"xvd{chr(ord('a') + i)}",
            _traffic(rng, 4e3 * scale, 4e6 * scale / (i + 1), rng.choice((4096, 16384, 65536))),
            _traffic(rng, 2e3 * scale, 2e6 * scale / (i + 1), rng.choice((4096, 8192, 32768))),
        )
        for i in range(disks)
    )
    rx = _traffic(rng, 1e3 * scale, 6e6 * scale, rng.choice((600, 900, 1200))) if nic else None
    tx = _traffic(rng, 1e3 * scale, 3e6 * scale, rng.choice((400, 800, 1400))) if nic else None
    return Profile(cpu, balloon, devs, rx, tx)
