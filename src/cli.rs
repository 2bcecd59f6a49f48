//! The command line, as clap sees it. Nothing outside `config` and
//! `commands` reads these raw values.

use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "acr-index",
    version,
    about = "Index a container registry's image labels and annotations into SQLite, then ask which commit, branch and build produced an image.",
    propagate_version = true,
    after_help = crate::help::TOP
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// SQLite database file.
    #[arg(long, global = true, env = "ACR_INDEX_DB", hide_env_values = true, default_value = "acr-index.db", value_hint = ValueHint::FilePath)]
    pub db: PathBuf,
    /// More log output (-v debug, -vv trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only warnings and errors. RUST_LOG overrides.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Log line format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Colour in logs and progress: auto (a terminal, and NO_COLOR unset), always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Walk the registry and store labels and annotations of every image.
    #[command(after_help = crate::help::INDEX)]
    Index(Box<IndexArgs>),
    /// Find images by label, repository, tag or digest.
    #[command(after_help = crate::help::QUERY)]
    Query(QueryArgs),
    /// Everything known about one image: labels, tags, history, links.
    #[command(after_help = crate::help::SHOW)]
    Show(ShowArgs),
    /// Write a report of every indexed image (CSV or JSON).
    #[command(after_help = crate::help::EXPORT)]
    Export(ExportArgs),
    /// List past index runs; `runs show ID` for one run's failures.
    #[command(after_help = crate::help::RUNS)]
    Runs(RunsArgs),
    /// Map the containers running in Kubernetes to their provenance.
    #[command(after_help = crate::help::RUNNING)]
    Running(RunningArgs),
    /// Base images: what each image was built on, and whether that base moved on.
    #[command(
        after_help = "Examples:\n  acr-index bases --stale\n  acr-index index --registry myacr.azurecr.io --resolve-bases && acr-index bases --stale --format json\n\nSee docs/provenance.md."
    )]
    Bases(BasesArgs),
    /// Serve the index read-only over HTTP: a JSON API and pages for people.
    // The index options are optional here (used only with --index-every):
    // an absent --registry reads as empty, which serve then refuses.
    #[command(mut_arg("registry", |a| a.required(false).default_value("").hide_default_value(true)))]
    Serve(Box<ServeArgs>),
    /// Print a shell completion script (bash, zsh, fish, powershell).
    #[command(after_help = crate::help::COMPLETIONS)]
    Completions(CompletionsArgs),
    /// Print the man page (roff) on stdout.
    #[command(after_help = "Example:\n  acr-index man > /usr/local/share/man/man1/acr-index.1")]
    Man,
    /// Print the version, the commit it was built from and the bundled SQLite version.
    Version,
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// ACR's /acr/v1 listing API when the registry offers it, else /v2.
    Auto,
    Acr,
    V2,
}

#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Registry")]
pub struct IndexArgs {
    /// Registry host or URL (https:// unless the URL says http://).
    #[arg(long, env = "ACR_INDEX_REGISTRY", hide_env_values = true, value_hint = ValueHint::Url)]
    pub registry: String,
    /// Only repositories matching this glob (repeatable; any may match).
    /// Plain names are visited without listing the catalog. `*` also
    /// matches `/`; `{a,b}` alternatives.
    #[arg(long = "repo", value_name = "GLOB", help_heading = "Selection")]
    pub repos: Vec<String>,
    /// Skip repositories matching this glob (repeatable).
    #[arg(long = "exclude", value_name = "GLOB", help_heading = "Selection")]
    pub excludes: Vec<String>,
    /// Read repository names, one per line, from FILE (for credentials that
    /// cannot list the catalog).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, help_heading = "Selection")]
    pub repos_from: Option<PathBuf>,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=512), help_heading = "Load on the registry")]
    pub concurrency: u16,
    /// Ceiling on requests per second (ACR throttles per SKU); 0.001 to 100000.
    #[arg(long, value_name = "N", help_heading = "Load on the registry")]
    pub max_rps: Option<f64>,
    /// Re-fetch every digest, even those already indexed.
    #[arg(long, help_heading = "Selection")]
    pub full: bool,
    /// Listing API.
    #[arg(long, value_enum, default_value_t = Api::Auto)]
    pub api: Api,
    /// Entries asked for per catalog or tag-list page.
    #[arg(long, help_heading = "Load on the registry", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub page_size: u32,
    /// Timeout for a whole request, redirects included, in seconds; 1 to 3600.
    #[arg(
        long,
        default_value_t = 60,
        value_name = "SECONDS",
        help_heading = "Load on the registry"
    )]
    pub timeout: u64,
    /// Retries for 429, 5xx and network errors before an item is recorded as failed; 0 to 20.
    #[arg(long, default_value_t = 5, help_heading = "Load on the registry")]
    pub retries: u32,
    /// Seconds to wait for another index run on the same database to finish; 0 to 86400.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub lock_timeout: u64,
    /// Do not fetch BuildKit attestation layers (SLSA provenance); a later
    /// run without this flag reads them.
    #[arg(long)]
    pub no_attestations: bool,
    /// After indexing, HEAD every distinct base image reference the images
    /// name (image.base.ref.name, org.opencontainers.image.base.name) in
    /// its own registry, once per run, and record the digest and time.
    #[arg(long)]
    pub resolve_bases: bool,
    /// Write the run's figures in Prometheus text format to PATH.
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath, help_heading = "Output")]
    pub metrics_file: Option<PathBuf>,
    /// What to print on stdout when the run ends: nothing (table: the
    /// summary goes to stderr) or one JSON object summarising the run.
    #[arg(long, value_enum, default_value_t = IndexFormat::Table, help_heading = "Output")]
    pub format: IndexFormat,
    #[command(flatten)]
    pub credentials: CredentialArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexFormat {
    /// The human summary on stderr only.
    #[value(alias = "text")]
    Table,
    /// One JSON object on stdout.
    Json,
}

