//! A question read into slots: what it measures, which securities, which
//! period, which one it picks (first, last, most, least), which side of
//! trades and which order. Each slot is read on its own from the words, so
//! any sensible combination can be answered, and a follow-up ("and TCS?",
//! "only the banks", "sort by loss") fills the slots it leaves empty from
//! the question before. `docs/chat.md` walks through it.

use chrono::NaiveDate;

pub use super::kinds::{Decline, Group, GroupKind, Pick, What};
use super::kinds::{Intent, Side, Sort, any, asks_cost, count, phrase};
use super::names::Known;
use super::period::{self, Period};

/// The slots of one question; empty slots are what it did not say.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Slots {
    pub what: Option<What>,
    pub symbols: Vec<String>,
    /// A security the user neither holds nor traded.
    pub not_held: Option<String>,
    pub group: Option<Group>,
    pub period: Option<Period>,
    pub fy: Option<i32>,
    pub side: Option<Side>,
    pub pick: Option<Pick>,
    pub sort: Option<(Sort, bool)>,
    pub limit: Option<usize>,
    /// Holdings worth more (`true`) or less than so many paise.
    pub worth: Option<(bool, i64)>,
    /// Leans on the question before: a pronoun, "and …", "what about …".
    pub refers: bool,
    /// "Overall", "in all": the question before's period and names go.
    pub overall: bool,
    /// A pronoun ("it", "them"): the subject before stays.
    pub pronoun: bool,
    /// Buys and sales both named ("buy aur sell dono"): no side.
    pub both_sides: bool,
    /// Plural holdings asked for ("most profitable stocks"): a list.
    pub plural: bool,
    /// Asked as "which …" or "my biggest holding": one name is the answer.
    pub which: bool,
    pub decline: Option<Decline>,
}

const GROUPS: &[(&[&str], &str, GroupKind)] = &[
    (&["banks", "banking", "bank"], "banks", GroupKind::Banks),
    (
        &["it", "tech", "software", "technology"],
        "IT stocks",
        GroupKind::Sector("Information Technology"),
    ),
    (&["etfs", "etf"], "ETFs", GroupKind::AssetClass("etf")),
    (
        &["mf", "mfs", "mutual"],
        "mutual funds",
        GroupKind::AssetClass("mutual_fund"),
    ),
    (
        &["fmcg"],
        "FMCG stocks",
        GroupKind::Sector("Fast Moving Consumer Goods"),
    ),
    (
        &["auto", "automobile", "automobiles"],
        "auto stocks",
        GroupKind::Sector("Automobile and Auto Components"),
    ),
    (
        &["pharma", "healthcare", "hospital", "hospitals"],
        "pharma stocks",
        GroupKind::Sector("Healthcare"),
    ),
    (
        &["nbfc", "nbfcs", "financials", "finance"],
        "financial stocks",
        GroupKind::Sector("Financial Services"),
    ),
    (
        &["oil", "energy"],
        "oil and gas stocks",
        GroupKind::Sector("Oil Gas & Consumable Fuels"),
    ),
    (
        &["power", "utilities"],
        "power stocks",
        GroupKind::Sector("Power"),
    ),
    (
        &["metal", "metals", "steel", "mining"],
        "metal stocks",
        GroupKind::Sector("Metals & Mining"),
    ),
    (
        &["telecom"],
        "telecom stocks",
        GroupKind::Sector("Telecommunication"),
    ),
    (&["realty"], "realty stocks", GroupKind::Sector("Realty")),
    (
        &["cement"],
        "cement stocks",
        GroupKind::Sector("Construction Materials"),
    ),
];

/// Words that make a sector word a group ("IT stocks", "bank shares"), for
/// the words that are also ordinary English ("it", "power", "bank").
const GROUP_NOUNS: &[&str] = &[
    "stocks",
    "stock",
    "shares",
    "sector",
    "companies",
    "holdings",
    "names",
    "counters",
];

/// The labels groups go by ("banks", "IT stocks", "ETFs"), for a tool's schema.
pub fn group_labels() -> impl Iterator<Item = &'static str> {
    GROUPS.iter().map(|(_, label, _)| *label)
}

