-- acr-index schema, version 3: every place an image carries provenance is
-- stored, and so is the provenance derived from them (src/provenance).
-- Append-only: never edit a released migration, add a new numbered file.

-- The annotations of each descriptor in an index: Docker Official Images
-- keep org.opencontainers.image.revision and .source here, BuildKit names
-- the subject of an attestation manifest (vnd.docker.reference.digest).
CREATE TABLE descriptor_annotations (
    index_id INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (index_id, position, key)
) WITHOUT ROWID;

-- In-toto statements with a SLSA provenance predicate, from the
-- application/vnd.in-toto+json layers of BuildKit attestation manifests
-- (fetched once per digest, verified, size-capped).
CREATE TABLE attestations (
    manifest_id    INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
    layer_digest   TEXT NOT NULL,
    predicate_type TEXT NOT NULL,
    statement      TEXT NOT NULL,
    PRIMARY KEY (manifest_id, layer_digest)
) WITHOUT ROWID;

-- Fetch this manifest again although it is indexed: 1 by the next run
-- (databases written before version 3 never kept descriptor annotations or
-- attestation layers; their indexes and attestation manifests, few and
-- small, are fetched once more); 2 by the next run that reads attestations
-- (set when `--no-attestations` skipped them, and on the index above).
ALTER TABLE manifests ADD COLUMN refetch INTEGER NOT NULL DEFAULT 0;
UPDATE manifests SET refetch = 1
WHERE kind = 'index'
   OR digest IN (SELECT child_digest FROM index_children WHERE is_attestation = 1);

-- The provenance object of SPEC.md, one per manifest, derived from the
-- sources above by acr-index when a manifest (or the index holding it) is
-- written; for an existing database right after this migration, from what
-- it already holds. via_index_id: the index whose descriptor, annotations
-- and attestations were used (the newest one listing the manifest).
CREATE TABLE provenance (
    manifest_id  INTEGER PRIMARY KEY REFERENCES manifests(id) ON DELETE CASCADE,
    via_index_id INTEGER,
    commit_sha   TEXT,
    commit_url   TEXT,
    branch       TEXT,
    build_number TEXT,
    build_id     TEXT,
    build_uri    TEXT,
    build_url    TEXT,
    source       TEXT,
    base_name    TEXT,
    base_digest  TEXT,
    family       TEXT,
    origin       TEXT
);
CREATE INDEX provenance_commit ON provenance(commit_sha);
CREATE INDEX provenance_branch ON provenance(branch);
CREATE INDEX provenance_source ON provenance(source);
CREATE INDEX provenance_base ON provenance(base_name);

-- What `index --resolve-bases` learned: one row per HEAD, kept as history.
CREATE TABLE base_checks (
    id         INTEGER PRIMARY KEY,
    reference  TEXT NOT NULL,
    digest     TEXT,
    error      TEXT,
    checked_at TEXT NOT NULL,
    run_id     INTEGER REFERENCES runs(id)
);
CREATE INDEX base_checks_reference ON base_checks(reference, checked_at);

-- `--annotation KEY=VALUE` over annotations of any kind.
CREATE INDEX annotations_key_value ON annotations(key, value);
CREATE INDEX descriptor_annotations_key_value ON descriptor_annotations(key, value);

-- Rows as before, with the provenance joined in, and without index
-- children that are not runnable images (no platform, an empty one, or unknown/unknown:
-- BuildKit attestations and regclient-style "builder" artifacts).
DROP VIEW image_rows;
CREATE VIEW image_rows AS
    SELECT t.id AS tag_id, g.host AS registry, r.name AS repository, t.name AS tag,
           m.id AS manifest_id, m.digest AS digest, NULL AS index_digest,
           m.os AS os, m.architecture AS architecture, m.variant AS variant,
           m.media_type AS media_type, m.created AS created, t.first_seen AS tag_since,
           p.commit_sha AS commit_sha, p.branch AS branch, p.source AS source
    FROM tags t
    JOIN repositories r ON r.id = t.repository_id
    JOIN registries g ON g.id = r.registry_id
    JOIN manifests m ON m.digest = t.digest AND m.kind <> 'index'
    LEFT JOIN provenance p ON p.manifest_id = m.id
    WHERE t.removed_at IS NULL
    UNION ALL
    SELECT t.id, g.host, r.name, t.name,
           cm.id, cm.digest, im.digest,
           coalesce(c.os, cm.os), coalesce(c.architecture, cm.architecture),
           coalesce(c.variant, cm.variant), cm.media_type, cm.created, t.first_seen,
           p.commit_sha, p.branch, p.source
    FROM tags t
    JOIN repositories r ON r.id = t.repository_id
    JOIN registries g ON g.id = r.registry_id
    JOIN manifests im ON im.digest = t.digest AND im.kind = 'index'
    JOIN index_children c ON c.index_id = im.id AND c.is_attestation = 0
    JOIN manifests cm ON cm.digest = c.child_digest AND cm.kind <> 'index'
    LEFT JOIN provenance p ON p.manifest_id = cm.id
    WHERE t.removed_at IS NULL
      AND coalesce(nullif(c.os, ''), nullif(cm.os, ''), 'unknown') <> 'unknown'
      AND coalesce(nullif(c.architecture, ''), nullif(cm.architecture, ''), 'unknown') <> 'unknown'
    UNION ALL
    SELECT t.id, g.host, r.name, t.name,
           cm.id, cm.digest, im.digest,
           coalesce(c2.os, cm.os), coalesce(c2.architecture, cm.architecture),
           coalesce(c2.variant, cm.variant), cm.media_type, cm.created, t.first_seen,
           p.commit_sha, p.branch, p.source
    FROM tags t
    JOIN repositories r ON r.id = t.repository_id
    JOIN registries g ON g.id = r.registry_id
    JOIN manifests im ON im.digest = t.digest AND im.kind = 'index'
    JOIN index_children c ON c.index_id = im.id AND c.is_attestation = 0
    JOIN manifests mid ON mid.digest = c.child_digest AND mid.kind = 'index'
    JOIN index_children c2 ON c2.index_id = mid.id AND c2.is_attestation = 0
    JOIN manifests cm ON cm.digest = c2.child_digest AND cm.kind <> 'index'
    LEFT JOIN provenance p ON p.manifest_id = cm.id
    WHERE t.removed_at IS NULL
      AND coalesce(nullif(c2.os, ''), nullif(cm.os, ''), 'unknown') <> 'unknown'
      AND coalesce(nullif(c2.architecture, ''), nullif(cm.architecture, ''), 'unknown') <> 'unknown';
