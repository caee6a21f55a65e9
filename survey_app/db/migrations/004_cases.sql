-- Cases (survey_app/cases): a dissatisfied response with a comment or a contact becomes a case its
-- unit must answer by a deadline in working days. Opened by the writer in the response's own
-- transaction; UNIQUE (response_id) is the last guard against a case opened twice.
CREATE TABLE cases (
    case_id      UUID PRIMARY KEY,
    code         VARCHAR NOT NULL UNIQUE,   -- short and unguessable: the citizen's key to ?case=
    response_id  UUID NOT NULL UNIQUE,
    unit_id      VARCHAR NOT NULL,
    status       VARCHAR NOT NULL,          -- mo → dang_xu_ly → da_tra_loi → dong (reopen: back to dang_xu_ly)
    assignee     VARCHAR,
    opened_at    TIMESTAMPTZ NOT NULL,
    due_at       TIMESTAMPTZ NOT NULL,
    replied_at   TIMESTAMPTZ,
    reply        TEXT,
    closed_at    TIMESTAMPTZ,
    escalated_at TIMESTAMPTZ,
    escalated_to VARCHAR                    -- the parent unit whose leaders were told; NULL = the city
);

-- Which answers open a case and the deadline: one row per rule overriding the default in
-- survey_app/core/config.py (CaseRules); set on the admin page.
CREATE TABLE case_rules (
    name       VARCHAR PRIMARY KEY,
    value      VARCHAR NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by VARCHAR NOT NULL
);

-- Days off besides weekends and the fixed-date national holidays of config (Tết and the Hùng
-- Kings' day move with the lunar calendar, so an admin enters them each year).
CREATE TABLE holidays (
    day  DATE PRIMARY KEY,
    name VARCHAR NOT NULL
);

-- Every e-mail the scheduler sent or tried: what, to whom, for which day or month.
CREATE TABLE email_log (
    sent_at   TIMESTAMPTZ NOT NULL,
    kind      VARCHAR NOT NULL,   -- digest | scorecard
    period    VARCHAR NOT NULL,   -- the day (YYYY-MM-DD) or month (YYYY-MM) it covers
    recipient VARCHAR NOT NULL,   -- the account's username
    address   VARCHAR NOT NULL,
    subject   VARCHAR NOT NULL,
    ok        BOOLEAN NOT NULL,
    detail    VARCHAR
);
