"""A process that submits given responses from several threads at once, for races between processes.

`python tests/race_child.py DB RESPONSES.json GO_FILE THREADS` opens the store, prints "ready", waits
until GO_FILE exists (so that every process starts together), submits every response and prints one
JSON line per response: {"response_id", "status", "duplicate"}.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent)]

from survey_app.store import open_store  # noqa: E402


def main(db: str, responses_file: str, go_file: str, threads: int) -> None:
    responses = json.loads(Path(responses_file).read_text(encoding="utf-8"))
    with open_store(db) as store:
        print("ready", flush=True)
        while not Path(go_file).exists():
            time.sleep(0.01)
        with ThreadPoolExecutor(threads) as pool:
            results = list(pool.map(store.submit, responses))
    for r in results:
        print(json.dumps({"response_id": r.response_id, "status": r.status, "duplicate": r.duplicate}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
