//! The engine's query functions as tools a model may call: each runs the
//! built-in engine on the caller's own portfolio, so every number the model
//! states comes from a tool result.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::chat::engine::intent::{Aspect, By, Intent, Side, Sort};
use crate::chat::engine::period::{self, Period};
use crate::chat::engine::slots::{self, Pick, Slots, What};
use crate::chat::engine::tax::TaxAsk;

/// `what` of `portfolio_query`, as the schema names it.
const WHATS: &[(&str, What)] = &[
    ("value", What::Value),
    ("invested", What::Invested),
    ("pnl", What::Pnl),
    ("pnl_percent", What::PnlPercent),
    ("weight", What::Weight),
    ("quantity", What::Quantity),
    ("average_price", What::AveragePrice),
    ("xirr", What::Xirr),
    ("realized", What::Realized),
    ("trade_count", What::TradeCount),
    ("date", What::Date),
    ("trades", What::Trades),
    ("holdings", What::Holdings),
];

const SORTS: &[(&str, Sort)] = &[
    ("value", Sort::Value),
    ("invested", Sort::Invested),
    ("pnl", Sort::Pnl),
    ("pnl_percent", Sort::PnlPercent),
    ("quantity", Sort::Quantity),
    ("symbol", Sort::Symbol),
];

const PICKS: &[(&str, Pick)] = &[
    ("first", Pick::First),
    ("last", Pick::Last),
    ("max", Pick::Max),
    ("min", Pick::Min),
];