/// Credentials: secrets come from env vars or files, never from arguments.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Credentials (see ACR_INDEX_* below)")]
pub struct CredentialArgs {
    /// Username for basic auth or ACR tokens (env ACR_INDEX_USERNAME); the
    /// password comes from ACR_INDEX_PASSWORD, --password-stdin or --password-file.
    #[arg(long, value_name = "NAME")]
    pub username: Option<String>,
    /// Read the password from standard input.
    #[arg(long, conflicts_with = "password_file")]
    pub password_stdin: bool,
    /// Read the password from FILE.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub password_file: Option<PathBuf>,
    /// Read an Entra ID access token from FILE (as `az account get-access-token` prints it).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub aad_token_file: Option<PathBuf>,
    /// Use the Azure managed identity (IMDS).
    #[arg(long)]
    pub managed_identity: bool,
    /// Docker config.json or Kubernetes .dockerconfigjson to read credentials from.
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub docker_config: Option<PathBuf>,
    /// Ask the Azure CLI for an Entra ID token (`az account get-access-token`),
    /// tried after the docker and podman configs.
    #[arg(long)]
    pub azure_cli: bool,
    /// Extra trusted CA certificates (PEM). TLS is always verified.
    #[arg(long, value_name = "PEM", value_hint = ValueHint::FilePath)]
    pub ca_file: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
    /// One JSON object per line.
    Jsonl,
}

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Filters (times are UTC)")]
pub struct FilterArgs {
    /// KEY=VALUE (exact; a trailing * matches a prefix) or KEY (has the
    /// label). KEY matches a label key or its last dot-separated segments:
    /// `sourceversion` matches `com.visualstudio.myorg.image.build.sourceversion`.
    /// Repeatable; all must match.
    #[arg(long = "label", value_name = "KEY[=VALUE]")]
    pub labels: Vec<String>,
    /// Repository glob (repeatable; any may match). `*` also matches `/`;
    /// `{api,web}` alternatives; the same dialect as `index --repo`.
    #[arg(long = "repo", value_name = "GLOB")]
    pub repos: Vec<String>,
    /// Tag glob (repeatable; any may match).
    #[arg(long = "tag", value_name = "GLOB")]
    pub tags: Vec<String>,
    /// Only this registry (host[:port]).
    #[arg(long)]
    pub registry: Option<String>,
    /// Only images with this manifest, index or config digest: sha256:HEX,
    /// bare HEX, or a unique prefix of at least 12 hex digits.
    #[arg(long)]
    pub digest: Option<String>,
    /// Created (or first seen) at or after this instant: RFC 3339, a UTC
    /// date (YYYY-MM-DD, from its start) or an age (30m, 12h, 7d, 2w).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Created (or first seen) at or before this instant: RFC 3339, a UTC
    /// date (YYYY-MM-DD, that whole day included) or an age (7d).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    // --- provenance filters (docs/provenance.md) ---
    /// Provenance commit: the full SHA, PREFIX* (any prefix), or a unique
    /// prefix of at least 7 hex digits.
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,
    /// Provenance branch (`main`, not `refs/heads/main`).
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
    /// Provenance source repository URL (`.git` and `#ref:dir` ignored).
    #[arg(long, value_name = "URL")]
    pub source: Option<String>,
    /// Like --label, over manifest, descriptor and index annotations.
    /// Repeatable; all must match.
    #[arg(long = "annotation", value_name = "KEY[=VALUE]")]
    pub annotations: Vec<String>,
    // --- end of provenance filters ---
    // Referrers (signatures, SBOMs, attestations): see docs/referrers.md.
    /// Only images a signature (cosign, notation) refers to, or their index.
    #[arg(long, conflicts_with = "unsigned")]
    pub signed: bool,
    /// Only images no signature refers to.
    #[arg(long)]
    pub unsigned: bool,
    /// Only images with a referrer of this artifact type, kind (signature,
    /// sbom, attestation) or format (notation, cosign, spdx, cyclonedx, a
    /// predicate type). Repeatable; all must match.
    #[arg(long = "artifact-type", value_name = "TYPE")]
    pub artifact_types: Vec<String>,
}

