//! Corporate actions as the portfolio applies them: those market data
//! knows (curated, loaded from NSE's files) and those the user declared
//! for their own securities, and the values of 31 January 2018.

use chrono::NaiveDate;
use platform::ApiError;
use rust_decimal::Decimal;

use super::calc::actions::{Known, from_corporate};
use super::calc::positions::Security;
use super::model::{CorporateActionList, DeclareAction, Quantity, SuggestedAction};
use super::service::PortfolioService;
use super::store::{self, DeclaredRow};
use crate::market::{ActionKind, CorporateAction, is_isin};

/// Actions one user may declare.
pub const MAX_DECLARED: i64 = 100;
/// Actions `GET /portfolio/corporate-actions` lists at most.
pub const MAX_LISTED: usize = 500;

/// A declared action as the rest read it.
fn declared_action(row: DeclaredRow) -> Option<CorporateAction> {
    Some(CorporateAction {
        isin: (!row.key.starts_with("symbol:")).then(|| row.key.clone()),
        kind: ActionKind::parse(&row.kind)?,
        ex_date: row.ex_date.parse().ok()?,
        allotted_on: row.allotted_on.as_deref().and_then(|d| d.parse().ok()),
        ratio_new: u32::try_from(row.ratio_new).ok()?,
        ratio_old: u32::try_from(row.ratio_old).ok()?,
        cost_share_percent: row.cost_share.as_deref().and_then(|c| c.parse().ok()),
        id: row.id,
        symbol: row.symbol,
        into_isin: row.into_isin,
        into_symbol: row.into_symbol,
        source: "declared".into(),
        note: row.note,
    })
}

/// Whether `s` is a symbol as exchanges write them.
fn is_symbol(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"&._-".contains(&b))
}

/// Suggestions an import or sync report lists at most.
const MAX_SUGGESTED: usize = 50;

/// Securities whose stated holding is a clean multiple of the FIFO one
/// (2:1, 3:2, 1:10 …), with the actions that would explain each.
pub fn detect(securities: &[Security], today: NaiveDate) -> Vec<SuggestedAction> {
    let mut out = Vec::new();
    for s in securities {
        let (Some((stated, _)), fifo) = (s.stated, s.book.quantity()) else {
            continue;
        };
        if stated <= Decimal::ZERO || fifo <= Decimal::ZERO || stated == fifo {
            continue;
        }
        let Some((new, old)) = crate::market::whole_ratio(stated, fifo) else {
            continue;
        };
        // Ratios companies use: 2:1, 3:2, 5:1, 10:1, 1:10; not 10:7.
        let clean = (new > old && old <= 5 && new <= 50) || (new < old && new <= 5 && old <= 50);
        if !clean || Decimal::from(new) * fifo != Decimal::from(old) * stated {
            continue;
        }
        let last_trade = s.flows.iter().map(|(day, _)| *day).max();
        let ex_date = last_trade
            .and_then(|d| d.succ_opt())
            .unwrap_or(today)
            .min(today);
        let body = |kind: ActionKind, ratio_new: u32, ratio_old: u32| DeclareAction {
            kind,
            isin: (!s.isin.is_empty()).then(|| s.isin.clone()),
            symbol: s.isin.is_empty().then(|| s.symbol.clone()),
            ex_date,
            allotted_on: None,
            ratio_new,
            ratio_old,
            into_isin: None,
            into_symbol: None,
            cost_share_percent: None,
            note: Some("suggested by KiteMate from the holdings and the tradebook".into()),
        };
        let (explanation, declare) = if new > old {
            (
                format!(
                    "{} held against {} from the trades: a split of {new} for {old}, or a bonus of {}:{old}",
                    stated.normalize(),
                    fifo.normalize(),
                    new - old
                ),
                vec![
                    body(ActionKind::Split, new, old),
                    body(ActionKind::Bonus, new - old, old),
                ],
            )
        } else {
            (
                format!(
                    "{} held against {} from the trades: a consolidation of {old} shares into {new}",
                    stated.normalize(),
                    fifo.normalize()
                ),
                vec![body(ActionKind::Consolidation, new, old)],
            )
        };
        out.push(SuggestedAction {
            symbol: s.symbol.clone(),
            isin: s.isin.clone(),
            stated_quantity: Quantity::rounded(stated).unwrap_or(Quantity::ZERO),
            fifo_quantity: Quantity::rounded(fifo).unwrap_or(Quantity::ZERO),
            ratio_new: new,
            ratio_old: old,
            explanation,
            declare,
        });
        if out.len() == MAX_SUGGESTED {
            break;
        }
    }
    out
}

impl PortfolioService {
    /// Actions that would explain where the stated holdings and the
    /// trades disagree (none without a holdings export or a sync).
    pub(super) async fn suggested_actions(
        &self,
        user_id: &str,
    ) -> Result<Vec<SuggestedAction>, ApiError> {
        // Without a holdings export or a sync nothing is stated to compare.
        let (imported, synced) = tokio::try_join!(
            store::holdings_imported_at(&self.db, user_id),
            store::synced_at(&self.db, user_id)
        )?;
        if imported.is_none() && synced.is_none() {
            return Ok(Vec::new());
        }
        let securities = self.securities(user_id).await?;
        Ok(detect(&securities, self.clock.today_ist()))
    }

