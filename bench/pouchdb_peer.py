"""The PouchDB peer of the push row: docs/s that PouchDB 9 replicates over loopback HTTP.

What is measured: ``bench/pouchdb/replicate.js`` fills a memory PouchDB (the township) with N
documents of about the given JSON size (random hex filler, so no compression can shrink them)
before the clock starts, then times one ``PouchDB.replicate`` into ``bench/pouchdb/server.js``,
an express-pouchdb server on 127.0.0.1 over memory storage (the county hub), with
``batch_size`` 500, and checks that the remote ends with N documents. Why it is a fair peer:
it is what a developer would reach for to sync an offline office; it moves the same number of
documents of the same size in the same batches over the same loopback HTTP as our push to the
county hub; and it is given the easier job, since PouchDB verifies nothing while the hub checks
every signature and writes to PostgreSQL, where PouchDB keeps everything in memory.

``python -m bench.pouchdb_peer --docs 2000 --doc-bytes 400`` installs the peer once into
``bench/pouchdb/node_modules`` with npm (the only step that needs the network), runs it, and
prints the result; where ``node`` or ``npm`` is missing it prints why the row is skipped and
exits 0.
"""

from __future__ import annotations

import argparse
import json
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent / "pouchdb"
"""The peer's npm package: package.json, the lock, server.js, replicate.js."""
BATCH = 500
"""Documents per replication batch, as the push row's batch of events."""
INSTALL_TIMEOUT = 600.0
"""Seconds for npm to install the peer (about ten on this machine with the registry near)."""
SKIPPED = "the PouchDB peer row is skipped"
READY_TIMEOUT = 30.0
"""Seconds for server.js to print its ready line (it needs well under one)."""


@dataclass(frozen=True)
class PeerRun:
    """One timed replication, as replicate.js reported it."""

    docs: int
    seconds: float
    docs_per_s: float
    doc_bytes: int
    """The mean JSON size of a document in the source, as built."""
    batch: int
    version: str
    """PouchDB's own version string."""


def _installed() -> bool:
    """Whether every package that package.json names is in node_modules."""
    wanted = json.loads((HERE / "package.json").read_text(encoding="utf-8"))["dependencies"]
    return all((HERE / "node_modules" / name / "package.json").is_file() for name in wanted)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def _npm_reason(stderr: str) -> str:
    """npm's own words for a failure: its error code and first message, not its log path."""
    said = [
        line.split(None, 2)[2].strip()
        for line in stderr.splitlines()
        if line.startswith(("npm error ", "npm ERR! ")) and len(line.split(None, 2)) == 3
    ]
    code = next((s.split()[1] for s in said if s.startswith("code ") and len(s.split()) > 1), "")
    # The first line past the code/errno/syscall fields is the message itself.
    fields = ("code ", "errno ", "syscall ", "path ", "A complete log")
    message = next((s for s in said if not s.startswith(fields)), "")
    return ": ".join(part for part in (code, message) if part) or _last_line(stderr)


