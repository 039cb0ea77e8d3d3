"""Signals during a run: SIGTERM is a cancel, like Ctrl-C; during a rollback both are ignored.

Python only installs signal handlers in the main thread; elsewhere (a run driven from a worker
thread) these do nothing, and the process's own handling stays as it is.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Any, Iterator


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """A Jenkins abort sends SIGTERM: raise KeyboardInterrupt for it, so the run rolls back."""
    if not _main_thread():
        yield
        return

    def handler(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"received {signal.Signals(signum).name}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def shielded() -> Iterator[list[str]]:
    """While rolling back, a second Ctrl-C or SIGTERM must not leave traffic half-restored.

    Yields the names of the signals ignored so far, for the caller to report afterwards (printing
    from a handler could re-enter a write to the same stream). A Python handler, not SIG_IGN, so a
    process started meanwhile does not inherit an ignored SIGTERM.
    """
    ignored: list[str] = []
    if not _main_thread():
        yield ignored
        return

    def handler(signum: int, _frame: Any) -> None:
        ignored.append(signal.Signals(signum).name)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield ignored
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