#[derive(Args, Debug)]
pub struct QueryArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Output format: a table that fits the terminal ($COLUMNS), a JSON
    /// array (one object per image and tag), JSON lines, or CSV with the
    /// columns of `export --format csv`.
    #[arg(long, value_enum, default_value_t = Format::Table, help_heading = "Output")]
    pub format: Format,
    /// CSV: do not neutralise values a spreadsheet would run as formulas.
    #[arg(long)]
    pub raw: bool,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// registry/repo:tag, repo:tag, repo (means repo:latest), repo@sha256:...,
    /// or a bare digest: sha256:HEX, HEX, or a unique prefix of at least 12
    /// hex digits (index, platform manifest or config digest).
    pub reference: String,
    /// Output format: readable text (`table`, alias `text`) or JSON.
    #[arg(long, value_enum, default_value_t = ShowFormat::Table)]
    pub format: ShowFormat,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShowFormat {
    #[value(alias = "text")]
    Table,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
    Jsonl,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Report format: CSV (RFC 4180), one JSON array, or one JSON object per line.
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
    /// Write to FILE instead of stdout (`-` is stdout). A regular file is
    /// replaced atomically and keeps its mode; a FIFO or a device is
    /// written through.
    #[arg(long, short, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub output: Option<PathBuf>,
    /// Label keys to add as CSV columns (comma-separated or repeated;
    /// short suffix names allowed, matched like --label keys; the header is
    /// the name as written). Default: commit, branch, build, source.
    #[arg(long, value_delimiter = ',', value_name = "KEY")]
    pub columns: Vec<String>,
    /// One row per label (columns ..., key, value) instead of one per image.
    #[arg(long)]
    pub long: bool,
    /// Do not neutralise values a spreadsheet would run as formulas.
    #[arg(long)]
    pub raw: bool,
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RunsArgs {
    #[command(subcommand)]
    pub action: Option<RunsAction>,
    /// How many runs, newest first.
    #[arg(long, default_value_t = 20)]
    pub limit: i64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Subcommand, Debug)]
pub enum RunsAction {
    /// One run in full: its counts, requests and every failure, grouped by cause.
    Show {
        /// The run's number (the RUN column).
        id: i64,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ShowFormat::Table)]
        format: ShowFormat,
    },
}

#[derive(Args, Debug)]
pub struct RunningArgs {
    /// `kubectl get pods -A -o json` output, or - for standard input.
    #[arg(long, value_name = "FILE|-", value_hint = ValueHint::FilePath)]
    pub pods: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Args, Debug)]
pub struct BasesArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Only images built on a digest their base name no longer points at.
    #[arg(long)]
    pub stale: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on (loopback unless you say otherwise).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: String,
    /// Require `Authorization: Bearer <token>` on /api/, the token being
    /// this file's content (surrounding whitespace ignored).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub token_file: Option<PathBuf>,
    /// Also run `index` in this process: at start, then this long after
    /// each run ends (30s, 15m, 1h, 1d). Needs --registry.
    #[arg(long, value_name = "DURATION")]
    pub index_every: Option<String>,
    #[command(flatten, next_help_heading = "Index options (with --index-every)")]
    pub index: IndexArgs,
}