/// The group `label` names.
pub fn group_named(label: &str) -> Option<Group> {
    GROUPS
        .iter()
        .find(|(_, l, _)| l.eq_ignore_ascii_case(label))
        .map(|(_, label, kind)| Group {
            label: label.to_string(),
            kind: kind.clone(),
        })
}

fn group(w: &[&str], original: &str) -> Option<Group> {
    // "banks" alone is plain; "it" and "bank" only as "IT stocks", "bank shares".
    let ambiguous = |word: &str| matches!(word, "it" | "bank" | "power" | "finance" | "tech");
    for (i, word) in w.iter().enumerate() {
        let Some((_, label, kind)) = GROUPS.iter().find(|(words, _, _)| words.contains(word))
        else {
            continue;
        };
        let noun_after = w.get(i + 1).is_some_and(|n| GROUP_NOUNS.contains(n));
        let capital_it = *word == "it" && original.contains("IT");
        if ambiguous(word) && !noun_after && !capital_it {
            continue;
        }
        if *word == "mutual" && w.get(i + 1).is_none_or(|n| !n.starts_with("fund")) {
            continue;
        }
        return Some(Group {
            label: label.to_string(),
            kind: kind.clone(),
        });
    }
    None
}

fn decline(w: &[&str]) -> Option<Decline> {
    if any(w, &["dividend", "dividends", "payout", "payouts"]) {
        return Some(Decline::Dividends);
    }
    if any(
        w,
        &[
            "brokerage",
            "charges",
            "charge",
            "stt",
            "fees",
            "fee",
            "gst",
            "commission",
            "dp",
        ],
    ) {
        return Some(Decline::Charges);
    }
    let tax = any(w, &["tax", "taxes"]);
    if tax
        && (any(
            w,
            &[
                "paid",
                "pay",
                "owe",
                "payable",
                "liability",
                "deducted",
                "tds",
            ],
        ) || phrase(w, "income tax"))
    {
        return Some(Decline::TaxPaid);
    }
    if any(w, &["should", "recommend", "suggest", "advice", "advise"])
        || [
            "good time",
            "right time",
            "good buy",
            "good investment",
            "worth buying",
            "buy or sell",
            "hold or sell",
            "sell or hold",
            "buy more",
            "sell now",
        ]
        .iter()
        .any(|p| phrase(w, p))
    {
        return Some(Decline::Advice);
    }
    if any(
        w,
        &[
            "target",
            "moon",
            "multibagger",
            "predict",
            "forecast",
            "prediction",
        ],
    ) {
        return Some(Decline::Forecast);
    }
    if any(
        w,
        &[
            "will", "predict", "forecast", "target", "tomorrow", "expected",
        ],
    ) && any(
        w,
        &[
            "price", "go", "be", "reach", "value", "market", "nifty", "trade", "next", "hit",
            "cross", "touch", "up", "down",
        ],
    ) {
        return Some(Decline::Forecast);
    }
    None
}

/// Words that pick the largest (besides "top", which may only count).
const MOST: &[&str] = &[
    "most",
    "biggest",
    "largest",
    "highest",
    "maximum",
    "max",
    "best",
    "strongest",
];

fn superlative(w: &[&str]) -> Option<Pick> {
    if any(
        w,
        &[
            "least", "bottom", "smallest", "lowest", "minimum", "min", "worst", "weakest",
            "poorest",
        ],
    ) {
        Some(Pick::Min)
    } else if any(w, MOST) || any(w, &["top"]) {
        Some(Pick::Max)
    } else {
        None
    }
}

