"""``python -m bench``: measure every hot path beside its limit or peer, write RESULTS.md.

``python -m bench``                  the full sizes (``make bench``)
``python -m bench --quick``          small sizes, under three minutes (``make bench-quick``)
``python -m bench --only NAME ...``  some rows only (``--list`` names them)

Every row runs its own rounds, ours and the limit's in turn; the results go to
``bench/RESULTS.md`` and ``bench/results.json``. A row that fails is reported as failed and
makes the exit status 1; the other rows still run. Each older module also runs alone, with
its own arguments: ``python -m bench.sync_payload --help``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from bench import report
from bench.lib import Figure, Row, Size, Spread

ROWS = (
    "bench.intake_speed",
    "bench.log_speed",
    "bench.push_speed",
    "bench.townships",
    "bench.screen_speed",
)
"""The modules holding a ``ROW`` each, in the order RESULTS.md lists them."""
HERE = Path(__file__).resolve().parent


def rows() -> list[Row]:
    """Every row, imported."""
    return [importlib.import_module(name).ROW for name in ROWS]


def failed(row: Row, error: BaseException) -> Figure:
    """The line a row that broke leaves in the results."""
    reason = "".join(traceback.format_exception_only(error)).strip().splitlines()[-1]
    return Figure(
        key=f"{row.name}.failed",
        title=f"{row.name} (failed)",
        unit="",
        value=Spread(0, 0, 0, 1),
        target="runs",
        passed=False,
        note=reason,
    )


def main(argv: Sequence[str]) -> int:
    """Run the rows asked for and write the results; the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (bench-quick)")
    parser.add_argument("--rounds", type=int, help="rounds per figure (default 3, quick 2)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="these rows only")
    parser.add_argument("--list", action="store_true", help="name the rows and stop")
    args = parser.parse_args(argv)
    console = Console(stderr=True)
    chosen = rows()
    if args.list:
        for row in chosen:
            print(f"{row.name:<16} {row.about}")
        return 0
    if args.only:
        unknown = set(args.only) - {row.name for row in chosen}
        if unknown:
            console.print(f"no row named {', '.join(sorted(unknown))}; see --list")
            return 2
        chosen = [row for row in chosen if row.name in args.only]
    size = Size(quick=args.quick, rounds=args.rounds or (2 if args.quick else 3))
    figures: list[Figure] = []
    status = 0
    columns = (
        TextColumn("[bold]{task.fields[row]:<14}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("", total=len(chosen), row="")
        for row in chosen:
            progress.update(task, row=row.name, description=row.about)

            def note(text: str, row: Row = row) -> None:
                progress.update(task, description=f"{row.about}: {text}")

            try:
                found = row.run(size, note)
            except Exception as error:  # a broken row is a result too; the rest still run
                console.print_exception()
                found, status = [failed(row, error)], 1
            figures += found
            for figure in found:
                progress.console.print(_line(figure))
            progress.advance(task)
    written = report.write(HERE, figures, report.machine(), size.quick)
    console.print(f"written: {written} and {HERE / 'results.json'}")
    missed = [f.title for f in figures if f.passed is False]
    if missed:
        console.print(f"targets missed: {', '.join(missed)}")
    return status


def _line(figure: Figure) -> str:
    verdict = {True: "pass", False: "MISS", None: "—"}[figure.passed]
    ratio = f"  {figure.ratio:.2f}×" if figure.ratio is not None else ""
    return f"  {verdict:<4} {figure.title}: {figure.value.text(figure.digits)} {figure.unit}{ratio}"


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
