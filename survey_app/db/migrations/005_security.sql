-- Security (issue 14): login throttling per (account, client address), sessions that end when the
-- password changes, and the address-only daily hash of the anti-gaming rules. Portable SQL.

-- Each attempt is counted here before its password is checked (survey_app/admin/accounts.py), so
-- parallel guesses all count; a delay that grows with the failures blocks only this name from this
-- address, so a stranger cannot lock the owner out. `allowed`: whether the last attempt came after
-- the delay (written by the same UPDATE that counts it, from the old values).
CREATE TABLE login_throttle (
    username      VARCHAR NOT NULL,
    client        VARCHAR NOT NULL,
    failures      INTEGER NOT NULL,
    allowed       BOOLEAN NOT NULL,
    tried_at      TIMESTAMPTZ NOT NULL,
    blocked_until TIMESTAMPTZ,
    PRIMARY KEY (username, client)
);

-- A session remembers this stamp at login; a newer one (a password change) ends it.
ALTER TABLE users ADD COLUMN password_changed_at TIMESTAMPTZ;

-- A daily keyed hash of the client address alone (no User-Agent): many phones share a carrier
-- address, so its rule has a higher threshold of its own (SIPAS_FLAG_REPEAT_ADDRESS).
ALTER TABLE responses ADD COLUMN address_hash VARCHAR;