/// Reads `w` (English words, Hinglish already read) into slots.
/// `found` is what [`names::find`] read in them.
pub fn read(w: &[&str], original: &str, found: &[Known], today: NaiveDate) -> Slots {
    let mut slots = Slots {
        decline: decline(w),
        period: period::period(w, today),
        fy: period::financial_year(w, today),
        ..Slots::default()
    };
    for k in found {
        if k.own {
            slots.symbols.push(k.symbol.clone());
        } else if slots.not_held.is_none() && slots.symbols.is_empty() {
            slots.not_held = Some(k.symbol.clone());
        }
    }
    if found.is_empty() {
        slots.group = group(w, original);
    }
    // "Buy price", "purchase value": what was paid, not a side of trades.
    let paid = |i: usize| {
        w.get(i + 1).is_some_and(|n| {
            matches!(
                *n,
                "price" | "value" | "amount" | "avg" | "average" | "cost" | "rate"
            )
        })
    };
    let sided: Vec<&str> = w
        .iter()
        .enumerate()
        .filter(|(i, x)| !(matches!(**x, "buy" | "purchase") && paid(*i)))
        .map(|(_, x)| *x)
        .collect();
    let buys = any(
        &sided,
        &[
            "bought",
            "buy",
            "buys",
            "buying",
            "purchased",
            "purchase",
            "purchases",
            "added",
            "add",
            "adding",
            "accumulated",
        ],
    );
    let sells = any(
        &sided,
        &[
            "sold", "sell", "sells", "selling", "sales", "exit", "exited", "booked",
        ],
    );
    // Trades named with no side ("total trades that year"): every side.
    slots.both_sides = (buys && sells)
        || any(&sided, &["both"])
        || (!buys && !sells && any(&sided, &["trades", "transactions"]));
    slots.side = match (buys, sells) {
        _ if slots.both_sides => None,
        (true, _) => Some(Side::Buy),
        (_, true) => Some(Side::Sell),
        _ => None,
    };

    let times = phrase(w, "how often")
        || (any(w, &["count", "tally"]) && slots.side.is_some())
        || (any(w, &["occasions", "instances"])
            && (phrase(w, "how many") || any(w, &["number", "no", "count"])))
        || (any(w, &["times"]) && (phrase(w, "how many") || any(w, &["number", "no", "count"])))
        || ((phrase(w, "how many") || any(w, &["number", "no", "count"]))
            && any(
                w,
                &[
                    "trades",
                    "traded",
                    "transactions",
                    "orders",
                    "buys",
                    "sells",
                    "purchases",
                    "sales",
                    "trade",
                    "order",
                ],
            ));
    let when = any(w, &["when", "date", "dates"])
        || [
            "which day",
            "what day",
            "since when",
            "first day",
            "last day",
        ]
        .iter()
        .any(|p| phrase(w, p));
    slots.pick = if any(
        w,
        &["first", "earliest", "initially", "originally", "started"],
    ) || phrase(w, "since when")
        || phrase(w, "been holding")
    {
        Some(Pick::First)
    } else if w.iter().enumerate().any(|(i, x)| {
        matches!(
            *x,
            "last" | "latest" | "recent" | "recently" | "newest" | "lately"
        ) && !w.get(i + 1).is_some_and(|n| {
            matches!(
                *n,
                "year" | "month" | "week" | "fy" | "financial" | "quarter" | "day" | "days"
            ) || n.parse::<u32>().is_ok()
        })
    }) {
        Some(Pick::Last)
    } else {
        superlative(w)
    };
    // How far a holding moved from what was paid: "up or down", "in the
    // red", "notional gain", "MTM", "kitna chadha ya gira".
    let made_up = ["make up", "makes up", "made up"]
        .iter()
        .any(|p| phrase(w, p));
    let moved = (any(
        w,
        &["up", "down", "red", "green", "notional", "mtm", "paper"],
    ) && !made_up)
        || phrase(w, "mark to market")
        || any(w, &["unrealized"]);
    // "Percentage of my portfolio" is a weight, whatever else is said.
    let of_portfolio = [
        "of my portfolio",
        "of the portfolio",
        "of portfolio",
        "share of",
    ]
    .iter()
    .any(|p| phrase(w, p))
        || made_up;
    let gained = any(
        w,
        &[
            "gain", "gained", "gains", "profit", "return", "returns", "pnl",
        ],
    ) || (any(w, &["up", "down"]) && !made_up);
    slots.what = if times {
        Some(What::TradeCount)
    } else if when && !any(w, &["today", "todays"]) {
        Some(What::Date)
    } else if any(w, &["xirr", "cagr", "irr", "annualized"]) {
        Some(What::Xirr)
    } else if any(w, &["realized", "booked", "booking"])
        || (any(w, &["book"]) && any(w, &["profit", "profits", "gain", "gains", "loss"]))
        || [
            "capital gains",
            "book profit",
            "profit book",
            "book gains",
            "gain book",
        ]
        .iter()
        .any(|p| phrase(w, p))
    {
        Some(What::Realized)
    } else if of_portfolio && !gained {
        Some(What::Weight)
    } else if (moved || gained) && any(w, &["percent", "percentage"]) {
        Some(What::PnlPercent)
    } else if moved {
        Some(What::Pnl)
    } else if asks_cost(w) && !phrase(w, "cost price") {
        Some(What::Invested)
    } else if any(w, &["average", "avg", "pay", "paid"])
        || [
            "buy price",
            "what price",
            "purchase price",
            "per share",
            "cost price",
        ]
        .iter()
        .any(|p| phrase(w, p))
    {
        Some(What::AveragePrice)
    } else if any(
        w,
        &[
            "weight",
            "proportion",
            "portion",
            "allocation",
            "percentage",
        ],
    ) || phrase(w, "share of")
        || phrase(w, "of my portfolio")
        || (any(w, &["percent"]) && any(w, &["portfolio", "total"]))
    {
        Some(What::Weight)
    } else if any(w, &["percent"])
        && any(
            w,
            &["profit", "return", "returns", "gain", "pnl", "up", "down"],
        )
    {
        Some(What::PnlPercent)
    } else if any(
        w,
        &[
            "pnl",
            "profit",
            "profitable",
            "loss",
            "losses",
            "losing",
            "gain",
            "gains",
            "return",
            "returns",
            "made",
            "lost",
            "earned",
            "unrealized",
            "performing",
            "doing",
            "loser",
            "losers",
            "gainer",
            "gainers",
            "winner",
            "winners",
            "performer",
            "performers",
        ],
    ) {
        Some(What::Pnl)
    } else if phrase(w, "how many")
        || any(w, &["quantity", "qty", "units"])
        || phrase(w, "number of shares")
        || phrase(w, "no of shares")
    {
        Some(What::Quantity)
    } else if any(
        w,
        &[
            "invested",
            "invest",
            "investment",
            "spent",
            "deployed",
            "put",
            "capital",
            "cost",
        ],
    ) || (any(w, &["money"]) && slots.pick.is_some())
    {
        Some(What::Invested)
    } else if any(
        w,
        &[
            "worth",
            "value",
            "valuation",
            "biggest",
            "largest",
            "smallest",
        ],
    ) {
        Some(What::Value)
    } else if any(w, &["percent"]) {
        Some(What::PnlPercent)
    } else if phrase(w, "how much") {
        Some(What::Value)
    } else if any(w, &["trades", "transactions", "orders"]) {
        Some(What::Trades)
    } else if any(w, &["holdings", "stocks", "sort", "sorted"]) {
        Some(What::Holdings)
    } else {
        None
    };
    // "The most shares": a quantity, not a value.
    if slots.what == Some(What::Quantity) && slots.pick.is_none() {
        slots.pick = superlative(w);
    }
    if slots.what.is_none()
        && slots.pick.is_some()
        && any(w, &["shares", "units", "qty", "quantity"])
    {
        slots.what = Some(What::Quantity);
    }
    // "The biggest loss", "sabse zyada nuksan": the lowest P&L.
    let loss = any(
        w,
        &[
            "loss", "losses", "losing", "lost", "down", "worst", "negative", "loser", "losers",
        ],
    );
    if loss
        && matches!(slots.what, Some(What::Pnl | What::PnlPercent))
        && slots.pick == Some(Pick::Max)
    {
        slots.pick = Some(Pick::Min);
    }
    if let Some((sort, ascending)) = sort(w) {
        let lowest = slots.pick == Some(Pick::Min) && sort != Sort::Symbol;
        slots.sort = Some((sort, ascending || lowest));
    }
    slots.limit = count(w);
    // "Top 2" is how many, not which way: the order comes from the sort.
    if slots.limit.is_some() && slots.pick == Some(Pick::Max) && any(w, &["top"]) && !any(w, MOST) {
        slots.pick = None;
    }
    if any(w, &["only", "just", "single"]) && any(w, &["one"]) {
        slots.limit = Some(1);
    }
    slots.which = any(w, &["which", "where", "whats", "konsa"])
        && slots
            .pick
            .is_some_and(|p| matches!(p, Pick::Max | Pick::Min))
        || (slots
            .pick
            .is_some_and(|p| matches!(p, Pick::Max | Pick::Min))
            && any(
                w,
                &[
                    "holding",
                    "position",
                    "stock",
                    "share",
                    "company",
                    "investment",
                    "one",
                    "loser",
                    "gainer",
                    "winner",
                    "performer",
                ],
            )
            && slots.limit.is_none_or(|n| n == 1)
            && !any(
                w,
                &["holdings", "positions", "stocks", "shares", "companies"],
            ))
        || slots.limit == Some(1) && slots.pick.is_some();
    slots.plural = any(
        w,
        &[
            "holdings",
            "stocks",
            "shares",
            "companies",
            "positions",
            "ones",
            "losers",
            "gainers",
            "winners",
            "performers",
        ],
    );
    if slots.limit.is_some_and(|n| n > 1) {
        slots.which = false;
    }
    slots.refers = matches!(w.first(), Some(&("and" | "also" | "then" | "now")))
        || phrase(w, "what about")
        || phrase(w, "how about")
        || phrase(w, "same for")
        || any(w, &["it", "its", "that", "them", "those", "this", "one"]) && !any(w, &["which"])
        || matches!(w.first(), Some(&("only" | "just" | "sort" | "sorted")));
    slots.pronoun = any(w, &["it", "its", "them", "that", "those", "they"]);
    slots.overall = any(w, &["overall", "altogether", "lifetime", "whole", "entire"])
        || phrase(w, "in all")
        || phrase(w, "in total")
        || phrase(w, "all time");
    // "How many times in all": every date.
    if slots.overall {
        slots.period = None;
        slots.fy = None;
    }
    slots
}

