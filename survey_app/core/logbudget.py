"""A budget of log lines per minute: whatever a stranger can trigger (a refused link) must not be
able to fill the disk with the service log or bury the lines that matter."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class LogBudget:
    """At most `per_minute` lines in each minute; `take()` says whether to log this one, and how
    many were left out since the last one logged (to say so in it)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute, self._clock = per_minute, clock
        self._lock = threading.Lock()
        self._minute_start, self._used, self._skipped = clock(), 0, 0

    def take(self) -> tuple[bool, int]:
        with self._lock:
            now = self._clock()
            if now - self._minute_start >= 60:
                self._minute_start, self._used = now, 0
            if self._used >= self.per_minute:
                self._skipped += 1
                return False, 0
            self._used += 1
            skipped, self._skipped = self._skipped, 0
            return True, skipped
