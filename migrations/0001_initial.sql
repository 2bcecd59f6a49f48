-- acr-index schema, version 1. Append-only: never edit a released migration,
-- add a new numbered file instead.

-- One row per registry host[:port] (no scheme) indexed into this database.
CREATE TABLE registries (
    id   INTEGER PRIMARY KEY,
    host TEXT NOT NULL UNIQUE
);

CREATE TABLE repositories (
    id               INTEGER PRIMARY KEY,
    registry_id      INTEGER NOT NULL REFERENCES registries(id),
    name             TEXT NOT NULL,
    -- ACR's lastUpdateTime as of the last complete listing (lets a run skip
    -- unchanged repositories); NULL elsewhere.
    last_update_time TEXT,
    UNIQUE (registry_id, name)
);

CREATE TABLE runs (
    id           INTEGER PRIMARY KEY,
    registry     TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    -- running | ok | partial | failed | interrupted | abandoned
    status       TEXT NOT NULL,
    full         INTEGER NOT NULL DEFAULT 0,
    repositories INTEGER NOT NULL DEFAULT 0,
    tags         INTEGER NOT NULL DEFAULT 0,
    manifests_new INTEGER NOT NULL DEFAULT 0,
    manifests_known INTEGER NOT NULL DEFAULT 0,
    failures     INTEGER NOT NULL DEFAULT 0,
    -- JSON object: HTTP requests made, by kind (catalog, tags, head, manifest, blob, token)
    requests     TEXT NOT NULL DEFAULT '{}',
    message      TEXT
);

-- Items a run could not index; the next run tries them again.
CREATE TABLE run_errors (
    run_id     INTEGER NOT NULL REFERENCES runs(id),
    repository TEXT,
    reference  TEXT,
    message    TEXT NOT NULL
);
CREATE INDEX run_errors_run ON run_errors(run_id);

-- Manifests are content-addressed: one row per digest, shared by every
-- repository and registry that holds it. A row exists only once the manifest
-- and (for images) its config were fetched and verified.
CREATE TABLE manifests (
    id                INTEGER PRIMARY KEY,
    digest            TEXT NOT NULL UNIQUE,
    media_type        TEXT NOT NULL,
    -- image | index | artifact | schema1
    kind              TEXT NOT NULL,
    -- ok | unsupported (schema 1 without readable labels)
    status            TEXT NOT NULL DEFAULT 'ok',
    artifact_type     TEXT,
    config_digest     TEXT,
    config_media_type TEXT,
    created           TEXT,      -- RFC 3339 UTC from the image config
    os                TEXT,
    architecture      TEXT,
    variant           TEXT,
    os_version        TEXT,
    size              INTEGER NOT NULL,
    indexed_at        TEXT NOT NULL,
    run_id            INTEGER REFERENCES runs(id)
);
CREATE INDEX manifests_config_digest ON manifests(config_digest);

-- Label keys are few and long; labels refer to them by id so a million
-- labels stay small and a key-suffix match scans only this table.
CREATE TABLE label_keys (
    id  INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE
);

-- Config labels (config.Labels of the image config).
CREATE TABLE labels (
    manifest_id INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
    key_id      INTEGER NOT NULL REFERENCES label_keys(id),
    value       TEXT NOT NULL,
    PRIMARY KEY (manifest_id, key_id)
) WITHOUT ROWID;
CREATE INDEX labels_key_value ON labels(key_id, value);

-- Manifest and index annotations, kept apart from labels.
CREATE TABLE annotations (
    manifest_id INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (manifest_id, key)
) WITHOUT ROWID;

-- The manifests an index (or manifest list) names, with the platform the
-- index gives for each.
CREATE TABLE index_children (
    index_id       INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    child_digest   TEXT NOT NULL,
    media_type     TEXT NOT NULL,
    os             TEXT,
    architecture   TEXT,
    variant        TEXT,
    os_version     TEXT,
    -- BuildKit attestation manifests (platform unknown/unknown)
    is_attestation INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (index_id, position)
) WITHOUT ROWID;
CREATE INDEX index_children_child ON index_children(child_digest);

