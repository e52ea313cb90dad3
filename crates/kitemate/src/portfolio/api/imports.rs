//! HTTP handlers of imports and the trades they brought: upload, the list
//! of imports, one import, pages of trades.

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::header;
use bytes::Bytes;
use platform::{ApiError, ApiJson, ApiQuery, ErrorBody};
use serde::Deserialize;
use validator::Validate;

use super::super::PortfolioState;
use super::super::model::{ImportDetail, ImportList, ImportReport, Kind, TradeFilter, TradePage};
use super::TAG;
use crate::auth::Auth;

/// Largest file `POST /portfolio/import` takes.
pub const MAX_IMPORT: usize = 20 << 20;

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// What the file is; found from its header when left out.
    pub kind: Option<Kind>,
}

fn is_csv(content_type: &str) -> bool {
    matches!(
        content_type,
        "text/csv"
            | "text/plain"
            | "application/csv"
            | "text/tab-separated-values"
            | "application/vnd.ms-excel"
    )
}

/// The file from a multipart form (field `file`, optionally `kind`) or a raw CSV body.
async fn read_upload(req: Request) -> Result<(Bytes, Option<String>, Option<Kind>), ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let too_big = |_| {
        ApiError::invalid_argument("the file is larger than 20 MiB")
            .with_status(axum::http::StatusCode::PAYLOAD_TOO_LARGE)
    };
    if essence == "multipart/form-data" {
        let mut form = Multipart::from_request(req, &()).await.map_err(|err| {
            ApiError::invalid_argument(format!("malformed multipart body: {err}"))
        })?;
        let (mut file, mut name, mut kind) = (None, None, None);
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|err| ApiError::invalid_argument(format!("malformed multipart body: {err}")))?
        {
            match field.name() {
                Some("file") => {
                    name = field.file_name().map(str::to_string);
                    file = Some(field.bytes().await.map_err(|_| too_big(()))?);
                }
                Some("kind") => {
                    let text = field.text().await.unwrap_or_default();
                    let other = text.trim();
                    kind = Some(Kind::parse(other).ok_or_else(|| {
                        ApiError::invalid_field(
                            "kind",
                            format!("{other:?} is not tradebook or holdings"),
                        )
                    })?);
                }
                _ => {}
            }
        }
        let file = file.ok_or_else(|| {
            ApiError::invalid_field("file", "is required (a form field named file)")
        })?;
        return Ok((file, name, kind));
    }
    if !is_csv(&essence) {
        return Err(ApiError::invalid_argument(
            "send the file as text/csv, or as multipart/form-data with a field named file",
        )
        .with_status(axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE));
    }
    let bytes = Bytes::from_request(req, &())
        .await
        .map_err(|_| too_big(()))?;
    Ok((bytes, None, None))
}

/// Import a Console tradebook or a holdings export.
///
/// The body is the CSV itself (`Content-Type: text/csv`) or a multipart form
/// with the file in `file`. Overlapping files add nothing twice; a file lands
/// whole or not at all; lines that cannot be read are listed with the reason.
#[utoipa::path(post, path = "/portfolio/import", tag = TAG,
    security(("bearer" = [])),
    params(ImportQuery),
    request_body(content = String, content_type = "text/csv", description = "A Console tradebook or a Kite/Console holdings export, up to 20 MiB"),
    responses(
        (status = 200, description = "What was imported", body = ImportReport),
        (status = 400, description = "Not a tradebook or holdings export, naming what is missing", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 413, description = "Larger than 20 MiB", body = ErrorBody),
        (status = 415, description = "Neither CSV nor a multipart form", body = ErrorBody),
    ))]
pub async fn import(
    State(state): State<PortfolioState>,
    Auth(caller): Auth,
    req: Request,
) -> Result<ApiJson<ImportReport>, ApiError> {
    let raw_query = req.uri().query().unwrap_or_default().to_string();
    // The body is read before the query is judged: answering while a client
    // is still sending a large file would break its connection.
    let (bytes, file_name, form_kind) = read_upload(req).await?;
    let query: ImportQuery = platform::query::parse_query(&raw_query)?;
    let report = state
        .service
        .import(&caller.user.id, query.kind.or(form_kind), file_name, bytes)
        .await?;
    Ok(ApiJson(report))
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 0–1,000,000; 0 when left out.
    #[validate(range(min = 0, max = 1_000_000))]
    #[param(minimum = 0, maximum = 1_000_000)]
    pub offset: Option<i64>,
    /// 1–100; 20 when left out.
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// The caller's imports, newest first, a page at a time.
#[utoipa::path(get, path = "/portfolio/imports", tag = TAG,
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of imports", body = ImportList),
        (status = 400, description = "A parameter is invalid, named in the error", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn list_imports(
    State(state): State<PortfolioState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<ApiJson<ImportList>, ApiError> {
    let (offset, limit) = (query.offset.unwrap_or(0), query.limit.unwrap_or(20));
    state
        .service
        .imports(&caller.user.id, offset, limit)
        .await
        .map(ApiJson)
}

/// One of the caller's imports, with the lines it skipped.
#[utoipa::path(get, path = "/portfolio/imports/{id}", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The import's id", max_length = 64)),
    responses(
        (status = 200, description = "The import", body = ImportDetail),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such import of the caller's", body = ErrorBody),
    ))]
pub async fn import_detail(
    State(state): State<PortfolioState>,
    Auth(caller): Auth,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<ApiJson<ImportDetail>, ApiError> {
    state
        .service
        .import_detail(&caller.user.id, &id)
        .await
        .map(ApiJson)
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TradesQuery {
    /// A symbol or an ISIN.
    pub symbol: Option<String>,
    /// First trade date, YYYY-MM-DD, not after `to`.
    pub from: Option<chrono::NaiveDate>,
    /// Last trade date, YYYY-MM-DD.
    pub to: Option<chrono::NaiveDate>,
    /// 0–1,000,000; 0 when left out.
    #[validate(range(min = 0, max = 1_000_000))]
    #[param(minimum = 0, maximum = 1_000_000)]
    pub offset: Option<i64>,
    /// 1–500; 50 when left out.
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// The caller's trades, newest first, filtered and paginated.
#[utoipa::path(get, path = "/portfolio/trades", tag = TAG,
    security(("bearer" = [])),
    params(TradesQuery),
    responses(
        (status = 200, description = "A page of trades", body = TradePage),
        (status = 400, description = "A parameter is invalid, named in the error", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn list_trades(
    State(state): State<PortfolioState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<TradesQuery>,
) -> Result<ApiJson<TradePage>, ApiError> {
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from > to
    {
        return Err(ApiError::invalid_field("from", "is after to"));
    }
    let (offset, limit) = (query.offset.unwrap_or(0), query.limit.unwrap_or(50));
    let filter = TradeFilter {
        symbol: query.symbol.map(|s| s.trim().to_ascii_uppercase()),
        from: query.from,
        to: query.to,
    };
    let page = state
        .service
        .trades(
            &caller.user.id,
            &filter,
            usize::try_from(offset).unwrap_or_default(),
            usize::try_from(limit).unwrap_or_default(),
        )
        .await?;
    Ok(ApiJson(page))
}
