use super::*;
use serde_json::json;

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn from_labels(pairs: &[(&str, &str)]) -> Provenance {
    let m = map(pairs);
    derive(&Sources {
        labels: Some(&m),
        ..Sources::default()
    })
}

#[test]
fn azure_visualstudio_family() {
    let p = from_labels(&[
        (
            "com.visualstudio.myorg.image.build.buildnumber",
            "20231121.1",
        ),
        (
            "com.visualstudio.myorg.image.build.builduri",
            "vstfs:///Build/Build/127294",
        ),
        (
            "com.visualstudio.myorg.image.build.repository.uri",
            "https://myorg.visualstudio.com/myproj/_git/myrepo",
        ),
        (
            "com.visualstudio.myorg.image.build.sourcebranchname",
            "add-containerization",
        ),
        (
            "com.visualstudio.myorg.image.build.sourceversion",
            "13c0f2b5a2ab438dd9dab2a669fef68b61f18bed",
        ),
        (
            "com.visualstudio.myorg.image.system.teamfoundationcollectionuri",
            "https://myorg.visualstudio.com/",
        ),
        ("com.visualstudio.myorg.image.system.teamproject", "myproj"),
        ("image.base.digest", "sha256:9ca0"),
        ("image.base.ref.name", "mcr.microsoft.com/dotnet/aspnet:7.0"),
    ]);
    assert_eq!(p.family.as_deref(), Some("azure-devops"));
    assert_eq!(p.origin, Some(Origin::Label));
    assert_eq!(
        p.commit_url.as_deref(),
        Some("https://myorg.visualstudio.com/myproj/_git/myrepo/commit/13c0f2b5a2ab438dd9dab2a669fef68b61f18bed")
    );
    assert_eq!(
        p.build_url.as_deref(),
        Some("https://myorg.visualstudio.com/myproj/_build/results?buildId=127294")
    );
    assert_eq!(p.branch.as_deref(), Some("add-containerization"));
    assert_eq!(p.build(), Some("20231121.1"));
    assert_eq!(p.build_id.as_deref(), Some("127294"));
    assert_eq!(
        p.base_name.as_deref(),
        Some("mcr.microsoft.com/dotnet/aspnet:7.0")
    );
    assert_eq!(p.base_digest.as_deref(), Some("sha256:9ca0"));
}

#[test]
fn azure_dev_links_encode_spaces_alike() {
    let p = from_labels(&[
        (
            "com.azure.dev.image.build.builduri",
            "vstfs:///Build/Build/42",
        ),
        (
            "com.azure.dev.image.build.repository.uri",
            "https://dev.azure.com/org/My Project/_git/web/",
        ),
        (
            "com.azure.dev.image.build.sourcebranch",
            "refs/heads/feature/x",
        ),
        ("com.azure.dev.image.build.sourceversion", "abc123"),
        (
            "com.azure.dev.image.system.teamfoundationcollectionuri",
            "https://dev.azure.com/org/",
        ),
        ("com.azure.dev.image.system.teamproject", "My Project"),
    ]);
    assert_eq!(
        p.commit_url.as_deref(),
        Some("https://dev.azure.com/org/My%20Project/_git/web/commit/abc123")
    );
    assert_eq!(
        p.build_url.as_deref(),
        Some("https://dev.azure.com/org/My%20Project/_build/results?buildId=42")
    );
    assert_eq!(
        p.source.as_deref(),
        Some("https://dev.azure.com/org/My%20Project/_git/web")
    );
    assert_eq!(p.branch.as_deref(), Some("feature/x"));
}

#[test]
fn oci_label_schema_and_openshift_families() {
    let p = from_labels(&[
        (
            "org.opencontainers.image.source",
            "https://github.com/acme/tool.git",
        ),
        ("org.opencontainers.image.revision", "deadbeef"),
    ]);
    assert_eq!(p.family.as_deref(), Some("github"));
    assert_eq!(
        p.commit_url.as_deref(),
        Some("https://github.com/acme/tool/commit/deadbeef")
    );
    assert_eq!(p.source.as_deref(), Some("https://github.com/acme/tool"));
    let p = from_labels(&[
        (
            "org.opencontainers.image.source",
            "git@gitlab.example.com:group/sub/proj.git",
        ),
        ("org.opencontainers.image.revision", "deadbeef"),
    ]);
    assert_eq!(
        p.commit_url.as_deref(),
        Some("https://gitlab.example.com/group/sub/proj/-/commit/deadbeef")
    );
    let p = from_labels(&[
        (
            "org.opencontainers.image.source",
            "https://git.example.org/x",
        ),
        ("org.opencontainers.image.revision", "deadbeef"),
    ]);
    assert_eq!((p.family.as_deref(), p.commit_url), (Some("oci"), None));
    let p = from_labels(&[
        ("org.label-schema.vcs-ref", "1234567"),
        ("org.label-schema.vcs-url", "https://git.example.org/ls.git"),
    ]);
    assert_eq!(p.family.as_deref(), Some("label-schema"));
    assert_eq!(p.source.as_deref(), Some("https://git.example.org/ls"));
    let p = from_labels(&[
        ("io.openshift.build.commit.id", "cafe123"),
        ("io.openshift.build.commit.ref", "main"),
        (
            "io.openshift.build.source-location",
            "https://github.com/o/os",
        ),
    ]);
    assert_eq!(p.commit.as_deref(), Some("cafe123"));
    assert_eq!(p.branch.as_deref(), Some("main"));
    assert_eq!(p.family.as_deref(), Some("github"));
}