    /// The actions that may touch `keys` (declared first, then market
    /// data's) and the grandfathering values of the ISINs among them.
    pub(super) async fn known(&self, user_id: &str, keys: Vec<String>) -> Result<Known, ApiError> {
        if keys.is_empty() {
            return Ok(Known::default());
        }
        let isins: Vec<&str> = keys
            .iter()
            .map(String::as_str)
            .filter(|k| !k.starts_with("symbol:"))
            .collect();
        let (declared, market) = tokio::try_join!(
            async { Ok::<_, ApiError>(store::declared(&self.db, user_id).await?) },
            self.market.corporate_actions(&keys),
        )?;
        // Lots may be in a company the user never traded on 31 January 2018
        // (a merger before then): its value is asked for too.
        let mut isins = isins;
        isins.extend(
            declared
                .iter()
                .filter_map(|d| d.into_isin.as_deref())
                .chain(market.iter().filter_map(|a| a.into_isin.as_deref())),
        );
        isins.sort_unstable();
        isins.dedup();
        let fmv = self.market.fmv_2018(&isins).await?;
        // An action announced for a day still to come applies from that day.
        let today = self.clock.today_ist();
        let actions = declared
            .into_iter()
            .filter_map(declared_action)
            .chain(market)
            .filter(|a| a.ex_date <= today)
            .filter_map(|a| from_corporate(&a))
            .collect();
        Ok(Known { actions, fmv })
    }

    /// The corporate actions that touch the user's securities, declared
    /// and known, oldest first.
    pub async fn corporate_actions(&self, user_id: &str) -> Result<CorporateActionList, ApiError> {
        let securities = self.securities(user_id).await?;
        let mut keys: Vec<String> = Vec::new();
        for s in securities.iter() {
            if !s.isin.is_empty() {
                keys.push(s.isin.clone());
            }
            keys.push(format!("symbol:{}", s.symbol));
        }
        let declared: Vec<CorporateAction> = store::declared(&self.db, user_id)
            .await?
            .into_iter()
            .filter_map(declared_action)
            .collect();
        let market = if keys.is_empty() {
            Vec::new()
        } else {
            self.market.corporate_actions(&keys).await?
        };
        let declared_count = declared.len();
        let mut actions: Vec<CorporateAction> = declared.into_iter().chain(market).collect();
        actions.sort_by(|a, b| (a.ex_date, &a.symbol, &a.id).cmp(&(b.ex_date, &b.symbol, &b.id)));
        let total = actions.len();
        actions.truncate(MAX_LISTED);
        Ok(CorporateActionList {
            actions,
            total,
            declared: declared_count,
            max_declared: MAX_DECLARED as usize,
        })
    }

