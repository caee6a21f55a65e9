"""The scheduler inside the running app (no cron needed): every few minutes it escalates overdue
cases and, when SIPAS_SMTP_URL is set, sends the day's digests (after SIPAS_DIGEST_HOUR, Vietnam
time) and last month's scorecards. One per process, however many sessions open the app.

What it sends is recorded in `email_log`, so a restart or a second tick never sends twice.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from survey_app.cases import mail, workflow
from survey_app.core import clock, config
from survey_app.db.store import Store, StoreUnavailable

log = logging.getLogger(__name__)
_lock = threading.Lock()
_running: dict[str, Scheduler] = {}


@dataclass(frozen=True)
class Tick:
    escalated: int
    digests: int
    scorecards: int


def tick(store: Store, at: datetime | None = None) -> Tick:
    """One round of the scheduler's work at `at` (default now)."""
    at = (at or clock.now()).astimezone(config.TIMEZONE)
    escalated = len(workflow.escalate_overdue(store, at))
    settings = mail.smtp_settings()
    if settings is None:
        return Tick(escalated, 0, 0)
    digests = mail.send_digests(store, settings, at) if at.hour >= config.digest_hour() else 0
    return Tick(escalated, digests, mail.send_scorecards(store, settings, at))


class Scheduler(threading.Thread):
    def __init__(self, store: Store, interval: float) -> None:
        super().__init__(name="sipas-scheduler", daemon=True)
        self.store, self.interval = store, interval
        self.stopped = threading.Event()
        self.ticks = 0

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                tick(self.store)
            except StoreUnavailable:  # the store was closed under us: the process is ending
                return
            except Exception:  # a bad day must not stop tomorrow's digest
                log.exception("scheduler round failed")
            self.ticks += 1
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=60)


def start(store: Store) -> Scheduler | None:
    """Start the process's scheduler for `store` unless it runs already (or SIPAS_SCHEDULER_SECONDS=0)."""
    interval = config.scheduler_seconds()
    if interval <= 0:
        return None
    with _lock:
        running = _running.get(str(store.path))
        if running is not None and running.is_alive():
            return running
        scheduler = _running[str(store.path)] = Scheduler(store, interval)
        scheduler.start()
        return scheduler
