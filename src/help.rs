//! The text `--help` prints after the options: examples, the environment
//! variables people set, the exit codes. Kept beside the flags so that a
//! new flag and its example change together.

pub const TOP: &str = "\
Examples:
  acr-index index --registry myacr.azurecr.io
  acr-index query --label sourceversion=13c0f2b5* --format json
  acr-index show team/api:1.2
  kubectl get pods -A -o json | acr-index running --pods -

Environment:
  ACR_INDEX_DB                 the database (--db)
  ACR_INDEX_REGISTRY           the registry (index --registry)
  ACR_INDEX_USERNAME, ACR_INDEX_PASSWORD
                               basic auth, ACR admin user or repository-scoped token
  ACR_INDEX_REFRESH_TOKEN      an ACR refresh token
  ACR_INDEX_AAD_TOKEN          an Entra ID access token (exchanged at /oauth2/exchange)
  AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_AUTHORITY_HOST
                               Azure workload identity
  DOCKER_CONFIG                directory of the docker config.json
  REGISTRY_AUTH_FILE           podman/skopeo auth.json (else $XDG_RUNTIME_DIR/containers/auth.json)
  RUST_LOG                     log filter; overrides -v and -q
  NO_COLOR                     no colour (as --color never)
  COLUMNS                      the width tables fit

Exit status:
  0    all done
  1    the run failed, or a reference matched nothing (or several images)
  2    bad usage
  3    the run finished but some images could not be indexed (see `acr-index runs`)
  130  interrupted by SIGTERM or SIGINT; what was complete is committed

Documentation: README.md and docs/ in the source tree; `acr-index man` prints the man page.";

pub const INDEX: &str = "\
Examples:
  acr-index index --registry myacr.azurecr.io
  acr-index index --registry http://127.0.0.1:5000 --repo 'team/{api,web}' --exclude 'team/legacy-*'
  acr-index index --registry myacr.azurecr.io --format json | jq .failures

Credential sources, first that applies wins: ACR_INDEX_USERNAME + ACR_INDEX_PASSWORD,
ACR_INDEX_REFRESH_TOKEN, ACR_INDEX_AAD_TOKEN / --aad-token-file, workload identity
(AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID, AZURE_TENANT_ID), --managed-identity,
the docker config (--docker-config, $DOCKER_CONFIG, ~/.docker/config.json), the
podman auth.json (REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json),
--azure-cli, anonymous.

Exit status: 0 done, 1 failed, 2 bad usage, 3 some images could not be indexed, 130 interrupted.";

pub const QUERY: &str = "\
Examples:
  acr-index query --label sourceversion=13c0f2b5a2ab438dd9dab2a669fef68b61f18bed
  acr-index query --label 'revision=13c0f2*' --repo 'team/*' --format json
  acr-index query --repo team/api --repo team/web --since 7d
  acr-index query --digest sha256:8cacc3151450

Globs: `*` matches any characters, `/` included; `?` one; `[abc]`; `{a,b}`.
Times are UTC.";

pub const SHOW: &str = "\
Examples:
  acr-index show myacr.azurecr.io/team/api:latest
  acr-index show team/api            (means team/api:latest)
  acr-index show sha256:8cacc3151450 (a unique prefix of 12+ hex digits)
  acr-index show team/web@sha256:6e5cb5ac80099ba6dfde63b03ead8c2238859ae1dda45d7cec851220f202c9eb

Exit status: 1 when nothing matches or a prefix matches several images (listed); 2 for a malformed reference.";

pub const EXPORT: &str = "\
Examples:
  acr-index export --output report.csv
  acr-index export --columns sourceversion,buildnumber --repo 'team/*'
  acr-index export --long --format csv --output -
  acr-index export --format jsonl | gzip > images.jsonl.gz";

pub const RUNS: &str = "\
Examples:
  acr-index runs
  acr-index runs --format json --limit 1
  acr-index runs show 12          (one run with its failures grouped by cause)";

pub const RUNNING: &str = "\
Examples:
  kubectl get pods -A -o json | acr-index running --pods -
  acr-index running --pods pods.json --format csv

The input is a List of Pods as `kubectl get pods -o json` prints it (not YAML).";

pub const COMPLETIONS: &str = "\
Examples:
  acr-index completions bash > /etc/bash_completion.d/acr-index
  acr-index completions zsh > \"${fpath[1]}/_acr-index\"
  acr-index completions fish > ~/.config/fish/completions/acr-index.fish
  acr-index completions powershell >> $PROFILE";
