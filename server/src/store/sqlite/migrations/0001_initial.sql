
CREATE TABLE instance (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    pow_key     BLOB NOT NULL CHECK (length(pow_key) = 32),
    created_day TEXT NOT NULL
);
CREATE TABLE organisations (
    id             INTEGER PRIMARY KEY,
    slug           TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    intro_nl       TEXT NOT NULL DEFAULT '',
    intro_en       TEXT NOT NULL DEFAULT '',
    conduct_nl     TEXT NOT NULL DEFAULT '',
    conduct_en     TEXT NOT NULL DEFAULT '',
    categories     TEXT NOT NULL DEFAULT '[]',
    retention_days INTEGER NOT NULL DEFAULT 365,
    languages      TEXT NOT NULL DEFAULT '["nl","en"]'
);
CREATE TABLE advisors (
    id           BLOB PRIMARY KEY CHECK (length(id) = 16),
    org_id       INTEGER REFERENCES organisations(id) ON DELETE CASCADE,
    identity_pk  BLOB NOT NULL UNIQUE CHECK (length(identity_pk) = 32),
    display_name TEXT NOT NULL,
    bio          TEXT NOT NULL DEFAULT '',
    photo        BLOB,
    photo_type   TEXT,
    external     INTEGER NOT NULL,
    languages    TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX advisors_org ON advisors(org_id);
CREATE TABLE invites (
    code_hash  BLOB PRIMARY KEY CHECK (length(code_hash) = 32),
    org_id     INTEGER REFERENCES organisations(id) ON DELETE CASCADE,
    external   INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE key_bundles (
    key_id     BLOB PRIMARY KEY CHECK (length(key_id) = 16),
    advisor_id BLOB NOT NULL REFERENCES advisors(id) ON DELETE CASCADE,
    bundle     BLOB NOT NULL,
    not_before INTEGER NOT NULL,
    not_after  INTEGER NOT NULL
);
CREATE INDEX key_bundles_advisor ON key_bundles(advisor_id);
CREATE TABLE revocations (
    key_id     BLOB PRIMARY KEY REFERENCES key_bundles(key_id) ON DELETE CASCADE,
    statement  BLOB NOT NULL,
    revoked_at INTEGER NOT NULL
);
CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY CHECK (length(token_hash) = 32),
    advisor_id BLOB NOT NULL REFERENCES advisors(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
CREATE TABLE cases (
    id               BLOB PRIMARY KEY CHECK (length(id) = 16),
    org_id           INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    token_hash       BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    status           TEXT NOT NULL CHECK (status IN ('new', 'acknowledged', 'in_progress', 'closed')),
    created_day      TEXT NOT NULL,
    updated_day      TEXT NOT NULL,
    acknowledged_day TEXT,
    closed_day       TEXT
);
CREATE TABLE case_advisors (
    case_id    BLOB NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    advisor_id BLOB NOT NULL REFERENCES advisors(id) ON DELETE CASCADE,
    PRIMARY KEY (case_id, advisor_id)
) WITHOUT ROWID;
CREATE INDEX case_advisors_advisor ON case_advisors(advisor_id);
CREATE TABLE messages (
    id          INTEGER PRIMARY KEY,
    case_id     BLOB NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    sender      TEXT NOT NULL CHECK (sender IN ('reporter', 'advisor')),
    created_day TEXT NOT NULL,
    envelope    BLOB NOT NULL,
    UNIQUE (case_id, seq)
);
CREATE TABLE attachments (
    id          INTEGER PRIMARY KEY,
    case_id     BLOB NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    public_id   BLOB NOT NULL CHECK (length(public_id) = 16),
    sender      TEXT NOT NULL CHECK (sender IN ('reporter', 'advisor')),
    created_day TEXT NOT NULL,
    size        INTEGER NOT NULL DEFAULT 0,
    chunks      INTEGER NOT NULL DEFAULT 0,
    complete    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (case_id, public_id)
);
CREATE TABLE attachment_chunks (
    id            INTEGER PRIMARY KEY,
    attachment_id INTEGER NOT NULL REFERENCES attachments(id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    data          BLOB NOT NULL,
    UNIQUE (attachment_id, seq)
);
CREATE TABLE detached_stanzas (
    id            INTEGER PRIMARY KEY,
    case_id       BLOB NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    advisor_id    BLOB NOT NULL REFERENCES advisors(id) ON DELETE CASCADE,
    message_id    INTEGER REFERENCES messages(id) ON DELETE CASCADE,
    attachment_id INTEGER REFERENCES attachments(id) ON DELETE CASCADE,
    stanza        BLOB NOT NULL CHECK (length(stanza) = 96),
    CHECK ((message_id IS NULL) <> (attachment_id IS NULL))
);
CREATE INDEX detached_stanzas_case ON detached_stanzas(case_id, advisor_id);