/// The sort a question names: "sort by loss", "by invested", "by name".
fn sort(w: &[&str]) -> Option<(Sort, bool)> {
    let at = w
        .iter()
        .position(|x| matches!(*x, "sort" | "sorted" | "order" | "ordered" | "by"))?;
    let rest = &w[at + 1..];
    let named = |set: &[&str]| rest.iter().take(3).any(|x| set.contains(x));
    if named(&["loss", "losses", "losing", "worst"]) {
        Some((Sort::Pnl, true))
    } else if named(&["percent"]) {
        Some((Sort::PnlPercent, false))
    } else if named(&["pnl", "profit", "gain", "gains", "return", "returns"]) {
        Some((Sort::Pnl, false))
    } else if named(&["invested", "investment", "cost"]) {
        Some((Sort::Invested, false))
    } else if named(&["quantity", "qty", "shares"]) {
        Some((Sort::Quantity, false))
    } else if named(&["name", "symbol", "alphabet", "alphabetically"]) {
        Some((Sort::Symbol, true))
    } else if named(&["value", "worth", "size"]) {
        Some((Sort::Value, false))
    } else {
        None
    }
}

/// The slots an answered intent filled, for the question after it.
pub fn of(intent: &Intent) -> Option<Slots> {
    let mut s = Slots::default();
    match intent {
        Intent::Value => s.what = Some(What::Value),
        Intent::Invested => s.what = Some(What::Invested),
        Intent::Pnl => s.what = Some(What::Pnl),
        Intent::Holdings {
            sort,
            ascending,
            limit,
            worth,
        } => {
            s.what = Some(What::Holdings);
            s.sort = Some((*sort, *ascending));
            s.limit = *limit;
            s.worth = *worth;
        }
        Intent::Position { symbol, aspect } => {
            s.symbols = vec![symbol.clone()];
            s.what = What::of_aspect(*aspect);
        }
        Intent::Movers {
            gainers,
            by_percent,
            n,
        } => {
            s.what = Some(if *by_percent {
                What::PnlPercent
            } else {
                What::Pnl
            });
            s.pick = Some(if *gainers { Pick::Max } else { Pick::Min });
            s.limit = Some(*n);
            s.plural = true;
        }
        Intent::NotHeld { symbol } => s.not_held = Some(symbol.clone()),
        Intent::Realized { fy } => {
            s.what = Some(What::Realized);
            s.fy = *fy;
        }
        Intent::Xirr { symbol } => {
            s.what = Some(What::Xirr);
            s.symbols = symbol.iter().cloned().collect();
        }
        Intent::Trades {
            period,
            side,
            symbol,
        } => {
            s.what = Some(What::Trades);
            s.period = period.clone();
            s.side = *side;
            s.symbols = symbol.iter().cloned().collect();
        }
        Intent::Tally {
            symbol,
            side,
            period,
            what,
            pick,
        } => {
            s.what = Some(*what);
            s.symbols = symbol.iter().cloned().collect();
            s.side = *side;
            s.period = period.clone();
            s.pick = *pick;
        }
        Intent::Which {
            sort,
            lowest,
            group,
        } => {
            s.what = Some(What::of_sort(*sort));
            s.pick = Some(if *lowest { Pick::Min } else { Pick::Max });
            s.which = true;
            s.group = group.clone();
        }
        Intent::Group { what, group } => {
            s.what = Some(*what);
            s.group = Some(group.clone());
        }
        _ => return None,
    }
    Some(s)
}

