//! The pages in a real browser (Debian's chromium, headless, over
//! WebDriver): search by commit through the form, follow the result to the
//! image page, find the commit and build links; hostile label values render
//! as text and run no script.

use super::answers_fixture::{build_db, image, tags, Env, API_SHA, OCI};
use crate::support::serve::Server;
use crate::support::webdriver::Browser;
use acr_index::store::Record;

#[tokio::test(flavor = "multi_thread")]
async fn search_by_commit_then_follow_to_the_commit_and_build() {
    let env = Env::provenance();
    let server = Server::start(&env.db, &[]);
    let b = Browser::start().await;
    b.goto(&server.url("/")).await;
    let input = b.find("input[name=commit]").await;
    b.type_into(&input, &API_SHA[..7]).await;
    let submit = b.find("button[type=submit]").await;
    b.click(&submit).await;
    assert!(b.url().await.contains(&format!("commit={}", &API_SHA[..7])));
    let results = b.find_all("a.image").await;
    let mut names = Vec::new();
    for r in &results {
        names.push(b.text(r).await);
    }
    assert_eq!(
        names,
        [
            "myacr.azurecr.io/team/api:1.2",
            "myacr.azurecr.io/team/api:latest"
        ]
    );
    // The result row links its commit and build too.
    let row_commit = b.find("td.commit a").await;
    assert_eq!(
        b.attr(&row_commit, "href").await.as_deref(),
        Some(format!("https://myorg.visualstudio.com/myproj/_git/api/commit/{API_SHA}").as_str())
    );
    b.click(&results[1]).await;
    assert!(b.url().await.contains("/images/"), "{}", b.url().await);
    let commit = b.find("#commit a").await;
    assert_eq!(b.text(&commit).await, API_SHA);
    assert_eq!(
        b.attr(&commit, "href").await.as_deref(),
        Some(format!("https://myorg.visualstudio.com/myproj/_git/api/commit/{API_SHA}").as_str())
    );
    let build = b.find("#build a").await;
    assert_eq!(b.text(&build).await, "20231121.1");
    assert_eq!(
        b.attr(&build, "href").await.as_deref(),
        Some("https://myorg.visualstudio.com/myproj/_build/results?buildId=127294")
    );
    // The tag moved: its history is on the page, and the base image links.
    assert_eq!(b.find_all("#tag-history tbody tr").await.len(), 2);
    assert!(!b.find_all("#base a").await.is_empty());
    let png = b.screenshot_png().await;
    assert!(png.starts_with(b"\x89PNG"));
    // `ACR_INDEX_SCREENSHOT=1 cargo test --test it serve_pages::` refreshes docs/.
    if std::env::var_os("ACR_INDEX_SCREENSHOT").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/serve-image-page.png");
        std::fs::write(path, &png).unwrap();
    }
    b.goto(&server.url("/runs")).await;
    assert_eq!(b.find_all("table tbody tr").await.len(), 2);
    b.quit().await;
}

const SCRIPT: &str = "<script>document.title='pwned';window.pwned=1</script>";
const ONERROR: &str = "<img src=x onerror=\"document.title='pwned';window.pwned=1\">";

#[tokio::test(flavor = "multi_thread")]
async fn hostile_values_render_as_text_and_run_nothing() {
    let env = Env::empty();
    let evil = image(
        "evil",
        OCI,
        "2024-01-01T00:00:00Z",
        &[
            ("description", SCRIPT),
            ("org.opencontainers.image.revision", ONERROR),
            ("org.opencontainers.image.source", "javascript:alert(1)"),
            ("<b onmouseover=alert(1)>key</b>", "v"),
        ],
    );
    build_db(
        &env.db,
        &[vec![
            Record::Manifest(Box::new(evil)),
            tags("evil/app", &[("1", "evil")]),
        ]],
    );
    let server = Server::start(&env.db, &[]);
    let b = Browser::start().await;
    for path in [
        "/images/evil%2Fapp%3A1",
        "/?repo=evil%2F*",
        "/?commit=%3Cimg",
    ] {
        b.goto(&server.url(path)).await;
        let state = b.eval("return [document.title, typeof window.pwned]").await;
        assert_eq!(state[1], "undefined", "{path}: a script ran");
        assert!(
            !state[0].as_str().unwrap().contains("pwned"),
            "{path}: {state}"
        );
        assert!(
            b.find_all("main script, main img, main b").await.is_empty(),
            "{path}"
        );
        assert!(
            b.find_all("a[href^='javascript']").await.is_empty(),
            "{path}"
        );
    }
    b.goto(&server.url("/images/evil%2Fapp%3A1")).await;
    let text = b
        .eval("return document.querySelector('main').innerText")
        .await;
    let text = text.as_str().unwrap();
    assert!(text.contains(SCRIPT), "{text}");
    assert!(text.contains(ONERROR), "{text}");
    assert!(text.contains("<b onmouseover=alert(1)>key</b>"), "{text}");
    b.quit().await;
}
