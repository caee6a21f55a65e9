"""What the service keeps about a citizen's device: only a keyed hash that changes every day."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date


def client_hash(ip: str | None, user_agent: str | None, day: date, key: bytes) -> str | None:
    """A daily pseudonym of the device: the same phone today hashes alike, tomorrow differently.

    The raw IP address is never stored; without the key the hash cannot be traced back to it.
    """
    if not ip and not user_agent:
        return None
    message = f"client|{day.isoformat()}|{ip or ''}|{user_agent or ''}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]
