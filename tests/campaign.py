"""What the reliability campaigns share: their size from the environment (a fast sample in
``make test``, the full campaign in ``make stress``) and their one summary line."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest


def size(variable: str, sample: int) -> int:
    """The campaign size ``variable`` asks for, or the fast sample."""
    return int(os.environ.get(variable, str(sample)))


@dataclass
class Tally:
    """Trials run by the tests of one module, for its summary line."""

    trials: int = 0


def summary(name: str, tally: Tally, request: pytest.FixtureRequest) -> Iterator[Tally]:
    """A module fixture's body: count the trials, then print the campaign's summary line,
    whose failures are the module's failed tests (every test asserts that nothing changed
    on a refusal, so a lost or altered row is a failure too)."""
    failed = request.session.testsfailed
    yield tally
    failures = request.session.testsfailed - failed
    print(  # the campaign's summary line (make stress shows it)
        f"\nstress {name}: trials {tally.trials}, failures {failures}, data lost {failures}"
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """As a plugin (``-p tests.campaign``) with ONEWINDOW_CAMPAIGN set: the summary line of a
    campaign made of ordinary tests, each a trial (every test asserts that a refusal changed
    nothing, so a failed one counts as data lost too)."""
    name = os.environ.get("ONEWINDOW_CAMPAIGN")
    if not name:
        return
    stats = terminalreporter.stats
    passed = len(stats.get("passed", []))
    failed = len(stats.get("failed", [])) + len(stats.get("error", []))
    skipped = len(stats.get("skipped", []))
    terminalreporter.write_line(
        f"stress {name}: trials {passed + failed}, failures {failed}, data lost {failed}, "
        f"skipped {skipped}"
    )
