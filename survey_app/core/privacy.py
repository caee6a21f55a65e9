"""What the service keeps about a citizen's device: only a keyed hash that changes every day."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date

from survey_app.core.i18n import t


def client_hash(ip: str | None, user_agent: str | None, day: date, key: bytes) -> str | None:
    """A daily pseudonym of the device: the same phone today hashes alike, tomorrow differently.

    The raw IP address is never stored; without the key the hash cannot be traced back to it.
    """
    if not ip and not user_agent:
        return None
    message = f"client|{day.isoformat()}|{ip or ''}|{user_agent or ''}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def address_hash(ip: str | None, day: date, key: bytes) -> str | None:
    """A daily pseudonym of the client address alone: a device that changes its User-Agent for
    every response keeps it. Many phones share a carrier's address, hence a rule of its own with a
    higher threshold (SIPAS_FLAG_REPEAT_ADDRESS)."""
    if not ip:
        return None
    return hmac.new(key, f"address|{day.isoformat()}|{ip}".encode(), hashlib.sha256).hexdigest()[:32]


def receipt_hash(code: str, key: bytes) -> str:
    """What is kept of a dossier code (mã hồ sơ): enough to refuse its second use, not to read it back.

    Keyed with the installation's secret (not only salted), because dossier codes follow a short
    public pattern that a plain salted hash in a stolen database would not protect.
    """
    return hmac.new(key, f"receipt|{code}".encode(), hashlib.sha256).hexdigest()


# What a comment may not keep: found in this order (an e-mail may hold digits, a phone is longer
# than an ID number), each replaced by a placeholder so the rest of the comment stays.
# E-mail as people type it: "a.b@gmail.com", "a.b @ gmail . com", "a (at) gmail (dot) com". Domain
# labels are ASCII and must end at a word boundary, so a spaced dot does not swallow the next word.
_AT = r"\s*(?:@|[(\[{]\s*at\s*[)\]}])\s*"
_DOT = r"\s*(?:\.|[(\[{]\s*dot\s*[)\]}])\s*"
_EMAIL = re.compile(rf"[\w.+-]+{_AT}[A-Za-z0-9-]+(?:{_DOT}[A-Za-z0-9-]+(?!\w))+", re.IGNORECASE)
# Phone: mobile 0xx xxx xxxx, landline 02xx xxxx xxxx, or with +84 / 84 / (+84) and an optional (0);
# digits apart by up to three of: spaces, dots, dashes, slashes, brackets ("(091) 234 5678",
# "0912/345/678", "0912  345  678"). A date with a time after it ("05/12/2026 09:30") is not one.
_GAP = r"[\s./\-–()]{0,3}"
_PHONE = re.compile(
    r"(?<![\d+])(?!\d{1,2}/\d{1,2}/\d{2,4})"
    rf"(?:\(\s*\+?\s*84\s*\)|\+\s*84|84|\(\s*0|0)(?:{_GAP}\(0\))?(?:{_GAP}\d){{9,10}}(?!\d)"
)
# CMND (9 digits) and CCCD (12 digits) written in one piece, or CCCD in groups of three
# (it starts with a 0 province code, so money like 150.000.000 is left alone).
_ID_NUMBER = re.compile(r"(?<!\d)(?:\d{12}|\d{9}|0\d{2}(?:[ .\-]\d{3}){3})(?!\d)")
SCRUBBED = (
    (_EMAIL, "[email]"),
    (_PHONE, t("privacy.phone")),
    (_ID_NUMBER, t("privacy.id_number")),
)


def scrub_comment(text: str | None) -> str | None:
    """The comment without e-mail addresses, phone numbers and ID numbers: citizens type them in
    free text although the form never asks, and comments are read by many."""
    if text is None:
        return None
    for pattern, placeholder in SCRUBBED:
        text = pattern.sub(placeholder, text)
    return text
