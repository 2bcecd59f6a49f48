//! The one glob dialect of the command line (globset's, as `index --repo`
//! uses): `*` any run of characters, `/` included; `?` one character;
//! `[abc]`; `{api,web}` alternatives. SQLite's GLOB differs (no `{}`), so
//! the store matches globs in Rust and gives SQLite only plain names.

use globset::{Glob, GlobSet, GlobSetBuilder};

/// A pattern without glob characters names exactly one value.
pub fn is_literal(p: &str) -> bool {
    !p.contains(['*', '?', '[', '{', '\\'])
}

/// Every pattern in one set; a value matches when any pattern does.
pub fn compile(pats: &[String]) -> Result<GlobSet, globset::Error> {
    let mut b = GlobSetBuilder::new();
    for p in pats {
        b.add(Glob::new(p)?);
    }
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dialect() {
        let g = compile(&["team/app/{api,web}".into(), "tools/*".into()]).unwrap();
        for yes in ["team/app/api", "team/app/web", "tools/a", "tools/a/b"] {
            assert!(g.is_match(yes), "{yes}");
        }
        for no in ["team/app/db", "team/app/api2", "xtools/a"] {
            assert!(!g.is_match(no), "{no}");
        }
        assert!(is_literal("team/api") && !is_literal("team/{a,b}"));
        assert!(compile(&["team/{api".into()]).is_err());
    }
}
