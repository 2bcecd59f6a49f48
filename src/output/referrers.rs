//! `show`'s referrers section: signatures by kind, SBOMs by format,
//! attestations by predicate type, then anything else.

use crate::store::ReferrerEntry;
use std::io::Write;

const GROUPS: [(&str, &str); 4] = [
    ("signature", "signatures"),
    ("sbom", "sboms"),
    ("attestation", "attestations"),
    ("other", "other referrers"),
];

pub fn write(out: &mut dyn Write, refs: &[ReferrerEntry], image: &str) -> std::io::Result<()> {
    if refs.is_empty() {
        return writeln!(out, "referrers     none (unsigned, no SBOM)");
    }
    for (kind, title) in GROUPS {
        let mut group: Vec<&ReferrerEntry> = refs.iter().filter(|r| r.kind == kind).collect();
        if group.is_empty() {
            continue;
        }
        group.sort_by(|a, b| (&a.format, &a.digest).cmp(&(&b.format, &b.digest)));
        writeln!(out, "{title}")?;
        let w = group
            .iter()
            .map(|r| r.format.as_deref().unwrap_or("-").chars().count())
            .max()
            .unwrap_or(0);
        for r in group {
            let format = r.format.as_deref().unwrap_or("-");
            let mut line = format!("  {:<w$}  {}", format.escape_debug(), r.digest);
            if let Some(c) = &r.created {
                line.push_str(&format!("  {}", c.escape_debug()));
            }
            if r.subject != image {
                line.push_str(&format!("  (on {})", r.subject));
            }
            line.push_str(&format!("  [{}]", r.source));
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}
