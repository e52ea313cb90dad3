//! Prometheus metrics: requests by route template and status, and a latency histogram.

use std::collections::HashSet;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: &'static str,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct TopicLabel {
    topic: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct SubscriptionLabel {
    subscription: String,
}

/// Pub/sub figures: published per topic; delivered, failed, dead-lettered
/// and waiting per subscription.
#[derive(Debug, Default)]
pub struct PubSubMetrics {
    published: Family<TopicLabel, Counter>,
    delivered: Family<SubscriptionLabel, Counter>,
    failed: Family<SubscriptionLabel, Counter>,
    dead_lettered: Family<SubscriptionLabel, Counter>,
    backlog: Family<SubscriptionLabel, Gauge>,
}

fn sub(name: &str) -> SubscriptionLabel {
    SubscriptionLabel {
        subscription: name.to_string(),
    }
}

impl PubSubMetrics {
    fn register(&self, registry: &mut Registry) {
        registry.register(
            "pubsub_published",
            "Events published, by topic",
            self.published.clone(),
        );
        registry.register(
            "pubsub_delivered",
            "Events handled, by subscription",
            self.delivered.clone(),
        );
        registry.register(
            "pubsub_failed",
            "Failed handler attempts, by subscription",
            self.failed.clone(),
        );
        registry.register(
            "pubsub_dead_lettered",
            "Events that ran out of retries, by subscription",
            self.dead_lettered.clone(),
        );
        registry.register(
            "pubsub_backlog",
            "Events waiting, by subscription (as of the last count)",
            self.backlog.clone(),
        );
    }

    pub fn published(&self, topic: &str, count: u64) {
        self.published
            .get_or_create(&TopicLabel {
                topic: topic.to_string(),
            })
            .inc_by(count);
    }

    pub fn delivered(&self, subscription: &str, count: u64) {
        self.delivered
            .get_or_create(&sub(subscription))
            .inc_by(count);
    }

    pub fn failed(&self, subscription: &str) {
        self.failed.get_or_create(&sub(subscription)).inc();
    }

    pub fn dead_lettered(&self, subscription: &str) {
        self.dead_lettered.get_or_create(&sub(subscription)).inc();
    }

    pub fn set_backlog(&self, subscription: &str, count: i64) {
        self.backlog.get_or_create(&sub(subscription)).set(count);
    }

    pub fn delivered_count(&self, subscription: &str) -> u64 {
        self.delivered.get_or_create(&sub(subscription)).get()
    }

    pub fn failed_count(&self, subscription: &str) -> u64 {
        self.failed.get_or_create(&sub(subscription)).get()
    }
}

/// The process's metrics registry, shared by every part of the app.
#[derive(Debug)]
pub struct Metrics {
    pub pubsub: PubSubMetrics,
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    /// Route templates seen, kept once each so labels are copied, not allocated.
    routes: RwLock<HashSet<&'static str>>,
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("kitemate");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route template",
            latency.clone(),
        );
        let pubsub = PubSubMetrics::default();
        pubsub.register(&mut registry);
        Arc::new(Self {
            pubsub,
            registry,
            requests,
            latency,
            routes: RwLock::default(),
        })
    }

    /// Lets other parts of the app add their own metrics.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The route template as a label. Templates are the router's (plus
    /// `unmatched`), a set fixed at build time, so keeping each for the life
    /// of the process is bounded.
    pub(crate) fn route(&self, template: &str) -> &'static str {
        let known = self
            .routes
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(template)
            .copied();
        known.unwrap_or_else(|| {
            let mut routes = self.routes.write().unwrap_or_else(PoisonError::into_inner);
            if let Some(&route) = routes.get(template) {
                return route;
            }
            let route: &'static str = Box::leak(template.into());
            routes.insert(route);
            route
        })
    }

    pub(crate) fn record(&self, method: &str, route: &'static str, status: u16, elapsed: Duration) {
        // A client can send any token as a method: only the standard ones
        // become labels, so no request can add lines that live for ever.
        let method = match method {
            "GET" => "GET",
            "HEAD" => "HEAD",
            "POST" => "POST",
            "PUT" => "PUT",
            "PATCH" => "PATCH",
            "DELETE" => "DELETE",
            "OPTIONS" => "OPTIONS",
            "CONNECT" => "CONNECT",
            "TRACE" => "TRACE",
            _ => "OTHER",
        };
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { method, route })
            .observe(elapsed.as_secs_f64());
    }

    /// The text exposition format, as `GET /metrics` serves it.
    pub fn render(&self) -> Response {
        let mut body = String::new();
        if let Err(err) = prometheus_client::encoding::text::encode(&mut body, &self.registry) {
            return crate::error::ApiError::internal(anyhow::anyhow!("encoding metrics: {err}"))
                .into_response();
        }
        let mut response = body.into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        );
        response
    }
}
