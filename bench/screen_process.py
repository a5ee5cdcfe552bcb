"""Whole processes for the screen row: cold start on a pseudo-terminal, and peak memory.

``python -m bench.screen_process memory DB KEYS OFFICER`` is the child whose peak RSS is
measured: it opens the app on DB under the Pilot, logs in as OFFICER, waits for the queue to
be painted and counted, and prints its high-water mark (VmHWM) in KiB.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

VENV = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
BARE = "import textual.app, sqlmodel"
"""The peer: what any Textual + SQLModel program imports before it can show anything."""
HWM = (
    "print(next(line.split()[1] for line in open('/proc/self/status') "
    "if line.startswith('VmHWM:')))"
)
"""The peer's last statement: its peak RSS in KiB (as ``high_water`` reads it)."""
COLUMNS, LINES = 120, 40
LOGIN_TITLE = "Log in"
"""A piece of the login screen's title (``ui.login.title`` in English)."""
_ESCAPES = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")


def environment(db: Path, keys: Path, home: Path) -> dict[str, str]:
    """The app's environment: this database and keys, English, no user config, our code."""
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT),
        TERM="xterm-256color",
        COLUMNS=str(COLUMNS),
        LINES=str(LINES),
        ONEWINDOW_DATABASE_URL=f"sqlite:///{db}",
        ONEWINDOW_KEY_DIR=str(keys),
        ONEWINDOW_CONFIG_DIR=str(home / "config"),
        ONEWINDOW_DATA_DIR=str(home / "data"),
        ONEWINDOW_LANGUAGE="en",
    )
    return env


def cold_start(db: Path, keys: Path, timeout: float = 30.0) -> float:
    """Seconds from spawning ``onewindow`` on a pty until the login title is on it."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
    with tempfile.TemporaryDirectory(prefix="onewindow-cold-") as home:
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(VENV / "onewindow")],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=environment(db, keys, Path(home)),
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        seen, took = b"", None
        try:
            while time.perf_counter() - started < timeout:
                ready, _, _ = select.select([master], [], [], 0.05)
                if not ready:
                    continue
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break  # the child closed the terminal: it ended
                if LOGIN_TITLE.encode() in _ESCAPES.sub(b"", seen):
                    took = time.perf_counter() - started
                    break
        finally:
            _stop(process, master)
    if took is None:
        tail = _ESCAPES.sub(b"", seen)[-400:].decode(errors="replace")
        raise RuntimeError(f"no login screen within {timeout:.0f} s; the pty showed: {tail!r}")
    return took


def _stop(process: subprocess.Popen[bytes], master: int) -> None:
    """End the app we spawned (its own session), draining the pty so it can exit."""
    process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 5
    while process.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                os.read(master, 65536)
            except OSError:
                break
    if process.poll() is None:
        process.kill()
    process.wait()
    os.close(master)


def high_water() -> int:
    """This process's peak RSS in KiB: VmHWM, which starts afresh at exec.

    (ru_maxrss would not do: Linux carries the parent's high-water mark over the fork and
    exec into it, so every child of a big parent would report the parent's size.)
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def bare_start() -> float:
    """Seconds for a whole ``python -c "import textual.app, sqlmodel"`` process."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", BARE], check=True)
    return time.perf_counter() - started


def bare_memory() -> float:
    """Peak RSS, in MiB, of a process that only imports Textual and SQLModel."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", f"{BARE}; {HWM}"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return int(done.stdout) / 1024


def queue_memory(db: Path, keys: Path, officer: str) -> float:
    """Peak RSS, in MiB, of the app logged in as ``officer`` with the queue open on ``db``."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "bench.screen_process", "memory", str(db), str(keys), officer],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    return int(done.stdout.strip().splitlines()[-1]) / 1024


async def _open_queue(db: Path, keys: Path, officer: str) -> None:
    from bench.county import NOW
    from screens.queue import QueueScreen
    from workstation import demo
    from workstation.app import build_app
    from workstation.db import make_engine
    from workstation.settings import load_settings

    settings = load_settings(key_dir=keys, cursor_blink=False)
    engine = make_engine(f"sqlite:///{db}")
    app = build_app(settings, engine=engine, clock=lambda: NOW)
    async with app.run_test(size=(COLUMNS, LINES)) as pilot:
        await pilot.press(*officer, "enter", *demo.PASSWORD, "enter")
        for _ in range(3):  # login, then the page, then the count after it
            await app.workers.wait_for_complete()
            await pilot.pause()
        screen = app.screen
        if not isinstance(screen, QueueScreen) or not screen.rows or screen.total is None:
            raise RuntimeError(f"the queue did not open: {screen!r}")


def main(argv: list[str]) -> int:
    """``memory DB KEYS OFFICER``: open the queue, print the peak RSS in KiB."""
    if argv[:1] != ["memory"] or len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    asyncio.run(_open_queue(Path(argv[1]), Path(argv[2]), argv[3]))
    print(high_water())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
