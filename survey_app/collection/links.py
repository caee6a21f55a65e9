"""Signed survey links: the token in `BASE_URL/?k=<token>&embed=true` (../shared/DESIGN.md §5).

A token is base64url, unpadded, of

    header (1 byte: format << 4 | channel) · key version (2 bytes) ·
    unit · counter · instrument (each 1 length byte + UTF-8; an empty counter = the whole unit) ·
    MAC (HMAC-SHA256 over all the bytes before it, first 12 bytes)

Why 12 bytes of MAC: a forger can only try tokens against the live server, one request at a
time, and each try succeeds with probability 2**-96; truncation is allowed by NIST SP 800-107
(≥ 64 bits for this use). Four more bytes would add six characters to every QR code and buy
nothing real. A typical token is 50–60 characters.

Keys (versions, rotation, the key file) are `survey_app.core.keys`. A token signed with an older
version is refused as "revoked"; the old keys are kept so that a genuine old poster is told apart
from a forgery.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
import struct
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from survey_app.admin.units import Counter, Unit, get_counter, get_unit, list_counters, list_units
from survey_app.core import config
from survey_app.core.i18n import Explained, Refused
from survey_app.core.keys import KeyRing, load_keys
from survey_app.core.logbudget import LogBudget
from survey_app.db.store import Store

log = logging.getLogger(__name__)
# Anyone can send bad links: the warning for each is limited, so they cannot flood the log.
REFUSALS_LOGGED_PER_MINUTE = 30
_refusals = LogBudget(REFUSALS_LOGGED_PER_MINUTE)

TOKEN_FORMAT = 1
# Channels a link can carry, by their index in the header: append only, never reorder.
LINK_CHANNELS = ("qr", "kiosk")
MAC_BYTES = 12
_HEADER = struct.Struct(">BH")
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]{8,400}")

# Why a link is refused; what the citizen reads for each is `link.bad.<reason>` in messages.yaml.
REASONS = ("malformed", "forged", "revoked", "unknown_place")


@dataclass(frozen=True)
class LinkTarget:
    """What a verified token names: where the citizen was served and what they are asked."""

    unit_id: str
    counter_id: str | None
    instrument_id: str
    channel: str
    key_version: int


class BadLink(Refused):
    """A refused link. `reason` is one of REASONS; `message(lang)` tells the citizen what happened
    and what to do."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"link.bad.{reason}")


# -- tokens ----------------------------------------------------------------------------------------

def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).digest()[:MAC_BYTES]


def _field(text: str) -> bytes:
    raw = text.encode("utf-8")
    if len(raw) > 255:
        raise ValueError(f"id too long for a link: {text[:40]!r}…")
    return bytes([len(raw)]) + raw


def make_token(unit_id: str, counter_id: str | None, instrument_id: str, channel: str = "qr",
               *, keys: KeyRing | None = None) -> str:
    """A signed token for the current key version. Pass `keys` to sign many with one version."""
    if channel not in LINK_CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(LINK_CHANNELS)}")
    ring = keys or load_keys()
    body = _HEADER.pack(TOKEN_FORMAT << 4 | LINK_CHANNELS.index(channel), ring.current)
    body += _field(unit_id) + _field(counter_id or "") + _field(instrument_id)
    return base64.urlsafe_b64encode(body + _mac(ring.keys[ring.current], body)).decode("ascii").rstrip("=")


def survey_url(token: str, base_url: str | None = None) -> str:
    return f"{(base_url or config.base_url()).rstrip('/')}/?k={token}&embed=true"


# Larger text from the start (kiosks at counters serving many older citizens): a query parameter
# of its own, outside the signed token, so adding it to a printed link never invalidates it.
LARGE_TEXT_PARAM = "large"


def with_large_text(url: str) -> str:
    return f"{url}&{LARGE_TEXT_PARAM}=1"


def token_from_link(text: str) -> str:
    """The token of a pasted survey URL (its `k` parameter), or the text itself when it is no URL."""
    text = text.strip()
    return parse_qs(urlsplit(text).query).get("k", [text])[0]


def _fingerprint(token: str) -> str:
    # Enough for an administrator to match repeated attempts, useless to replay.
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:12]


def _refuse(reason: str, token: str, detail: str) -> BadLink:
    logged, left_out = _refusals.take()
    if logged:
        log.warning("refused survey link: reason=%s token#%s (%d chars) %s%s", reason, _fingerprint(token),
                    len(token), detail, f" ({left_out} more refused before this, not logged)" if left_out else "")
    return BadLink(reason)


def _decode(token: str) -> bytes:
    if not _TOKEN_CHARS.fullmatch(token):
        raise ValueError("not base64url")
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    # Only the canonical spelling: otherwise the spare low bits of the last character
    # would let several strings stand for one token.
    if base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=") != token:
        raise ValueError("non-canonical base64")
    return raw


