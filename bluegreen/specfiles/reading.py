"""Reading a spec file safely: regular files only, a bounded size, UTF-8, never a hang.

A named pipe would block `open()` until a writer comes (forever, in CI), a device can be endless, a
socket cannot be opened at all: each is refused with one line saying what the path really is,
also when it hides behind a symlink or is found by listing a directory of specs.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_SPEC_BYTES = 256 * 1024  # real specs are a few KiB; PyYAML (pure Python) takes seconds per 256 KiB
_LIMIT_TEXT = "256 KiB"
_REGULAR_ONLY = "a spec must be a regular file"


class Unreadable(Exception):
    """Why a path cannot be read as a spec, at a line and column of the file (1, 1 unless known)."""

    def __init__(self, message: str, line: int = 1, col: int = 1) -> None:
        super().__init__(message)
        self.message, self.line, self.col = message, line, col


def kind_of(mode: int) -> str | None:
    """None for a regular file, otherwise what it is, for the message."""
    if stat.S_ISREG(mode):
        return None
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


def describe(path: Path) -> str | None:
    """None when `path` is (or links to) a regular file, else a one-line reason it is no spec file."""
    link = path.is_symlink()
    try:
        mode = os.stat(path).st_mode  # follows symlinks: what a reader would really open
    except FileNotFoundError:
        return f"a symlink to nothing ({os.readlink(path)} does not exist)" if link else "no such file"
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    kind = kind_of(mode)
    if kind is None:
        return None
    return f"{'a symlink to ' if link else ''}{kind}, not a regular file; {_REGULAR_ONLY}"


def read_spec_text(path: Path) -> str:
    """The file's text, or `Unreadable` saying why not. Never blocks and never reads past the limit."""
    reason = describe(path)
    if reason is not None:
        raise Unreadable(reason)
    try:
        # O_NONBLOCK: if the path was swapped for a pipe since the check above, open() still returns
        # at once, and fstat below refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise Unreadable(f"cannot read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        kind = kind_of(os.fstat(handle.fileno()).st_mode)
        if kind is not None:
            raise Unreadable(f"{kind}, not a regular file; {_REGULAR_ONLY}")
        data = handle.read(MAX_SPEC_BYTES + 1)
    if len(data) > MAX_SPEC_BYTES:
        raise Unreadable(f"larger than the {_LIMIT_TEXT} a spec file may be; is this the right file?")
    return _decode(data)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        col = len(data[start:exc.start].decode("utf-8", "replace")) + 1
        raise Unreadable(f"cannot read: not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
                         line, col) from None
