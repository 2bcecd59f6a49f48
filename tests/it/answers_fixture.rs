//! A small indexed database built with the store's write half, and a
//! hermetic way to run the binary against it.

use acr_index::oci::{Digest, Platform};
use acr_index::store::{
    ChildRecord, Failure, ManifestRecord, Record, ReferrerLinks, ReferrerRecord, ReferrerSource,
    RunStatus, RunSummary, Store, TagListing,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const REG: &str = "myacr.azurecr.io";
pub const DOCKER: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const OCI: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// A deterministic digest named by `name` (sha256 of the name).
pub fn dg(name: &str) -> Digest {
    Digest::sha256_of(name.as_bytes())
}

pub fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn platform(os: &str, arch: &str, variant: Option<&str>) -> Option<Platform> {
    Some(Platform {
        os: os.into(),
        architecture: arch.into(),
        variant: variant.map(str::to_string),
        os_version: None,
    })
}

pub fn image(
    name: &str,
    media_type: &str,
    created: &str,
    labels: &[(&str, &str)],
) -> ManifestRecord {
    ManifestRecord {
        digest: dg(name),
        media_type: media_type.into(),
        kind: "image",
        status: "ok",
        artifact_type: None,
        config_digest: Some(dg(&format!("{name}-config"))),
        config_media_type: Some("application/vnd.oci.image.config.v1+json".into()),
        created: Some(created.into()),
        platform: platform("linux", "amd64", None),
        size: 1234,
        labels: map(labels),
        annotations: BTreeMap::new(),
        children: Vec::new(),
        attestations: Vec::new(),
        refetch: false,
    }
}

pub fn child(name: &str, p: Option<Platform>, attestation: bool) -> ChildRecord {
    ChildRecord {
        digest: dg(name),
        media_type: OCI.into(),
        platform: p,
        is_attestation: attestation,
        annotations: BTreeMap::new(),
    }
}

pub fn tags(repo: &str, tags: &[(&str, &str)]) -> Record {
    Record::Tags(TagListing {
        repository: repo.into(),
        tags: tags
            .iter()
            .map(|(t, d)| (t.to_string(), Some(dg(d))))
            .collect(),
        complete: true,
        last_update_time: None,
    })
}

pub const API_SHA: &str = "13c0f2b5a2ab438dd9dab2a669fef68b61f18bed";
pub const WEB_SHA: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432";
pub const TOOL_SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn visualstudio(sha: &str, number: &str, id: &str) -> Vec<(&'static str, String)> {
    let p = "com.visualstudio.myorg.image.";
    vec![
        ("build.buildnumber", number.to_string()),
        ("build.builduri", format!("vstfs:///Build/Build/{id}")),
        ("build.definitionname", "api container image".into()),
        ("build.repository.name", "api".into()),
        (
            "build.repository.uri",
            "https://myorg.visualstudio.com/myproj/_git/api".into(),
        ),
        ("build.sourcebranchname", "main".into()),
        ("build.sourceversion", sha.into()),
        (
            "system.teamfoundationcollectionuri",
            "https://myorg.visualstudio.com/".into(),
        ),
        ("system.teamproject", "myproj".into()),
    ]
    .into_iter()
    .map(|(k, v)| {
        (
            Box::leak(format!("{p}{k}").into_boxed_str()) as &'static str,
            v,
        )
    })
    .collect()
}

fn azure_dev(arch: &str) -> Vec<(&'static str, String)> {
    let p = "com.azure.dev.image.";
    vec![
        ("build.buildnumber", "20240301.4".to_string()),
        ("build.builduri", "vstfs:///Build/Build/5150".into()),
        (
            "build.repository.uri",
            "https://dev.azure.com/contoso/Web Shop/_git/web".into(),
        ),
        ("build.sourcebranch", "refs/heads/release/2.0".into()),
        ("build.sourceversion", WEB_SHA.into()),
        (
            "system.teamfoundationcollectionuri",
            "https://dev.azure.com/contoso/".into(),
        ),
        ("system.teamproject", "Web Shop".into()),
        ("arch", arch.into()),
    ]
    .into_iter()
    .map(|(k, v)| {
        (
            Box::leak(format!("{p}{k}").into_boxed_str()) as &'static str,
            v,
        )
    })
    .collect()
}

fn with_labels(mut m: ManifestRecord, labels: Vec<(&str, String)>) -> ManifestRecord {
    m.labels
        .extend(labels.into_iter().map(|(k, v)| (k.to_string(), v)));
    m
}

/// The provenance fixture: an Azure DevOps (com.visualstudio) docker image
/// whose `latest` tag moved to it, an OCI index with two platforms and an
/// attestation whose children carry com.azure.dev labels, a GitHub-labelled
/// image, an artifact, and the base image the first one names.
pub fn provenance_records() -> (Vec<Record>, Vec<Record>) {
    let base = image("base", DOCKER, "2023-10-01T00:00:00Z", &[]);
    let old = with_labels(
        image("api-old", DOCKER, "2023-11-20T09:00:00Z", &[]),
        visualstudio(
            "aaaa000000000000000000000000000000000000",
            "20231120.3",
            "127001",
        ),
    );
    let mut api = with_labels(
        image("api-1.2", DOCKER, "2023-11-21T10:00:00Z", &[]),
        visualstudio(API_SHA, "20231121.1", "127294"),
    );
    api.labels
        .insert("image.base.digest".into(), dg("base").to_string());
    api.labels.insert(
        "image.base.ref.name".into(),
        format!("{REG}/base/dotnet:7.0"),
    );
    let mut amd = with_labels(
        image("web-amd64", OCI, "2024-03-01T12:00:00Z", &[]),
        azure_dev("amd64"),
    );
    let mut arm = with_labels(
        image("web-arm64", OCI, "2024-03-01T12:00:00Z", &[]),
        azure_dev("arm64"),
    );
    arm.platform = platform("linux", "arm64", Some("v8"));
    amd.annotations = map(&[("org.opencontainers.image.created", "2024-03-01T12:00:00Z")]);
    let mut att = image("web-att", OCI, "2024-03-01T12:00:00Z", &[]);
    att.kind = "artifact";
    att.created = None;
    att.platform = None;
    att.config_media_type = Some("application/vnd.in-toto+json".into());
    att.annotations = map(&[
        ("vnd.docker.reference.digest", dg("web-amd64").as_str()),
        ("vnd.docker.reference.type", "attestation-manifest"),
    ]);
    let index = ManifestRecord {
        digest: dg("web-index"),
        media_type: OCI_INDEX.into(),
        kind: "index",
        status: "ok",
        artifact_type: None,
        config_digest: None,
        config_media_type: None,
        created: None,
        platform: None,
        size: 856,
        labels: BTreeMap::new(),
        annotations: map(&[("org.opencontainers.image.description", "web shop front end")]),
        children: vec![
            child("web-amd64", platform("linux", "amd64", None), false),
            child("web-arm64", platform("linux", "arm64", Some("v8")), false),
            child("web-att", platform("unknown", "unknown", None), true),
        ],
        attestations: Vec::new(),
        refetch: false,
    };
    let tool = image(
        "tool",
        OCI,
        "2024-05-05T05:05:05Z",
        &[
            (
                "org.opencontainers.image.source",
                "https://github.com/acme/tool.git",
            ),
            ("org.opencontainers.image.revision", TOOL_SHA),
            ("org.opencontainers.image.version", "1.0.0"),
        ],
    );
    let mut sbom = image("sbom", OCI, "", &[]);
    sbom.kind = "artifact";
    sbom.created = None;
    sbom.platform = None;
    sbom.artifact_type = Some("application/spdx+json".into());
    sbom.config_media_type = Some("application/vnd.oci.empty.v1+json".into());
    sbom.annotations = map(&[("org.opencontainers.image.title", "sbom.spdx.json")]);
    let first = vec![
        Record::Manifest(Box::new(base)),
        Record::Manifest(Box::new(old)),
        Record::Manifest(Box::new(api)),
        Record::Manifest(Box::new(amd)),
        Record::Manifest(Box::new(arm)),
        Record::Manifest(Box::new(att)),
        Record::Manifest(Box::new(index)),
        Record::Manifest(Box::new(tool)),
        Record::Manifest(Box::new(sbom)),
        tags("base/dotnet", &[("7.0", "base")]),
        tags(
            "team/api",
            &[("1.2", "api-1.2"), ("latest", "api-old"), ("sbom", "sbom")],
        ),
        tags("team/web", &[("v2", "web-index"), ("latest", "web-index")]),
        tags("oss/tool", &[("1.0", "tool")]),
        // The web index is signed with notation (its platform rows carry
        // that), team/api:1.2 has an SBOM but no signature, the tool a
        // cosign signature by tag.
        referrers(
            "team/web",
            ReferrerSource::Api,
            &["web-index", "web-amd64", "web-arm64"],
            &[(
                "web-index",
                "web-notation",
                "application/vnd.cncf.notary.signature",
            )],
        ),
        referrers(
            "team/api",
            ReferrerSource::Api,
            &["api-1.2", "api-old"],
            &[("api-1.2", "api-spdx", "application/spdx+json")],
        ),
        referrers(
            "oss/tool",
            ReferrerSource::CosignTag,
            &[],
            &[(
                "tool",
                "tool-cosign",
                "application/vnd.dev.cosign.artifact.sig.v1+json",
            )],
        ),
        Record::Failure(Failure {
            repository: Some("team/broken".into()),
            reference: Some("v1".into()),
            message: "HTTP 404 for manifest v1".into(),
        }),
    ];
    // The second run: `team/api:latest` moved from api-old to api-1.2.
    let second = vec![tags(
        "team/api",
        &[("1.2", "api-1.2"), ("latest", "api-1.2"), ("sbom", "sbom")],
    )];
    (first, second)
}

/// Referrers of a repository's subjects: (subject, referrer, artifact type).
pub fn referrers(
    repo: &str,
    source: ReferrerSource,
    checked: &[&str],
    links: &[(&str, &str, &str)],
) -> Record {
    Record::Referrers(Box::new(ReferrerLinks {
        repository: repo.into(),
        source,
        checked: (source != ReferrerSource::CosignTag)
            .then(|| checked.iter().map(|c| dg(c)).collect()),
        links: links
            .iter()
            .map(|(subject, name, t)| {
                let r = ReferrerRecord {
                    digest: dg(name),
                    media_type: OCI.into(),
                    artifact_type: Some(t.to_string()),
                    annotations: map(&[(
                        "org.opencontainers.image.created",
                        "2024-03-02T00:00:00Z",
                    )]),
                    created: Some("2024-03-02T00:00:00Z".into()),
                    predicate_type: None,
                    statement: None,
                };
                (dg(subject), r)
            })
            .collect(),
    }))
}

/// Write runs of records into a database at `db`, one run per batch.
pub fn build_db(db: &Path, runs: &[Vec<Record>]) {
    let mut store = Store::open_rw(db).unwrap();
    for (i, records) in runs.iter().enumerate() {
        let run = store.begin_run(REG, i == 0).unwrap();
        store.write_batch(REG, run, records).unwrap();
        let failures = records
            .iter()
            .filter(|r| matches!(r, Record::Failure(_)))
            .count() as i64;
        let summary = RunSummary {
            status: if failures > 0 {
                RunStatus::Partial
            } else {
                RunStatus::Ok
            },
            repositories: 4,
            tags: 8,
            manifests_new: records
                .iter()
                .filter(|r| matches!(r, Record::Manifest(_)))
                .count() as i64,
            failures,
            requests: [("catalog", 1), ("tags", 4), ("manifest", 9), ("blob", 6)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            ..RunSummary::default()
        };
        store.finish_run(run, &summary).unwrap();
    }
}

/// The answer tests' view of the one test environment
/// (support::cli::Env): a database built from records, `--db` passed
/// explicitly, and an exit status checked on every run.
pub struct Env {
    pub core: crate::support::cli::Env,
    pub db: PathBuf,
}

impl std::ops::Deref for Env {
    type Target = crate::support::cli::Env;
    fn deref(&self) -> &Self::Target {
        &self.core
    }
}

impl Env {
    pub fn empty() -> Env {
        let core = crate::support::cli::Env::new();
        let db = core.db();
        Env { core, db }
    }

    pub fn provenance() -> Env {
        let env = Env::empty();
        let (first, second) = provenance_records();
        build_db(&env.db, &[first, second]);
        env
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut full: Vec<&str> = vec!["--db", self.db.to_str().unwrap()];
        full.extend_from_slice(args);
        self.core.command(&full)
    }

    /// Run and expect `code`; panics with everything needed to debug.
    #[must_use]
    pub fn run_code(&self, args: &[&str], code: i32) -> Run {
        self.run_with(self.cmd(args), code)
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_code(args, 0)
    }

    #[track_caller]
    pub fn run_with(&self, cmd: Command, code: i32) -> Run {
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.core.run_command(&refs, cmd).expect_code(code)
    }

    /// Output with the temporary path and the times of writing replaced.
    pub fn redact(&self, s: &str) -> String {
        redact_times(&s.replace(&self.dir.path().display().to_string(), "[TMP]"))
    }
}

pub use crate::support::cli::Run;

/// Timestamps the store writes (`YYYY-MM-DDTHH:MM:SS.mmmZ`, with
/// milliseconds, unlike the fixture's created times) become `[TS]`.
pub fn redact_times(s: &str) -> String {
    const PAT: &[u8] = b"dddd-dd-ddTdd:dd:dd.dddZ";
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        let hit = b.len() - i >= PAT.len()
            && PAT.iter().zip(&b[i..]).all(|(p, c)| {
                if *p == b'd' {
                    c.is_ascii_digit()
                } else {
                    p == c
                }
            });
        if hit {
            out.push_str("[TS]");
            i += PAT.len();
        } else {
            let ch = s[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Builds the provenance fixture in a temp dir, or at $ACR_INDEX_FIXTURE_DB
/// to capture the examples in README.md:
/// `ACR_INDEX_FIXTURE_DB=/tmp/f.db cargo test --test it write_fixture_db`
#[test]
fn write_fixture_db() {
    let dir = tempfile::tempdir().unwrap();
    let path = std::env::var("ACR_INDEX_FIXTURE_DB")
        .map(PathBuf::from)
        .unwrap_or_else(|_| dir.path().join("fixture.db"));
    let (first, second) = provenance_records();
    build_db(&path, &[first, second]);
    let store = Store::open_ro(&path).unwrap();
    let runs = store.runs(10).unwrap();
    assert_eq!(runs.len(), 2);
}
