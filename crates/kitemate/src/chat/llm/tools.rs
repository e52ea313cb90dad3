//! The engine's query functions as tools a model may call: each runs the
//! built-in engine on the caller's own portfolio, so every number the model
//! states comes from a tool result.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::chat::engine::intent::{Aspect, By, Intent, Side, Sort};
use crate::chat::engine::period::{self, Period};

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
    let symbol = |s: Option<String>| s.map(|s| s.trim().to_uppercase());
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
            limit: args.limit,
            worth: None,
        },
        "top_movers" => Intent::Movers {
            gainers: required(args.gainers, "gainers")?,
            by_percent: args.by.as_deref() != Some("rupees"),
            n: args.count.unwrap_or(5),
        },
        "security_position" => Intent::Position {
            symbol: required(symbol(args.symbol), "symbol")?,
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
            n: args.top.unwrap_or(3),
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
            symbol: symbol(args.symbol),
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
            symbol: symbol(args.symbol),
        },
        "positions_today" => Intent::Positions,
        other => return Err(format!("there is no tool called {other:?}")),
    })
}