-- Tag history: the current mapping has removed_at NULL; when a tag moves or
-- disappears its row is closed, never deleted.
CREATE TABLE tags (
    id            INTEGER PRIMARY KEY,
    repository_id INTEGER NOT NULL REFERENCES repositories(id),
    name          TEXT NOT NULL,
    digest        TEXT NOT NULL,
    first_seen    TEXT NOT NULL,
    last_seen     TEXT NOT NULL,
    removed_at    TEXT
);
CREATE UNIQUE INDEX tags_current ON tags(repository_id, name) WHERE removed_at IS NULL;
CREATE INDEX tags_digest ON tags(digest);

-- For people reading the database with the sqlite3 shell.
CREATE VIEW image_labels AS
    SELECT m.digest, k.key, l.value
    FROM labels l JOIN label_keys k ON k.id = l.key_id JOIN manifests m ON m.id = l.manifest_id;

CREATE VIEW current_tags AS
    SELECT g.host AS registry, r.name AS repository, t.name AS tag, t.digest, t.first_seen, t.last_seen
    FROM tags t JOIN repositories r ON r.id = t.repository_id JOIN registries g ON g.id = r.registry_id
    WHERE t.removed_at IS NULL;

-- One row per image as seen through a current tag: a tag on an image or
-- artifact gives one row; a tag on an index gives one row per platform
-- child (attestations left out), also through one level of nested index.
-- index_digest is the index the tag points at.
CREATE VIEW image_rows AS
    SELECT t.id AS tag_id, g.host AS registry, r.name AS repository, t.name AS tag,
           m.id AS manifest_id, m.digest AS digest, NULL AS index_digest,
           m.os AS os, m.architecture AS architecture, m.variant AS variant,
           m.media_type AS media_type, m.created AS created, t.first_seen AS tag_since
    FROM tags t
    JOIN repositories r ON r.id = t.repository_id
    JOIN registries g ON g.id = r.registry_id
    JOIN manifests m ON m.digest = t.digest AND m.kind <> 'index'
    WHERE t.removed_at IS NULL
    UNION ALL
    SELECT t.id, g.host, r.name, t.name,
           cm.id, cm.digest, im.digest,
           coalesce(c.os, cm.os), coalesce(c.architecture, cm.architecture),
           coalesce(c.variant, cm.variant), cm.media_type, cm.created, t.first_seen
    FROM tags t
    JOIN repositories r ON r.id = t.repository_id
    JOIN registries g ON g.id = r.registry_id
    JOIN manifests im ON im.digest = t.digest AND im.kind = 'index'
    JOIN index_children c ON c.index_id = im.id AND c.is_attestation = 0
    JOIN manifests cm ON cm.digest = c.child_digest AND cm.kind <> 'index'
    WHERE t.removed_at IS NULL
    UNION ALL
    SELECT t.id, g.host, r.name, t.name,
           cm.id, cm.digest, im.digest,
           coalesce(c2.os, cm.os), coalesce(c2.architecture, cm.architecture),
           coalesce(c2.variant, cm.variant), cm.media_type, cm.created, t.first_seen
    FROM tags t
    JOIN repositories r ON r.id = t.repository_id
    JOIN registries g ON g.id = r.registry_id
    JOIN manifests im ON im.digest = t.digest AND im.kind = 'index'
    JOIN index_children c ON c.index_id = im.id AND c.is_attestation = 0
    JOIN manifests mid ON mid.digest = c.child_digest AND mid.kind = 'index'
    JOIN index_children c2 ON c2.index_id = mid.id AND c2.is_attestation = 0
    JOIN manifests cm ON cm.digest = c2.child_digest AND cm.kind <> 'index'
    WHERE t.removed_at IS NULL;
