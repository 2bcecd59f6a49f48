//! An in-process fake Azure Container Registry for the auth tests, built
//! from ACR's documented behaviour, not from what acr-index sends:
//! - `/v2/` endpoints answer 401 with `Bearer realm=".../oauth2/token",
//!   service="<host>"` and the scope the request needs: `registry:catalog:*`
//!   for the catalog, `repository:<r>:metadata_read` for tag listings,
//!   `repository:<r>:pull` for manifests and blobs; an access token without
//!   that action is refused the same way.
//! - `POST /oauth2/exchange` trades an Entra ID token for a refresh token;
//!   `POST /oauth2/token` (grant_type=refresh_token) and `GET /oauth2/token`
//!   (basic auth: admin user or repository-scoped token) give access tokens
//!   without `expires_in` (the JWT's `exp` says it).
//! - blob GETs answer 307 to a second listener ("blob storage") that
//!   answers 400 InvalidAuthenticationInfo to any request carrying an
//!   Authorization header.
//! - a third listener plays Entra ID (`/{tenant}/oauth2/v2.0/token`) and
//!   IMDS (`/metadata/identity/oauth2/token`).
//!   Everything binds 127.0.0.1 only.

use super::fake_acr_routes as routes;
pub use super::fake_acr_tokens::Grants;
use super::fixtures::*;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// One repository's content.
#[derive(Default, Clone)]
pub struct Repo {
    pub tags: BTreeMap<String, String>,
    pub manifests: HashMap<String, (String, Vec<u8>)>,
    pub blobs: HashMap<String, Vec<u8>>,
}

/// How the fake is set up; all fields public so tests say what they need.
#[derive(Default)]
pub struct Config {
    /// Basic-auth users (admin user, repository-scoped tokens): name -> (password, grants).
    pub users: HashMap<String, (String, Grants)>,
    /// Entra ID access tokens `/oauth2/exchange` accepts.
    pub aad_tokens: HashMap<String, Grants>,
    /// Refresh tokens issued by the exchange live this long (may be < 0:
    /// already expired; they are still accepted within the leeway).
    pub refresh_lifetime: i64,
    /// Access tokens live this long.
    pub access_lifetime: i64,
    /// Workload identity: (client_id, tenant, accepted assertions, grants).
    pub workload: Option<Workload>,
    /// Managed identity: the client id IMDS expects (None: system-assigned) and grants.
    pub imds: Option<(Option<String>, Grants)>,
}

pub struct Workload {
    pub client_id: String,
    pub tenant: String,
    pub assertions: Vec<String>,
    pub grants: Grants,
    /// After the first token request, write this into the file (kubelet rotation).
    pub rotate: Option<(PathBuf, String)>,
}

/// What the fake saw, for assertions.
#[derive(Default, Debug, Clone)]
pub struct Seen {
    /// (method, path, status, Authorization scheme or "")
    pub requests: Vec<(String, String, u16, String)>,
    /// (grant kind, scopes asked, scopes granted)
    pub tokens: Vec<(String, Vec<String>, usize)>,
    /// (service, tenant)
    pub exchanges: Vec<(String, Option<String>)>,
    pub entra_assertions: Vec<String>,
    /// Query strings of IMDS requests with a `Metadata: true` header.
    pub imds_queries: Vec<String>,
    /// Storage requests refused for carrying Authorization.
    pub storage_refusals: usize,
    pub storage_served: usize,
}

pub struct State {
    pub config: Mutex<Config>,
    pub repos: Mutex<BTreeMap<String, Repo>>,
    pub seen: Mutex<Seen>,
    pub base: String,
    pub host: String,
    pub storage_base: String,
}

pub struct FakeAcr {
    pub state: Arc<State>,
    /// `http(s)://127.0.0.1:PORT`
    pub base: String,
    /// `http://127.0.0.1:PORT` of the Entra ID / IMDS listener.
    pub login_base: String,
    /// PEM of the private CA when started with TLS.
    pub ca_pem: Option<String>,
}

pub const SAS_SIG: &str = "fake-sas-signature-SECRET";

impl FakeAcr {
    pub async fn start(config: Config) -> FakeAcr {
        Self::launch(config, false).await
    }