/// `next` read as a follow-up of `prev`: the slots it names replace the
/// earlier ones, the rest carry over.
pub fn follow(prev: &Slots, next: &Slots) -> Slots {
    let mut s = prev.clone();
    s.refers = next.refers;
    s.decline = None;
    if next.overall {
        s.period = None;
        s.fy = None;
        // "In total … in it" still means it.
        if !next.pronoun {
            s.symbols.clear();
            s.not_held = None;
            s.group = None;
        }
    }
    if !next.symbols.is_empty() || next.not_held.is_some() {
        s.symbols = next.symbols.clone();
        s.not_held = next.not_held.clone();
        s.group = None;
    }
    if next.group.is_some() {
        s.group = next.group.clone();
        s.symbols.clear();
        s.not_held = None;
    }
    // "Total value?" after a security the user never had: the portfolio's.
    if next.symbols.is_empty()
        && next.not_held.is_none()
        && !next.pronoun
        && matches!(
            next.what,
            Some(What::Value | What::Invested | What::Pnl | What::Realized | What::Holdings)
        )
        && prev.not_held.is_some()
    {
        s.not_held = None;
    }
    if next.period.is_some() {
        s.period = next.period.clone();
    }
    if next.fy.is_some() {
        s.fy = next.fy;
    }
    if next.side.is_some() || next.both_sides {
        s.side = next.side;
    }
    match (prev.what, next.what) {
        // "And in percent?" after a P&L.
        (Some(What::Pnl), Some(What::PnlPercent | What::Weight)) if next.symbols.is_empty() => {
            s.what = next.what
        }
        // "Sell kitne the?" after a count of trades: still a count.
        (Some(What::TradeCount), Some(What::Quantity | What::Trades)) => {}
        // "When was the last one?" after a count of trades.
        (Some(What::TradeCount), Some(What::Date)) => {
            s.what = Some(What::Date);
            s.pick = next.pick.or(Some(Pick::Last));
        }
        // "Sort by loss" re-sorts the list before; it is not a P&L.
        (Some(What::Holdings), _) if next.sort.is_some() => {}
        // "Only the FMCG stocks" after "total profit": the group changes,
        // the measure stays.
        (Some(_), Some(What::Holdings))
            if next.sort.is_none() && (next.group.is_some() || !next.symbols.is_empty()) => {}
        (_, Some(what)) => {
            s.what = Some(what);
            if next.pick.is_some() {
                s.pick = next.pick;
            }
        }
        (_, None) => {}
    }
    if next.pick.is_some() {
        s.pick = next.pick;
    }
    // "And by number of shares?" after "which is my biggest holding".
    if prev.which
        && let Some((sort, _)) = next.sort
    {
        s.what = Some(What::of_sort(sort));
    }
    if next.sort.is_some() {
        s.sort = next.sort;
        s.limit = next.limit.or(prev.limit);
    } else if next.limit.is_some() {
        s.limit = next.limit;
    }
    s
}

