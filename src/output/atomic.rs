//! Reports written whole or not at all: a temporary file beside the target,
//! flushed and fsynced, then renamed over it, with the mode the target had.
//! A target that is not a regular file (a FIFO, `/dev/stdout`, a terminal)
//! cannot be replaced that way and must not be: it is written through.

use anyhow::Context;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Write to `path`: through it when it exists and is not a regular file
/// (FIFO, character device, socket), else atomically with [`write_file`].
pub fn write_to<F>(path: &Path, write: F) -> anyhow::Result<()>
where
    F: FnOnce(&mut dyn Write) -> anyhow::Result<()>,
{
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() && !m.is_dir() => {
            write_through(path, write).with_context(|| format!("writing {}", path.display()))
        }
        _ => write_file(path, write),
    }
}

fn write_through<F>(path: &Path, write: F) -> anyhow::Result<()>
where
    F: FnOnce(&mut dyn Write) -> anyhow::Result<()>,
{
    // No truncate, no create: the file is there and is not ours to replace.
    let file = OpenOptions::new().write(true).open(path)?;
    let mut out = BufWriter::new(file);
    write(&mut out)?;
    out.flush()?;
    Ok(())
}

/// Run `write` against a temporary file in `path`'s directory and rename it
/// to `path` once everything is flushed and on disk. On any error the
/// temporary file is removed and `path` is left as it was.
pub fn write_file<F>(path: &Path, write: F) -> anyhow::Result<()>
where
    F: FnOnce(&mut dyn Write) -> anyhow::Result<()>,
{
    write_via_temp(path, write).with_context(|| format!("writing {}", path.display()))
}

fn write_via_temp<F>(path: &Path, write: F) -> anyhow::Result<()>
where
    F: FnOnce(&mut dyn Write) -> anyhow::Result<()>,
{
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .with_context(|| format!("--output {}: not a file name", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    // The report replaces the file, not its permissions: a 0600 report
    // stays 0600, a group-readable one stays so.
    if let Ok(m) = std::fs::metadata(path) {
        if m.is_file() {
            file.set_permissions(m.permissions())
                .with_context(|| format!("keeping the mode of {}", path.display()))?;
        }
    }
    let result = fill(file, write).and_then(|()| {
        std::fs::rename(&tmp, path)
            .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
    });
    match result {
        Ok(()) => {
            // Make the rename itself durable; not every platform can.
            if let Ok(d) = File::open(&dir) {
                let _ = d.sync_all();
            }
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn fill<F>(file: File, write: F) -> anyhow::Result<()>
where
    F: FnOnce(&mut dyn Write) -> anyhow::Result<()>,
{
    let mut out = BufWriter::new(file);
    write(&mut out)?;
    let file = out
        .into_inner()
        .map_err(|e| anyhow::Error::new(e.into_error()).context("flushing"))?;
    file.sync_all().context("syncing to disk")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn failed_write_leaves_old_file_and_no_temp() {
        let dir = std::env::temp_dir().join(format!("acr-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("report.csv");
        std::fs::write(&target, "old").unwrap();
        let err = write_file(&target, |w| {
            w.write_all(b"half")?;
            anyhow::bail!("boom")
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("boom"));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        assert_eq!(entries(&dir), vec!["report.csv"]);
        write_file(&target, |w| Ok(w.write_all(b"new")?)).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(entries(&dir), vec!["report.csv"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
            write_to(&target, |w| Ok(w.write_all(b"kept")?)).unwrap();
            assert_eq!(mode(&target), 0o640);
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "kept");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
