//! What a question asks, read deterministically from its words: the
//! measure, the securities, the period and the ordering it names.

use chrono::NaiveDate;

use super::money;
use super::names::{self, Known};
use super::period::{self, Period};

/// How holdings are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Value,
    Invested,
    Pnl,
    PnlPercent,
    Quantity,
    Symbol,
}

/// Which part of one security's position is asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aspect {
    Quantity,
    AveragePrice,
    Pnl,
    Weight,
    Value,
    Everything,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Stock,
    Sector,
    AssetClass,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Buy,
    Sell,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    Value,
    Invested,
    Pnl,
    DayChange,
    Holdings {
        sort: Sort,
        ascending: bool,
        limit: Option<usize>,
    },
    Movers {
        gainers: bool,
        by_percent: bool,
        n: usize,
    },
    Position {
        symbol: String,
        aspect: Aspect,
    },
    Allocation {
        by: By,
    },
    Concentration {
        n: usize,
    },
    Realized {
        fy: Option<i32>,
    },
    Xirr {
        symbol: Option<String>,
    },
    Trades {
        period: Option<Period>,
        side: Option<Side>,
        symbol: Option<String>,
        count_only: bool,
    },
    Compare {
        symbols: Vec<String>,
    },
    Positions,
    /// A name the engine knows but the user neither holds nor traded.
    NotHeld {
        symbol: String,
    },
    Unknown,
}

/// A question's words: lowercased, punctuation apart from `&`, `-`, `.`
/// and `%` dropped, `p&l` and friends spelt one way.
pub fn words(text: &str) -> Vec<String> {
    let lower = text.to_lowercase().replace(['’', '\''], "");
    let spaced: String = lower
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '&' | '-' | '.' | '%' | '₹' | ',') {
                c
            } else {
                ' '
            }
        })
        .collect();
    spaced
        .split_whitespace()
        .map(|w| w.trim_end_matches(['.', ',']).trim_start_matches(','))
        .filter(|w| !w.is_empty())
        .map(|w| match w {
            "p&l" | "pnl" | "p/l" | "pl" => "pnl".to_string(),
            "realised" => "realized".to_string(),
            "unrealised" => "unrealized".to_string(),
            "annualised" => "annualized".to_string(),
            "%" | "pct" | "percentage" => "percent".to_string(),
            _ => w.to_string(),
        })
        .collect()
}

fn any(words: &[&str], set: &[&str]) -> bool {
    words.iter().any(|w| set.contains(w))
}

fn phrase(words: &[&str], text: &str) -> bool {
    let wanted: Vec<&str> = text.split(' ').collect();
    words.windows(wanted.len()).any(|w| w == wanted.as_slice())
}

/// `top 5`, `3 best`, `five biggest`: the count a question asks for.
fn count(words: &[&str]) -> Option<usize> {
    words.windows(2).find_map(|w| {
        let n = if matches!(
            w[0],
            "top" | "bottom" | "best" | "worst" | "first" | "biggest" | "largest" | "smallest"
        ) {
            money::count(w[1])
        } else if matches!(
            w[1],
            "best"
                | "worst"
                | "top"
                | "biggest"
                | "largest"
                | "smallest"
                | "stocks"
                | "holdings"
                | "gainers"
                | "losers"
        ) {
            money::count(w[0])
        } else {
            None
        }?;
        usize::try_from(n).ok().filter(|n| (1..=100).contains(n))
    })
}

fn aspect(words: &[&str]) -> Aspect {
    if phrase(words, "how many") || any(words, &["quantity", "qty", "units"]) {
        Aspect::Quantity
    } else if any(words, &["pay", "paid", "average", "avg", "cost", "bought"])
        || phrase(words, "buy price")
    {
        Aspect::AveragePrice
    } else if any(
        words,
        &["weight", "share", "percent", "proportion", "portion"],
    ) && !any(words, &["pnl", "profit", "return"])
    {
        Aspect::Weight
    } else if any(
        words,
        &[
            "pnl", "profit", "loss", "gain", "return", "returns", "up", "down", "made", "lost",
            "earned",
        ],
    ) {
        Aspect::Pnl
    } else if any(words, &["worth", "value"]) {
        Aspect::Value
    } else {
        Aspect::Everything
    }
}

