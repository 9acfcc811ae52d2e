"""Worker processes for `--jobs`: files checked in parallel, a dead worker costing one file.

`concurrent.futures.ProcessPoolExecutor` turns any worker death (a segfault in a native parser,
the OOM killer) into `BrokenProcessPool` for every pending file, and cannot say which file the dead
worker held. So each worker here has a pipe of its own and at most two files in flight, checked in
the order sent: when one dies, the first file it held is the one that killed it (reported), the
other is sent again to a fresh worker, and the run goes on.

Workers die with the main process: on Linux the kernel sends them SIGTERM when it dies
(`prctl(PR_SET_PDEATHSIG)`); elsewhere a thread notices the parent is gone. A worker has the
default SIGTERM action (it stops at once, even inside native code) except while it replaces a file
(`source.uninterrupted`, which finishes the write first); SIGINT is left to the main process, which
stops the workers itself.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from multiprocessing.connection import wait
from typing import Callable, Deque, Dict, Iterable, Iterator, List, Optional, Tuple

IN_FLIGHT = 2  # files sent to a worker ahead of its results: one being checked, one waiting
STOP_TIMEOUT = 10.0  # seconds a stopped worker may take to finish a file it is writing
PARENT_POLL = 0.5  # seconds between the watchdog thread's looks at the parent (no prctl)


class _Crashed:
    """Sent by a worker whose own code raised (a numlint bug outside the per-file containment)."""

    def __init__(self, text: str) -> None:
        self.text = text


class _Worker:
    def __init__(self, process, conn) -> None:
        self.process = process
        self.conn = conn
        self.in_flight: Deque[int] = deque()


class Workers:
    """`jobs` worker processes running `main(tasks, *args)`: a generator that yields one result
    per task it takes from `tasks`, in order (it runs in the worker)."""

    def __init__(self, jobs: int, main: Callable, args: Tuple) -> None:
        self.jobs = jobs
        self.main = main
        self.args = args
        methods = multiprocessing.get_all_start_methods()
        self.context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self.live: List[_Worker] = []
        self.deaths = 0

    def results(self, items: List, progress: Optional[Callable[[], None]] = None) -> Iterator[Tuple[int, object, Optional[str]]]:
        """(position, result, None) for each item, in the order of `items`; (position, None, how)
        for the item a worker died on."""
        queue: Deque[int] = deque(range(len(items)))
        done: Dict[int, Tuple[object, Optional[str]]] = {}
        following = 0
        while following < len(items):
            self._feed(queue, items, done, progress)
            while following in done:
                result, death = done.pop(following)
                yield following, result, death
                following += 1
            if following >= len(items):
                break
            if not self.live:
                continue  # _feed starts workers (or gives up on the rest)
            ready = set(wait([w.conn for w in self.live] + [w.process.sentinel for w in self.live]))
            for worker in list(self.live):
                if worker.conn in ready or worker.process.sentinel in ready:
                    self._collect(worker, ready, queue, done, progress)

    def _feed(self, queue: Deque[int], items: List, done: Dict, progress) -> None:
        while queue and len(self.live) < min(self.jobs, len(queue) + sum(len(w.in_flight) for w in self.live)):
            if self.deaths > len(items) + self.jobs:  # workers cannot even start: give up on the rest
                while queue:
                    done[queue.popleft()] = (None, "no worker process could be started")
                return
            self.live.append(self._start())
        for worker in self.live:
            while queue and len(worker.in_flight) < IN_FLIGHT:
                position = queue.popleft()
                try:
                    worker.conn.send(items[position])
                except (OSError, ValueError):
                    queue.appendleft(position)  # it died: _collect finds out
                    break
                worker.in_flight.append(position)

    def _start(self) -> _Worker:
        ours, theirs = self.context.Pipe(duplex=True)
        process = self.context.Process(
            target=_serve, args=(theirs, os.getpid(), self.main, self.args), name="numlint-worker", daemon=True,
        )
        process.start()
        theirs.close()
        return _Worker(process, ours)

    def _collect(self, worker: _Worker, ready, queue: Deque[int], done: Dict, progress) -> None:
        death = None
        try:
            while worker.in_flight and worker.conn.poll():
                message = worker.conn.recv()
                position = worker.in_flight.popleft()
                if isinstance(message, _Crashed):
                    done[position] = (None, message.text)
                    death = ""  # already reported with its own message
                    break
                done[position] = (message, None)
                if progress is not None:
                    progress()
        except (EOFError, OSError):
            death = "?"
        if death is None and worker.process.sentinel not in ready:
            return
        self.live.remove(worker)
        self.deaths += 1
        worker.conn.close()
        worker.process.join(STOP_TIMEOUT)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        if worker.in_flight and death != "":
            position = worker.in_flight.popleft()
            done[position] = (None, _how(worker.process.exitcode))
            if progress is not None:
                progress()
        queue.extendleft(reversed(worker.in_flight))  # sent again, to a fresh worker

    def stop(self) -> None:
        """End every worker: asked to, then SIGTERM (a file being written is finished first),
        then SIGKILL for one that does not stop in STOP_TIMEOUT."""
        for worker in self.live:
            try:
                worker.conn.send(None)
            except (OSError, ValueError):
                pass
        for worker in self.live:
            if worker.process.is_alive():
                try:
                    os.kill(worker.process.pid, signal.SIGTERM)
                except OSError:
                    pass
        deadline = time.monotonic() + STOP_TIMEOUT
        for worker in self.live:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self.live = []


def _how(exitcode: Optional[int]) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit status {exitcode}"


def _serve(conn, parent: int, main: Callable, args: Tuple) -> None:
    """A worker's life: die with the parent, take tasks from the pipe, send back results."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # inherited from the main process by fork
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the main process decides
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
    die_with_parent(parent)

    def tasks() -> Iterator:
        while True:
            try:
                task = conn.recv()
            except (EOFError, OSError):
                return
            if task is None:
                return
            yield task

    try:
        for result in main(tasks(), *args):
            conn.send(result)
    except Exception as exc:  # noqa: BLE001 - a numlint bug: reported for the file, never a traceback
        try:
            conn.send(_Crashed(f"internal error in the worker process ({type(exc).__name__}: {exc})"))
        except Exception:  # noqa: BLE001
            pass
        os._exit(70)
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
    os._exit(0)  # not multiprocessing's exit: nothing of the parent's (atexit, buffers) runs twice


def die_with_parent(parent: int, use_prctl: bool = True) -> None:
    """Make this process end when `parent` does: SIGTERM from the kernel on Linux, else a thread
    that watches for the parent to go (its children are then re-parented)."""
    if not (use_prctl and _parent_death_signal(signal.SIGTERM)):
        threading.Thread(target=_watch_parent, args=(parent,), name="numlint-parent-watch", daemon=True).start()
    if os.getppid() != parent:  # it died before we asked
        os._exit(1)


def _parent_death_signal(signum: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(1, int(signum), 0, 0, 0) == 0  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(PARENT_POLL)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)  # the default action, or after a write in progress
            return


