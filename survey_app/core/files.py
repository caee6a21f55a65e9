"""Files holding citizens' data (the database and its write-ahead log, the key file, backups,
exports) are for the service's own user only: folders 0700, files 0600, whatever the umask.
And the one shape of a refused import file (units, dossier counts, targets): every bad row listed.
"""

from __future__ import annotations

import os
from pathlib import Path

from survey_app.core.i18n import t

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


class FileProblems(ValueError):
    """An imported file that cannot be used; lists every bad row (one line each, Vietnamese (English)).
    Nothing is imported from it. str(): the file and its first SHOWN problems, on one line."""

    SHOWN = 10

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source, self.problems = source, problems
        more = len(problems) - self.SHOWN
        super().__init__(f"{source}: " + "; ".join(problems[:self.SHOWN]) + (f" … (+{more})" if more > 0 else ""))

    @staticmethod
    def on_line(line: int, problem: str) -> str:
        """A problem of one row, as the list says it: "dòng 3: …"."""
        return f"{t('import.line', line=line)}: {problem}"
