"""Which departments the published matters route to, and what their tasks are called."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workstation.catalog.schema import Names
    from workstation.workbench import Workbench


@dataclass(frozen=True)
class Routing:
    """Names of tasks and departments, read once from the published matters."""

    tasks: dict[tuple[str, str], Names]
    """(department, task code) → the task's name."""
    departments: list[str]
    """Every department some matter routes to, in the order they were published."""


def read_routing(bench: Workbench) -> Routing:
    """Task names by department and code, from every published matter (a few quick reads)."""
    names: dict[tuple[str, str], Names] = {}
    for choice in bench.matters():
        for spec in bench.matter(choice.code).tasks:
            names.setdefault((spec.department, spec.code), spec.name)
    published = bench.department_names()
    order = list(published)
    used = {department for department, _ in names}
    ranked = sorted(used, key=lambda d: (order.index(d) if d in order else len(order), d))
    return Routing(names, ranked)
