//! HTTP: what market data holds, for administrators.

use axum::extract::{FromRef, State};
use platform::{ApiError, ApiJson, ErrorBody};

use super::model::MarketStatus;
use super::service::MarketService;
use crate::auth::{Admin, AuthService};

const TAG: &str = "market";

/// What the market handlers need.
#[derive(Debug, Clone)]
pub struct MarketState {
    pub service: MarketService,
    pub auth: AuthService,
}

impl FromRef<MarketState> for AuthService {
    fn from_ref(state: &MarketState) -> Self {
        state.auth.clone()
    }
}

/// Each feed's newest day and the files loaded last.
#[utoipa::path(get, path = "/admin/market", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What is loaded", body = MarketStatus),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator (`permission_denied`)", body = ErrorBody),
    ))]
pub async fn market_status(
    State(state): State<MarketState>,
    _admin: Admin,
) -> Result<ApiJson<MarketStatus>, ApiError> {
    Ok(ApiJson(state.service.status().await?))
}
