
ALTER TABLE invites ADD COLUMN appointed_by TEXT NOT NULL DEFAULT 'organisation'
    CHECK (appointed_by IN ('organisation', 'branch'));
UPDATE invites SET appointed_by = 'branch' WHERE org_id IS NULL OR external <> 0;
ALTER TABLE advisors ADD COLUMN appointed_by TEXT NOT NULL DEFAULT 'organisation'
    CHECK (appointed_by IN ('organisation', 'branch'));
ALTER TABLE advisors ADD COLUMN appointed_on TEXT NOT NULL DEFAULT '';
UPDATE advisors SET appointed_by = 'branch' WHERE org_id IS NULL OR external <> 0;
UPDATE advisors SET appointed_on = date('now') WHERE appointed_on = '';
CREATE TABLE advisor_events (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('joined', 'suspended', 'unsuspended', 'reordered')),
    subject      BLOB CHECK (subject IS NULL OR length(subject) = 16),
    display_name TEXT NOT NULL,
    org_id       INTEGER REFERENCES organisations(id) ON DELETE CASCADE,
    appointed_by TEXT CHECK (appointed_by IS NULL OR appointed_by IN ('organisation', 'branch')),
    day          TEXT NOT NULL
);
CREATE INDEX advisor_events_org ON advisor_events(org_id, id);
