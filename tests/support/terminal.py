"""A pseudo-terminal whose output is read back through a terminal emulator (pyte), as a person sees it."""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct
import termios
import threading
from typing import Any, Iterator

import pyte

COLUMNS, ROWS = 110, 40


class Terminal:
    """A pseudo-terminal of COLUMNS x ROWS; what the program writes is read on the master side by a
    thread (so a full buffer never blocks the writer) and shown on a pyte screen at `screen()`."""

    def __init__(self) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        self.tty = os.fdopen(slave, "w", encoding="utf-8", buffering=1)
        self.raw = bytearray()
        self.marks, self.fed = 0, 0
        self.display = pyte.Screen(COLUMNS, ROWS)
        self.stream = pyte.ByteStream(self.display)
        self._seen = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self._seen:
                self.raw += chunk
                self._seen.notify_all()

    def screen(self) -> list[str]:
        """The screen once everything written so far has arrived (a marker written after it is seen)."""
        self.marks += 1
        mark = f"\x1b]0;mark-{self.marks}\x07".encode()
        self.tty.flush()
        os.write(self.tty.fileno(), mark)
        with self._seen:
            assert self._seen.wait_for(lambda: mark in self.raw[self.fed:], timeout=30), "no output arrived"
            arrived = bytes(self.raw[self.fed:])
        self.fed += len(arrived)
        self.stream.feed(arrived)
        return [line.rstrip() for line in self.display.display]

    def close(self) -> None:
        self.tty.close()
        os.close(self.master)




@contextlib.contextmanager
def pseudo_terminal(monkeypatch: Any) -> Iterator[Terminal]:
    # rich sizes its console from the process's standard streams, or from these when they are set
    monkeypatch.setenv("COLUMNS", str(COLUMNS))
    monkeypatch.setenv("LINES", str(ROWS))
    monkeypatch.setenv("TERM", "xterm-256color")
    made = Terminal()
    try:
        yield made
    finally:
        made.close()
