//! What `index` says when it ends, read back from the run record (so the
//! counts are the committed ones, also after an interrupt): one human line
//! and the failures grouped by cause on stderr, or, under `--log-format
//! json`, one event with typed fields; with `--format json`, one object on
//! stdout for scripts.

use crate::answers::runs::requests_total;
use crate::cli::{Global, IndexFormat, LogFormat};
use crate::output::failures::{self, Group, Item};
use crate::store::{RunRow, Store};
use serde_json::{json, Value};
use std::io::Write;
use std::time::Duration;

/// The summary of a finished run, as `index --format json` prints it.
pub fn summary_json(run: &RunRow, elapsed: Duration, groups: &[Group]) -> Value {
    json!({
        "run_id": run.id,
        "registry": run.registry,
        "status": run.status,
        "full": run.full,
        "repositories": run.repositories,
        "tags": run.tags,
        "manifests_new": run.manifests_new,
        "manifests_known": run.manifests_known,
        "failures": run.failures,
        "failures_by_cause": groups,
        "requests": run.requests,
        "requests_total": requests_total(&run.requests),
        "seconds": (elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        "message": run.message,
    })
}

pub fn groups(run: &RunRow) -> Vec<Group> {
    failures::group(run.errors.iter().map(|e| Item {
        repository: e.repository.as_deref(),
        reference: e.reference.as_deref(),
        message: &e.message,
    }))
}

/// `127.0.0.1:5055: ok in 0.03s, 4 repositories, 5 tags, 9 new and 0 known manifests, 0 failed, 24 requests (run 1)`
pub fn human_line(run: &RunRow, elapsed: Duration) -> String {
    format!(
        "{}: {} in {:.2}s, {} repositories, {} tags, {} new and {} known manifests, {} failed, {} requests (run {})",
        run.registry,
        run.status,
        elapsed.as_secs_f64(),
        run.repositories,
        run.tags,
        run.manifests_new,
        run.manifests_known,
        run.failures,
        requests_total(&run.requests),
        run.id
    )
}

/// Report the run `run_id` of the database at `db`.
pub fn report(
    global: &Global,
    format: IndexFormat,
    run_id: i64,
    elapsed: Duration,
) -> anyhow::Result<()> {
    let store = Store::open_ro(&global.db)?;
    let Some(run) = store.run(run_id)? else {
        anyhow::bail!("run {run_id} is not in {}", global.db.display());
    };
    let groups = groups(&run);
    let summary = summary_json(&run, elapsed, &groups);
    match global.log_format {
        LogFormat::Json => {
            // The run's own message (why it failed) is `run_message` here:
            // `message` is the event's.
            let mut event = summary.clone();
            if let Some(e) = event.as_object_mut() {
                let run_message = e.remove("message").unwrap_or(Value::Null);
                e.insert("run_message".into(), run_message);
                e.insert(
                    "timestamp".into(),
                    chrono::Utc::now()
                        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                        .into(),
                );
                let level = if run.failures > 0 { "WARN" } else { "INFO" };
                e.insert("level".into(), level.into());
                e.insert("message".into(), "index run finished".into());
            }
            writeln!(std::io::stderr().lock(), "{event}")?;
        }
        LogFormat::Text if !global.quiet || run.failures > 0 => {
            let mut err = crate::output::escape::SafeText::new(std::io::stderr().lock());
            writeln!(err, "{}", human_line(&run, elapsed))?;
            if !groups.is_empty() {
                writeln!(
                    err,
                    "{} images could not be indexed, by cause (all of them: acr-index runs show {}):",
                    run.failures, run.id
                )?;
                for g in &groups {
                    writeln!(err, "{}", failures::line(g))?;
                }
            }
            err.flush()?;
        }
        LogFormat::Text => {}
    }
    if format == IndexFormat::Json {
        let mut out = std::io::stdout().lock();
        crate::output::json(&mut out, &summary)?;
        out.flush()?;
    }
    Ok(())
}
