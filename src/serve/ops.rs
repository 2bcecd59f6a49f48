//! `/healthz`, `/readyz` and `/metrics`, and the middleware that counts
//! and times every request.

use super::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The route pattern, not the path, so the label set stays bounded.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RegistryLabels {
    registry: String,
}

type Latency = Family<RouteLabels, Histogram, fn() -> Histogram>;
type PerRegistry = Family<RegistryLabels, Gauge<f64, AtomicU64>>;

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Latency,
    success_age: PerRegistry,
    images: PerRegistry,
    tags: PerRegistry,
    failures: PerRegistry,
    database_up: Gauge,
}

fn latency_buckets() -> Histogram {
    // 0.25 ms .. about 4 s.
    Histogram::new(exponential_buckets(0.00025, 2.0, 15))
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("acr_index");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: Latency = Family::new_with_constructor(latency_buckets);
        let (success_age, images, tags, failures) = Default::default();
        let database_up = Gauge::default();
        registry.register(
            "last_success_age_seconds",
            "Seconds since the registry's last index run that finished ok or partial",
            PerRegistry::clone(&success_age),
        );
        registry.register(
            "images",
            "Distinct digests that current tags point at",
            PerRegistry::clone(&images),
        );
        registry.register("tags", "Current tags", PerRegistry::clone(&tags));
        registry.register(
            "last_run_failures",
            "Images the registry's last finished run could not index",
            PerRegistry::clone(&failures),
        );
        registry.register(
            "database_up",
            "1 when the database could be read for this scrape",
            database_up.clone(),
        );
        registry.register(
            "http_requests",
            "Requests answered, by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request, by route",
            latency.clone(),
        );
        Arc::new(Metrics {
            registry,
            requests,
            latency,
            success_age,
            images,
            tags,
            failures,
            database_up,
        })
    }
}

pub async fn count(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_string();
    let start = Instant::now();
    let resp = next.run(req).await;
    let m = &st.metrics;
    m.latency
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(start.elapsed().as_secs_f64());
    m.requests
        .get_or_create(&RequestLabels {
            method,
            route,
            status: resp.status().as_u16(),
        })
        .inc();
    resp
}

pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready when the database opens read-only and its schema is this build's.
pub async fn readyz(State(st): State<AppState>) -> Response {
    match st.db.read(|store| Ok(store.schema_current()?)).await {
        Ok(true) => (StatusCode::OK, "ready\n").into_response(),
        Ok(false) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the database schema is not this build's\n",
        )
            .into_response(),
        Err(f) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("{}\n", f.message()),
        )
            .into_response(),
    }
}

pub async fn metrics(State(st): State<AppState>) -> Response {
    let m = st.metrics.clone();
    let stats = st.db.read(|store| Ok(store.registry_stats()?)).await;
    let now = chrono::Utc::now();
    match stats {
        Ok(stats) => {
            m.database_up.set(1);
            for f in [&m.success_age, &m.images, &m.tags, &m.failures] {
                f.clear();
            }
            for s in stats {
                let l = RegistryLabels {
                    registry: s.registry.clone(),
                };
                if let Some(at) = s
                    .last_success
                    .as_deref()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                {
                    let age = (now - at.with_timezone(&chrono::Utc)).num_milliseconds();
                    m.success_age
                        .get_or_create(&l)
                        .set(age.max(0) as f64 / 1000.0);
                }
                m.images.get_or_create(&l).set(s.images as f64);
                m.tags.get_or_create(&l).set(s.tags as f64);
                m.failures.get_or_create(&l).set(s.last_failures as f64);
            }
        }
        Err(_) => {
            m.database_up.set(0);
        }
    }
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &m.registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
