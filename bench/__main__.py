"""``python -m bench``: run every benchmark at a quick size, or one at the size you give.

``python -m bench``                   every benchmark below, with its quick arguments
``python -m bench --list``            what there is, and how to run it at full size
``python -m bench NAME [ARGS...]``    one benchmark with its own arguments (``NAME --help``)

Each benchmark is also a module of its own: ``python -m bench.NAME``.
"""

from __future__ import annotations

import runpy
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Benchmark:
    """A runnable benchmark module and its quick arguments."""

    name: str
    about: str
    quick: tuple[str, ...]
    """Arguments for ``python -m bench`` (well under a minute each)."""
    full: tuple[str, ...]
    """The module's own default size (what ``python -m bench.NAME`` runs)."""


BENCHMARKS = (
    Benchmark(
        "sync_payload",
        "bytes per event raw, in the batch body, on the wire (zlib-6); zlib-9, lzma, zstd peers",
        ("--applications", "200"),
        ("--applications", "2000"),
    ),
    Benchmark(
        "queue_paging",
        "department queue pages and PageDown on a big office (grown once, cached in bench/.cache)",
        ("--tasks", "2000"),
        ("--tasks", "100000"),
    ),
)


def run(benchmark: Benchmark, args: Sequence[str]) -> None:
    """Run one benchmark module as ``python -m bench.NAME ARGS``."""
    saved = sys.argv
    sys.argv = [f"bench.{benchmark.name}", *args]
    try:
        runpy.run_module(f"bench.{benchmark.name}", run_name="__main__", alter_sys=True)
    finally:
        sys.argv = saved


def main(argv: Sequence[str]) -> int:
    """List, run one, or run all quickly; the exit status."""
    by_name = {b.name: b for b in BENCHMARKS}
    if argv and argv[0] in ("--list", "-l", "--help", "-h"):
        print(__doc__)
        for b in BENCHMARKS:
            print(f"  {b.name:<14} {b.about}")
            print(f"  {'':<14} quick: {' '.join(b.quick)}   full: {' '.join(b.full)}")
        return 0
    if argv:
        benchmark = by_name.get(argv[0])
        if benchmark is None:
            print(f"no benchmark {argv[0]!r}; there are: {', '.join(by_name)}", file=sys.stderr)
            return 2
        run(benchmark, argv[1:])
        return 0
    for benchmark in BENCHMARKS:
        print(f"== {benchmark.name} {' '.join(benchmark.quick)}", flush=True)
        started = time.perf_counter()
        run(benchmark, benchmark.quick)
        print(f"== {benchmark.name}: {time.perf_counter() - started:.1f} s\n", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