/// Whether `next` leans on the question before rather than standing alone.
pub fn is_follow_up(prev: &Slots, next: &Slots, w: &[&str]) -> bool {
    let names_something =
        !next.symbols.is_empty() || next.not_held.is_some() || next.group.is_some();
    // A short question naming nothing ("kitne percent?", "how many shares?").
    let short = w.len() <= 4 && !names_something;
    // A measure of one security asked right after one was named: that one
    // ("when did I last buy INFY" then "kitni baar kharida total?").
    let of_that_one = !names_something
        && (!prev.symbols.is_empty() || prev.not_held.is_some())
        && matches!(
            next.what,
            Some(
                What::TradeCount
                    | What::Date
                    | What::Quantity
                    | What::AveragePrice
                    | What::PnlPercent
                    | What::Weight
            )
        )
        && !any(
            w,
            &[
                "portfolio",
                "overall",
                "all",
                "holdings",
                "stocks",
                "altogether",
            ],
        );
    next.refers
        || next.what.is_none()
        || short
        || of_that_one
        || (!names_something && next.sort.is_some())
        || (next.overall && next.what.is_none())
}

/// The intent slots ask for, where they are enough to say.
pub fn plan(s: &Slots) -> Option<Intent> {
    if let Some(symbol) = &s.not_held
        && s.symbols.is_empty()
    {
        return Some(Intent::NotHeld {
            symbol: symbol.clone(),
        });
    }
    // Several securities' figures side by side.
    if s.symbols.len() >= 2 {
        return Some(Intent::Compare {
            symbols: s.symbols.clone(),
        });
    }
    let symbol = s.symbols.first().cloned();
    // "Which is my biggest?" measures value unless it says otherwise.
    let what = match s.what {
        Some(what) => what,
        None if s.which => What::Value,
        // "And my banks?": a group named and nothing asked of it: list it.
        None if s.group.is_some() => What::Holdings,
        None => return None,
    };
    match what {
        What::TradeCount | What::Date => {
            return Some(Intent::Tally {
                symbol,
                side: s.side,
                period: s.period.clone(),
                what,
                pick: match s.pick {
                    Some(Pick::First | Pick::Min) if what == What::Date => Some(Pick::First),
                    Some(Pick::Last | Pick::Max) if what == What::Date => Some(Pick::Last),
                    _ => None,
                },
            });
        }
        What::Trades => {
            return Some(Intent::Trades {
                period: s.period.clone(),
                side: s.side,
                symbol,
            });
        }
        What::Realized => return Some(Intent::Realized { fy: s.fy }),
        What::Xirr => return Some(Intent::Xirr { symbol }),
        _ => {}
    }
    let sort = what.sort();
    if s.which
        && symbol.is_none()
        && s.not_held.is_none()
        && let Some(pick @ (Pick::Max | Pick::Min)) = s.pick
    {
        return Some(Intent::Which {
            sort,
            lowest: pick == Pick::Min,
            group: s.group.clone(),
        });
    }
    // "The two biggest losers", "most profitable stocks": a list.
    if symbol.is_none()
        && s.group.is_none()
        && let Some(pick @ (Pick::Max | Pick::Min)) = s.pick
        && (s.limit.is_some_and(|n| n > 1) || (s.plural && !s.which))
        && matches!(
            what,
            What::Value
                | What::Invested
                | What::Pnl
                | What::PnlPercent
                | What::Quantity
                | What::Holdings
        )
    {
        return Some(Intent::Holdings {
            sort: s.sort.map_or_else(|| what.sort(), |(sort, _)| sort),
            ascending: pick == Pick::Min,
            limit: s.limit,
            worth: s.worth,
        });
    }
    if let Some(symbol) = symbol {
        let aspect = what.aspect();
        return Some(Intent::Position { symbol, aspect });
    }
    if let Some(group) = &s.group {
        return Some(Intent::Group {
            what: match what {
                What::Holdings | What::Quantity => What::Holdings,
                other => other,
            },
            group: group.clone(),
        });
    }
    match what {
        What::Holdings => {
            let (sort, ascending) = s.sort.unwrap_or((Sort::Value, false));
            Some(Intent::Holdings {
                sort,
                ascending,
                limit: s.limit,
                worth: s.worth,
            })
        }
        What::Value => Some(Intent::Value),
        What::Invested => Some(Intent::Invested),
        What::Pnl => Some(Intent::Pnl),
        _ => None,
    }
}
