"""Running deeply recursive code on a thread with a big stack.

libcst's tree mirrors the code's nesting, and its code generation and position metadata recurse
over it: a valid file with a 400-term `a + b + ...` chain already exceeds Python's default limit of
1000 frames. Raising the limit alone could overflow the main thread's C stack (a crash, not an
exception), so the call runs on a new thread whose stack is big enough for the raised limit.
"""

from __future__ import annotations

import sys
import threading
from typing import Callable, List, TypeVar

T = TypeVar("T")

STACK_BYTES = 256 * 1024 * 1024  # reserved address space: pages are used only as the stack grows
FRAMES = 50_000  # 5 KB of stack per frame; a CPython frame needs well under 1 KB

# The recursion limit is one setting for the whole process: one deep call at a time, so that each
# restores the limit it found.
_LOCK = threading.Lock()


def on_a_deep_stack(function: Callable[[], T]) -> T:
    """`function()`, run with a recursion limit of FRAMES on a stack of STACK_BYTES.

    Raises what `function` raises (RecursionError too, beyond FRAMES).
    """
    outcome: List = []

    def target() -> None:
        with _LOCK:
            limit = sys.getrecursionlimit()
            sys.setrecursionlimit(max(limit, FRAMES))
            try:
                outcome.append((True, function()))
            except BaseException as exc:  # handed to the calling thread
                outcome.append((False, exc))
            finally:
                sys.setrecursionlimit(limit)

    size = threading.stack_size(STACK_BYTES)
    try:
        thread = threading.Thread(target=target, name="numlint-deep-stack", daemon=True)
        thread.start()
    finally:
        threading.stack_size(size)
    thread.join()
    ok, value = outcome[0]
    if not ok:
        raise value
    return value
