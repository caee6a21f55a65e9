"""The installation's signing keys: survey links are signed with the current version; dossier codes
are hashed with the first (a hash must not change when keys rotate).

`SIPAS_SECRET`, when set, is a master secret and version n's key is derived from it; else random
keys live in `<data dir>/secret.key` (JSON, mode 0600), created on first use. Either way the key
file records the current version (1 until the first rotation). The file is read on every call, so
`keys rotate` takes effect in a running server at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from survey_app.core import config, files

log = logging.getLogger(__name__)

KEY_BYTES = 32
MAX_VERSION = 0xFFFF  # a token carries the version in two bytes
KEY_FILE_NAME = "secret.key"


@dataclass(frozen=True)
class KeyRing:
    current: int
    keys: Mapping[int, bytes]  # every version issued so far, so old genuine codes read "revoked"


# ------------------------------------------------------------------------------------------

def key_file() -> Path:
    # config.DATA_DIR is looked up at call time so tests (and tools) can point it elsewhere.
    return Path(config.DATA_DIR) / KEY_FILE_NAME


def _encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii")


def _write_private(path: Path, state: dict[str, Any], *, replace: bool) -> None:
    """Write the key file with mode 0600, atomically; without `replace`, only if it is absent."""
    files.private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret-")  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(state, out)
            out.flush()
            os.fsync(out.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if another process created the file first: theirs wins
    except FileExistsError:
        pass
    finally:
        Path(tmp).unlink(missing_ok=True)


def _read_state(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def _derive(master: str, version: int) -> bytes:
    return hmac.new(master.encode(), b"sipas-link-key-v%d" % version, hashlib.sha256).digest()


def load_keys(path: Path | None = None) -> KeyRing:
    """The key ring: from SIPAS_SECRET when set, else from the key file (created on first use)."""
    path = path or key_file()
    state = _read_state(path)
    master = os.environ.get("SIPAS_SECRET")
    if state is None and not master:
        _write_private(path, {"current": 1, "keys": {"1": _encode_key(secrets.token_bytes(KEY_BYTES))}},
                       replace=False)
        state = _read_state(path)
    current = int(state["current"]) if state else 1
    if master:
        return KeyRing(current, {v: _derive(master, v) for v in range(1, current + 1)})
    assert state is not None  # just written, or written by a process that beat us to it
    return KeyRing(current, {int(v): base64.urlsafe_b64decode(k) for v, k in state["keys"].items()})


def rotate_keys(path: Path | None = None) -> int:
    """Move to a new key version (its own random key); tokens of older versions become revoked."""
    path = path or key_file()
    ring = load_keys(path)
    state = _read_state(path) or {"keys": {}}
    new = ring.current + 1
    if new > MAX_VERSION:
        raise ValueError(f"key version {new} does not fit in a token")
    keys = dict(state.get("keys", {}))
    keys[str(new)] = _encode_key(secrets.token_bytes(KEY_BYTES))
    _write_private(path, {"current": new, "keys": keys}, replace=True)
    log.info("survey link keys rotated to version %d; codes of older versions are now refused", new)
    return new


def current_key_version(path: Path | None = None) -> int:
    return load_keys(path).current


def first_key() -> bytes:
    """The key of version 1: what keyed hashes use, so they stay the same across rotations."""
    ring = load_keys()
    return ring.keys[min(ring.keys)]
