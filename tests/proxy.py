"""A TCP proxy on loopback that counts the bytes each way and cuts the link at chosen bytes.

Each connection is served by one thread that moves bytes both ways with ``select``; when the
byte at a scheduled offset of a direction's stream arrives, the bytes before it go through and
both sockets are closed abruptly (a reset, not a polite end), as when a rural line drops.
"""

from __future__ import annotations

import select
import socket
import struct
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager

UP, DOWN = 0, 1
"""Directions: the office below to the hub, and back."""
CHUNK = 64 * 1024
STALL = 60.0
"""Seconds a side may leave the proxy's writes unread before the proxy drops the connection."""


class CuttingProxy:
    """Forwards ``127.0.0.1:port`` to ``target``; cuts at each scheduled ``(direction, offset)``."""

    def __init__(self, target: int, cuts: list[tuple[int, int]] | None = None) -> None:
        self.target = target
        self.sent = [0, 0]
        """Bytes each side put on the link (received by the proxy), cut or not."""
        self.cuts_done: list[tuple[int, int]] = []
        self._schedule = [sorted(o for d, o in cuts or [] if d == way) for way in (UP, DOWN)]
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def total(self) -> int:
        """Bytes sent both ways."""
        return self.sent[UP] + self.sent[DOWN]

    def start(self) -> None:
        """Accept connections in a thread of its own."""
        self._spawn(self._accept)

    def stop(self) -> None:
        """Stop accepting and wait for the connections' threads."""
        self._stopping.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=10)

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                below, _ = self._listener.accept()
            except OSError:
                return
            try:
                above = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                _reset(below)
                continue
            self._spawn(self._serve, below, above)

    def _serve(self, below: socket.socket, above: socket.socket) -> None:
        ends = {below: (above, UP), above: (below, DOWN)}
        for end in ends:
            end.settimeout(STALL)
        try:
            while not self._stopping.is_set():
                ready, _, _ = select.select(list(ends), [], [], 0.2)
                for source in ready:
                    sink, way = ends[source]
                    data = source.recv(CHUNK)
                    if not data:
                        return
                    keep = self._count(way, len(data))
                    sink.sendall(data[:keep])
                    if keep < len(data):
                        _reset(below, above)
                        return
        except OSError:
            return
        finally:
            below.close()
            above.close()

    def _count(self, way: int, size: int) -> int:
        """Count ``size`` bytes sent ``way``; how many of them pass before a scheduled cut."""
        with self._lock:
            start = self.sent[way]
            self.sent[way] += size
            pending = self._schedule[way]
            if pending and pending[0] < start + size:
                # Two cuts in one chunk: the second falls on the next bytes this way.
                offset = pending.pop(0)
                self.cuts_done.append((way, offset))
                return max(offset - start, 0)
            return size


def _reset(*sockets: socket.socket) -> None:
    """Close with a reset: linger on, timeout zero."""
    for sock in sockets:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()


def drain(process: subprocess.Popen[bytes]) -> list[bytes]:
    """Read a process's piped output in a thread, so that it never blocks on a full pipe."""
    lines: list[bytes] = []
    if process.stdout is not None:
        stream = process.stdout
        threading.Thread(target=lambda: lines.extend(stream), daemon=True).start()
    return lines


@contextmanager
def cutting_proxy(target: int, cuts: list[tuple[int, int]] | None = None) -> Iterator[CuttingProxy]:
    """A running ``CuttingProxy`` in front of loopback port ``target``."""
    proxy = CuttingProxy(target, cuts)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
