-- Integrity (survey_app/integrity.py): what the anti-gaming rules compare, one response per dossier,
-- and units' own opening hours.

-- The ratings as one string in item-id order ("-" = N/A), so the writer can spot identical answer
-- sets among recent rows without reading the answers table. NULL for rows written in bulk (demo,
-- imports) until `integrity scan` fills it in.
ALTER TABLE responses ADD COLUMN answer_pattern VARCHAR;

-- A dossier code (mã hồ sơ) is kept only as a keyed hash: enough to refuse its second use.
CREATE TABLE receipts (
    receipt_hash VARCHAR PRIMARY KEY,
    unit_id      VARCHAR NOT NULL,
    response_id  UUID NOT NULL,
    used_at      TIMESTAMPTZ NOT NULL
);

-- A unit that keeps other hours than SIPAS_FLAG_OPENING_HOURS, e.g. 'T2-T6 07:30-17:00; T7 07:30-11:30'.
CREATE TABLE opening_hours (
    unit_id VARCHAR PRIMARY KEY,
    hours   VARCHAR NOT NULL
);
