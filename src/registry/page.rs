//! Pagination: `Link: <...>; rel="next"` resolved against the request URL.

use url::Url;

/// The next-page URL from a Link header, if any. Relative links resolve
/// against the request URL; links to another origin are refused (None),
/// so credentials never follow a page link off the registry.
pub fn next_link(link_header: Option<&str>, request_url: &Url) -> Option<Url> {
    let header = link_header?;
    for part in split_links(header) {
        let mut pieces = part.split(';');
        let target = pieces.next()?.trim();
        let target = target.strip_prefix('<')?.strip_suffix('>')?;
        let is_next = pieces.any(|p| {
            let p = p.trim();
            let Some((k, v)) = p.split_once('=') else {
                return false;
            };
            k.trim().eq_ignore_ascii_case("rel")
                && v.trim()
                    .trim_matches('"')
                    .split_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next"))
        });
        if is_next {
            let url = request_url.join(target).ok()?;
            return (url.origin() == request_url.origin()).then_some(url);
        }
    }
    None
}

/// Split a Link header on the commas between links (not those inside <>).
fn split_links(header: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in header.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&header[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&header[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://reg.example.com/v2/_catalog?n=2").unwrap()
    }

    #[test]
    fn relative_and_absolute() {
        let n = next_link(Some(r#"</v2/_catalog?last=b&n=2>; rel="next""#), &base()).unwrap();
        assert_eq!(n.as_str(), "https://reg.example.com/v2/_catalog?last=b&n=2");
        let n = next_link(
            Some(
                r#"<https://reg.example.com/acr/v1/_catalog?last=x%2Cy&n=2&orderby=>; rel="next""#,
            ),
            &base(),
        )
        .unwrap();
        assert_eq!(n.query(), Some("last=x%2Cy&n=2&orderby="));
    }

    #[test]
    fn other_origin_and_other_rels_are_ignored() {
        assert_eq!(
            next_link(
                Some(r#"<https://evil.example.com/v2/_catalog>; rel="next""#),
                &base()
            ),
            None
        );
        assert_eq!(next_link(Some(r#"</v2/x>; rel="prev""#), &base()), None);
        assert_eq!(next_link(None, &base()), None);
        let n = next_link(Some(r#"</a,b>; rel="prev", </v2/c>; rel=next"#), &base()).unwrap();
        assert_eq!(n.path(), "/v2/c");
    }
}
