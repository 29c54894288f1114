
CREATE TABLE IF NOT EXISTS advisor_notify (
    advisor_id BLOB PRIMARY KEY REFERENCES advisors(id) ON DELETE CASCADE,
    email      TEXT NOT NULL CHECK (length(email) BETWEEN 3 AND 254)
);
