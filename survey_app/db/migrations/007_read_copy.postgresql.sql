-- PostgreSQL only: what the app's local DuckDB copy (survey_app/db/mirror.py) pulls new rows by, and
-- the indexes the writers' look-backs and that pull need. DuckDB reads its own tables directly.

-- Insertion order, whatever submitted_at says (demo data is written with old times): the copy's
-- high-water mark.
CREATE SEQUENCE responses_seq;
ALTER TABLE responses ADD COLUMN seq BIGINT NOT NULL DEFAULT nextval('responses_seq');
ALTER SEQUENCE responses_seq OWNED BY responses.seq;
CREATE INDEX responses_seq_idx ON responses (seq);
-- The integrity rules look back at a unit's recent responses.
CREATE INDEX responses_unit_time_idx ON responses (unit_id, submitted_at);
CREATE INDEX answers_response_idx ON answers (response_id);
CREATE INDEX choices_response_idx ON choices (response_id);