def install(quiet: bool = True) -> str | None:
    """Install the peer's npm packages once; None when ready, else why the row is skipped."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return f"{'node' if node is None else 'npm'} not found: {SKIPPED}"
    if _installed():
        return None
    # npm ci keeps to the lock exactly; install only if someone removed the lock.
    verb = "ci" if (HERE / "package-lock.json").is_file() else "install"
    # No install script is needed: the source and the server both use the memory adapter,
    # and leveldown (which pouchdb pulls in) ships its binaries prebuilt in the package.
    command = [npm, verb, "--ignore-scripts", "--no-audit", "--no-fund"]
    try:
        done = subprocess.run(
            command,
            cwd=HERE,
            capture_output=quiet,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"npm {verb} took over {INSTALL_TIMEOUT:.0f} s: {SKIPPED}"
    except OSError as error:
        return f"npm {verb} could not start ({error}): {SKIPPED}"
    if done.returncode != 0 or not _installed():
        said = _npm_reason(done.stderr or "") if quiet else "see above"
        return f"npm {verb} failed (exit {done.returncode}: {said}): {SKIPPED}"
    return None


def _read_lines(stream: IO[str], into: queue.Queue[str | None]) -> None:
    """Hand each line of ``stream`` to ``into``, then None at its end."""
    for line in stream:
        into.put(line)
    into.put(None)


def _wait_ready(server: subprocess.Popen[str], timeout: float) -> int:
    """The port from server.js's ``listening PORT`` line, or RuntimeError."""
    assert server.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    # A thread, so the wait has a deadline even if the server prints nothing at all.
    threading.Thread(target=_read_lines, args=(server.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            raise RuntimeError("server.js ended before it was ready")
        word, _, port = line.strip().partition(" ")
        if word == "listening" and port.isdigit():
            return int(port)
    raise RuntimeError(f"server.js printed no ready line within {timeout:.0f} s")


def _stop(server: subprocess.Popen[str]) -> None:
    """Terminate the server, and kill it if it lingers."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def replicate(docs: int, doc_bytes: int, batch: int = BATCH) -> PeerRun:
    """Start a fresh server, time one replication of ``docs`` documents into it, stop it."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node not found")
    # The server's stderr goes to a file, not a pipe, so a chatty server can never block.
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as server_errors,
        subprocess.Popen(
            [node, "server.js", "0"],
            cwd=HERE,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=server_errors,
            text=True,
        ) as server,
    ):

        def fail(what: str) -> RuntimeError:
            _stop(server)
            server_errors.seek(0)
            said = server_errors.read().strip()
            return RuntimeError(f"{what}; server.js said: {said}" if said else what)

        try:
            try:
                port = _wait_ready(server, READY_TIMEOUT)
            except RuntimeError as error:
                raise fail(str(error)) from None
            # Generous: a minute for start-up and filling, then 100 docs/s, some thirty times
            # slower than PouchDB goes here; it only keeps a wedged run from hanging the bench.
            limit = 60.0 + docs / 100
            command = [node, "replicate.js", f"http://127.0.0.1:{port}"]
            command += [str(docs), str(doc_bytes), str(batch)]
            try:
                done = subprocess.run(
                    command,
                    cwd=HERE,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    text=True,
                    timeout=limit,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise fail(f"replicate.js took over {limit:.0f} s") from None
            if done.returncode != 0:
                raise fail(f"replicate.js failed (exit {done.returncode}): {done.stderr.strip()}")
            try:
                said = json.loads(_last_line(done.stdout))
                return PeerRun(
                    docs=int(said["docs"]),
                    seconds=float(said["seconds"]),
                    docs_per_s=float(said["docs_per_s"]),
                    doc_bytes=int(said["doc_bytes"]),
                    batch=int(said["batch"]),
                    version=str(said["pouchdb"]),
                )
            except (ValueError, KeyError, TypeError) as error:
                raise fail(
                    f"replicate.js printed no result ({error!r}): {done.stdout.strip()!r}; "
                    f"its stderr: {done.stderr.strip()}"
                ) from None
        finally:
            _stop(server)


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive whole number")
    return value


def main(argv: Sequence[str] | None = None) -> None:
    """Install the peer if needed, run it once, print the row (or why it is skipped)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=_positive, default=2000, help="default 2000")
    parser.add_argument("--doc-bytes", type=_positive, default=400, help="default 400")
    parser.add_argument("--batch", type=_positive, default=BATCH, help=f"default {BATCH}")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    skipped = install()
    if skipped is not None:
        print(skipped)
        return
    installed_in = time.perf_counter() - began
    run = replicate(args.docs, args.doc_bytes, args.batch)
    print(
        f"PouchDB {run.version} → express-pouchdb over loopback HTTP, verifying nothing: "
        f"{run.docs} docs of {run.doc_bytes} B in batches of {run.batch}: "
        f"{run.seconds:.2f} s, {run.docs_per_s:,.0f} docs/s"
    )
    if installed_in > 1:
        print(f"(npm install first: {installed_in:.1f} s)")


# No sys.exit here: ``python -m bench`` runs this module with runpy as __main__, and a
# SystemExit would end its loop over the other benchmarks too.
if __name__ == "__main__":
    main()
