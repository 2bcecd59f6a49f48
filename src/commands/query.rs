use crate::cli::{Format, QueryArgs};
use crate::store::{ImageRow, Store};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

pub fn run(db: &Path, args: QueryArgs) -> anyhow::Result<ExitCode> {
    let filter = crate::config::row_filter(&args.filter)?;
    let store = Store::open_ro(db)?;
    let rows = store.image_rows(&filter)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Json => crate::output::json(&mut out, &rows)?,
        Format::Csv => write_csv(&mut out, &rows)?,
        Format::Table => write_table(&mut out, &rows)?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The label that names the commit, in the families we know.
pub fn commit_of(row: &ImageRow) -> Option<&str> {
    ["org.opencontainers.image.revision", "sourceversion"]
        .iter()
        .find_map(|k| {
            row.labels
                .iter()
                .chain(row.annotations.iter())
                .find(|(key, _)| *key == k || key.ends_with(&format!(".{k}")))
                .map(|(_, v)| v.as_str())
        })
}

fn write_table(out: &mut dyn Write, rows: &[ImageRow]) -> anyhow::Result<()> {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                format!("{}/{}:{}", r.registry, r.repository, r.tag),
                r.platform.clone().unwrap_or_else(|| "-".into()),
                short_digest(&r.digest),
                r.created.clone().unwrap_or_else(|| "-".into()),
                commit_of(r).unwrap_or("-").to_string(),
            ]
        })
        .collect();
    crate::output::table::write(
        out,
        &["IMAGE", "PLATFORM", "DIGEST", "CREATED", "COMMIT"],
        &cells,
    )?;
    Ok(())
}

fn write_csv(out: &mut dyn Write, rows: &[ImageRow]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "registry",
        "repository",
        "tag",
        "digest",
        "index_digest",
        "platform",
        "created",
        "commit",
    ])?;
    for r in rows {
        w.write_record([
            r.registry.as_str(),
            &r.repository,
            &r.tag,
            &r.digest,
            r.index_digest.as_deref().unwrap_or(""),
            r.platform.as_deref().unwrap_or(""),
            r.created.as_deref().unwrap_or(""),
            commit_of(r).unwrap_or(""),
        ])?;
    }
    w.flush()?;
    Ok(())
}

pub fn short_digest(d: &str) -> String {
    match d.split_once(':') {
        Some((alg, hex)) if hex.len() > 12 => format!("{alg}:{}", &hex[..12]),
        _ => d.to_string(),
    }
}
