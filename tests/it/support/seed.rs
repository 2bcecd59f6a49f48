//! Seeds a registry through the OCI distribution push API with real
//! digests. Every helper panics with a clear message on an unexpected
//! answer: it is test support, not product code.

use std::collections::BTreeMap;

use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;

pub use super::fixtures::*;
pub use super::specs::*;

pub struct Seeder {
    client: reqwest::Client,
    base: url::Url,
    basic: Option<(String, String)>,
}

impl Seeder {
    /// Anonymous pusher for `base_url` (`http://127.0.0.1:PORT`).
    pub fn new(base_url: &str) -> Self {
        Seeder {
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("build reqwest client"),
            base: url::Url::parse(base_url).expect("registry base URL"),
            basic: None,
        }
    }

    /// Pusher sending HTTP basic credentials on every request.
    pub fn with_basic(base_url: &str, user: &str, password: &str) -> Self {
        let mut s = Self::new(base_url);
        s.basic = Some((user.into(), password.into()));
        s
    }

    /// A request to `path` (e.g. `/v2/_catalog?n=2`), with credentials.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let url = self.base.join(path).expect("join URL");
        let rb = self.client.request(method, url);
        match &self.basic {
            Some((u, p)) => rb.basic_auth(u, Some(p)),
            None => rb,
        }
    }

    /// Monolithic upload; skipped when HEAD says the blob exists.
    pub async fn push_blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = digest_of(bytes);
        let head = send(self.request(Method::HEAD, &format!("/v2/{repo}/blobs/{digest}"))).await;
        if head.status() == StatusCode::OK {
            return digest;
        }
        let start = self.request(Method::POST, &format!("/v2/{repo}/blobs/uploads/"));
        let resp = expect(send(start).await, StatusCode::ACCEPTED, "start blob upload").await;
        let location = header(&resp, "location").expect("upload Location header");
        let mut url = self.base.join(&location).expect("resolve upload Location");
        url.query_pairs_mut().append_pair("digest", &digest);
        let put = self
            .request(Method::PUT, url.as_str())
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec());
        let resp = expect(send(put).await, StatusCode::CREATED, "finish blob upload").await;
        if let Some(d) = header(&resp, "docker-content-digest") {
            assert_eq!(d, digest, "registry digest of blob");
        }
        digest
    }

    /// PUT a manifest at `reference` (a tag or its digest); returns its digest.
    pub async fn push_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> String {
        let digest = digest_of(bytes);
        let put = self
            .request(Method::PUT, &format!("/v2/{repo}/manifests/{reference}"))
            .header("content-type", media_type)
            .body(bytes.to_vec());
        let what = format!("push manifest {repo}:{reference} ({media_type})");
        let resp = expect(send(put).await, StatusCode::CREATED, &what).await;
        let got = header(&resp, "docker-content-digest");
        assert_eq!(got.as_deref(), Some(digest.as_str()), "{what}: digest");
        digest
    }

    /// Points `tag` at an already pushed manifest (or moves it there).
    pub async fn tag_existing(
        &self,
        repo: &str,
        tag: &str,
        manifest: &[u8],
        media_type: &str,
    ) -> String {
        self.push_manifest(repo, tag, media_type, manifest).await
    }

    /// DELETE by digest (202); distribution also drops the tags pointing at it.
    pub async fn delete_manifest(&self, repo: &str, digest: &str) {
        let del = self.request(Method::DELETE, &format!("/v2/{repo}/manifests/{digest}"));
        expect(send(del).await, StatusCode::ACCEPTED, "delete manifest").await;
    }

    /// GET a manifest with every manifest media type in `Accept`.
    pub async fn get_manifest(&self, repo: &str, reference: &str) -> FetchedManifest {
        let get = self
            .request(Method::GET, &format!("/v2/{repo}/manifests/{reference}"))
            .header("accept", ACCEPT_ALL);
        let resp = send(get).await;
        FetchedManifest {
            status: resp.status(),
            content_type: header(&resp, "content-type"),
            digest: header(&resp, "docker-content-digest"),
            body: resp.bytes().await.expect("manifest body").to_vec(),
        }
    }

    /// Pushes a layer, a config and the image manifest, tagged `tag`.
    pub async fn push_image(&self, repo: &str, tag: &str, spec: &ImageSpec) -> PushedImage {
        self.push_image_at(repo, Some(tag), tag, spec).await
    }

    /// Pushes an index, its children by digest, then the index as `tag`.
    pub async fn push_index(&self, repo: &str, tag: &str, spec: &IndexSpec) -> PushedIndex {
        self.push_index_at(repo, Some(tag), tag, spec).await
    }

    /// Pushes an OCI artifact manifest (config and layers first) as `tag`.
    pub async fn push_artifact(&self, repo: &str, tag: &str, spec: &ArtifactSpec) -> PushedImage {
        let config_digest = self.push_blob(repo, &spec.config).await;
        let config = Descriptor::of(&spec.config_media_type, &spec.config);
        let mut layers = Vec::new();
        for (media_type, bytes) in &spec.layers {
            self.push_blob(repo, bytes).await;
            layers.push(Descriptor::of(media_type, bytes));
        }
        if layers.is_empty() {
            self.push_blob(repo, b"{}").await;
            layers.push(Descriptor::of(OCI_EMPTY, b"{}"));
        }
        let at = spec.artifact_type.as_deref();
        let (bytes, _) = image_manifest(Kind::Oci, &config, &layers, &spec.annotations, at);
        let manifest_digest = self.push_manifest(repo, tag, OCI_MANIFEST, &bytes).await;
        PushedImage {
            manifest_digest,
            config_digest,
            media_type: OCI_MANIFEST.into(),
            manifest: bytes,
        }
    }

    /// `tag: None` pushes by digest. `seed` makes the layer unique.
    async fn push_image_at(
        &self,
        repo: &str,
        tag: Option<&str>,
        seed: &str,
        spec: &ImageSpec,
    ) -> PushedImage {
        let (config_type, layer_type) = image_types(spec.kind);
        let labels = spec.labels.as_ref().map(Value::to_string);
        let l = layer(&format!("{repo} {seed} {:?} {labels:?}", spec.platform));
        self.push_blob(repo, &l.gzip).await;
        let (config, config_digest) = image_config_for(
            spec.labels.clone(),
            &spec.platform,
            spec.created.as_deref(),
            &l.diff_id,
        );
        self.push_blob(repo, &config).await;
        let (manifest, digest) = image_manifest(
            spec.kind,
            &Descriptor::of(config_type, &config),
            &[Descriptor::of(layer_type, &l.gzip)],
            &spec.annotations,
            None,
        );
        let media_type = spec.kind.manifest_type();
        let manifest_digest = self
            .push_manifest(repo, tag.unwrap_or(&digest), media_type, &manifest)
            .await;
        PushedImage {
            manifest_digest,
            config_digest,
            media_type: media_type.into(),
            manifest,
        }
    }

    async fn push_index_at(
        &self,
        repo: &str,
        tag: Option<&str>,
        seed: &str,
        spec: &IndexSpec,
    ) -> PushedIndex {
        let mut descriptors = Vec::new();
        let mut children = Vec::new();
        for (i, child) in spec.children.iter().enumerate() {
            let child_seed = format!("{seed}#{i}");
            match child {
                IndexChild::Image(img) => {
                    let p = Box::pin(self.push_image_at(repo, None, &child_seed, img)).await;
                    let mut d = Descriptor::of(&p.media_type, &p.manifest);
                    d.platform = Some(img.platform.clone());
                    descriptors.push(d);
                    children.push(PushedChild {
                        digest: p.manifest_digest,
                        media_type: p.media_type,
                        platform: Some(img.platform.clone()),
                        config_digest: Some(p.config_digest),
                        attests: None,
                        index: None,
                    });
                }
                IndexChild::Index(sub) => {
                    let p = Box::pin(self.push_index_at(repo, None, &child_seed, sub)).await;
                    descriptors.push(Descriptor::of(&p.media_type, &p.manifest));
                    children.push(PushedChild {
                        digest: p.digest.clone(),
                        media_type: p.media_type.clone(),
                        platform: None,
                        config_digest: None,
                        attests: None,
                        index: Some(Box::new(p)),
                    });
                }
            }
        }
        if spec.attestations {
            let images: Vec<String> = children
                .iter()
                .filter(|c| c.index.is_none())
                .map(|c| c.digest.clone())
                .collect();
            for subject in images {
                let (d, c) = self.push_attestation(repo, seed, &subject).await;
                descriptors.push(d);
                children.push(c);
            }
        }
        let (manifest, digest) = index_manifest(spec.kind, &descriptors, &spec.annotations);
        let media_type = spec.kind.index_type();
        let digest = self
            .push_manifest(repo, tag.unwrap_or(&digest), media_type, &manifest)
            .await;
        PushedIndex {
            digest,
            media_type: media_type.into(),
            manifest,
            children,
        }
    }

    /// A BuildKit-style provenance attestation manifest for `subject`.
    async fn push_attestation(
        &self,
        repo: &str,
        seed: &str,
        subject: &str,
    ) -> (Descriptor, PushedChild) {
        let statement = in_toto_statement(&format!("pkg:docker/{repo}@{seed}"), subject);
        self.push_blob(repo, &statement).await;
        let mut layer = Descriptor::of(IN_TOTO, &statement);
        layer.annotations.insert(
            "in-toto.io/predicate-type".into(),
            "https://slsa.dev/provenance/v0.2".into(),
        );
        let unknown = Platform::new("unknown", "unknown");
        let (config, config_digest) =
            image_config_for(None, &unknown, None, &digest_of(&statement));
        self.push_blob(repo, &config).await;
        let config_d = Descriptor::of(OCI_CONFIG, &config);
        let (manifest, digest) =
            image_manifest(Kind::Oci, &config_d, &[layer], &BTreeMap::new(), None);
        self.push_manifest(repo, &digest, OCI_MANIFEST, &manifest)
            .await;
        let mut d = Descriptor::of(OCI_MANIFEST, &manifest);
        d.platform = Some(unknown.clone());
        d.annotations
            .insert("vnd.docker.reference.digest".into(), subject.into());
        d.annotations.insert(
            "vnd.docker.reference.type".into(),
            "attestation-manifest".into(),
        );
        let child = PushedChild {
            digest,
            media_type: OCI_MANIFEST.into(),
            platform: Some(unknown),
            config_digest: Some(config_digest),
            attests: Some(subject.into()),
            index: None,
        };
        (d, child)
    }
}

async fn send(rb: RequestBuilder) -> reqwest::Response {
    rb.send().await.expect("request to registry")
}

async fn expect(resp: reqwest::Response, want: StatusCode, what: &str) -> reqwest::Response {
    if resp.status() != want {
        let status = resp.status();
        let body = resp.text().await.unwrap_or_default();
        panic!("{what}: expected {want}, got {status}: {body}");
    }
    resp
}

fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
