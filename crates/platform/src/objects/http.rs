//! `/objects/{bucket}/{key}`: public objects for anyone, private ones and all
//! uploads only through a signed URL.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::{Attrs, Bucket, Grant, Objects, check_key, inline_safe};
use crate::ApiError;

/// The query string of a signed URL.
#[derive(Debug, Deserialize, validator::Validate, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Signed {
    /// Unix time after which the URL stops working.
    #[validate(range(min = 0))]
    #[param(minimum = 0)]
    pub expires: Option<i64>,
    /// The signature the app made for this URL.
    #[validate(length(max = 128))]
    #[param(max_length = 128)]
    pub sig: Option<String>,
    /// For uploads: the only content type accepted.
    #[serde(rename = "type")]
    #[param(rename = "type", max_length = 128)]
    #[validate(length(max = 128))]
    pub content_type: Option<String>,
}

/// The routes; mount them beside the API.
pub fn router(objects: Objects) -> Router {
    Router::new()
        .route("/objects/{bucket}/{*key}", get(download).put(upload))
        .with_state(objects)
}

fn find<'a>(objects: &'a Objects, bucket: &str, key: &str) -> Result<&'a Bucket, ApiError> {
    let bucket = objects
        .bucket(bucket)
        .ok_or_else(|| ApiError::not_found(format!("no bucket called {bucket:?}")))?;
    check_key(key).map_err(|reason| ApiError::invalid_field("key", reason))?;
    Ok(bucket)
}

fn authorize(bucket: &Bucket, method: &str, key: &str, query: &Signed) -> Result<(), ApiError> {
    let (Some(expires), Some(sig)) = (query.expires, query.sig.as_deref()) else {
        return Err(ApiError::permission_denied(
            "this object needs a signed URL (expires and sig)",
        ));
    };
    let grant = Grant {
        method,
        bucket: bucket.decl.name,
        key,
        expires,
        content_type: query.content_type.as_deref(),
    };
    bucket
        .verify(&grant, sig)
        .map_err(ApiError::permission_denied)
}

/// Reads an object: public ones as they are, private ones with a signed URL.
#[utoipa::path(
    get,
    path = "/objects/{bucket}/{key}",
    tag = "objects",
    params(
        ("bucket" = String, Path, description = "A declared bucket"),
        ("key" = String, Path, description = "The object's key; may contain /"),
        Signed,
    ),
    responses(
        (status = 200, description = "The object's bytes, with its content type", content_type = "application/octet-stream"),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "A bad key or query parameter", body = crate::ErrorBody),
        (status = 403, description = "A private object without a valid signed URL", body = crate::ErrorBody),
        (status = 404, description = "No such bucket or object", body = crate::ErrorBody),
    )
)]
pub async fn download(
    State(objects): State<Objects>,
    Path((bucket, key)): Path<(String, String)>,
    crate::ApiQuery(query): crate::ApiQuery<Signed>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let bucket = find(&objects, &bucket, &key)?;
    if !bucket.decl.public || query.sig.is_some() {
        authorize(bucket, "GET", &key, &query)?;
    }
    let object = bucket.download(&key).await?;
    let etag = format!("\"{}\"", object.attrs.etag);
    let cache = if bucket.decl.public {
        "public, max-age=300"
    } else {
        "private, no-store"
    };
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        object.bytes.into_response()
    };
    let out = response.headers_mut();
    set(out, header::CONTENT_TYPE, &object.attrs.content_type);
    set(out, header::ETAG, &etag);
    set(out, header::CACHE_CONTROL, cache);
    set(
        out,
        header::LAST_MODIFIED,
        &object
            .attrs
            .last_modified
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string(),
    );
    if !inline_safe(&object.attrs.content_type) {
        set(out, header::CONTENT_DISPOSITION, "attachment");
    }
    Ok(response)
}

fn set(headers: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

/// Stores the request body at a signed upload URL.
#[utoipa::path(
    put,
    path = "/objects/{bucket}/{key}",
    tag = "objects",
    params(
        ("bucket" = String, Path, description = "A declared bucket"),
        ("key" = String, Path, description = "The object's key; may contain /"),
        Signed,
    ),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The object's bytes; Content-Type is checked against them"),
    responses(
        (status = 201, description = "Stored", body = Attrs),
        (status = 400, description = "A bad key, or a content type the bytes do not match", body = crate::ErrorBody),
        (status = 403, description = "No valid signed upload URL", body = crate::ErrorBody),
        (status = 404, description = "No such bucket", body = crate::ErrorBody),
        (status = 413, description = "Larger than the bucket takes", body = crate::ErrorBody),
    )
)]
pub async fn upload(
    State(objects): State<Objects>,
    Path((bucket, key)): Path<(String, String)>,
    crate::ApiQuery(query): crate::ApiQuery<Signed>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, axum::Json<Attrs>), ApiError> {
    let bucket = find(&objects, &bucket, &key)?;
    authorize(bucket, "PUT", &key, &query)?;
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty());
    if let Some(signed) = query.content_type.as_deref() {
        let essence = declared.map(|d| d.split(';').next().unwrap_or("").trim());
        if essence.is_none_or(|e| !e.eq_ignore_ascii_case(signed)) {
            return Err(ApiError::invalid_field(
                "contentType",
                format!("this URL takes only {signed}"),
            ));
        }
    }
    let limit = bucket.decl.max_size;
    let too_large = || super::ObjectError::TooLarge { limit }.into();
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if length.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let cap = usize::try_from(limit).unwrap_or(usize::MAX);
    let bytes = axum::body::to_bytes(body, cap)
        .await
        .map_err(|_| too_large())?;
    let attrs = bucket.upload(&key, bytes, declared).await?;
    Ok((StatusCode::CREATED, axum::Json(attrs)))
}