fn named<T: Copy + PartialEq>(table: &[(&'static str, T)], value: T) -> &'static str {
    table
        .iter()
        .find(|(_, v)| *v == value)
        .map_or("", |(name, _)| *name)
}

fn lookup<T: Copy>(table: &[(&str, T)], field: &str, name: &str) -> Result<T, String> {
    table
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| *v)
        .ok_or_else(|| format!("`{field}` cannot be {name:?}"))
}

/// The tools, as the chat-completions API takes them.
pub fn definitions() -> Value {
    let tool = |name: &str, description: &str, parameters: Value| json!({ "type": "function", "function": { "name": name, "description": description, "parameters": parameters } });
    let none = json!({ "type": "object", "properties": {} });
    json!([
        tool(
            "portfolio_summary",
            "Value, amount invested, unrealized and realized P&L, today's change and XIRR of the whole portfolio.",
            none.clone()
        ),
        tool(
            "list_holdings",
            "The holdings with quantity, invested, value, P&L and weight.",
            json!({
                "type": "object",
                "properties": {
                    "sort": { "type": "string", "enum": ["value", "invested", "pnl", "pnl_percent", "quantity", "symbol"] },
                    "ascending": { "type": "boolean" },
                    "limit": { "type": "integer", "minimum": 1, "maximum": 100 }
                }
            })
        ),
        tool(
            "top_movers",
            "The holdings most up (gainers) or down (losers), by percent or by rupees.",
            json!({
                "type": "object",
                "properties": {
                    "gainers": { "type": "boolean" },
                    "by": { "type": "string", "enum": ["percent", "rupees"] },
                    "count": { "type": "integer", "minimum": 1, "maximum": 50 }
                },
                "required": ["gainers"]
            })
        ),
        tool(
            "security_position",
            "One security's quantity, average price, invested, value, P&L and weight.",
            json!({
                "type": "object",
                "properties": { "symbol": { "type": "string", "description": "NSE symbol, e.g. INFY" } },
                "required": ["symbol"]
            })
        ),
        tool(
            "allocation",
            "How the portfolio divides by stock, sector or asset class.",
            json!({
                "type": "object",
                "properties": { "by": { "type": "string", "enum": ["stock", "sector", "asset_class"] } },
                "required": ["by"]
            })
        ),
        tool(
            "concentration",
            "The share of the portfolio in its largest holdings.",
            json!({
                "type": "object",
                "properties": { "top": { "type": "integer", "minimum": 1, "maximum": 50 } }
            })
        ),
        tool(
            "realized_pnl",
            "Realized P&L from sales (FIFO), short- and long-term, for a financial year or in all.",
            json!({
                "type": "object",
                "properties": { "financial_year": { "type": "string", "description": "like 2024-25" } }
            })
        ),
        tool(
            "capital_gains_tax",
            "Capital-gains tax of a financial year at the listed rates (s.111A, s.112A), how much of the s.112A exemption is left, or which lots are long-term now.",
            json!({
                "type": "object",
                "properties": {
                    "ask": { "type": "string", "enum": ["due", "exemption", "long_term_lots"] },
                    "financial_year": { "type": "string", "description": "like 2024-25; the current one when left out" }
                },
                "required": ["ask"]
            })
        ),
        tool(
            "xirr",
            "Annualized return (XIRR) of the portfolio or of one security.",
            json!({
                "type": "object",
                "properties": { "symbol": { "type": "string" } }
            })
        ),
        tool(
            "trades",
            "Trades between two dates, of one security or side.",
            json!({
                "type": "object",
                "properties": {
                    "from": { "type": "string", "format": "date" },
                    "to": { "type": "string", "format": "date" },
                    "symbol": { "type": "string" },
                    "side": { "type": "string", "enum": ["buy", "sell"] }
                }
            })
        ),
        tool(
            "positions_today",
            "Today's open positions as of the last sync.",
            none
        ),
        tool(
            "portfolio_query",
            "Any figure of the portfolio by slots: what is measured, of which securities or group, between which dates, of which side of trades, picking the first, last, largest or smallest. Counts and dates of trades ('how many times did I buy INFY', 'when did I first buy TCS'), the one holding first by a measure ('which stock have I invested the most in': pick max, one true), a group's figures ('my banks'), one security's figure, or the holdings sorted.",
            json!({
                "type": "object",
                "properties": {
                    "what": { "type": "string", "enum": WHATS.iter().map(|(n, _)| *n).chain(["day_change"]).collect::<Vec<_>>() },
                    "symbols": { "type": "array", "items": { "type": "string", "maxLength": 32 }, "maxItems": 5, "description": "NSE symbols, e.g. INFY" },
                    "group": { "type": "string", "enum": slots::group_labels().collect::<Vec<_>>() },
                    "from": { "type": "string", "format": "date" },
                    "to": { "type": "string", "format": "date" },
                    "financial_year": { "type": "string", "description": "like 2024-25, for realized" },
                    "side": { "type": "string", "enum": ["buy", "sell"] },
                    "pick": { "type": "string", "enum": PICKS.iter().map(|(n, _)| *n).collect::<Vec<_>>() },
                    "one": { "type": "boolean", "description": "answer with the one holding first by `pick`" },
                    "sort": { "type": "string", "enum": SORTS.iter().map(|(n, _)| *n).collect::<Vec<_>>() },
                    "ascending": { "type": "boolean" },
                    "limit": { "type": "integer", "minimum": 1, "maximum": 500 },
                    "worth_above_paise": { "type": "integer", "minimum": 0 },
                    "worth_below_paise": { "type": "integer", "minimum": 0 }
                },
                "required": ["what"]
            })
        ),
        tool(
            "compare_holdings",
            "Two to five holdings side by side.",
            json!({
                "type": "object",
                "properties": { "symbols": { "type": "array", "items": { "type": "string" }, "minItems": 2, "maxItems": 5 } },
                "required": ["symbols"]
            })
        ),
        tool(
            "returns_over_time",
            "The portfolio's time-weighted return from a date (or its first trade) to today, beside NIFTY 50's, and its money-weighted return.",
            json!({
                "type": "object",
                "properties": { "from": { "type": "string", "format": "date" } }
            })
        ),
    ])
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    sort: Option<String>,
    ascending: Option<bool>,
    limit: Option<usize>,
    gainers: Option<bool>,
    by: Option<String>,
    count: Option<usize>,
    symbol: Option<String>,
    top: Option<usize>,
    financial_year: Option<String>,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    side: Option<String>,
    what: Option<String>,
    symbols: Option<Vec<String>>,
    group: Option<String>,
    pick: Option<String>,
    one: Option<bool>,
    worth_above_paise: Option<i64>,
    worth_below_paise: Option<i64>,
    ask: Option<String>,
}

fn required<T>(value: Option<T>, name: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("`{name}` is required"))
}

/// The question a tool call asks, or why its arguments are wrong (which the
/// model is told, so that it can call again).
pub fn intent(name: &str, arguments: &str, today: chrono::NaiveDate) -> Result<Intent, String> {
    let text = if arguments.trim().is_empty() {
        "{}"
    } else {
        arguments
    };
    let args: Args =
        serde_json::from_str(text).map_err(|err| format!("invalid arguments for {name}: {err}"))?;
    let symbol = |s: Option<String>| s.map(|s| security(&s)).transpose();
    Ok(match name {
        "portfolio_summary" => Intent::Pnl,
        "list_holdings" => Intent::Holdings {
            sort: match args.sort.as_deref().unwrap_or("value") {
                "value" => Sort::Value,
                "invested" => Sort::Invested,
                "pnl" => Sort::Pnl,
                "pnl_percent" => Sort::PnlPercent,
                "quantity" => Sort::Quantity,
                "symbol" => Sort::Symbol,
                other => return Err(format!("`sort` cannot be {other:?}")),
            },
            ascending: args.ascending.unwrap_or(false),
            limit: args.limit.map(|n| n.clamp(1, 100)),
            worth: None,
        },
        "top_movers" => Intent::Movers {
            gainers: required(args.gainers, "gainers")?,
            by_percent: args.by.as_deref() != Some("rupees"),
            n: args.count.unwrap_or(5).clamp(1, 50),
        },
        "security_position" => Intent::Position {
            symbol: required(symbol(args.symbol)?, "symbol")?,
            aspect: Aspect::Everything,
        },
        "allocation" => Intent::Allocation {
            by: match required(args.by, "by")?.as_str() {
                "stock" => By::Stock,
                "sector" => By::Sector,
                "asset_class" => By::AssetClass,
                other => return Err(format!("`by` cannot be {other:?}")),
            },
        },
        "concentration" => Intent::Concentration {
            n: args.top.unwrap_or(3).clamp(1, 50),
        },
        "realized_pnl" => Intent::Realized {
            fy: match args.financial_year {
                Some(fy) => Some(
                    period::financial_year(&[fy.as_str()], today)
                        .ok_or_else(|| format!("`financial_year` {fy:?} is not like 2024-25"))?,
                ),
                None => None,
            },
        },
        "xirr" => Intent::Xirr {
            symbol: symbol(args.symbol)?,
        },
        "trades" => Intent::Trades {
            period: (args.from.is_some() || args.to.is_some()).then(|| {
                let from = args.from.unwrap_or_default();
                let to = args.to.unwrap_or(today);
                Period {
                    from,
                    to,
                    label: format!("from {from} to {to}"),
                }
            }),
            side: match args.side.as_deref() {
                None => None,
                Some("buy") => Some(Side::Buy),
                Some("sell") => Some(Side::Sell),
                Some(other) => return Err(format!("`side` cannot be {other:?}")),
            },
            symbol: symbol(args.symbol)?,
        },
        "positions_today" => Intent::Positions,
        "capital_gains_tax" => Intent::Tax {
            ask: match required(args.ask, "ask")?.as_str() {
                "due" => TaxAsk::Due,
                "exemption" => TaxAsk::Exemption,
                "long_term_lots" => TaxAsk::LongTermLots,
                other => {
                    return Err(format!(
                        "`ask` {other:?} is not due, exemption or long_term_lots"
                    ));
                }
            },
            fy: match args.financial_year {
                Some(fy) => Some(
                    period::financial_year(&[fy.as_str()], today)
                        .ok_or_else(|| format!("`financial_year` {fy:?} is not like 2024-25"))?,
                ),
                None => None,
            },
        },
        "portfolio_query" => return query(args, today),
        "compare_holdings" => Intent::Compare {
            symbols: match securities(required(args.symbols, "symbols")?)? {
                s if s.len() >= 2 => s,
                _ => return Err("`symbols` needs two to five symbols".into()),
            },
        },
        "returns_over_time" => Intent::Performance {
            period: args.from.map(|from| Period {
                from,
                to: today,
                label: format!("since {from}"),
            }),
        },
        other => return Err(format!("there is no tool called {other:?}")),
    })
}

/// A symbol a model sent, as the portfolio names them: upper case, up to
/// 32 of `A-Z 0-9 & . _ -`, or why not (the model is told, and may retry).
fn security(text: &str) -> Result<String, String> {
    let s = text.trim().to_uppercase();
    let fits = !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"&._-".contains(&b));
    if fits {
        Ok(s)
    } else {
        Err("a symbol is 1 to 32 of A-Z, 0-9, &, ., _ and -, like INFY".into())
    }
}

