//! Aligned text tables for the terminal.

use std::io::Write;

/// Write `rows` under `headers`, columns padded to their widest cell;
/// the last column is never padded. Control characters are shown escaped
/// so a label value cannot break the layout.
pub fn write(out: &mut dyn Write, headers: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    let clean: Vec<Vec<String>> = rows
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

#[cfg(test)]
mod tests {
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
