-- acr-index schema, version 4: referrers (signatures, SBOMs, attestations).
-- Append-only: never edit a released migration, add a new numbered file.

-- One row per referrer manifest, content-addressed like manifests. kind and
-- format are decided when it is stored (see store/referrers_kind.rs).
CREATE TABLE referrers (
    id             INTEGER PRIMARY KEY,
    digest         TEXT NOT NULL UNIQUE,
    media_type     TEXT NOT NULL,
    -- artifactType, else the manifest's config media type
    artifact_type  TEXT,
    created        TEXT,
    -- signature | sbom | attestation | other
    kind           TEXT NOT NULL,
    -- cosign | notation (signatures), spdx | cyclonedx (SBOMs), the
    -- predicate type (attestations), else the artifact type
    format         TEXT,
    predicate_type TEXT,
    -- The in-toto statement (JSON) of a SLSA provenance attestation, for provenance.
    statement      TEXT,
    first_seen     TEXT NOT NULL
);

CREATE TABLE referrer_annotations (
    referrer_id INTEGER NOT NULL REFERENCES referrers(id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (referrer_id, key)
) WITHOUT ROWID;

-- What refers to what, per repository (the referrers API is per
-- repository). A subject may itself be a referrer (a signature on an SBOM).
CREATE TABLE referrer_links (
    repository_id  INTEGER NOT NULL REFERENCES repositories(id),
    subject_digest TEXT NOT NULL,
    referrer_id    INTEGER NOT NULL REFERENCES referrers(id),
    -- api | tag-schema | cosign-tag
    source         TEXT NOT NULL,
    first_seen     TEXT NOT NULL,
    PRIMARY KEY (repository_id, subject_digest, referrer_id)
) WITHOUT ROWID;
CREATE INDEX referrer_links_subject ON referrer_links(subject_digest);

-- When a subject's referrers were last listed (API or tag schema), for the
-- re-check schedule.
CREATE TABLE referrer_checks (
    repository_id  INTEGER NOT NULL REFERENCES repositories(id),
    subject_digest TEXT NOT NULL,
    checked_at     TEXT NOT NULL,
    PRIMARY KEY (repository_id, subject_digest)
) WITHOUT ROWID;
