//! The kinds of things a question names, shared by the grammar that reads
//! slots and the rules that read whole questions: what is measured, how
//! holdings sort, which side of a trade, and the intents answers are made
//! for; and the word helpers both read with.

use super::money;
use super::period::Period;

/// What a question measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum What {
    Value,
    Invested,
    Pnl,
    PnlPercent,
    Weight,
    Quantity,
    AveragePrice,
    Xirr,
    Realized,
    /// How many trades.
    TradeCount,
    /// The date of a trade (with [`Pick::First`] or [`Pick::Last`]).
    Date,
    Trades,
    Holdings,
}

/// The measures one security's position answers, as [`Aspect`]s.
const ASPECTS: &[(What, Aspect)] = &[
    (What::Quantity, Aspect::Quantity),
    (What::AveragePrice, Aspect::AveragePrice),
    (What::Pnl, Aspect::Pnl),
    (What::PnlPercent, Aspect::PnlPercent),
    (What::Weight, Aspect::Weight),
    (What::Value, Aspect::Value),
    (What::Invested, Aspect::Invested),
];

impl What {
    /// How holdings order for "which is the most …" of this measure.
    pub fn sort(self) -> Sort {
        match self {
            Self::Invested => Sort::Invested,
            Self::Pnl => Sort::Pnl,
            Self::PnlPercent => Sort::PnlPercent,
            Self::Quantity => Sort::Quantity,
            _ => Sort::Value,
        }
    }

    /// The measure holdings ordered by `sort` are compared on.
    pub fn of_sort(sort: Sort) -> Self {
        match sort {
            Sort::Invested => Self::Invested,
            Sort::Pnl => Self::Pnl,
            Sort::PnlPercent => Self::PnlPercent,
            Sort::Quantity => Self::Quantity,
            Sort::Value | Sort::Symbol => Self::Value,
        }
    }

    /// Which part of one security's position this measure is.
    pub fn aspect(self) -> Aspect {
        ASPECTS
            .iter()
            .find(|(w, _)| *w == self)
            .map_or(Aspect::Everything, |(_, a)| *a)
    }

    /// The measure a part of a position is (none for all of it).
    pub fn of_aspect(aspect: Aspect) -> Option<Self> {
        ASPECTS.iter().find(|(_, a)| *a == aspect).map(|(w, _)| *w)
    }
}

/// One of several: the earliest, the latest, the largest, the smallest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    First,
    Last,
    Max,
    Min,
}

/// A set of holdings named by kind rather than by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// As the answer names it: "banks", "IT stocks", "ETFs".
    pub label: String,
    pub kind: GroupKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupKind {
    /// Companies whose name says bank (a narrower set than the sector).
    Banks,
    /// A sector as the NIFTY 500 list names it.
    Sector(&'static str),
    /// `etf` or `mutual_fund`.
    AssetClass(&'static str),
}

/// Which tax question was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaxAsk {
    /// How much capital-gains tax this year's (or a year's) sales owe.
    Due,
    /// How much of the year's LTCG exemption is left.
    Exemption,
    /// Which holdings' lots are long-term now.
    LongTermLots,
}

/// Why a question is declined rather than answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decline {
    Dividends,
    Charges,
    TaxPaid,
    Advice,
    Forecast,
}

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
    PnlPercent,
    Weight,
    Value,
    Invested,
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
        /// Only those worth more (`true`) or less than so many paise.
        worth: Option<(bool, i64)>,
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
    /// Capital-gains tax of a financial year (the current one when none).
    Tax {
        ask: TaxAsk,
        fy: Option<i32>,
    },
    Xirr {
        symbol: Option<String>,
    },
    Trades {
        period: Option<Period>,
        side: Option<Side>,
        symbol: Option<String>,
    },
    Compare {
        symbols: Vec<String>,
    },
    Positions,
    /// How the portfolio did over a period (from its start; all of it when
    /// none is named), beside NIFTY 50.
    Performance {
        period: Option<Period>,
    },
    /// A name the engine knows but the user neither holds nor traded.
    NotHeld {
        symbol: String,
    },
    /// How many trades (no pick), or the date of the first or last.
    Tally {
        symbol: Option<String>,
        side: Option<Side>,
        period: Option<Period>,
        /// [`What::TradeCount`] or [`What::Date`].
        what: What,
        /// For a date: the first or the last (else every date, when few).
        pick: Option<Pick>,
    },
    /// The one holding (of a group, if named) first in an order.
    Which {
        sort: Sort,
        lowest: bool,
        group: Option<Group>,
    },
    /// A figure of a group of holdings ("my banks"), or the group listed.
    Group {
        what: What,
        group: Group,
    },
    /// What the app has no data for, or is not its to say.
    Decline {
        why: Decline,
    },
    Unknown,
}

/// "x i r r" typed or voiced letter by letter: one word.
fn spelled(tokens: Vec<String>) -> Vec<String> {
    let letter = |t: &str| t.len() == 1 && t.chars().all(|c| c.is_ascii_alphabetic());
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let run = tokens[i..].iter().take_while(|t| letter(t)).count();
        if run >= 3 {
            out.push(tokens[i..i + run].concat());
            i += run;
        } else {
            out.push(tokens[i].clone());
            i += 1;
        }
    }
    out
}

/// A question's words: lowercased, punctuation apart from `&`, `-`, `.`
/// and `%` dropped, `p&l` and friends spelt one way.
pub fn words(text: &str) -> Vec<String> {
    let lower = text
        .to_lowercase()
        // "ITC's weight": the possessive goes with the name's own letters.
        .replace("'s ", " ")
        .replace("’s ", " ")
        .replace(['’', '\''], "")
        .replace("p/l", "pnl")
        .replace("p & l", "pnl")
        .replace(" p and l", " pnl")
        .replace(" p n l", " pnl");
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
    let tokens: Vec<String> = spaced
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
        .collect();
    spelled(tokens)
}

pub fn any(words: &[&str], set: &[&str]) -> bool {
    words.iter().any(|w| set.contains(w))
}

pub fn phrase(words: &[&str], text: &str) -> bool {
    let wanted: Vec<&str> = text.split(' ').collect();
    words.windows(wanted.len()).any(|w| w == wanted.as_slice())
}

/// What a holding cost, as Kite and Console name it ("buy value").
pub const COST_PHRASES: &[&str] = &[
    "buy value",
    "purchase value",
    "buy amount",
    "purchase amount",
    "cost value",
    "invested value",
    "invested amount",
    "amount invested",
    "total cost",
    "cost price",
];

/// Whether `w` asks what holdings cost rather than what they are worth.
pub fn asks_cost(w: &[&str]) -> bool {
    COST_PHRASES.iter().any(|p| phrase(w, p))
}

/// `top 5`, `3 best`, `five biggest`: the count a question asks for.
pub fn count(words: &[&str]) -> Option<usize> {
    words.windows(2).find_map(|w| {
        let n = if matches!(
            w[0],
            "which"
                | "what"
                | "top"
                | "bottom"
                | "best"
                | "worst"
                | "first"
                | "biggest"
                | "largest"
                | "smallest"
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
                | "show"
                | "only"
                | "ones"
                | "names"
                | "companies"
                | "shares"
                | "positions"
                | "scrips"
        ) {
            money::count(w[0])
        } else {
            None
        }?;
        usize::try_from(n).ok().filter(|n| (1..=100).contains(n))
    })
}