def _parse(raw: bytes) -> tuple[int, int, list[str], bytes, bytes]:
    """Split a decoded token into (channel index, key version, ids, signed body, MAC)."""
    header, version = _HEADER.unpack_from(raw)
    if header >> 4 != TOKEN_FORMAT or header & 0x0F >= len(LINK_CHANNELS):
        raise ValueError(f"unknown header {header:#04x}")
    pos, ids = _HEADER.size, []
    for _ in range(3):
        size = raw[pos]
        ids.append(raw[pos + 1:pos + 1 + size].decode("utf-8"))
        pos += 1 + size
    if len(raw) != pos + MAC_BYTES:  # also catches a token cut short
        raise ValueError(f"length {len(raw)} != {pos + MAC_BYTES}")
    return header & 0x0F, version, ids, raw[:pos], raw[pos:]


def verify_token(token: str, *, keys: KeyRing | None = None) -> LinkTarget:
    """Check a token's shape, signature and key version; raise BadLink (and log) if refused."""
    try:
        channel, version, (unit_id, counter_id, instrument_id), body, mac = _parse(_decode(token))
    except (ValueError, IndexError, struct.error, binascii.Error) as exc:  # UnicodeDecodeError is a ValueError
        raise _refuse("malformed", token, str(exc)) from None
    ring = keys or load_keys()
    key = ring.keys.get(version)
    if key is None or not hmac.compare_digest(mac, _mac(key, body)):
        raise _refuse("forged", token, f"bad signature (key version {version})")
    if version != ring.current:
        raise _refuse("revoked", token, f"unit={unit_id} key version {version}, current {ring.current}")
    return LinkTarget(unit_id, counter_id or None, instrument_id, LINK_CHANNELS[channel], version)


def resolve_link(store: Store, token: str) -> LinkTarget:
    """verify_token, then refuse a unit, counter or instrument that is unknown or inactive."""
    target = verify_token(token)
    unit = get_unit(store, target.unit_id)
    counter = get_counter(store, target.unit_id, target.counter_id) if target.counter_id else None
    if unit is None or not unit.active:
        problem = "unit unknown or inactive"
    elif target.counter_id and (counter is None or not counter.active):
        problem = "counter unknown or inactive"
    elif target.instrument_id not in store.instruments:
        problem = "instrument unknown"
    else:
        return target
    raise _refuse("unknown_place", token, f"{problem}: unit={target.unit_id} counter={target.counter_id} "
                                          f"instrument={target.instrument_id}")


# -- links for places (what the CLI, the posters and the staff page print) -------------------------

class UnknownPlace(Explained, LookupError):
    """Staff asked for a link to a unit, counter or instrument that is unknown or inactive."""


@dataclass(frozen=True)
class PlaceLink:
    """A survey link with the names a person reads next to its code."""

    unit_id: str
    unit_name: str
    counter_id: str | None
    counter_name: str | None
    url: str


def _place_link(unit: Unit, counter: Counter | None, instrument_id: str, channel: str,
                base_url: str | None, keys: KeyRing) -> PlaceLink:
    counter_id = counter.counter_id if counter else None
    token = make_token(unit.unit_id, counter_id, instrument_id, channel, keys=keys)
    return PlaceLink(unit.unit_id, unit.name, counter_id, counter.name if counter else None,
                     survey_url(token, base_url))


def _check_instrument(store: Store, instrument_id: str) -> None:
    if instrument_id not in store.instruments:
        raise UnknownPlace("link.unknown_instrument", instrument=instrument_id,
                           known=", ".join(sorted(store.instruments)))


def place_link(store: Store, unit_id: str, counter_id: str | None, instrument_id: str, *,
               channel: str = "qr", base_url: str | None = None) -> PlaceLink:
    """The link of one active unit (and counter); counter None names the unit as a whole."""
    _check_instrument(store, instrument_id)
    unit = get_unit(store, unit_id)
    if unit is None or not unit.active:
        raise UnknownPlace("unit.not_active", unit=unit_id)
    counter = get_counter(store, unit_id, counter_id) if counter_id else None
    if counter_id and (counter is None or not counter.active):
        raise UnknownPlace("counter.not_active", unit=unit_id, counter=counter_id)
    return _place_link(unit, counter, instrument_id, channel, base_url, load_keys())


def units_in_tree(store: Store, *, block: str | None = None, root: str | None = None) -> list[Unit]:
    """Active units of a block (None: the whole province), or of the tree under unit `root`."""
    units = list_units(store, active_only=False)
    if root is not None:
        if root not in {u.unit_id for u in units}:
            raise UnknownPlace("admin.unknown_unit", unit=root)
        tree, frontier = {root}, {root}
        while frontier:
            frontier = {u.unit_id for u in units if u.parent_id in frontier} - tree
            tree |= frontier
        units = [u for u in units if u.unit_id in tree]
    return [u for u in units if u.active and (block is None or u.block == block)]


def tree_links(store: Store, instrument_id: str, *, block: str | None = None, root: str | None = None,
               channel: str = "qr", base_url: str | None = None) -> list[PlaceLink]:
    """One link per active counter of every active unit of the tree, all with one key version."""
    _check_instrument(store, instrument_id)
    keys = load_keys()
    return [_place_link(unit, counter, instrument_id, channel, base_url, keys)
            for unit in units_in_tree(store, block=block, root=root)
            for counter in list_counters(store, unit.unit_id)]