/// Reads `text` against the securities the engine knows.
pub fn understand(text: &str, catalog: &[Known], today: NaiveDate) -> Intent {
    let owned = words(text);
    let w: Vec<&str> = owned.iter().map(String::as_str).collect();
    let found = names::find(&w, text, catalog);
    let own_symbol = |k: &Known| k.symbol.clone();
    let period = period::period(&w, today);
    let trade_words = [
        "trade",
        "trades",
        "traded",
        "bought",
        "buy",
        "buys",
        "sold",
        "sell",
        "sells",
        "transactions",
        "purchased",
        "purchases",
        "orders",
    ];

    if found.len() >= 2
        && (any(
            &w,
            &[
                "vs", "vs.", "versus", "compare", "compared", "or", "and", "against", "better",
            ],
        ))
    {
        return Intent::Compare {
            symbols: found.iter().map(|k| own_symbol(k)).collect(),
        };
    }
    if any(&w, &["positions", "intraday", "f&o", "futures", "options"])
        || (w.contains(&"position") && found.is_empty())
    {
        return Intent::Positions;
    }
    if any(&w, &["realized", "booked", "ltcg", "stcg", "tax", "taxes"])
        || phrase(&w, "capital gains")
        || phrase(&w, "capital gain")
        || phrase(&w, "short term")
        || phrase(&w, "long term")
        || phrase(&w, "short-term")
        || phrase(&w, "long-term")
    {
        return Intent::Realized {
            // Only a financial year named as one counts: "in 2024" spans two.
            fy: period::financial_year(&w, today),
        };
    }
    let asks_trades = any(&w, &trade_words)
        && (period.is_some()
            || phrase(&w, "how many trades")
            || any(&w, &["trades", "trade", "transactions", "orders", "traded"])
            || phrase(&w, "what did i buy")
            || phrase(&w, "what did i sell")
            || phrase(&w, "what have i bought")
            || phrase(&w, "what have i sold"));
    if asks_trades && !any(&w, &["pay", "paid", "average", "avg"]) {
        let side = if any(&w, &["bought", "buy", "buys", "purchased", "purchases"]) {
            Some(Side::Buy)
        } else if any(&w, &["sold", "sell", "sells"]) {
            Some(Side::Sell)
        } else {
            None
        };
        return Intent::Trades {
            period,
            side,
            symbol: found.first().map(|k| own_symbol(k)),
            count_only: phrase(&w, "how many"),
        };
    }
    if any(&w, &["xirr", "annualized", "cagr", "irr"])
        || phrase(&w, "annual return")
        || phrase(&w, "yearly return")
    {
        return Intent::Xirr {
            symbol: found.first().map(|k| own_symbol(k)),
        };
    }
    if any(&w, &["concentration", "concentrated"])
        || (count(&w).is_some()
            && any(&w, &["share", "account", "percent"])
            && any(
                &w,
                &["make", "account", "share", "together", "combined", "of"],
            )
            && found.is_empty()
            && !any(&w, &["gainers", "losers", "best", "worst"]))
    {
        return Intent::Concentration {
            n: count(&w).unwrap_or(5),
        };
    }
    if any(
        &w,
        &[
            "allocation",
            "allocated",
            "breakdown",
            "split",
            "distribution",
            "diversified",
            "diversification",
            "exposure",
            "sectors",
            "sector-wise",
            "sectorwise",
            "mix",
        ],
    ) || phrase(&w, "by sector")
        || phrase(&w, "asset class")
        || phrase(&w, "by stock")
    {
        let by = if any(
            &w,
            &[
                "sector",
                "sectors",
                "sector-wise",
                "sectorwise",
                "industry",
                "industries",
            ],
        ) {
            By::Sector
        } else if any(&w, &["asset", "class", "etf", "etfs", "equity", "mutual"]) {
            By::AssetClass
        } else {
            By::Stock
        };
        return Intent::Allocation { by };
    }
    let gainers = any(
        &w,
        &[
            "gainers",
            "winners",
            "best",
            "outperformers",
            "top-performing",
        ],
    ) || phrase(&w, "top performing")
        || phrase(&w, "biggest gains")
        || phrase(&w, "most profitable")
        || phrase(&w, "biggest gain");
    let losers = any(
        &w,
        &["losers", "worst", "laggards", "underperformers", "losing"],
    ) || phrase(&w, "biggest losses")
        || phrase(&w, "biggest loss")
        || phrase(&w, "least profitable");
    if (gainers || losers) && found.is_empty() {
        let by_rupees = any(
            &w,
            &["rupees", "rs", "₹", "inr", "absolute", "amount", "money"],
        );
        return Intent::Movers {
            gainers: !losers,
            by_percent: !by_rupees,
            n: count(&w).unwrap_or(5),
        };
    }
    if let Some(first) = found.first() {
        if !first.own {
            return Intent::NotHeld {
                symbol: first.symbol.clone(),
            };
        }
        return Intent::Position {
            symbol: first.symbol.clone(),
            aspect: aspect(&w),
        };
    }
    let today_words = any(&w, &["today", "todays", "daily"])
        || phrase(&w, "day change")
        || phrase(&w, "days change");
    if today_words
        && any(
            &w,
            &[
                "change",
                "pnl",
                "gain",
                "loss",
                "up",
                "down",
                "move",
                "moved",
                "did",
                "doing",
                "made",
                "lost",
                "performance",
            ],
        )
    {
        return Intent::DayChange;
    }
    if any(
        &w,
        &[
            "holdings", "stocks", "shares", "own", "hold", "list", "sorted", "sort",
        ],
    ) || phrase(&w, "what do i have")
        || phrase(&w, "show my portfolio")
    {
        let sort = if any(&w, &["percent", "percentage"])
            && any(&w, &["pnl", "return", "returns", "gain", "profit"])
        {
            Sort::PnlPercent
        } else if any(&w, &["pnl", "profit", "gain", "return", "returns"]) {
            Sort::Pnl
        } else if any(&w, &["invested", "cost", "investment"]) {
            Sort::Invested
        } else if any(&w, &["quantity", "qty", "shares"]) && any(&w, &["by", "sorted", "sort"]) {
            Sort::Quantity
        } else if any(&w, &["name", "symbol", "alphabetical", "alphabetically"]) {
            Sort::Symbol
        } else {
            Sort::Value
        };
        let ascending = any(&w, &["smallest", "lowest", "least", "ascending", "bottom"])
            || (sort == Sort::Symbol && !any(&w, &["descending", "reverse"]));
        return Intent::Holdings {
            sort,
            ascending,
            limit: count(&w),
        };
    }
    if any(
        &w,
        &[
            "pnl",
            "profit",
            "loss",
            "gain",
            "gains",
            "returns",
            "return",
            "unrealized",
            "made",
            "lost",
            "earned",
        ],
    ) || phrase(&w, "up or down")
        || phrase(&w, "am i up")
        || phrase(&w, "am i down")
    {
        return Intent::Pnl;
    }
    if any(
        &w,
        &["invested", "invest", "investment", "investments", "spent"],
    ) || phrase(&w, "put in")
        || phrase(&w, "cost basis")
    {
        return Intent::Invested;
    }
    if any(&w, &["value", "worth", "valuation", "total", "balance"])
        || phrase(&w, "how much is my portfolio")
        || phrase(&w, "how much do i have")
    {
        return Intent::Value;
    }
    Intent::Unknown
}