#[test]
fn javascript_source_gives_no_link() {
    let p = from_labels(&[
        ("org.opencontainers.image.source", "javascript:alert(1)"),
        ("org.opencontainers.image.revision", "deadbeef"),
    ]);
    assert_eq!(p.commit.as_deref(), Some("deadbeef"));
    assert_eq!((p.commit_url, p.source), (None, None));
}

#[test]
fn each_source_in_spec_order() {
    let a = |sha: &str| {
        map(&[
            ("org.opencontainers.image.revision", sha),
            ("org.opencontainers.image.source", "https://github.com/o/r"),
        ])
    };
    let (l, m, d, i) = (a("1111111"), a("2222222"), a("3333333"), a("4444444"));
    let st = Statement {
        origin: Origin::Attestation,
        predicate_type: slsa::SLSA_V1.into(),
        predicate: json!({"runDetails": {"metadata": {"buildkit_metadata": {"vcs": {"revision": "5555555", "source": "https://github.com/o/r.git"}}}}}),
    };
    let statements = [st];
    let empty = BTreeMap::new();
    let cases = [
        (
            Some(&l),
            Some(&m),
            Some(&d),
            Some(&i),
            "1111111",
            Origin::Label,
        ),
        (
            Some(&empty),
            Some(&m),
            Some(&d),
            Some(&i),
            "2222222",
            Origin::ManifestAnnotation,
        ),
        (
            None,
            None,
            Some(&d),
            Some(&i),
            "3333333",
            Origin::DescriptorAnnotation,
        ),
        (
            None,
            None,
            None,
            Some(&i),
            "4444444",
            Origin::IndexAnnotation,
        ),
        (None, None, None, None, "5555555", Origin::Attestation),
    ];
    for (labels, ma, da, ia, sha, origin) in cases {
        let p = derive(&Sources {
            labels,
            manifest_annotations: ma,
            descriptor_annotations: da,
            index_annotations: ia,
            statements: &statements,
        });
        assert_eq!(p.commit.as_deref(), Some(sha));
        assert_eq!(p.origin, Some(origin));
        assert_eq!(
            p.commit_url,
            Some(format!("https://github.com/o/r/commit/{sha}"))
        );
    }
}

#[test]
fn later_sources_fill_gaps() {
    // The commit from a label, the build URL from an attestation.
    let labels = map(&[("org.opencontainers.image.revision", "abcdef1")]);
    let index = map(&[("org.opencontainers.image.source", "https://github.com/o/r")]);
    let st = Statement {
        origin: Origin::Attestation,
        predicate_type: slsa::SLSA_V02.into(),
        predicate: json!({"builder": {"id": "https://github.com/o/r/actions/runs/9"}}),
    };
    let p = derive(&Sources {
        labels: Some(&labels),
        index_annotations: Some(&index),
        statements: std::slice::from_ref(&st),
        ..Sources::default()
    });
    assert_eq!(p.origin, Some(Origin::Label));
    assert_eq!(
        p.commit_url.as_deref(),
        Some("https://github.com/o/r/commit/abcdef1")
    );
    assert_eq!(
        p.build_url.as_deref(),
        Some("https://github.com/o/r/actions/runs/9")
    );
    assert_eq!(p.build_id.as_deref(), Some("9"));
}

#[test]
fn referrers_come_after_attestations() {
    let st = |origin, sha: &str| Statement {
        origin,
        predicate_type: slsa::SLSA_V1.into(),
        predicate: json!({"runDetails": {"metadata": {"buildkit_metadata": {"vcs": {"revision": sha}}}}}),
    };
    let p = derive(&Sources {
        statements: &[
            st(Origin::Referrer, "bbbbbbb"),
            st(Origin::Attestation, "aaaaaaa"),
        ],
        ..Sources::default()
    });
    assert_eq!(
        (p.commit.as_deref(), p.origin),
        (Some("aaaaaaa"), Some(Origin::Attestation))
    );
    assert_eq!(p.family.as_deref(), Some("buildkit"));
}

#[test]
fn nothing_known() {
    assert!(derive(&Sources::default()).is_empty());
    assert_eq!(
        Origin::parse("descriptor-annotation"),
        Some(Origin::DescriptorAnnotation)
    );
    assert_eq!(Origin::parse("x"), None);
}