/// Up to five symbols a model sent.
fn securities(list: Vec<String>) -> Result<Vec<String>, String> {
    if list.len() > 5 {
        return Err("`symbols` takes at most five".into());
    }
    list.iter().map(|s| security(s)).collect()
}

fn span(
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    today: chrono::NaiveDate,
) -> Option<Period> {
    (from.is_some() || to.is_some()).then(|| {
        let from = from.unwrap_or_default();
        let to = to.unwrap_or(today);
        Period {
            from,
            to,
            label: format!("from {from} to {to}"),
        }
    })
}

/// `portfolio_query`: the slots a model filled, planned as the engine plans
/// a question's.
fn query(args: Args, today: chrono::NaiveDate) -> Result<Intent, String> {
    let what = required(args.what, "what")?;
    if what == "day_change" {
        return Ok(Intent::DayChange);
    }
    let slots = Slots {
        what: Some(lookup(WHATS, "what", &what)?),
        symbols: securities(args.symbols.unwrap_or_default())?,
        group: match args.group {
            Some(label) => Some(
                slots::group_named(&label).ok_or_else(|| format!("`group` cannot be {label:?}"))?,
            ),
            None => None,
        },
        period: span(args.from, args.to, today),
        fy: match args.financial_year {
            Some(fy) => Some(
                period::financial_year(&[fy.as_str()], today)
                    .ok_or_else(|| format!("`financial_year` {fy:?} is not like 2024-25"))?,
            ),
            None => None,
        },
        side: match args.side.as_deref() {
            None => None,
            Some("buy") => Some(Side::Buy),
            Some("sell") => Some(Side::Sell),
            Some(other) => return Err(format!("`side` cannot be {other:?}")),
        },
        pick: args.pick.map(|p| lookup(PICKS, "pick", &p)).transpose()?,
        which: args.one.unwrap_or(false),
        sort: args
            .sort
            .map(|s| lookup(SORTS, "sort", &s).map(|s| (s, args.ascending.unwrap_or(false))))
            .transpose()?,
        limit: args.limit.map(|n| n.clamp(1, 500)),
        worth: match (args.worth_above_paise, args.worth_below_paise) {
            (Some(p), _) | (None, Some(p)) if p < 0 => {
                return Err(
                    "`worth_above_paise` and `worth_below_paise` cannot be negative".into(),
                );
            }
            (Some(p), _) => Some((true, p)),
            (None, Some(p)) => Some((false, p)),
            (None, None) => None,
        },
        ..Slots::default()
    };
    slots::plan(&slots).ok_or_else(|| "those slots name no figure: say what, and of what".into())
}