    /// Declares a corporate action for the user's own portfolio.
    pub async fn declare_action(
        &self,
        user_id: &str,
        body: DeclareAction,
    ) -> Result<CorporateAction, ApiError> {
        let today = self.clock.today_ist();
        let row = self.declared_row(user_id, &body, today).await?;
        let mut tx = self.db.begin().await?;
        if store::count_declared(&mut tx, user_id).await? >= MAX_DECLARED {
            return Err(ApiError::failed_precondition(format!(
                "you have declared {MAX_DECLARED} corporate actions, the most one account may; delete one first"
            )));
        }
        if !store::insert_declared(&mut tx, user_id, &row).await? {
            return Err(ApiError::already_exists(format!(
                "you declared a {} of {} on {} already",
                row.kind, row.symbol, row.ex_date
            )));
        }
        store::bump_version(&mut tx, user_id).await?;
        tx.commit().await?;
        declared_action(row).ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("a declared action does not read back"))
        })
    }

    /// Deletes one of the user's declared actions.
    pub async fn forget_action(&self, user_id: &str, id: &str) -> Result<(), ApiError> {
        let mut tx = self.db.begin().await?;
        if !store::delete_declared(&mut tx, user_id, id).await? {
            return Err(ApiError::not_found(
                "you declared no corporate action with that id",
            ));
        }
        store::bump_version(&mut tx, user_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Checks a declaration against the Act's shapes and the user's own
    /// securities, and makes its row.
    async fn declared_row(
        &self,
        user_id: &str,
        body: &DeclareAction,
        today: NaiveDate,
    ) -> Result<DeclaredRow, ApiError> {
        let field = ApiError::invalid_field;
        let isin = body
            .isin
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let symbol = body
            .symbol
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if let Some(isin) = isin
            && !is_isin(isin)
        {
            return Err(field(
                "isin",
                "is not an ISIN (two letters, nine letters or digits, a digit)",
            ));
        }
        if let Some(symbol) = symbol
            && !is_symbol(symbol)
        {
            return Err(field("symbol", "must be 1–32 of A–Z, 0–9 and & . _ -"));
        }
        let securities = self.securities(user_id).await?;
        let Some(security) = securities.iter().find(|s| match (isin, symbol) {
            (Some(isin), _) => s.isin == isin,
            (None, Some(symbol)) => s.symbol == symbol,
            (None, None) => false,
        }) else {
            return Err(match (isin, symbol) {
                (None, None) => field(
                    "isin",
                    "is required (or symbol): the security the action was on",
                ),
                (Some(_), _) => field("isin", "none of your trades or holdings is of this ISIN"),
                (None, Some(_)) => field(
                    "symbol",
                    "none of your trades or holdings is of this symbol",
                ),
            });
        };
        let earliest = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or_default();
        if body.ex_date < earliest || body.ex_date > today + chrono::Days::new(366) {
            return Err(field(
                "exDate",
                "must be from 1990-01-01 to a year from today",
            ));
        }
        let (new, old) = (body.ratio_new, body.ratio_old);
        for (name, value) in [("ratioNew", new), ("ratioOld", old)] {
            if !(1..=1_000).contains(&value) {
                return Err(field(name, "must be 1–1000"));
            }
        }
        match body.kind {
            ActionKind::Split if new <= old => {
                return Err(field(
                    "ratioNew",
                    "a split gives more shares than were held: ratioNew > ratioOld",
                ));
            }
            ActionKind::Consolidation if new >= old => {
                return Err(field(
                    "ratioNew",
                    "a consolidation gives fewer shares than were held: ratioNew < ratioOld",
                ));
            }
            ActionKind::IsinChange if new != old => {
                return Err(field(
                    "ratioNew",
                    "an ISIN change keeps the share count: ratioNew = ratioOld",
                ));
            }
            _ => {}
        }
        let into = body
            .into_isin
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        match (body.kind.moves(), into) {
            (true, None) => {
                return Err(field(
                    "intoIsin",
                    "is required: the ISIN the shares went into",
                ));
            }
            (true, Some(into)) if !is_isin(into) => {
                return Err(field("intoIsin", "is not an ISIN"));
            }
            (true, Some(into)) if into == security.isin => {
                return Err(field(
                    "intoIsin",
                    "must differ from the security's own ISIN",
                ));
            }
            (false, Some(_)) if body.kind != ActionKind::Split => {
                return Err(field(
                    "intoIsin",
                    "applies to a merger, demerger, ISIN change or split only",
                ));
            }
            _ => {}
        }
        let into_symbol = body
            .into_symbol
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if let Some(s) = into_symbol
            && !is_symbol(s)
        {
            return Err(field("intoSymbol", "must be 1–32 of A–Z, 0–9 and & . _ -"));
        }
        let cost_share = match (body.kind, &body.cost_share_percent) {
            (ActionKind::Demerger, None) => {
                return Err(field(
                    "costSharePercent",
                    "is required for a demerger: the percent of cost the new shares carry, as the company announced",
                ));
            }
            (ActionKind::Demerger, Some(text)) => {
                let share: Decimal = text
                    .trim()
                    .parse()
                    .map_err(|_| field("costSharePercent", "is not a number"))?;
                if share <= Decimal::ZERO || share >= Decimal::ONE_HUNDRED || share.scale() > 4 {
                    return Err(field(
                        "costSharePercent",
                        "must be more than 0 and less than 100, to at most four places",
                    ));
                }
                Some(share.normalize().to_string())
            }
            (_, Some(_)) => return Err(field("costSharePercent", "applies to a demerger only")),
            (_, None) => None,
        };
        let allotted_on = match (body.kind, body.allotted_on) {
            (ActionKind::Bonus, Some(day))
                if day < body.ex_date || day > body.ex_date + chrono::Days::new(90) =>
            {
                return Err(field(
                    "allottedOn",
                    "must be on the ex-date or up to 90 days after it",
                ));
            }
            (ActionKind::Bonus, day) => Some(day.unwrap_or(body.ex_date).to_string()),
            (_, Some(_)) => return Err(field("allottedOn", "applies to a bonus only")),
            (_, None) => None,
        };
        let note = body.note.as_deref().unwrap_or("").trim();
        if note.chars().count() > 200 || note.chars().any(char::is_control) {
            return Err(field(
                "note",
                "must be at most 200 characters, without control characters",
            ));
        }
        let key = if security.isin.is_empty() {
            format!("symbol:{}", security.symbol)
        } else {
            security.isin.clone()
        };
        Ok(DeclaredRow {
            id: uuid::Uuid::now_v7().to_string(),
            key,
            symbol: security.symbol.clone(),
            kind: body.kind.as_str().to_string(),
            ex_date: body.ex_date.to_string(),
            allotted_on,
            ratio_new: i64::from(new),
            ratio_old: i64::from(old),
            into_isin: into.map(str::to_string),
            into_symbol: into_symbol.map(str::to_string),
            cost_share,
            note: note.to_string(),
            created_at: self.clock.now().timestamp_millis(),
        })
    }
}
