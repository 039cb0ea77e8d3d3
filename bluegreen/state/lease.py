"""A lease on a service's lock, renewed in the background while a command runs, always released."""

from __future__ import annotations

import threading
from typing import Any, Callable

from bluegreen.state.store import LockInfo, Store


class LockLease:
    """Hold a service's lock while a block runs; renew it in the background; always release it.

        with LockLease(store, LockInfo.create("web", deployment_id, "deploy", who), lease_seconds=120) as lease:
            ...            # lease.lost turns True if another run took the lock over

    `taken_over` is the stale lock replaced on entry (None if there was none). Renewal runs in a
    daemon thread every `interval` seconds (default lease/3). Release happens in `__exit__`, so after
    an exception or KeyboardInterrupt too; a failing release never hides the block's own error (it is
    kept in `release_error` and passed to `on_warning`).
    """

    def __init__(self, store: Store, info: LockInfo, lease_seconds: float, *, interval: float | None = None,
                 on_lost: Callable[[LockInfo | None], None] | None = None,
                 on_warning: Callable[[str], None] | None = None) -> None:
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        self.store = store
        self.info = info
        self.lease_seconds = lease_seconds
        self.interval = interval if interval is not None else lease_seconds / 3
        self.on_lost = on_lost
        self.on_warning = on_warning
        self.taken_over: LockInfo | None = None
        self.lost = False
        self.renewals = 0
        self.renew_error: BaseException | None = None
        self.release_error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "LockLease":
        acquired = self.store.acquire(self.info, self.lease_seconds)
        self.info, self.taken_over = acquired.lock, acquired.taken_over
        self._thread = threading.Thread(target=self._renew_loop, name=f"lease-{self.info.service}", daemon=True)
        self._thread.start()
        return self

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                kept = self.store.renew(self.info, self.lease_seconds)
            except Exception as exc:  # transient (network, throttling): try again next tick
                self.renew_error = exc
                continue
            if not kept:
                self.lost = True
                if self.on_lost is not None:
                    try:
                        self.on_lost(self._read_quietly())
                    except Exception:
                        pass
                return
            self.renewals += 1

    def _read_quietly(self) -> LockInfo | None:
        try:
            return self.store.read(self.info.service)
        except Exception:
            return None

    def __exit__(self, *exc_info: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        try:
            self.store.release(self.info)  # conditional on ownership: never removes someone else's lock
        except Exception as exc:
            self.release_error = exc
            if self.on_warning is not None:
                self.on_warning(f"lock: could not release {self.info.service} ({exc}); "
                                f"it expires by itself within {self.lease_seconds:g}s")
