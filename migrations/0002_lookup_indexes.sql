-- acr-index schema, version 2: indexes for `show` and `running`.
-- Append-only: never edit a released migration, add a new numbered file.

-- `show repo:tag` looks a repository up by name without knowing its
-- registry; the UNIQUE (registry_id, name) index cannot serve that.
CREATE INDEX repositories_name ON repositories(name);

-- A tag's whole history (tags_current only covers current mappings).
CREATE INDEX tags_repo_name ON tags(repository_id, name);
