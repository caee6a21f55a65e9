-- Accounts (survey_app/accounts.py): login throttling lives in the database, not in a session,
-- so that a new browser tab or a second server thread cannot reset the count.
ALTER TABLE users ADD COLUMN failed_logins INTEGER DEFAULT 0;  -- DuckDB 1.5 cannot add NOT NULL columns
ALTER TABLE users ADD COLUMN locked_until TIMESTAMPTZ;
ALTER TABLE users ADD COLUMN last_login_at TIMESTAMPTZ;
-- Single sign-on (st.login): the e-mail the identity provider vouches for, mapped to this account.
ALTER TABLE users ADD COLUMN email VARCHAR;
