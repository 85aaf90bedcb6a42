"""Parse landed files in a second process while this one validates and writes earlier ones.

Parsing JSON lines is about half the cost of loading them and needs nothing from the warehouse,
so on a machine with a second core a worker can parse the next files meanwhile (the engine decides
which deliveries are worth it: ``engine.READ_AHEAD_MIN_BYTES``). The
worker is a plain ``python -m orchestration.ingestion.read_ahead`` process talking over its
standard input and output (length-prefixed pickles), not a ``multiprocessing`` pool: a spawned
pool re-imports the caller's main module, which breaks any script without a ``__main__`` guard,
and a forked one would copy DuckDB's threads and locks.

The caller gets exactly what ``readers.read_landed`` returns in this process, in order; an error in
the worker is raised here, naming the file. The worker is sent the whole list at once and parses
on while this process validates and writes: a thread here receives its results into a bounded
queue, and when that is full the worker waits (a pipe holds little), which bounds the memory.
"""

from __future__ import annotations

import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from orchestration.ingestion.contracts import Entity
from orchestration.ingestion.readers import LandedRead, read_landed

_LENGTH = struct.Struct("<Q")


class ReadAheadError(RuntimeError):
    """The worker failed to read a file (or died); the message names the file and the worker's error."""


def _send(stream: IO[bytes], value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)))
    stream.write(data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError
    (size,) = _LENGTH.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


def read_ahead(entity: Entity, paths: Sequence[Path], depth: int) -> Iterator[LandedRead]:
    """``read_landed(entity, path)`` for each path, in order, parsed by a worker process. A thread
    here receives the worker's results while the caller is busy, holding up to ``depth`` of them;
    beyond that the worker waits."""
    worker = subprocess.Popen(
        [sys.executable, "-m", __name__],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_root(), os.environ.get("PYTHONPATH")]))},
    )
    assert worker.stdin is not None and worker.stdout is not None
    received: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def receive() -> None:
        for _ in paths:
            try:
                reply = _receive(worker.stdout)
            except EOFError:
                reply = ("stopped", None)
            while not stop.is_set():
                try:
                    received.put(reply, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if stop.is_set() or reply[0] == "stopped":
                return

    receiver = threading.Thread(target=receive, name="read-ahead", daemon=True)
    try:
        _send(worker.stdin, (entity, list(paths)))
        worker.stdin.close()
        receiver.start()
        for path in paths:
            kind, value = received.get()
            if kind == "stopped":
                raise ReadAheadError(f"{path}: the read-ahead worker stopped (exit code {worker.wait()})")
            if kind == "error":
                raise ReadAheadError(f"{path}: {value}")
            yield value
    finally:
        stop.set()
        if worker.poll() is None and receiver.is_alive():
            worker.kill()  # the caller stopped early: results it will not read
        if receiver.ident is not None:
            receiver.join(timeout=10)
        worker.wait()
        worker.stdout.close()


def _root() -> str:
    """The directory holding the ``orchestration`` package, so the worker imports this code."""
    return str(Path(__file__).resolve().parents[2])


def main() -> None:
    requests = sys.stdin.buffer
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print must not corrupt the replies
    try:
        entity, paths = _receive(requests)
    except EOFError:
        return
    for path in paths:
        try:
            reply: tuple[str, Any] = ("ok", read_landed(entity, path))
        except Exception:  # the caller raises it, naming the file
            reply = ("error", traceback.format_exc())
        _send(replies, reply)


if __name__ == "__main__":
    main()
