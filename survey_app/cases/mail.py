"""E-mail to leaders: a daily digest of the cases in their scope, and the monthly scorecards.

Sent through the SMTP server of SIPAS_SMTP_URL (nothing is sent when it is unset); each send, or
failed attempt, is a row of `email_log`, which is also how a send is never repeated.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from tempfile import TemporaryDirectory
from urllib.parse import parse_qs, unquote, urlsplit

import duckdb

from survey_app.admin.accounts import User, list_users, scope_unit_ids
from survey_app.cases import workflow
from survey_app.core import config
from survey_app.core.i18n import Refused, t
from survey_app.core.periods import Period, parse_period
from survey_app.db.store import Store

log = logging.getLogger(__name__)
DIGEST, SCORECARD = "digest", "scorecard"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    tls: str = "none"  # none | starttls | ssl


def parse_smtp_url(url: str) -> SmtpSettings:
    """smtp://[user:pass@]host[:port]?from=ADDR[&starttls=1], or smtps:// for TLS from the start."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise Refused("mail.bad_smtp_url")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    tls = "ssl" if parts.scheme == "smtps" else "starttls" if query.get("starttls") in ("1", "true") else "none"
    return SmtpSettings(parts.hostname, parts.port or (465 if tls == "ssl" else 25),
                        query.get("from") or f"sipas@{parts.hostname}",
                        unquote(parts.username) if parts.username else None,
                        unquote(parts.password) if parts.password else None, tls)


def smtp_settings() -> SmtpSettings | None:
    url = config.smtp_url()
    return parse_smtp_url(url) if url else None


Attachment = tuple[str, bytes, str]  # file name, content, MIME type


def send(settings: SmtpSettings, to: str, subject: str, body: str, attachments: Sequence[Attachment] = ()) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.sender, to, subject
    message.set_content(body)
    for name, data, mime in attachments:
        maintype, _, subtype = mime.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    context = ssl.create_default_context()
    smtp_class = smtplib.SMTP_SSL if settings.tls == "ssl" else smtplib.SMTP
    kwargs = {"context": context} if settings.tls == "ssl" else {}
    with smtp_class(settings.host, settings.port, timeout=30, **kwargs) as smtp:
        if settings.tls == "starttls":
            smtp.starttls(context=context)
        if settings.user:
            smtp.login(settings.user, settings.password or "")
        smtp.send_message(message)


# -- the log ---------------------------------------------------------------------------------------

def already_sent(store: Store, kind: str, period: str) -> set[str]:
    rows = store.query("SELECT recipient FROM email_log WHERE kind = ? AND period = ? AND ok", [kind, period])
    return {row[0] for row in rows}


def _record(store: Store, kind: str, period: str, user: User, subject: str, error: str | None) -> None:
    def work(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("INSERT INTO email_log (sent_at, kind, period, recipient, address, subject, ok, detail)"
                    " VALUES (current_timestamp, ?, ?, ?, ?, ?, ?, ?)",
                    [kind, period, user.username, user.email, subject, error is None, error])

    store.write(work)


def _deliver(store: Store, settings: SmtpSettings, kind: str, period: str, user: User, subject: str, body: str,
             attachments: Sequence[Attachment] = ()) -> bool:
    assert user.email is not None
    try:
        send(settings, user.email, subject, body, attachments)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("e-mail %s %s to %s failed: %s", kind, period, user.username, exc)
        _record(store, kind, period, user, subject, str(exc)[:500])
        return False
    _record(store, kind, period, user, subject, None)
    return True


def leaders_to_mail(store: Store) -> list[User]:
    return [u for u in list_users(store) if u.role == "leader" and u.active and u.email]


# -- the daily digest ------------------------------------------------------------------------------

def digest_text(store: Store, user: User, at: datetime) -> tuple[str, str] | None:
    """Subject and body of `user`'s digest at `at`: cases opened in the last day and overdue cases
    in their scope; None when there is neither."""
    scope = scope_unit_ids(store, user)
    cases = workflow.list_cases(store, scope, at=at)
    new = [c for c in cases if c.opened_at > at - timedelta(days=1)]
    overdue = [c for c in cases if c.overdue(at)]
    if not new and not overdue:
        return None

    def line(c: workflow.Case) -> str:
        escalated = t("mail.escalated") if c.escalated_at and c.escalated_to == user.unit_id else ""
        return t("mail.case_line", code=c.code, unit=c.unit_id, status=t(workflow.STATUS_KEYS[c.status]),
                 due=f"{c.due_at.astimezone(config.TIMEZONE):%d/%m/%Y}") + escalated

    body = [t("mail.digest_intro", day=f"{at:%d/%m/%Y}", new=len(new), overdue=len(overdue))]
    if overdue:
        body += ["", t("mail.digest_overdue"), *[line(c) for c in overdue]]
    if new:
        body += ["", t("mail.digest_new"), *[line(c) for c in new]]
    body += ["", t("mail.digest_link", url=f"{config.base_url()}/cases")]
    return t("mail.digest_subject", day=f"{at:%d/%m/%Y}", new=len(new), overdue=len(overdue)), "\n".join(body)


def send_digests(store: Store, settings: SmtpSettings, at: datetime) -> int:
    """Today's digest to each leader with an e-mail address who has not had it; the number sent."""
    day = f"{at.astimezone(config.TIMEZONE):%Y-%m-%d}"
    done = already_sent(store, DIGEST, day)
    sent = 0
    for user in leaders_to_mail(store):
        if user.username in done:
            continue
        text = digest_text(store, user, at.astimezone(config.TIMEZONE))
        if text is not None:
            sent += _deliver(store, settings, DIGEST, day, user, *text)
    return sent


# -- the monthly scorecards ------------------------------------------------------------------------

def last_month(at: datetime) -> Period:
    first = at.astimezone(config.TIMEZONE).date().replace(day=1)
    previous = first - timedelta(days=1)
    return parse_period(f"{previous:%Y-%m}")


def send_scorecards(store: Store, settings: SmtpSettings, at: datetime) -> int:
    """Last month's scorecards to each leader who has not had them: their own unit's PDF and the
    summary of their scope. Computed once for every leader."""
    from results.scorecard import scorecards, write_scorecard_pdf, write_summary_xlsx

    month = last_month(at)
    done = already_sent(store, SCORECARD, month.label)
    leaders = [u for u in leaders_to_mail(store) if u.username not in done]
    if not leaders:
        return 0
    cards = scorecards(store, month)
    sent = 0
    with TemporaryDirectory() as folder:
        for user in leaders:
            scope = scope_unit_ids(store, user)
            mine = [c for c in cards if scope is None or c.group.key in scope]
            files: list[Attachment] = []
            for card in mine:
                if card.group.key == user.unit_id:
                    pdf = Path(folder) / f"phieu-{month.label}-{card.group.key}.pdf"
                    write_scorecard_pdf(card, pdf)
                    files.append((pdf.name, pdf.read_bytes(), "application/pdf"))
            summary = Path(folder) / f"tong-hop-{month.label}-{user.username}.xlsx"
            write_summary_xlsx(mine, summary)
            files.append((f"tong-hop-{month.label}.xlsx", summary.read_bytes(), XLSX))
            subject = t("mail.scorecard_subject", month=month.title())
            body = t("mail.scorecard_body", month=month.title(), units=len(mine))
            sent += _deliver(store, settings, SCORECARD, month.label, user, subject, body, files)
    return sent
