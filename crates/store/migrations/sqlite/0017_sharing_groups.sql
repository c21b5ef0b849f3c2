-- Named sharing groups: a set of organisations an owner names once
-- ("East African CIRTs") and then gives collections to, by the group,
-- instead of listing every member on every collection.
CREATE TABLE sharing_groups (
    id TEXT PRIMARY KEY,
    owner_org_id TEXT NOT NULL REFERENCES organisations(id),
    name TEXT NOT NULL,
    -- JSON array of organisation ids
    members TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (owner_org_id, name)
);
