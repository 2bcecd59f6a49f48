//! Failures grouped by cause: a run that cannot fetch 400 tags for the
//! same reason says so once, with a count and a few examples, instead of
//! 400 warnings. The run record keeps every single failure.

use std::collections::BTreeMap;

/// One failure as recorded: where, and the message.
pub struct Item<'a> {
    pub repository: Option<&'a str>,
    pub reference: Option<&'a str>,
    pub message: &'a str,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Group {
    /// The message with what differs per item (digests, URLs, the item's
    /// own name) replaced, so equal causes compare equal.
    pub cause: String,
    pub count: usize,
    /// The first [`EXAMPLES`] items by name, `repository:reference`.
    pub examples: Vec<String>,
}

pub const EXAMPLES: usize = 3;

/// The cause of a failure: its message with per-item details masked.
pub fn cause(item: &Item<'_>) -> String {
    let mut words: Vec<String> = Vec::new();
    for w in item.message.split(' ') {
        let bare = w.trim_matches(|c: char| matches!(c, ',' | ':' | ';' | '(' | ')' | '"' | '\''));
        let masked = if bare.starts_with("sha256:") || bare.starts_with("sha512:") {
            Some("<digest>")
        } else if bare.starts_with("http://") || bare.starts_with("https://") {
            Some("<url>")
        } else if Some(bare) == item.reference && !bare.is_empty() {
            Some("<tag>")
        } else if Some(bare) == item.repository && !bare.is_empty() {
            Some("<repository>")
        } else {
            None
        };
        words.push(match masked {
            Some(m) => w.replace(bare, m),
            None => w.to_string(),
        });
    }
    words.join(" ")
}

/// Groups, largest first (ties by cause, so the order is stable).
pub fn group<'a>(items: impl IntoIterator<Item = Item<'a>>) -> Vec<Group> {
    let mut by: BTreeMap<String, Group> = BTreeMap::new();
    for item in items {
        let c = cause(&item);
        let g = by.entry(c.clone()).or_insert(Group {
            cause: c,
            count: 0,
            examples: Vec::new(),
        });
        g.count += 1;
        let what = [item.repository, item.reference]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(":");
        // The first names in order, whatever order the run met them in.
        let at = g.examples.partition_point(|e| e < &what);
        if at < EXAMPLES {
            g.examples.insert(at, what);
            g.examples.truncate(EXAMPLES);
        }
    }
    let mut v: Vec<Group> = by.into_values().collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.cause.cmp(&b.cause)));
    v
}

/// `  400 × HTTP 404 for manifest <tag> (team/api:v1, team/api:v2, ...)`
pub fn line(g: &Group) -> String {
    let more = if g.count > g.examples.len() {
        ", ..."
    } else {
        ""
    };
    format!(
        "{:>5} × {} ({}{more})",
        g.count,
        super::escape::control(&g.cause),
        super::escape::control(&g.examples.join(", "))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn it<'a>(repo: &'a str, r: &'a str, m: &'a str) -> Item<'a> {
        Item {
            repository: Some(repo),
            reference: Some(r),
            message: m,
        }
    }

    #[test]
    fn same_cause_different_items_group_together() {
        let g = group([
            it("team/api", "v1", "HTTP 404 for manifest v1"),
            it("team/api", "v2", "HTTP 404 for manifest v2"),
            it(
                "team/web",
                "v9",
                "fetching sha256:abc: body exceeds 4194304 bytes",
            ),
            it("team/web", "v3", "HTTP 404 for manifest v3"),
            it("team/web", "v4", "HTTP 404 for manifest v4"),
        ]);
        assert_eq!(g.len(), 2, "{g:?}");
        assert_eq!(g[0].cause, "HTTP 404 for manifest <tag>");
        assert_eq!(g[0].count, 4);
        assert_eq!(g[0].examples, ["team/api:v1", "team/api:v2", "team/web:v3"]);
        assert_eq!(g[1].cause, "fetching <digest>: body exceeds 4194304 bytes");
        assert_eq!(
            line(&g[0]),
            "    4 × HTTP 404 for manifest <tag> (team/api:v1, team/api:v2, team/web:v3, ...)"
        );
    }
}