/// The tool call that asks for what `intent` answers, with the arguments a
/// model would send: every intent with figures has one.
pub fn call_for(intent: &Intent) -> Option<(&'static str, Value)> {
    let symbols = |s: &Option<String>| s.iter().cloned().collect::<Vec<_>>();
    let dates = |p: &Option<Period>, args: &mut Value| {
        if let Some(p) = p {
            args["from"] = json!(p.from);
            args["to"] = json!(p.to);
        }
    };
    let side = |s: &Option<Side>| {
        s.map(|s| match s {
            Side::Buy => "buy",
            Side::Sell => "sell",
        })
    };
    Some(match intent {
        Intent::Value => ("portfolio_query", json!({ "what": "value" })),
        Intent::Invested => ("portfolio_query", json!({ "what": "invested" })),
        Intent::Pnl => ("portfolio_query", json!({ "what": "pnl" })),
        Intent::DayChange => ("portfolio_query", json!({ "what": "day_change" })),
        Intent::Holdings {
            sort,
            ascending,
            limit,
            worth,
        } => {
            let mut args =
                json!({ "what": "holdings", "sort": named(SORTS, *sort), "ascending": ascending });
            if let Some(n) = limit {
                args["limit"] = json!(n);
            }
            match worth {
                Some((true, p)) => args["worth_above_paise"] = json!(p),
                Some((false, p)) => args["worth_below_paise"] = json!(p),
                None => {}
            }
            ("portfolio_query", args)
        }
        Intent::Movers {
            gainers,
            by_percent,
            n,
        } => (
            "top_movers",
            json!({ "gainers": gainers, "by": if *by_percent { "percent" } else { "rupees" }, "count": n }),
        ),
        Intent::Position { symbol, aspect } => {
            let Some(what) = What::of_aspect(*aspect) else {
                return Some(("security_position", json!({ "symbol": symbol })));
            };
            (
                "portfolio_query",
                json!({ "what": named(WHATS, what), "symbols": [symbol] }),
            )
        }
        Intent::Allocation { by } => (
            "allocation",
            json!({ "by": match by { By::Stock => "stock", By::Sector => "sector", By::AssetClass => "asset_class" } }),
        ),
        Intent::Concentration { n } => ("concentration", json!({ "top": n })),
        Intent::Realized { fy } => (
            "realized_pnl",
            fy.map_or(
                json!({}),
                |fy| json!({ "financial_year": period::fy_name(fy) }),
            ),
        ),
        Intent::Xirr { symbol } => ("xirr", json!({ "symbol": symbol })),
        Intent::Tax { ask, fy } => {
            let mut args = json!({ "ask": match ask {
                TaxAsk::Due => "due",
                TaxAsk::Exemption => "exemption",
                TaxAsk::LongTermLots => "long_term_lots",
            } });
            if let Some(fy) = fy {
                args["financial_year"] = json!(period::fy_name(*fy));
            }
            ("capital_gains_tax", args)
        }
        Intent::Trades {
            period,
            side: s,
            symbol,
        } => {
            let mut args = json!({ "symbol": symbol, "side": side(s) });
            dates(period, &mut args);
            ("trades", args)
        }
        Intent::Compare { symbols } => ("compare_holdings", json!({ "symbols": symbols })),
        Intent::Positions => ("positions_today", json!({})),
        Intent::Performance { period } => (
            "returns_over_time",
            json!({ "from": period.as_ref().map(|p| p.from) }),
        ),
        Intent::NotHeld { symbol } => ("security_position", json!({ "symbol": symbol })),
        Intent::Tally {
            symbol,
            side: s,
            period,
            what,
            pick,
        } => {
            let mut args =
                json!({ "what": named(WHATS, *what), "symbols": symbols(symbol), "side": side(s) });
            if let Some(p) = pick {
                args["pick"] = json!(named(PICKS, *p));
            }
            dates(period, &mut args);
            ("portfolio_query", args)
        }
        Intent::Which {
            sort,
            lowest,
            group,
        } => {
            let what = What::of_sort(*sort);
            (
                "portfolio_query",
                json!({
                    "what": named(WHATS, what),
                    "pick": if *lowest { "min" } else { "max" },
                    "one": true,
                    "group": group.as_ref().map(|g| g.label.clone()),
                }),
            )
        }
        Intent::Group { what, group } => (
            "portfolio_query",
            json!({ "what": named(WHATS, *what), "group": group.label }),
        ),
        Intent::Decline { .. } | Intent::Unknown => return None,
    })
}
