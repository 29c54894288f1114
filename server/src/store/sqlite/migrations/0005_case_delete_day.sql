
ALTER TABLE cases ADD COLUMN delete_day TEXT;
UPDATE cases SET delete_day = date(closed_day, '+' || (
        SELECT o.retention_days FROM organisations o WHERE o.id = cases.org_id) || ' days')
    WHERE status = 'closed' AND closed_day IS NOT NULL;
