-- The tables of ../shared/DESIGN.md §3. Long format: an instrument can change without a migration.
-- No foreign keys: DuckDB checks them row by row on every insert; the store validates instead.
-- Written in SQL that DuckDB and PostgreSQL both accept (the same file makes both schemas).
CREATE TABLE units (
    unit_id    VARCHAR PRIMARY KEY,
    name       VARCHAR NOT NULL,
    block      VARCHAR NOT NULL,
    parent_id  VARCHAR,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    instrument_id VARCHAR
);

CREATE TABLE counters (
    unit_id    VARCHAR NOT NULL,
    counter_id VARCHAR NOT NULL,
    name       VARCHAR NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (unit_id, counter_id)
);

CREATE TABLE instruments (
    instrument_id VARCHAR NOT NULL,
    version       VARCHAR NOT NULL,
    checksum      VARCHAR NOT NULL,
    loaded_at     TIMESTAMPTZ NOT NULL,
    definition    JSON NOT NULL,
    PRIMARY KEY (instrument_id, version)
);

CREATE TABLE responses (
    response_id        UUID PRIMARY KEY,
    submitted_at       TIMESTAMPTZ NOT NULL,
    unit_id            VARCHAR NOT NULL,
    counter_id         VARCHAR,
    instrument_id      VARCHAR NOT NULL,
    instrument_version VARCHAR NOT NULL,
    channel            VARCHAR NOT NULL,
    lang               VARCHAR NOT NULL,
    stage              VARCHAR,
    service_field      VARCHAR,
    client_hash        VARCHAR,
    seconds_taken      DOUBLE PRECISION,
    status             VARCHAR NOT NULL DEFAULT 'ok',
    flag_reasons       VARCHAR
);

CREATE TABLE answers (
    response_id UUID NOT NULL,
    item_id     VARCHAR NOT NULL,
    value       SMALLINT           -- 1..5; NULL = N/A or skipped
);

CREATE TABLE choices (
    response_id UUID NOT NULL,
    question_id VARCHAR NOT NULL,
    option_id   VARCHAR NOT NULL
);

CREATE TABLE comments (
    response_id UUID PRIMARY KEY,
    text        VARCHAR NOT NULL
);

-- Apart from the ratings, and only with the citizen's explicit consent.
CREATE TABLE contacts (
    response_id UUID PRIMARY KEY,
    phone       VARCHAR NOT NULL,
    consent_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE dossier_counts (
    unit_id  VARCHAR NOT NULL,
    period   VARCHAR NOT NULL,
    dossiers INTEGER NOT NULL,
    PRIMARY KEY (unit_id, period)
);

CREATE TABLE users (
    username      VARCHAR PRIMARY KEY,
    role          VARCHAR NOT NULL,
    unit_id       VARCHAR,
    password_hash VARCHAR,
    created_at    TIMESTAMPTZ NOT NULL,
    active        BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE audit_log (
    logged_at TIMESTAMPTZ NOT NULL,
    actor  VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    target VARCHAR,
    detail VARCHAR
);
