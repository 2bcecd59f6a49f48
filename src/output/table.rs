//! Aligned text tables for the terminal.

use std::io::Write;

/// Write `rows` under `headers`, columns padded to their widest cell;
/// the last column is never padded. Control characters are shown escaped
/// (see [`super::escape`]) so a label value cannot break the layout.
pub fn write(out: &mut dyn Write, headers: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    let cols: Vec<Col> = headers.iter().map(|h| Col::new(h, 0, 0)).collect();
    write_fit(out, &cols, rows, None)
}

/// A column of a table that fits the terminal.
#[derive(Debug, Clone, Copy)]
pub struct Col<'a> {
    pub header: &'a str,
    /// Never cut narrower than this (nor than the header).
    pub min: usize,
    /// 0: always shown; otherwise, when even the minimum widths do not fit,
    /// columns are left out highest `drop` first.
    pub drop: u8,
    /// Cut from the left, keeping the end (`…team/api:1.2`).
    pub keep_end: bool,
}

impl<'a> Col<'a> {
    pub const fn new(header: &'a str, min: usize, drop: u8) -> Self {
        Col {
            header,
            min,
            drop,
            keep_end: false,
        }
    }

    pub const fn keep_end(mut self) -> Self {
        self.keep_end = true;
        self
    }
}

/// Like [`write`], but when `max_width` is given, columns are left out
/// until their minimum widths fit: first droppable columns with nothing in
/// them (every cell empty or `-`), then by `drop`, highest first; then the
/// widest columns are cut (marked `…`) until a line fits.
pub fn write_fit(
    out: &mut dyn Write,
    cols: &[Col],
    rows: &[Vec<String>],
    max_width: Option<usize>,
) -> std::io::Result<()> {
    let mut keep: Vec<usize> = (0..cols.len()).collect();
    let floor = |c: &Col| c.min.max(c.header.chars().count());
    let empty = |i: usize| {
        rows.iter()
            .all(|r| r.get(i).is_none_or(|c| c.is_empty() || c == "-"))
    };
    if let Some(max) = max_width {
        let need = |keep: &[usize]| -> usize {
            keep.iter()
                .map(|&i| floor(&cols[i]) + 2)
                .sum::<usize>()
                .saturating_sub(2)
        };
        while need(&keep) > max {
            let Some(pos) = keep.iter().position(|&i| cols[i].drop > 0 && empty(i)) else {
                break;
            };
            keep.remove(pos);
        }
        loop {
            let need: usize = keep.iter().map(|&i| floor(&cols[i]) + 2).sum::<usize>();
            let victim = keep
                .iter()
                .enumerate()
                .filter(|(_, &i)| cols[i].drop > 0)
                .max_by_key(|(_, &i)| cols[i].drop)
                .map(|(pos, _)| pos);
            match victim {
                Some(pos) if need.saturating_sub(2) > max => {
                    keep.remove(pos);
                }
                _ => break,
            }
        }
    }
    let headers: Vec<&str> = keep.iter().map(|&i| cols[i].header).collect();
    let mut clean: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            keep.iter()
                .map(|&i| {
                    r.get(i)
                        .map(|c| super::escape::control(c).into_owned())
                        .unwrap_or_default()
                })
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in &clean {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    if let Some(max) = max_width {
        let floors: Vec<usize> = keep.iter().map(|&i| floor(&cols[i])).collect();
        shrink(&mut widths, &floors, max);
        let small: Vec<usize> = headers
            .iter()
            .map(|h| h.chars().count().max(MIN_COLUMN))
            .collect();
        shrink(&mut widths, &small, max);
        for r in &mut clean {
            for (i, c) in r.iter_mut().enumerate() {
                *c = if cols[keep[i]].keep_end {
                    cut_left(c, widths[i])
                } else {
                    cut(c, widths[i])
                };
            }
        }
    }
    write_aligned(out, &headers, &clean, &widths)
}

fn write_aligned(
    out: &mut dyn Write,
    headers: &[&str],
    clean: &[Vec<String>],
    widths: &[usize],
) -> std::io::Result<()> {
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
    for r in clean {
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

/// `s` cut to its last `width` characters, the first one `…`.
pub fn cut_left(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n <= width {
        return s.to_string();
    }
    let mut t = String::from("…");
    t.extend(s.chars().skip(n - width.saturating_sub(1)));
    t
}

#[cfg(test)]
mod tests {
    use super::Col;

    #[test]
    fn fits_the_width_by_cutting_the_widest() {
        let mut out = Vec::new();
        let rows = vec![vec![
            "a-very-long-repository-name:tag".to_string(),
            "short".to_string(),
            "0123456789abcdef0123456789abcdef".to_string(),
        ]];
        let cols = [
            Col::new("IMAGE", 12, 0).keep_end(),
            Col::new("P", 0, 0),
            Col::new("COMMIT", 8, 0),
        ];
        super::write_fit(&mut out, &cols, &rows, Some(40)).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.lines().all(|l| l.chars().count() <= 40), "{s}");
        assert!(s.contains("\n…itory-name:tag "), "{s}");
        assert!(s.contains("short"));
        let mut out = Vec::new();
        let cols = [
            Col::new("IMAGE", 30, 0),
            Col::new("P", 0, 1),
            Col::new("COMMIT", 30, 2),
        ];
        super::write_fit(&mut out, &cols, &rows, Some(40)).unwrap();
        let s = String::from_utf8(out).unwrap();
        let header: Vec<&str> = s.lines().next().unwrap().split_whitespace().collect();
        assert_eq!(header, ["IMAGE", "P"], "{s}");
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

    #[test]
    fn empty_columns_go_before_full_ones() {
        let rows = vec![vec!["image".to_string(), "-".into(), "main".into()]];
        let cols = [
            Col::new("IMAGE", 5, 0),
            Col::new("BUILDNUMBER", 11, 9),
            Col::new("BRANCH", 6, 1),
        ];
        let mut out = Vec::new();
        super::write_fit(&mut out, &cols, &rows, Some(16)).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s, "IMAGE  BRANCH\nimage  main\n");
    }

    #[test]
    fn quotes_stay_controls_do_not() {
        let mut out = Vec::new();
        super::write(&mut out, &["A"], &[vec!["O'Reilly\x1b[31m".into()]]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "A\nO'Reilly\\u{1b}[31m\n");
    }
}
