//! The run's figures in Prometheus text format, for a textfile collector.

use crate::indexer::Outcome;
use std::io::Write;
use std::path::Path;

pub fn write(path: &Path, registry: &str, o: &Outcome) -> std::io::Result<()> {
    let mut s = String::new();
    let reg = registry.replace('\\', "\\\\").replace('"', "\\\"");
    let mut gauge = |name: &str, help: &str, value: String, extra: &str| {
        s.push_str(&format!(
            "# HELP acr_index_{name} {help}\n# TYPE acr_index_{name} gauge\n"
        ));
        s.push_str(&format!(
            "acr_index_{name}{{registry=\"{reg}\"{extra}}} {value}\n"
        ));
    };
    let sm = &o.summary;
    gauge(
        "last_run_timestamp_seconds",
        "End of the last index run (Unix time).",
        chrono::Utc::now().timestamp().to_string(),
        "",
    );
    gauge(
        "last_run_duration_seconds",
        "Duration of the last index run.",
        format!("{:.3}", o.elapsed.as_secs_f64()),
        "",
    );
    gauge(
        "last_run_success",
        "1 when the last run indexed everything.",
        ((sm.status == crate::store::RunStatus::Ok) as u8).to_string(),
        "",
    );
    gauge(
        "last_run_repositories",
        "Repositories visited.",
        sm.repositories.to_string(),
        "",
    );
    gauge("last_run_tags", "Tags seen.", sm.tags.to_string(), "");
    gauge(
        "last_run_manifests_new",
        "Manifests fetched and stored.",
        sm.manifests_new.to_string(),
        "",
    );
    gauge(
        "last_run_failures",
        "Items that could not be indexed.",
        sm.failures.to_string(),
        "",
    );
    s.push_str("# HELP acr_index_last_run_requests HTTP requests by kind.\n# TYPE acr_index_last_run_requests gauge\n");
    for (kind, n) in &o.summary.requests {
        s.push_str(&format!(
            "acr_index_last_run_requests{{registry=\"{reg}\",kind=\"{kind}\"}} {n}\n"
        ));
    }
    // Written beside the target and renamed, so a collector never reads half a file.
    let tmp = path.with_extension("prom.tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(s.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}
