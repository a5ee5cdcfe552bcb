"""What every benchmark row shares: interleaved rounds, spreads, figures and the run's sizes.

A row measures our figure and its limit or peer in the same run, round by round, one side
after the other (so a noisy neighbour on a shared machine hits both alike), and reports the
median with the min–max of the rounds, the ratio of the medians, and whether the target holds.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Size:
    """How big a run is: ``quick`` for ``make bench-quick``, else the issue's full sizes."""

    quick: bool
    rounds: int

    def pick(self, quick: int, full: int) -> int:
        """``quick`` in a quick run, else ``full``."""
        return quick if self.quick else full


@dataclass(frozen=True)
class Spread:
    """The median of repeated rounds, with the lowest and highest."""

    median: float
    low: float
    high: float
    rounds: int

    @classmethod
    def of(cls, samples: list[float]) -> Spread:
        """The spread of ``samples`` (at least one)."""
        return cls(statistics.median(samples), min(samples), max(samples), len(samples))

    def text(self, digits: int = 0) -> str:
        """``median (min–max)``, with ``digits`` after the point."""
        if self.rounds == 1:
            return f"{self.median:,.{digits}f}"
        return f"{self.median:,.{digits}f} ({self.low:,.{digits}f}–{self.high:,.{digits}f})"


@dataclass(frozen=True)
class Figure:
    """One row of RESULTS.md: our value beside its limit or peer, and the target."""

    key: str
    title: str
    unit: str
    value: Spread
    target: str
    passed: bool | None
    """None where the run could not judge (a skipped peer)."""
    peer_title: str = ""
    peer: Spread | None = None
    ratio: float | None = None
    """Our median over the peer's (for times: the peer's over ours, so higher is better)."""
    digits: int = 0
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The figure as results.json holds it."""
        return asdict(self)


def interleave(
    ours: Callable[[], float], peer: Callable[[], float] | None, rounds: int
) -> tuple[list[float], list[float]]:
    """``rounds`` samples of each side, taken turn about (ours first)."""
    mine: list[float] = []
    theirs: list[float] = []
    for _ in range(rounds):
        mine.append(ours())
        if peer is not None:
            theirs.append(peer())
    return mine, theirs


def rate(count: int, seconds: float) -> float:
    """Items per second (0 for no time at all, which only a broken clock gives)."""
    return count / seconds if seconds > 0 else 0.0


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """``with stopwatch() as took: ...``; afterwards ``took[0]`` is the seconds spent."""
    took: list[float] = []
    started = time.perf_counter()
    try:
        yield took
    finally:
        took.append(time.perf_counter() - started)


def at_least(value: float, bound: float) -> bool:
    """True when ``value`` reaches ``bound``."""
    return value >= bound


def at_most(value: float, bound: float) -> bool:
    """True when ``value`` stays within ``bound``."""
    return value <= bound


Note = Callable[[str], None]
"""How a row says what it is doing now (shown beside the progress bar)."""


@dataclass(frozen=True)
class Row:
    """A group of figures measured together (they share the data they are measured on)."""

    name: str
    about: str
    run: Callable[[Size, Note], list[Figure]]