    /// Registry and blob storage over https with a certificate from a
    /// freshly generated private CA (`ca_pem`).
    pub async fn start_tls(config: Config) -> FakeAcr {
        Self::launch(config, true).await
    }

    async fn launch(config: Config, tls: bool) -> FakeAcr {
        let reg = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let sto = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let login = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let scheme = if tls { "https" } else { "http" };
        let host = reg.local_addr().unwrap().to_string();
        let state = Arc::new(State {
            config: Mutex::new(config),
            repos: Mutex::new(BTreeMap::new()),
            seen: Mutex::new(Seen::default()),
            base: format!("{scheme}://{host}"),
            host: host.clone(),
            storage_base: format!("{scheme}://{}", sto.local_addr().unwrap()),
        });
        let login_base = format!("http://{}", login.local_addr().unwrap());
        serve_plain(login, super::fake_acr_login::login(state.clone()));
        let ca_pem = if tls {
            let (ca, cert, key) = tls_material();
            serve_tls(reg, routes::registry(state.clone()), &cert, &key).await;
            serve_tls(sto, routes::storage(state.clone()), &cert, &key).await;
            Some(ca)
        } else {
            serve_plain(reg, routes::registry(state.clone()));
            serve_plain(sto, routes::storage(state.clone()));
            None
        };
        FakeAcr {
            base: state.base.clone(),
            state,
            login_base,
            ca_pem,
        }
    }

    pub fn host(&self) -> String {
        self.state.host.clone()
    }

    pub fn seen(&self) -> Seen {
        self.state.seen.lock().unwrap().clone()
    }

    pub fn config(&self) -> std::sync::MutexGuard<'_, Config> {
        self.state.config.lock().unwrap()
    }

    /// A refresh token as `/oauth2/exchange` would issue for `aad_token`
    /// (what `az acr login --expose-token` or a docker identitytoken holds).
    pub fn mint_refresh_token(&self, aad_token: &str, lifetime: i64) -> String {
        use super::fake_acr_tokens::{exp_in, sign, RefreshClaims};
        sign(&RefreshClaims {
            aud: self.host(),
            exp: exp_in(lifetime),
            sub: format!("aad:{aad_token}"),
            grant_type: "refresh_token".into(),
        })
    }

    /// Add a docker schema 2 image tagged `tag` with one label
    /// `org.opencontainers.image.revision=<revision>`; returns its digest.
    pub fn image(&self, repo: &str, tag: &str, revision: &str) -> String {
        let l = layer(&format!("{repo}:{tag}:{revision}"));
        let labels = serde_json::json!({ "org.opencontainers.image.revision": revision });
        let platform = Platform::linux_amd64();
        let (config, config_digest) =
            image_config_for(Some(labels), &platform, Some(DEFAULT_CREATED), &l.diff_id);
        let cd = Descriptor::of(DOCKER_CONFIG, &config);
        let ld = Descriptor::of(DOCKER_LAYER, &l.gzip);
        let (manifest, digest) = image_manifest(
            Kind::Docker,
            &cd,
            std::slice::from_ref(&ld),
            &BTreeMap::new(),
            None,
        );
        let mut repos = self.state.repos.lock().unwrap();
        let r = repos.entry(repo.to_string()).or_default();
        r.blobs.insert(config_digest, config);
        r.blobs.insert(ld.digest, l.gzip);
        r.manifests
            .insert(digest.clone(), (DOCKER_MANIFEST.to_string(), manifest));
        r.tags.insert(tag.to_string(), digest.clone());
        digest
    }
}

fn serve_plain(listener: std::net::TcpListener, app: axum::Router) {
    listener.set_nonblocking(true).unwrap();
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
}

async fn serve_tls(listener: std::net::TcpListener, app: axum::Router, cert: &str, key: &str) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem(
        cert.as_bytes().to_vec(),
        key.as_bytes().to_vec(),
    )
    .await
    .unwrap();
    listener.set_nonblocking(true).unwrap();
    let server = axum_server::from_tcp_rustls(listener, config);
    tokio::spawn(async move { server.serve(app.into_make_service()).await.unwrap() });
}

/// (CA PEM, server certificate PEM for 127.0.0.1, server key PEM).
pub fn tls_material() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "acr-index test CA (TEST ONLY)");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    (ca.pem(), cert.pem(), key.serialize_pem())
}
