//! The command line, as clap sees it. Nothing outside `config` and
//! `commands` reads these raw values.

use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "acr-index",
    version,
    about = "Index a container registry's image labels and annotations into SQLite, then ask which commit, branch and build produced an image.",
    propagate_version = true
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
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Walk the registry and store labels and annotations of every image.
    Index(Box<IndexArgs>),
    /// Find images by label, repository, tag or digest.
    Query(QueryArgs),
    /// Everything known about one image: labels, tags, history, links.
    Show(ShowArgs),
    /// Write a report of every indexed image (CSV or JSON).
    Export(ExportArgs),
    /// List past index runs.
    Runs(RunsArgs),
    /// Map the containers running in Kubernetes to their provenance.
    Running(RunningArgs),
    /// Serve the index read-only over HTTP: a JSON API and pages for people.
    // The index options are optional here (used only with --index-every):
    // an absent --registry reads as empty, which serve then refuses.
    #[command(mut_arg("registry", |a| a.required(false).default_value("").hide_default_value(true)))]
    Serve(Box<ServeArgs>),
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// ACR's /acr/v1 listing API when the registry offers it, else /v2.
    Auto,
    Acr,
    V2,
}

#[derive(Args, Debug, Clone)]
pub struct IndexArgs {
    /// Registry host or URL (https:// unless the URL says http://).
    #[arg(long, env = "ACR_INDEX_REGISTRY", hide_env_values = true, value_hint = ValueHint::Url)]
    pub registry: String,
    /// Only repositories matching this glob (repeatable). Plain names are
    /// visited without listing the catalog.
    #[arg(long = "repo", value_name = "GLOB")]
    pub repos: Vec<String>,
    /// Skip repositories matching this glob (repeatable).
    #[arg(long = "exclude", value_name = "GLOB")]
    pub excludes: Vec<String>,
    /// Read repository names, one per line, from FILE (for credentials that
    /// cannot list the catalog).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub repos_from: Option<PathBuf>,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub concurrency: u16,
    /// Ceiling on requests per second (ACR throttles per SKU).
    #[arg(long, value_name = "N")]
    pub max_rps: Option<f64>,
    /// Re-fetch every digest, even those already indexed.
    #[arg(long)]
    pub full: bool,
    /// Listing API.
    #[arg(long, value_enum, default_value_t = Api::Auto)]
    pub api: Api,
    /// Entries asked for per catalog or tag-list page.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub page_size: u32,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub timeout: u64,
    /// Retries for 429, 5xx and network errors before an item is recorded as failed.
    #[arg(long, default_value_t = 5)]
    pub retries: u32,
    /// Seconds to wait for another index run on the same database to finish.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub lock_timeout: u64,
    /// Write the run's figures in Prometheus text format to PATH.
    #[arg(long, value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub metrics_file: Option<PathBuf>,
    #[command(flatten)]
    pub credentials: CredentialArgs,
}

/// Credentials: secrets come from env vars or files, never from arguments.
#[derive(Args, Debug, Clone, Default)]
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
    /// Extra trusted CA certificates (PEM). TLS is always verified.
    #[arg(long, value_name = "PEM", value_hint = ValueHint::FilePath)]
    pub ca_file: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Args, Debug, Clone, Default)]
pub struct FilterArgs {
    /// KEY=VALUE (exact; a trailing * matches a prefix) or KEY (has the
    /// label). KEY matches a label key or its last dot-separated segments:
    /// `sourceversion` matches `com.visualstudio.myorg.image.build.sourceversion`.
    /// Repeatable; all must match.
    #[arg(long = "label", value_name = "KEY[=VALUE]")]
    pub labels: Vec<String>,
    /// Repository glob (repeatable; any may match).
    #[arg(long = "repo", value_name = "GLOB")]
    pub repos: Vec<String>,
    /// Tag glob (repeatable; any may match).
    #[arg(long = "tag", value_name = "GLOB")]
    pub tags: Vec<String>,
    /// Only this registry (host[:port]).
    #[arg(long)]
    pub registry: Option<String>,
    /// Only images with this manifest or index digest.
    #[arg(long)]
    pub digest: Option<String>,
    /// Created (or first seen) at or after this time (RFC 3339 or YYYY-MM-DD).
    #[arg(long)]
    pub since: Option<String>,
    /// Created (or first seen) at or before this time (RFC 3339 or YYYY-MM-DD).
    #[arg(long)]
    pub until: Option<String>,
}

#[derive(Args, Debug)]
pub struct QueryArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Output format: a table that fits the terminal ($COLUMNS), a JSON
    /// array (one object per image and tag), or CSV with the columns of
    /// `export --format csv`.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// CSV: do not neutralise values a spreadsheet would run as formulas.
    #[arg(long)]
    pub raw: bool,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// registry/repo:tag, repo:tag, repo@sha256:..., or a bare sha256:...
    /// (index, platform manifest or config digest).
    pub reference: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
    pub format: ShowFormat,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShowFormat {
    Text,
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
    /// Write to FILE (atomically) instead of stdout.
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
pub struct RunsArgs {
    /// How many runs, newest first.
    #[arg(long, default_value_t = 20)]
    pub limit: i64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
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
