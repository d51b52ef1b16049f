-- The web app's sessions (package web owns this table; nothing else writes
-- it). The cookie holds a random id; only its SHA-256 is stored, so a dump
-- of this table opens no session. Everything else a session carries (the
-- link token a landing page keeps, the OpenID state and verifier, the
-- current organization, the last position for read-your-writes) is in
-- data. email_ref names the signed-in person, so that forgetting them
-- deletes their sessions; user_id lets "sign out everywhere" find them all.

CREATE TABLE web_sessions (
    id_hash    bytea PRIMARY KEY,
    user_id    text,
    email_ref  text NOT NULL DEFAULT '',
    data       jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX web_sessions_email_ref ON web_sessions (email_ref) WHERE email_ref <> '';
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);

---- create above / drop below ----

DROP TABLE web_sessions;
