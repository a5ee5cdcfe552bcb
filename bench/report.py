"""What a run found, written down: bench/RESULTS.md for people, bench/results.json for tools."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.lib import Figure

LIBRARIES = ("sqlalchemy", "sqlmodel", "textual", "rich", "cryptography", "psycopg", "fastapi")


def machine() -> dict[str, Any]:
    """The machine, Python and library versions a run was made on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _postgres_version(),
        "node": _command_version(["node", "--version"]),
        "libraries": versions,
    }


def _command_version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "absent"
    return done.stdout.strip() or "absent"


def _postgres_version() -> str:
    from bench.places import postgres_url

    url = postgres_url()
    if url is None:
        return "absent"
    import psycopg

    with psycopg.connect(url.replace("+psycopg", "")) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


def write(folder: Path, figures: list[Figure], about: dict[str, Any], quick: bool) -> Path:
    """Write RESULTS.md and results.json into ``folder``; the Markdown file's path."""
    data = {"quick": quick, "machine": about, "figures": [f.as_json() for f in figures]}
    (folder / "results.json").write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    out = folder / "RESULTS.md"
    out.write_text(markdown(figures, about, quick), encoding="utf-8")
    return out


def markdown(figures: list[Figure], about: dict[str, Any], quick: bool) -> str:
    """The results as a Markdown page."""
    libraries = ", ".join(f"{k} {v}" for k, v in about["libraries"].items())
    lines = [
        "# Benchmark results",
        "",
        f"`make {'bench-quick' if quick else 'bench'}` on {about['when']}: {about['cpu']}, "
        f"{about['cores']} cores, {about['system']}; Python {about['python']}, "
        f"SQLite {about['sqlite']}, PostgreSQL {about['postgresql']}, Node {about['node']}; "
        f"{libraries}.",
        "",
        "Each value is the median of its rounds with the min–max beside it; its limit or peer "
        "was measured in the same run, the two sides taking turns. The ratio is ours over "
        "the limit's (for times, the limit's over ours): higher is better.",
        "",
        "| figure | value | limit or peer (same run) | ratio | target | result |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures:
        peer = f"{f.peer_title}: {f.peer.text(f.digits)}" if f.peer is not None else f.peer_title
        ratio = f"{f.ratio:.2f}×" if f.ratio is not None else "—"
        verdict = {True: "pass", False: "**miss**", None: "not judged"}[f.passed]
        lines.append(
            f"| {f.title} | {f.value.text(f.digits)} {f.unit} | {peer or '—'} | {ratio} "
            f"| {f.target} | {verdict} |"
        )
    notes = [f"- **{f.title}**: {f.note}" for f in figures if f.note]
    if notes:
        lines += ["", "## Notes", "", *notes]
    return "\n".join(lines) + "\n"
