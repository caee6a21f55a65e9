"""Files holding citizens' data (the database and its write-ahead log, the key file, backups,
exports) are for the service's own user only: folders 0700, files 0600, whatever the umask."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600


def private_dir(folder: Path) -> Path:
    """Create `folder` (and its parents) if needed and make it private; return it."""
    folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    if folder.stat().st_uid == os.geteuid():  # a shared folder (e.g. /tmp) not ours is left as it is
        os.chmod(folder, PRIVATE_DIR)
    return folder


def make_private(*paths: Path) -> None:
    """Private modes on existing files, and on folders with everything inside them."""
    for path in paths:
        if path.is_dir():
            os.chmod(path, PRIVATE_DIR)
            for root, dirs, names in os.walk(path):
                for name in dirs:
                    os.chmod(Path(root) / name, PRIVATE_DIR)
                for name in names:
                    os.chmod(Path(root) / name, PRIVATE_FILE)
        elif path.exists():
            os.chmod(path, PRIVATE_FILE)
