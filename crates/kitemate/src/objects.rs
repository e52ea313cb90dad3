//! The objects service: stored files over HTTP (public ones for anyone,
//! private ones through signed URLs), and the buckets no one service owns.

use platform::objects::{BucketDecl, Objects};
use platform::ratelimit::RateLimiter;
use platform::service::{Declaration, Mount};
use utoipa::OpenApi as _;

/// Pictures shown on public pages (shared widgets, profiles).
pub static IMAGES: BucketDecl = BucketDecl::public("images")
    .max_size(2 << 20)
    .content_types(&["image/png", "image/jpeg", "image/webp", "image/gif"]);

#[derive(utoipa::OpenApi)]
#[openapi(paths(platform::objects::http::download, platform::objects::http::upload))]
struct Spec;

pub static SERVICE: Declaration = Declaration {
    name: "objects",
    description: "Stored files: public ones for anyone, private ones through signed URLs",
    databases: &[],
    buckets: &[&IMAGES],
    topics: &[],
    settings: &["objects"],
    spec: Spec::openapi,
};

/// Every route is public: limited per client IP by the shared `limiter`.
pub fn mount(objects: Objects, limiter: RateLimiter) -> Mount {
    let limited = limiter.by_ip();
    Mount::new(
        &SERVICE,
        platform::objects::http::router(objects).route_layer(limited),
    )
}
