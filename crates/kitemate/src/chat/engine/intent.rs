//! What a question asks, read deterministically from its words: the
//! measure, the securities, the period and the ordering it names.

use chrono::NaiveDate;

pub use super::kinds::{Aspect, By, Intent, Side, Sort, count, phrase, words};
use super::kinds::{What, any, asks_cost};
use super::money;
use super::names::{self, Catalog};
use super::period;
use super::slots::{self, Slots};

fn aspect(words: &[&str]) -> Aspect {
    if phrase(words, "how many") || any(words, &["quantity", "qty", "units"]) {
        Aspect::Quantity
    } else if any(words, &["pay", "paid", "average", "avg", "cost", "bought"])
        || phrase(words, "buy price")
    {
        Aspect::AveragePrice
    } else if any(
        words,
        &[
            "invested",
            "invest",
            "investment",
            "put",
            "spent",
            "deployed",
        ],
    ) {
        Aspect::Invested
    } else if any(words, &["percent"])
        && any(
            words,
            &["pnl", "profit", "return", "returns", "gain", "up", "down"],
        )
    {
        Aspect::PnlPercent
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

fn holdings(w: &[&str]) -> Intent {
    let sort = if any(w, &["percent"]) && any(w, &["pnl", "return", "returns", "gain", "profit"]) {
        Sort::PnlPercent
    } else if any(w, &["pnl", "profit", "gain", "return", "returns"]) {
        Sort::Pnl
    } else if any(w, &["invested", "cost", "investment"]) {
        Sort::Invested
    } else if any(w, &["quantity", "qty"]) {
        Sort::Quantity
    } else if any(w, &["name", "symbol", "alphabetical", "alphabetically"]) {
        Sort::Symbol
    } else {
        Sort::Value
    };
    let ascending = any(w, &["smallest", "lowest", "least", "ascending", "bottom"])
        || (sort == Sort::Symbol && !any(w, &["descending", "reverse"]));
    Intent::Holdings {
        sort,
        ascending,
        limit: count(w),
        worth: worth(w),
    }
}

/// `worth more than 1 lakh`, `above ₹50,000`, `under 20k`: a bound on a
/// holding's value, in paise.
fn worth(w: &[&str]) -> Option<(bool, i64)> {
    use rust_decimal::prelude::ToPrimitive as _;
    (0..w.len()).find_map(|i| {
        let (above, skip) = match (w[i], w.get(i + 1).copied()) {
            ("more" | "greater" | "bigger" | "larger", Some("than")) => (true, 2),
            ("less" | "smaller", Some("than")) => (false, 2),
            ("above" | "over" | "exceeding" | ">", _) => (true, 1),
            ("below" | "under" | "<", _) => (false, 1),
            _ => return None,
        };
        let (rupees, _) = money::amount(w.get(i + skip..)?)?;
        let paise = (rupees * rust_decimal::Decimal::ONE_HUNDRED)
            .round()
            .to_i64()?;
        Some((above, paise))
    })
}

const TRADE_WORDS: &[&str] = &[
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

fn asks_trades(w: &[&str], period: bool) -> bool {
    let named = any(w, TRADE_WORDS)
        && (period
            || any(w, &["trades", "trade", "transactions", "orders", "traded"])
            || [
                "when did i",
                "what did i buy",
                "what did i sell",
                "what have i bought",
                "what have i sold",
            ]
            .iter()
            .any(|p| phrase(w, p)));
    (named || any(w, &["buys", "sells", "purchases"]))
        && !any(w, &["pay", "paid", "average", "avg"])
}

/// "How did I do this year", "did I beat the Nifty", "my returns since
/// 2022": the portfolio's return over time, not one figure of today.
fn performance(w: &[&str], period: bool) -> bool {
    // "The market" or "the index" is a benchmark only when measured
    // against ("beat the market"), not "money in the market".
    let against = any(
        w,
        &[
            "beat", "beating", "beaten", "vs", "versus", "against", "compared", "compare",
        ],
    );
    let benchmark = any(
        w,
        &[
            "nifty",
            "nifty50",
            "sensex",
            "benchmark",
            "outperform",
            "outperformed",
            "outperforming",
            "underperform",
            "underperformed",
            "underperforming",
        ],
    ) || (against && any(w, &["market", "index", "markets"]));
    let how = [
        "how did i do",
        "how have i done",
        "how am i doing",
        "how did my portfolio do",
        "how has my portfolio done",
    ]
    .iter()
    .any(|p| phrase(w, p));
    let returns = any(
        w,
        &[
            "return",
            "returns",
            "performance",
            "performed",
            "performing",
        ],
    );
    // "How did my portfolio do today" is the day's change, answered apart.
    let today = any(w, &["today", "todays"]);
    !today
        && (benchmark || how || (returns && (period || any(w, &["since", "time-weighted", "twr"]))))
}

fn realized(w: &[&str]) -> bool {
    (any(w, &["book"]) && any(w, &["profit", "profits", "gain", "gains", "loss"]))
        || any(
            w,
            &[
                "realized", "booked", "booking", "ltcg", "stcg", "tax", "taxes",
            ],
        )
        || [
            "capital gains",
            "capital gain",
            "short term",
            "long term",
            "short-term",
            "long-term",
            "book profit",
            "profit book",
        ]
        .iter()
        .any(|p| phrase(w, p))
}

fn allocation(w: &[&str]) -> Option<By> {
    let asked = any(
        w,
        &[
            "allocation",
            "allocated",
            "breakdown",
            "split",
            "distribution",
            "distributed",
            "spread",
            "diversified",
            "diversification",
            "exposure",
            "sectors",
            "sector-wise",
            "sectorwise",
            "mix",
        ],
    ) || ["by sector", "asset class", "by stock"]
        .iter()
        .any(|p| phrase(w, p));
    asked.then(|| {
        if any(
            w,
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
        } else if any(w, &["asset", "class", "etf", "etfs", "equity", "mutual"]) {
            By::AssetClass
        } else {
            By::Stock
        }
    })
}

/// Top gainers (`Some(true)`) or losers (`Some(false)`).
fn movers(w: &[&str]) -> Option<bool> {
    let losers = any(
        w,
        &["losers", "worst", "laggards", "underperformers", "losing"],
    ) || ["biggest losses", "biggest loss", "least profitable"]
        .iter()
        .any(|p| phrase(w, p));
    let gainers = any(
        w,
        &[
            "gainers",
            "winners",
            "best",
            "outperformers",
            "top-performing",
        ],
    ) || [
        "top performing",
        "biggest gains",
        "biggest gain",
        "most profitable",
    ]
    .iter()
    .any(|p| phrase(w, p));
    (gainers || losers).then_some(!losers)
}

/// Reads `text` as the next question of a conversation whose last
/// question filled `context`: the intent, and the slots it fills for the
/// question after it.
pub fn resolve(
    text: &str,
    context: Option<&Slots>,
    catalog: &Catalog,
    today: NaiveDate,
) -> (Intent, Option<Slots>) {
    let focused = focus(text, catalog);
    let text = focused.as_str();
    let owned = super::hinglish::normalize(&words(text));
    let w: Vec<&str> = owned.iter().map(String::as_str).collect();
    let found = names::find(&w, text, catalog);
    let read = slots::read(&w, text, &found, today);
    if let Some(ask) = super::tax::ask(&w) {
        return (Intent::Tax { ask, fy: read.fy }, None);
    }
    if let Some(why) = read.decline {
        return (Intent::Decline { why }, context.cloned());
    }
    if let Some(prev) = context
        && slots::is_follow_up(prev, &read, &w)
    {
        let merged = slots::follow(prev, &read);
        if let Some(intent) = slots::plan(&merged) {
            return (intent, Some(merged));
        }
    }
    // A security the user never had: say so, whatever was asked of it.
    if let Some(symbol) = &read.not_held
        && read.symbols.is_empty()
        && read.group.is_none()
    {
        let intent = Intent::NotHeld {
            symbol: symbol.clone(),
        };
        let next = slots::of(&intent);
        return (intent, next);
    }
    // What the slots answer that the rules below do not: counts and dates
    // of trades, the one holding first in an order, groups of holdings.
    // One security's figure, named plainly, is read the same way alone
    // or as a follow-up.
    let one_figure = read.symbols.len() == 1
        && read.period.is_none()
        && matches!(
            read.what,
            Some(
                What::Quantity
                    | What::AveragePrice
                    | What::Invested
                    | What::Value
                    | What::Pnl
                    | What::PnlPercent
                    | What::Weight
            )
        );
    // "My 2 worst holdings by loss": so many, in that order, up or down.
    let ranked = read.limit.is_some_and(|n| n > 1)
        && read.pick.is_some()
        && read.symbols.is_empty()
        && matches!(read.what, Some(What::Pnl | What::PnlPercent))
        && any(
            &w,
            &[
                "profit", "loss", "losses", "pnl", "gain", "gains", "return", "returns", "worst",
                "best",
            ],
        )
        && !any(
            &w,
            &[
                "gainers",
                "losers",
                "winners",
                "performers",
                "together",
                "combined",
            ],
        );
    let new_ground = one_figure
        || ranked
        || matches!(read.what, Some(What::TradeCount | What::Date))
        || (read.which && read.symbols.is_empty())
        || (read.group.is_some() && allocation(&w).is_none() && !any(&w, &["vs", "versus"]));
    if new_ground
        && read.not_held.is_none()
        && let Some(intent) = slots::plan(&read)
    {
        let next = slots::of(&intent);
        return (intent, next);
    }
    let intent = legacy(&w, &found, today);
    let next = slots::of(&intent);
    (intent, next)
}

/// The sentence that asks, when a question comes with context before it
/// ("I bought TCS long back. What is it worth today?"): the last with a
/// question mark, else the last, with the securities the rest names.
fn focus(text: &str, catalog: &Catalog) -> String {
    // A full stop ends a sentence only before a space ("0.5 lakh" stays).
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut sentences: Vec<&str> = Vec::new();
    let mut start = 0;
    for (k, (at, c)) in chars.iter().enumerate() {
        let next = chars.get(k + 1).map(|(_, n)| *n);
        let ends =
            matches!(c, '?' | '!' | '\n') || (*c == '.' && next.is_none_or(char::is_whitespace));
        if ends {
            let end = at + c.len_utf8();
            sentences.push(text[start..end].trim());
            start = end;
        }
    }
    sentences.push(text[start..].trim());
    sentences.retain(|s| s.chars().any(char::is_alphanumeric));
    let pleasantry = |s: &str| {
        let l = s.to_lowercase();
        [
            "thank",
            "regards",
            "good morning",
            "good evening",
            "hello",
            "hi ",
            "dhanyavad",
            "shukriya",
            "namaste",
        ]
        .iter()
        .any(|p| l.starts_with(p))
    };
    let asks = |s: &str| {
        let l = s.to_lowercase();
        [
            "kindly",
            "please",
            "tell",
            "what",
            "how",
            "which",
            "when",
            "show",
            "advise",
            "should",
            "inform",
            "can you",
            "could you",
            "batao",
            "kitna",
            "kitne",
            "kab",
        ]
        .iter()
        .any(|p| l.contains(p))
    };
    // The last sentence with a question mark; else the first that asks.
    let at = sentences
        .iter()
        .rposition(|s| s.ends_with('?'))
        .or_else(|| sentences.iter().position(|s| !pleasantry(s) && asks(s)))
        .or_else(|| sentences.iter().rposition(|s| !pleasantry(s)))
        .unwrap_or(sentences.len().saturating_sub(1));
    // Short fragments after the question belong to it ("… INFY?? date pls").
    let tail: Vec<&str> = sentences.iter().skip(at + 1).copied().collect();
    let joined;
    let asking = match sentences.get(at) {
        Some(s) if !tail.is_empty() && tail.iter().all(|t| t.split_whitespace().count() <= 3) => {
            joined = format!("{s} {}", tail.join(" "));
            joined.as_str()
        }
        Some(s) => s,
        None => text,
    };
    // "…, can you please tell me how many stocks I hold": what follows the
    // request is the question.
    // ASCII lowercasing keeps every byte where it was, so offsets found in
    // `lower` are offsets in `asking` ("İ" lowercases to three bytes).
    let lower = asking.to_ascii_lowercase();
    let asking = [
        "tell me",
        "let me know",
        "wanted to know",
        "want to know",
        "wondering",
    ]
    .iter()
    .filter_map(|m| lower.rfind(m).map(|at| at + m.len()))
    .max()
    .filter(|at| {
        asking
            .get(*at..)
            .is_some_and(|rest| rest.split_whitespace().count() >= 2)
    })
    .and_then(|at| asking.get(at..))
    .unwrap_or(asking);
    // "How much are they worth?", "that year": the context is the subject.
    let refers = words(asking).iter().any(|w| {
        matches!(
            w.as_str(),
            "they" | "them" | "those" | "these" | "it" | "its" | "that" | "then"
        )
    });
    let lower = asking.to_lowercase();
    let if_so = ["if so", "if yes", "if any", "agar haan", "and if"]
        .iter()
        .any(|p| lower.starts_with(p));
    if asking.len() == text.len() || refers || if_so {
        return text.to_string();
    }
    let named = |t: &str| {
        let owned = words(t);
        let w: Vec<&str> = owned.iter().map(String::as_str).collect();
        names::find(&w, t, catalog)
    };
    let here = named(asking);
    let mut out = asking.to_string();
    for k in named(text) {
        if k.own && !here.iter().any(|h| h.symbol == k.symbol) {
            out.push(' ');
            out.push_str(&k.symbol);
        }
    }
    out
}

/// Whether `w` has "by" followed by what holdings sort on.
fn sorted_by(w: &[&str]) -> bool {
    w.windows(2).any(|p| {
        p[0] == "by"
            && matches!(
                p[1],
                "value"
                    | "worth"
                    | "pnl"
                    | "profit"
                    | "loss"
                    | "invested"
                    | "investment"
                    | "cost"
                    | "quantity"
                    | "qty"
                    | "name"
                    | "symbol"
                    | "return"
                    | "returns"
                    | "percent"
                    | "size"
            )
    })
}

/// The rules that read whole questions of the kinds the engine first knew.
/// `found` is what [`names::find`] read in `w`.
fn legacy(w: &[&str], found: &[names::Known], today: NaiveDate) -> Intent {
    let symbol = found.first().map(|k| k.symbol.clone());
    let period = period::period(w, today);

    // Orders and advice are not the engine's to give.
    if matches!(w.first(), Some(&("buy" | "sell" | "place" | "order")))
        || any(w, &["should", "recommend", "suggest", "advice", "advise"])
    {
        return Intent::Unknown;
    }
    if found.len() >= 2
        && any(
            w,
            &[
                "vs", "vs.", "versus", "compare", "compared", "or", "and", "against", "better",
            ],
        )
    {
        return Intent::Compare {
            symbols: found.iter().map(|k| k.symbol.clone()).collect(),
        };
    }
    if any(w, &["positions", "intraday", "f&o", "futures", "options"])
        || (w.contains(&"position") && found.is_empty())
    {
        return Intent::Positions;
    }
    if realized(w) {
        // Only a financial year named as one counts: "in 2024" spans two.
        return Intent::Realized {
            fy: period::financial_year(w, today),
        };
    }
    if asks_trades(w, period.is_some()) {
        let side = if any(w, &["bought", "buy", "buys", "purchased", "purchases"]) {
            Some(Side::Buy)
        } else if any(w, &["sold", "sell", "sells"]) {
            Some(Side::Sell)
        } else {
            None
        };
        return Intent::Trades {
            period,
            side,
            symbol,
        };
    }
    if found.is_empty() && performance(w, period.is_some()) {
        return Intent::Performance { period };
    }
    if any(w, &["xirr", "annualized", "cagr", "irr"])
        || phrase(w, "annual return")
        || phrase(w, "yearly return")
    {
        return Intent::Xirr { symbol };
    }
    let top_share = count(w).is_some()
        && any(w, &["share", "account", "percent", "together", "combined"])
        && found.is_empty()
        && movers(w).is_none();
    if any(w, &["concentration", "concentrated"]) || top_share {
        return Intent::Concentration {
            n: count(w).unwrap_or(3),
        };
    }
    if let Some(by) = allocation(w) {
        return Intent::Allocation { by };
    }
    // "Am I losing money": the asker's P&L, not a list of losers.
    let about_me = ["am i", "i am", "are we", "me in", "i in"]
        .iter()
        .any(|p| phrase(w, p))
        || (w.contains(&"portfolio") && !any(w, &["which", "stocks", "holdings", "what"]));
    if let Some(gainers) = movers(w)
        && found.is_empty()
        && !about_me
    {
        let by_rupees = any(
            w,
            &[
                "rupees", "rupee", "rs", "₹", "inr", "absolute", "amount", "money",
            ],
        );
        return Intent::Movers {
            gainers,
            by_percent: !by_rupees,
            n: count(w).unwrap_or(5),
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
            aspect: aspect(w),
        };
    }
    let today_words = any(w, &["today", "todays", "daily"])
        || phrase(w, "day change")
        || phrase(w, "days change");
    if today_words
        && any(
            w,
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
    if [
        "up or down",
        "am i up",
        "am i down",
        "making money",
        "in profit or",
        "in loss or",
    ]
    .iter()
    .any(|p| phrase(w, p))
    {
        return Intent::Pnl;
    }
    let listing = any(
        w,
        &[
            "list", "show", "sorted", "sort", "biggest", "largest", "smallest",
        ],
    ) || count(w).is_some()
        || worth(w).is_some()
        || (any(w, &["holdings", "stocks"]) && sorted_by(w))
        || phrase(w, "what do i own")
        || phrase(w, "what do i have");
    if listing {
        return holdings(w);
    }
    if any(
        w,
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
            "losing",
            "red",
            "green",
            "notional",
            "mtm",
        ],
    ) || ["up or down", "am i up", "am i down", "making money"]
        .iter()
        .any(|p| phrase(w, p))
    {
        return Intent::Pnl;
    }
    if asks_cost(w) {
        return Intent::Invested;
    }
    if any(w, &["value", "worth", "valuation", "balance"]) || phrase(w, "how much is my portfolio")
    {
        return Intent::Value;
    }
    if any(
        w,
        &[
            "invested",
            "invest",
            "investment",
            "investments",
            "spent",
            "spend",
            "deployed",
        ],
    ) || phrase(w, "put in")
        || phrase(w, "put into")
        || phrase(w, "cost basis")
    {
        return Intent::Invested;
    }
    if phrase(w, "how much") && any(w, &["have", "got"]) {
        return Intent::Value;
    }
    if any(w, &["holdings", "stocks", "shares", "own", "hold"]) || phrase(w, "show my portfolio") {
        return holdings(w);
    }
    Intent::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(text: &str) -> Intent {
        let catalog = names::catalog(&[("INFY".into(), "INE009A01021".into())]);
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap_or_default();
        resolve(text, None, &catalog, today).0
    }

    #[test]
    fn returns_over_time_are_asked_many_ways() {
        for text in [
            "How did I do this year?",
            "did i beat the nifty",
            "Have I outperformed the index since 2024?",
            "my returns since 2022",
            "How has my portfolio performed over the last 6 months?",
            "am I beating the market",
            "what is my time-weighted return",
        ] {
            assert!(
                matches!(intent(text), Intent::Performance { .. }),
                "{text}: {:?}",
                intent(text)
            );
        }
        match intent("my returns since 2022") {
            Intent::Performance { period: Some(p) } => {
                assert_eq!(
                    p.from,
                    NaiveDate::from_ymd_opt(2022, 1, 1).unwrap_or_default()
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn todays_change_and_one_stocks_return_stay_what_they_were() {
        assert_eq!(intent("How did my portfolio do today?"), Intent::DayChange);
        assert!(matches!(
            intent("what is my return on INFY"),
            Intent::Position { .. }
        ));
        assert!(matches!(
            intent("what is my xirr"),
            Intent::Xirr { symbol: None }
        ));
    }

    fn own() -> Catalog {
        names::catalog(&[
            ("INFY".into(), "INE009A01021".into()),
            ("TCS".into(), "INE467B01029".into()),
            ("HDFCBANK".into(), "INE040A01034".into()),
        ])
    }

    fn conversation(turns: &[&str]) -> Intent {
        let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap_or_default();
        let catalog = own();
        let mut context = None;
        let mut intent = Intent::Unknown;
        for turn in turns {
            (intent, context) = resolve(turn, context.as_ref(), &catalog, today);
        }
        intent
    }

    #[test]
    fn slots_read_the_same_in_english_and_hinglish() {
        let quantity = Intent::Position {
            symbol: "INFY".into(),
            aspect: Aspect::Quantity,
        };
        assert_eq!(
            conversation(&["how many shares of INFY do I have"]),
            quantity
        );
        assert_eq!(
            conversation(&["INFY ke kitne share hai mere paas"]),
            quantity
        );
        assert_eq!(
            conversation(&["how many ifny do i hold"]),
            quantity,
            "one swap"
        );
        assert!(matches!(
            conversation(&["which stock have I invested the most in"]),
            Intent::Which {
                sort: Sort::Invested,
                lowest: false,
                group: None
            }
        ));
        assert!(matches!(
            conversation(&["sabse zyada nuksan kis stock mein hai"]),
            Intent::Which {
                sort: Sort::Pnl,
                lowest: true,
                ..
            }
        ));
        assert!(matches!(
            conversation(&["when did I first buy INFY"]),
            Intent::Tally {
                what: What::Date,
                pick: Some(slots::Pick::First),
                ..
            }
        ));
        assert!(matches!(
            conversation(&["INFY kitni baar kharida"]),
            Intent::Tally {
                what: What::TradeCount,
                side: Some(Side::Buy),
                ..
            }
        ));
        assert!(matches!(
            conversation(&["how much dividend did I get"]),
            Intent::Decline { .. }
        ));
    }

    #[test]
    fn follow_ups_carry_the_slots_they_leave_out() {
        assert_eq!(
            conversation(&["how many INFY do I have", "and TCS?"]),
            Intent::Position {
                symbol: "TCS".into(),
                aspect: Aspect::Quantity
            }
        );
        assert_eq!(
            conversation(&["profit on INFY", "how about TCS?", "and in percent?"]),
            Intent::Position {
                symbol: "TCS".into(),
                aspect: Aspect::PnlPercent
            }
        );
        assert!(matches!(
            conversation(&["how many times did I buy INFY", "when was the last one?"]),
            Intent::Tally {
                what: What::Date,
                pick: Some(slots::Pick::Last),
                ..
            }
        ));
        assert_eq!(
            conversation(&["show my holdings", "sort by loss", "top 2 only"]),
            Intent::Holdings {
                sort: Sort::Pnl,
                ascending: true,
                limit: Some(2),
                worth: None
            }
        );
        assert!(matches!(
            conversation(&["what's my portfolio worth", "only the banks"]),
            Intent::Group {
                what: What::Value,
                ..
            }
        ));
    }

    #[test]
    fn text_whose_lowercase_is_longer_is_read_without_a_panic() {
        for text in [
            "İİ tell me é how many shares",
            "İİİİ tell me ab",
            "ẞ. KKK? tell me how many INFY",
        ] {
            let _ = conversation(&[text]);
        }
        assert_eq!(
            conversation(&["İ. tell me how many INFY do I have"]),
            Intent::Position {
                symbol: "INFY".into(),
                aspect: Aspect::Quantity
            }
        );
    }

    #[test]
    fn a_security_never_held_does_not_stick_to_the_next_question() {
        assert!(matches!(
            conversation(&["how many SUNPHARMA do I have"]),
            Intent::NotHeld { .. }
        ));
        assert_eq!(
            conversation(&["how many SUNPHARMA do I have", "total value?"]),
            Intent::Value
        );
        assert!(matches!(
            conversation(&["do I hold SUNPHARMA", "and my banks?"]),
            Intent::Group { .. }
        ));
    }
}
