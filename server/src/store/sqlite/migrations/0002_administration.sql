
ALTER TABLE instance ADD COLUMN require_totp INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organisations ADD COLUMN suspended INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organisations ADD COLUMN advisor_order TEXT NOT NULL DEFAULT '[]';
ALTER TABLE organisations ADD COLUMN logo BLOB;
ALTER TABLE organisations ADD COLUMN logo_type TEXT;
ALTER TABLE advisors ADD COLUMN suspended INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN tenant TEXT;
UPDATE cases SET tenant = (SELECT slug FROM organisations o WHERE o.id = cases.org_id);
CREATE TRIGGER cases_tenant AFTER INSERT ON cases FOR EACH ROW WHEN NEW.tenant IS NULL
BEGIN
    UPDATE cases SET tenant = (SELECT slug FROM organisations WHERE id = NEW.org_id)
    WHERE id = NEW.id;
END;
CREATE TABLE org_former_slugs (
    slug   TEXT PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE
);
CREATE TABLE admin_accounts (
    id              INTEGER PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    role            TEXT NOT NULL CHECK (role IN ('operator', 'org_admin')),
    org_id          INTEGER REFERENCES organisations(id) ON DELETE CASCADE,
    passphrase_hash TEXT NOT NULL,
    totp_secret     BLOB,
    totp_pending    BLOB,
    totp_last_step  INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    CHECK ((role = 'operator') = (org_id IS NULL))
);
CREATE TABLE admin_sessions (
    token_hash BLOB PRIMARY KEY CHECK (length(token_hash) = 32),
    account_id INTEGER NOT NULL REFERENCES admin_accounts(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL
);
CREATE INDEX admin_sessions_account ON admin_sessions(account_id);
CREATE TABLE admin_invites (
    code_hash  BLOB PRIMARY KEY CHECK (length(code_hash) = 32),
    org_id     INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    org_id INTEGER REFERENCES organisations(id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_org ON audit_log(org_id, id);
