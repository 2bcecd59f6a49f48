//! Aligned text tables for the terminal.

use std::io::Write;

/// Write `rows` under `headers`, columns padded to their widest cell;
/// the last column is never padded. Control characters are shown escaped
/// so a label value cannot break the layout.
pub fn write(out: &mut dyn Write, headers: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    write_fit(out, headers, rows, None)
}

/// Like [`write`], but when `max_width` is given the widest columns are
/// cut (ending in `…`) until a line fits, none narrower than its header or
/// `MIN_COLUMN` characters.
pub fn write_fit(
    out: &mut dyn Write,
    headers: &[&str],
    rows: &[Vec<String>],
    max_width: Option<usize>,
) -> std::io::Result<()> {
    let mut clean: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| c.escape_debug().to_string()).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in &clean {
        for (i, c) in r.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
    }
    if let Some(max) = max_width {
        let floors: Vec<usize> = headers
            .iter()
            .map(|h| h.chars().count().max(MIN_COLUMN))
            .collect();
        shrink(&mut widths, &floors, max);
        for r in &mut clean {
            for (i, c) in r.iter_mut().enumerate() {
                if i < widths.len() {
                    *c = cut(c, widths[i]);
                }
            }
        }
    }
    let line =
        |out: &mut dyn Write, cells: &mut dyn Iterator<Item = &str>| -> std::io::Result<()> {
            let mut s = String::new();
            for (i, c) in cells.enumerate() {
                if i + 1 < widths.len() {
                    s.push_str(&format!("{c:<w$}  ", w = widths[i]));
                } else {
                    s.push_str(c);
                }
            }
            writeln!(out, "{}", s.trim_end())
        };
    line(out, &mut headers.iter().copied())?;
    for r in &clean {
        line(out, &mut r.iter().map(String::as_str))?;
    }
    Ok(())
}

/// Columns are never cut below this many characters.
pub const MIN_COLUMN: usize = 8;

/// Narrow the widest shrinkable column, one character at a time, until the
/// line (columns plus two spaces between each) fits in `max`.
fn shrink(widths: &mut [usize], floors: &[usize], max: usize) {
    let total = |w: &[usize]| w.iter().sum::<usize>() + 2 * w.len().saturating_sub(1);
    while total(widths) > max {
        let widest = (0..widths.len())
            .filter(|&i| widths[i] > floors[i])
            .max_by_key(|&i| (widths[i], std::cmp::Reverse(i)));
        match widest {
            Some(i) => widths[i] -= 1,
            None => break,
        }
    }
}

/// `s` cut to `width` characters, the last one `…` when anything was cut.
pub fn cut(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut t: String = s.chars().take(width.saturating_sub(1)).collect();
    t.push('…');
    t
}

#[cfg(test)]
mod tests {
    #[test]
    fn fits_the_width_by_cutting_the_widest() {
        let mut out = Vec::new();
        let rows = vec![vec![
            "a-very-long-repository-name:tag".to_string(),
            "short".to_string(),
            "0123456789abcdef0123456789abcdef".to_string(),
        ]];
        super::write_fit(&mut out, &["IMAGE", "P", "COMMIT"], &rows, Some(40)).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.lines().all(|l| l.chars().count() <= 40), "{s}");
        assert!(s.contains('…'));
        assert!(s.contains("short"));
    }

    #[test]
    fn aligns_and_escapes() {
        let mut out = Vec::new();
        super::write(
            &mut out,
            &["A", "BB", "C"],
            &[
                vec!["xxx".into(), "y".into(), "last\nline".into()],
                vec!["z".into(), "".into(), "".into()],
            ],
        )
        .unwrap();
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s, "A    BB  C\nxxx  y   last\\nline\nz\n");
    }
}
