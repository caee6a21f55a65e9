"""A process that writes through the real path (store.submit) from many threads until stopped.

`python tests/submit_child.py DB THREADS [MAX_FILE_BYTES]` prints one acknowledged response id per
line as soon as submit() returns (the commit is done), then "refused <message>" lines for
submissions the store turned down. With MAX_FILE_BYTES, files it writes cannot grow past that size
(as on a full disk). tests/test_reliability.py kills it, or fills its "disk", and checks.
"""

from __future__ import annotations

import logging
import resource
import signal
import sys
import threading
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]

from factories import dvc_answers, dvc_response  # noqa: E402

from survey_app.store import StoreUnavailable, open_store  # noqa: E402

UNITS = ("so-tai-chinh", "so-tu-phap", "so-noi-vu", "h-ba-vi")
REFUSALS_BEFORE_STOP = 20


def main(db: str, threads: int, max_file_bytes: int | None) -> None:
    logging.disable(logging.CRITICAL)
    store = open_store(db)
    if max_file_bytes:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing us
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, resource.RLIM_INFINITY))
    out = threading.Lock()
    refused = threading.Semaphore(REFUSALS_BEFORE_STOP)

    def say(line: str) -> None:
        with out:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def work(n: int) -> None:
        i = 0
        while True:
            i += 1
            response = dvc_response(unit_id=UNITS[(n + i) % len(UNITS)], answers=dvc_answers(1 + (n + i) % 5))
            try:
                say(store.submit(response).response_id)
            except StoreUnavailable as exc:
                say(f"refused {exc}")
                if not refused.acquire(blocking=False):
                    return

    say("ready")
    workers = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    store.close()
    say("closed")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else None)
