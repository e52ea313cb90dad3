//! The generalisation set (`tests/data/chat/general.toml`): question
//! templates asked over four portfolios (two of eval.toml, one of its own,
//! one drawn at random for this run), each answer checked against what the
//! portfolio API says: the first sentence states what was asked, and no
//! number anywhere in it is one the portfolio's figures do not hold.
//! Development and held-out accuracy are reported apart; the held-out
//! misses are printed only with `KITEMATE_SHOW_HELDOUT=1`, so that rules
//! are not written against them. `KITEMATE_CHAT_SEED` replays a random
//! portfolio.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike as _, NaiveDate};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::chat::answers::ask;
use crate::chat::eval::{noon_app, pro_with_trades};
use crate::support::{TestApp, TestResult};

const GENERAL: &str = include_str!("../../data/chat/general.toml");
/// Templates written apart from the rules, by someone who read neither the
/// engine nor the sets above, never used while writing rules (see
/// docs/chat.md): split "fresh".
const FRESH: &str = include_str!("../../data/chat/fresh3.toml");
/// More development templates, written apart from the rules like `FRESH`.
const DEV2: &str = include_str!("../../data/chat/dev2.toml");
const DEV3: &str = include_str!("../../data/chat/dev3.toml");
const DEV4: &str = include_str!("../../data/chat/dev4.toml");
/// The first fresh split, used for development once it had been measured.
const DEV5: &str = include_str!("../../data/chat/dev5.toml");
const DEV6: &str = include_str!("../../data/chat/dev6.toml");
/// The second fresh split, used for development once it had been measured.
const DEV7: &str = include_str!("../../data/chat/dev7.toml");
const EVAL: &str = include_str!("../../data/chat/eval.toml");
const COMPANIES: &str = include_str!("../../../data/nifty500-sectors.csv");

/// NIFTY 50 (as of 2026), the pool the random portfolio draws from and
/// the securities a question may name that the user never traded.
const NIFTY50: &[&str] = &[
    "ADANIENT",
    "ADANIPORTS",
    "APOLLOHOSP",
    "ASIANPAINT",
    "AXISBANK",
    "BAJAJ-AUTO",
    "BAJFINANCE",
    "BAJAJFINSV",
    "BEL",
    "BHARTIARTL",
    "CIPLA",
    "COALINDIA",
    "DRREDDY",
    "EICHERMOT",
    "ETERNAL",
    "GRASIM",
    "HCLTECH",
    "HDFCBANK",
    "HDFCLIFE",
    "HINDALCO",
    "HINDUNILVR",
    "ICICIBANK",
    "INDIGO",
    "INFY",
    "ITC",
    "JIOFIN",
    "JSWSTEEL",
    "KOTAKBANK",
    "LT",
    "M&M",
    "MARUTI",
    "MAXHEALTH",
    "NESTLEIND",
    "NTPC",
    "ONGC",
    "POWERGRID",
    "RELIANCE",
    "SBILIFE",
    "SBIN",
    "SHRIRAMFIN",
    "SUNPHARMA",
    "TATACONSUM",
    "TATASTEEL",
    "TCS",
    "TECHM",
    "TITAN",
    "TRENT",
    "ULTRACEMCO",
    "WIPRO",
];

#[derive(Debug, Deserialize)]
struct Set {
    #[serde(default)]
    portfolio: Vec<Portfolio>,
    #[serde(default)]
    case: Vec<Case>,
}

/// eval.toml read for its portfolios alone.
#[derive(Debug, Deserialize)]
struct Portfolios {
    portfolio: Vec<Portfolio>,
}

#[derive(Debug, Deserialize, Clone)]
struct Portfolio {
    name: String,
    tradebook: String,
}

#[derive(Debug, Deserialize)]
struct Case {
    q: Option<String>,
    turns: Option<Vec<String>>,
    want: String,
    split: String,
}

/// A company as the shipped list names it.
#[derive(Debug, Clone)]
struct Company {
    name: String,
    isin: String,
}

fn companies() -> BTreeMap<String, Company> {
    COMPANIES
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split(',').collect();
            let [name, _, symbol, _, isin] = cols.as_slice() else {
                return None;
            };
            Some((
                symbol.to_string(),
                Company {
                    name: name.to_string(),
                    isin: isin.to_string(),
                },
            ))
        })
        .collect()
}

/// splitmix64: a small seeded generator, so that a run can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A tradebook drawn from NIFTY 50: six to nine securities, each bought one
/// to four times between 2023 and October 2026, some sold in part or whole.
fn random_tradebook(seed: u64) -> String {
    let companies = companies();
    let mut rng = Rng(seed);
    let mut pool: Vec<&str> = NIFTY50
        .iter()
        .copied()
        .filter(|s| companies.contains_key(*s))
        .collect();
    let n = 6 + rng.below(4) as usize;
    let mut trades: Vec<(NaiveDate, String)> = Vec::new();
    let start = NaiveDate::from_ymd_opt(2023, 1, 2).unwrap_or_default();
    let day = |rng: &mut Rng, after: NaiveDate| {
        let span = (NaiveDate::from_ymd_opt(2026, 10, 30).unwrap_or_default() - after).num_days();
        let mut d = after + chrono::TimeDelta::days(1 + rng.below(span.max(2) as u64 - 1) as i64);
        while d.weekday().number_from_monday() > 5 {
            d += chrono::TimeDelta::days(1);
        }
        d
    };
    let mut id = 9000;
    for _ in 0..n {
        let symbol = pool.remove(rng.below(pool.len() as u64) as usize);
        let isin = &companies[symbol].isin;
        let base = 50 + rng.below(4000);
        let mut held = 0u64;
        let mut last = start;
        for _ in 0..1 + rng.below(4) {
            last = day(&mut rng, last);
            if last > NaiveDate::from_ymd_opt(2026, 10, 20).unwrap_or_default() {
                break;
            }
            let qty = 1 + rng.below(60);
            let price = base + rng.below(base / 2 + 1);
            held += qty;
            trades.push((
                last,
                format!("{symbol},{isin},{last},NSE,EQ,EQ,buy,false,{qty},{price}"),
            ));
        }
        let roll = rng.below(100);
        if roll < 55 && held > 0 && last < NaiveDate::from_ymd_opt(2026, 10, 1).unwrap_or_default()
        {
            let when = day(&mut rng, last);
            let qty = if roll < 15 { held } else { 1 + rng.below(held) };
            let price = base + rng.below(base + 1);
            trades.push((
                when,
                format!("{symbol},{isin},{when},NSE,EQ,EQ,sell,false,{qty},{price}"),
            ));
        }
    }
    trades.sort();
    let mut out = String::from(
        "symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,trade_id,order_id,order_execution_time\n",
    );
    for (date, line) in trades {
        id += 1;
        out.push_str(&format!("{line},{id},{},{date}T10:00:00\n", id + 50_000));
    }
    out
}

/// What the portfolio API says of one user.
struct Book {
    name: String,
    token: String,
    holdings: Vec<Value>,
    summary: Value,
    /// Oldest first.
    trades: Vec<Value>,
    realized: Value,
    realized_by_fy: BTreeMap<String, Value>,
    /// The capital-gains report of each of those years, and of the
    /// current one (`current`).
    tax_by_fy: BTreeMap<String, Value>,
    /// The open lots, for which are long-term.
    harvest: Value,
    /// Numbers (normalized) the answers may state.
    numbers: BTreeSet<String>,
}

async fn pages(app: &TestApp, token: &str, path: &str, key: &str) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let page = app
            .get(
                &format!("{path}{sep}offset={}&limit=100", out.len()),
                Some(token),
            )
            .await?;
        anyhow::ensure!(page.status == StatusCode::OK, "{path}: {page:?}");
        let body = page.json();
        let items = body[key].as_array().cloned().unwrap_or_default();
        let total = body["total"].as_u64().unwrap_or(0) as usize;
        let got = items.len();
        out.extend(items);
        if got == 0 || out.len() >= total {
            return Ok(out);
        }
    }
}

impl Book {
    async fn load(app: &TestApp, name: &str, token: String) -> anyhow::Result<Self> {
        let holdings = pages(app, &token, "/holdings?sort=symbol", "holdings").await?;
        let summary = app.get("/portfolio/summary", Some(&token)).await?.json();
        let mut trades = pages(app, &token, "/portfolio/trades", "trades").await?;
        trades.sort_by_key(|t| {
            (
                t["tradeDate"].as_str().unwrap_or_default().to_string(),
                t["tradeId"].as_str().unwrap_or_default().to_string(),
            )
        });
        let realized = app
            .get("/portfolio/pnl/realized", Some(&token))
            .await?
            .json();
        let mut realized_by_fy = BTreeMap::new();
        for year in realized["years"].as_array().cloned().unwrap_or_default() {
            let fy = year["fy"].as_str().unwrap_or_default().to_string();
            let reply = app
                .get(&format!("/portfolio/pnl/realized?fy={fy}"), Some(&token))
                .await?
                .json();
            realized_by_fy.insert(fy, reply);
        }
        let mut tax_by_fy = BTreeMap::new();
        for fy in realized_by_fy.keys().map(String::as_str).chain(["current"]) {
            let query = if fy == "current" {
                String::new()
            } else {
                format!("&fy={fy}")
            };
            let reply = app
                .get(
                    &format!("/portfolio/tax/capital-gains?limit=1{query}"),
                    Some(&token),
                )
                .await?
                .json();
            tax_by_fy.insert(fy.to_string(), reply);
        }
        let harvest = app
            .get("/portfolio/tax/harvest?limit=500", Some(&token))
            .await?
            .json();
        let mut book = Self {
            name: name.to_string(),
            token,
            holdings,
            summary,
            trades,
            realized,
            realized_by_fy,
            tax_by_fy,
            harvest,
            numbers: BTreeSet::new(),
        };
        let mut numbers = BTreeSet::new();
        for value in book
            .holdings
            .iter()
            .chain(&book.trades)
            .chain([&book.summary, &book.realized])
            .chain(book.realized_by_fy.values())
            .chain(book.tax_by_fy.values())
        {
            collect_numbers(value, "", &mut numbers);
        }
        // True figures derived from those: what trades add up to by
        // security, side and year; the top holdings' weights together;
        // each group's sums.
        let mut symbols: Vec<Option<String>> = book.traded().into_iter().map(Some).collect();
        symbols.push(None);
        let mut years: Vec<Option<i32>> = book
            .trades
            .iter()
            .filter_map(|t| t["tradeDate"].as_str()?.get(..4)?.parse().ok())
            .map(Some)
            .collect();
        years.dedup();
        years.push(None);
        for symbol in &symbols {
            for side in [Some("buy"), Some("sell"), None] {
                for year in &years {
                    let trades = book.trades_of(symbol.as_deref(), side, *year);
                    let value: i64 = trades.iter().map(|t| paise(&t["valuePaise"])).sum();
                    let quantity: f64 = trades.iter().map(|t| decimal(&t["quantity"])).sum();
                    numbers.insert(normal(&rupees(value)));
                    numbers.insert(normal(&format!("{quantity}")));
                }
            }
        }
        let mut weights: Vec<f64> = book
            .holdings
            .iter()
            .map(|h| decimal(&h["weightPercent"]))
            .collect();
        weights.sort_by(|a, b| b.total_cmp(a));
        let mut together = 0.0;
        for w in weights {
            together += w;
            numbers.insert(normal(&format!("{together:.2}")));
        }
        let value_all = paise(&book.summary["valuePaise"]).max(1);
        for (_, members) in groups(&book, &companies()) {
            let sum = |field: &str| -> i64 {
                members
                    .iter()
                    .filter_map(|s| book.holding(s))
                    .map(|h| paise(&h[field]))
                    .sum()
            };
            let (value, invested, pnl) = (
                sum("valuePaise"),
                sum("investedPaise"),
                sum("unrealizedPaise"),
            );
            for figure in [value, invested, pnl] {
                numbers.insert(normal(&rupees(figure.abs())));
            }
            for share in [
                100.0 * value as f64 / value_all as f64,
                100.0 * pnl.abs() as f64 / invested.max(1) as f64,
            ] {
                numbers.insert(normal(&format!("{share:.2}")));
            }
        }
        book.numbers = numbers;
        Ok(book)
    }

    fn held(&self) -> Vec<String> {
        self.holdings
            .iter()
            .filter_map(|h| h["symbol"].as_str().map(str::to_string))
            .collect()
    }

    fn holding(&self, symbol: &str) -> Option<&Value> {
        self.holdings.iter().find(|h| h["symbol"] == symbol)
    }

    fn traded(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in &self.trades {
            let s = t["symbol"].as_str().unwrap_or_default().to_string();
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out.sort();
        out
    }

    fn trades_of(
        &self,
        symbol: Option<&str>,
        side: Option<&str>,
        year: Option<i32>,
    ) -> Vec<&Value> {
        self.trades
            .iter()
            .filter(|t| symbol.is_none_or(|s| t["symbol"] == s))
            .filter(|t| side.is_none_or(|s| t["side"] == s))
            .filter(|t| {
                year.is_none_or(|y| {
                    t["tradeDate"]
                        .as_str()
                        .is_some_and(|d| d.starts_with(&y.to_string()))
                })
            })
            .collect()
    }
}

/// Every figure in `value`, as an answer might write it: paise as rupees,
/// percentages and quantities as they are, dates and their parts.
fn collect_numbers(value: &Value, key: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                collect_numbers(v, k, out);
            }
        }
        Value::Array(items) => {
            for v in items {
                collect_numbers(v, key, out);
            }
        }
        Value::Number(n) => {
            if let Some(p) = n.as_i64() {
                if key.ends_with("Paise") {
                    out.insert(normal(&rupees(p.abs())));
                }
                out.insert(normal(&p.abs().to_string()));
            }
        }
        Value::String(s) => {
            if s.parse::<f64>().is_ok() {
                out.insert(normal(s.trim_start_matches('-')));
                // Averages carry four places; answers show two. A float
                // cannot tell a midpoint (…8.825) apart, so both paise
                // either side stand.
                if let Ok(d) = s.trim_start_matches('-').parse::<f64>() {
                    for paise in [(d * 100.0).floor(), (d * 100.0).ceil()] {
                        out.insert(normal(&format!("{:.2}", paise / 100.0)));
                    }
                }
            } else if let Ok(d) = s.parse::<NaiveDate>() {
                for part in [d.year(), d.month() as i32, d.day() as i32] {
                    out.insert(part.to_string());
                }
            } else if let Some((a, b)) = s.split_once('-')
                && a.parse::<u32>().is_ok()
                && b.parse::<u32>().is_ok()
            {
                out.insert(normal(a));
                out.insert(normal(b));
            }
        }
        _ => {}
    }
}

/// A number as compared: no grouping commas, no trailing zeros, no sign.
fn normal(text: &str) -> String {
    let t = text.replace([',', '₹', '+', '-', '−'], "");
    let t = if t.contains('.') {
        t.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        t
    };
    let t = t.trim_start_matches('0');
    if t.is_empty() || t.starts_with('.') {
        format!("0{t}")
    } else {
        t.to_string()
    }
}

/// `₹1,23,456.78` from paise, grouped the Indian way, `.00` left off.
fn rupees(paise: i64) -> String {
    let sign = if paise < 0 { "-" } else { "" };
    let paise = paise.unsigned_abs();
    let whole = (paise / 100).to_string();
    let grouped = if whole.len() <= 3 {
        whole
    } else {
        let (head, tail) = whole.split_at(whole.len() - 3);
        let mut parts: Vec<String> = Vec::new();
        let mut head = head.to_string();
        while head.len() > 2 {
            parts.insert(0, head.split_off(head.len() - 2));
        }
        parts.insert(0, head);
        format!("{},{tail}", parts.join(","))
    };
    match paise % 100 {
        0 => format!("{sign}₹{grouped}"),
        p => format!("{sign}₹{grouped}.{p:02}"),
    }
}

/// The numbers written in `text`: `₹1,200.50`, `8.74%`, `2024-01-02`.
fn numbers_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let flush = |current: &mut String, out: &mut Vec<String>| {
        let t = current.trim_end_matches(['.', ',']).to_string();
        if !t.is_empty() {
            out.push(normal(&t));
        }
        current.clear();
    };
    let chars: Vec<char> = text.chars().collect();
    // Inside a word that starts with a letter (`FY24`, `SYM7`), digits
    // are part of a name.
    let mut in_name = false;
    for (i, c) in chars.iter().enumerate() {
        let glued = |j: usize| chars.get(j).is_some_and(char::is_ascii_digit);
        if c.is_alphabetic() {
            in_name = current.is_empty();
            flush(&mut current, &mut out);
        } else if c.is_ascii_digit() && in_name {
        } else if c.is_ascii_digit()
            || (!current.is_empty() && matches!(c, ',' | '.') && glued(i + 1))
        {
            current.push(*c);
        } else {
            in_name = false;
            flush(&mut current, &mut out);
        }
    }
    flush(&mut current, &mut out);
    out
}

/// The first sentence: up to the first line break or full stop.
fn lead(answer: &str) -> &str {
    let line = answer.lines().next().unwrap_or_default();
    let cut = line
        .char_indices()
        .find(|(i, c)| *c == '.' && line[i + 1..].starts_with(' '))
        .map_or(line.len(), |(i, _)| i);
    &line[..cut]
}

fn has_word(text: &str, word: &str) -> bool {
    text.split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '&' || c == '-'))
        .map(|w| w.trim_end_matches('.'))
        .any(|w| w == word)
}

/// `8.74` within a hundredth of a `…%` in `text`.
fn states_percent(text: &str, expected: f64) -> bool {
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len()).any(|i| {
        if chars[i] != '%' {
            return false;
        }
        let mut j = i;
        while j > 0 && (chars[j - 1].is_ascii_digit() || chars[j - 1] == '.') {
            j -= 1;
        }
        let negative = j > 0 && matches!(chars[j - 1], '-' | '−');
        let s: String = chars[j..i].iter().collect();
        s.parse::<f64>().is_ok_and(|v| {
            let v = if negative { -v } else { v };
            (v - expected).abs() < 0.011 || (v.abs() - expected.abs()).abs() < 0.011 && !negative
        })
    })
}

fn money_stated(text: &str, paise: i64) -> bool {
    let figure = rupees(paise.abs());
    let at = text.find(&figure);
    match at {
        None => false,
        Some(at) if paise < 0 => {
            let before = &text[..at];
            before.ends_with('-')
                || before.ends_with('−')
                || text.contains("loss")
                || text.contains("down")
        }
        Some(_) => true,
    }
}

fn paise(v: &Value) -> i64 {
    v.as_i64().unwrap_or_default()
}

fn decimal(v: &Value) -> f64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| v.as_f64())
        .unwrap_or(f64::NAN)
}

/// One portfolio's fillers for the placeholders of case `i`.
struct Fill {
    values: BTreeMap<&'static str, String>,
    /// Members of `{g}`.
    group: Vec<String>,
}

fn everyday_name(symbol: &str, companies: &BTreeMap<String, Company>) -> String {
    let Some(company) = companies.get(symbol) else {
        return symbol.to_lowercase();
    };
    let words: Vec<&str> = company
        .name
        .split_whitespace()
        .filter(|w| !matches!(*w, "Ltd." | "Ltd" | "Limited" | "(India)"))
        .collect();
    let first = words.first().copied().unwrap_or(symbol);
    let shared = companies
        .values()
        .filter(|c| c.name.split_whitespace().next() == Some(first))
        .count();
    let name = if shared <= 1 {
        first.to_string()
    } else {
        match words.get(1) {
            Some(second) if second.chars().all(char::is_alphabetic) => format!("{first} {second}"),
            _ => symbol.to_string(),
        }
    };
    name.to_lowercase()
}

/// `IFNY` for `INFY`: the second and third letters swapped.
fn transposed(symbol: &str) -> Option<String> {
    let chars: Vec<char> = symbol.to_lowercase().chars().collect();
    (chars.len() >= 4 && chars.iter().all(char::is_ascii_alphabetic) && chars[1] != chars[2]).then(
        || {
            let mut c = chars.clone();
            c.swap(1, 2);
            c.into_iter().collect()
        },
    )
}

fn groups(book: &Book, companies: &BTreeMap<String, Company>) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut add = |label: &str, test: &dyn Fn(&Value, Option<&Company>) -> bool| {
        let members: Vec<String> = book
            .holdings
            .iter()
            .filter(|h| test(h, h["symbol"].as_str().and_then(|s| companies.get(s))))
            .filter_map(|h| h["symbol"].as_str().map(str::to_string))
            .collect();
        if !members.is_empty() && members.len() < book.holdings.len() {
            out.push((label.to_string(), members));
        }
    };
    add("banks", &|_, c| c.is_some_and(|c| c.name.contains("Bank")));
    add("IT stocks", &|h, _| h["sector"] == "Information Technology");
    add("ETFs", &|h, _| h["assetClass"] == "etf");
    add("FMCG stocks", &|h, _| {
        h["sector"] == "Fast Moving Consumer Goods"
    });
    add("auto stocks", &|h, _| {
        h["sector"] == "Automobile and Auto Components"
    });
    add("pharma stocks", &|h, _| h["sector"] == "Healthcare");
    out
}

fn fill(book: &Book, i: usize, companies: &BTreeMap<String, Company>) -> Fill {
    let pick = |list: &[String], at: usize| -> Option<String> {
        (!list.is_empty()).then(|| list[at % list.len()].clone())
    };
    let held = book.held();
    let mut values = BTreeMap::new();
    if let Some(h) = pick(&held, i) {
        values.insert("hl", h.to_lowercase());
        values.insert("hn", everyday_name(&h, companies));
        values.insert("h", h);
    }
    if held.len() >= 2
        && let Some(h2) = pick(&held, i + 1)
    {
        values.insert("h2", h2);
    }
    if let Some(typo) = values.get("h").and_then(|h| transposed(h)) {
        values.insert("ht", typo);
    }
    let multi: Vec<String> = held
        .iter()
        .filter(|s| book.trades_of(Some(s), Some("buy"), None).len() >= 2)
        .cloned()
        .collect();
    if let Some(m) = pick(&multi, i) {
        values.insert("m", m);
    }
    let sold: Vec<String> = book
        .traded()
        .into_iter()
        .filter(|s| !held.contains(s))
        .collect();
    if let Some(s) = pick(&sold, i) {
        values.insert("s", s);
    }
    let partly: Vec<String> = book
        .traded()
        .into_iter()
        .filter(|s| !book.trades_of(Some(s), Some("sell"), None).is_empty())
        .collect();
    if let Some(p) = pick(&partly, i) {
        values.insert("p", p);
    }
    let traded = book.traded();
    let never: Vec<String> = NIFTY50
        .iter()
        .filter(|s| !traded.iter().any(|t| t == *s))
        .map(|s| s.to_string())
        .collect();
    if let Some(x) = pick(&never, i) {
        values.insert("x", x);
    }
    let fys: Vec<String> = book.realized_by_fy.keys().cloned().collect();
    if let Some(fy) = pick(&fys, i) {
        values.insert("fy", fy);
    }
    let mut years: Vec<String> = book
        .trades
        .iter()
        .filter_map(|t| t["tradeDate"].as_str().map(|d| d[..4].to_string()))
        .collect();
    years.dedup();
    if let Some(y) = pick(&years, i) {
        values.insert("y", y);
    }
    let groups = groups(book, companies);
    let mut group = Vec::new();
    if !groups.is_empty() {
        let (label, members) = groups[i % groups.len()].clone();
        values.insert("g", label);
        group = members;
    }
    Fill { values, group }
}

/// `text` with its placeholders filled, or `None` when one has no filler.
fn instantiate(text: &str, fill: &Fill) -> Option<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}')? + open;
        let key = &rest[open + 1..close];
        out.push_str(fill.values.get(key)?);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// What is wrong with `reply` as the answer `want` asks for, if anything.
fn judge(book: &Book, want: &str, fill: &Fill, question: &str, reply: &Value) -> Option<String> {
    let answer = reply["answer"].as_str().unwrap_or_default();
    let answered = reply["answered"].as_bool().unwrap_or(false);
    let first = lead(answer);
    // Numbers: every one stated is among the portfolio's figures, the
    // question's, small counts, or what the oracle below works out.
    let mut allowed = book.numbers.clone();
    for n in numbers_in(question) {
        allowed.insert(n);
    }
    for n in 0..=31 {
        allowed.insert(n.to_string());
    }
    for y in 2000..=2100 {
        allowed.insert(y.to_string());
    }
    let parts: Vec<&str> = want.split_whitespace().collect();
    let held = book.held();
    let expected_money = |total: i64| -> Option<String> {
        (!money_stated(first, total)).then(|| format!("first sentence lacks {}", rupees(total)))
    };
    let group_sum = |field: &str| -> i64 {
        fill.group
            .iter()
            .filter_map(|s| book.holding(s))
            .map(|h| paise(&h[field]))
            .sum()
    };
    let mut extra: Vec<String> = Vec::new();
    let verdict: Option<String> = match parts.as_slice() {
        ["refuse"] => answered.then(|| "answered what it should decline".to_string()),
        ["notheld", symbol] => {
            if answered {
                Some("answered about a security never traded".into())
            } else if !answer.contains(symbol) {
                Some(format!("does not name {symbol}"))
            } else {
                None
            }
        }
        _ if !answered => Some("not answered".into()),
        ["value"] => expected_money(paise(&book.summary["valuePaise"])),
        ["invested"] => expected_money(paise(&book.summary["investedPaise"])),
        ["pnl"] => expected_money(paise(&book.summary["unrealizedPaise"])),
        ["xirr"] => (!states_percent(first, decimal(&book.summary["xirrPercent"])))
            .then(|| format!("first sentence lacks {}%", book.summary["xirrPercent"])),
        ["count_holdings"] => {
            let n = book.holdings.len().to_string();
            (!has_word(first, &n)).then(|| format!("first sentence lacks {n}"))
        }
        ["realized"] => expected_money(paise(&book.realized["totalPaise"])),
        ["realized", fy] => book
            .realized_by_fy
            .get(*fy)
            .and_then(|r| expected_money(paise(&r["totalPaise"]))),
        // Capital-gains tax: the year's tax at the listed rates, or that
        // nothing was sold; the exemption left; the long-term lots.
        ["tax", rest @ ..] | ["exemption", rest @ ..] => {
            let fy = rest.first().copied().unwrap_or("current");
            let report = book.tax_by_fy.get(fy).cloned().unwrap_or_default();
            for section in ["111", "112"] {
                allowed.insert(section.to_string());
            }
            if parts[0] == "exemption" {
                expected_money(paise(&report["exemption"]["leftPaise"]))
            } else if report["total"] == 0 {
                (!answer.contains("no capital-gains tax"))
                    .then(|| "does not say no tax is due".to_string())
            } else {
                expected_money(paise(&report["taxPaise"]))
            }
        }
        ["longterm"] => {
            collect_numbers(&book.harvest, "", &mut allowed);
            (!answer.contains("long-term")).then(|| "does not speak of long-term lots".to_string())
        }
        [what, "group"] => {
            let total = match *what {
                "value" => group_sum("valuePaise"),
                "invested" => group_sum("investedPaise"),
                "pnl" => group_sum("unrealizedPaise"),
                "weight" => {
                    let all = paise(&book.summary["valuePaise"]);
                    let share = 100.0 * group_sum("valuePaise") as f64 / all as f64;
                    extra.push(format!("{share:.2}"));
                    return finish(
                        (!states_percent(first, share))
                            .then(|| format!("first sentence lacks {share:.2}%")),
                        answer,
                        &allowed,
                        &extra,
                    );
                }
                _ => 0,
            };
            extra.push(normal(&rupees(total)));
            if !fill.group.iter().all(|s| has_word(answer, s)) {
                Some(format!("does not name every one of {:?}", fill.group))
            } else {
                expected_money(total)
            }
        }
        [what, symbol]
            if [
                "qty", "avg", "value", "invested", "pnl", "pnlpct", "weight", "xirr",
            ]
            .contains(what) =>
        {
            let Some(h) = book.holding(symbol) else {
                return Some(format!("oracle: {symbol} is not held"));
            };
            let named = has_word(first, symbol);
            let figure = match *what {
                "qty" => {
                    let q = normal(h["quantity"].as_str().unwrap_or_default());
                    (!has_word(first, &q)).then(|| format!("first sentence lacks {q}"))
                }
                "avg" => {
                    // Either paise beside a midpoint the float cannot see.
                    let paise = decimal(&h["averagePrice"]) * 100.0;
                    expected_money(paise.floor() as i64).and(expected_money(paise.ceil() as i64))
                }
                "value" => expected_money(paise(&h["valuePaise"])),
                "invested" => expected_money(paise(&h["investedPaise"])),
                "pnl" => expected_money(paise(&h["unrealizedPaise"])),
                "pnlpct" => (!states_percent(first, decimal(&h["unrealizedPercent"])))
                    .then(|| format!("first sentence lacks {}%", h["unrealizedPercent"])),
                "weight" => (!states_percent(first, decimal(&h["weightPercent"])))
                    .then(|| format!("first sentence lacks {}%", h["weightPercent"])),
                _ => (!states_percent(first, decimal(&h["xirrPercent"])))
                    .then(|| format!("first sentence lacks {}%", h["xirrPercent"])),
            };
            figure.or_else(|| (!named).then(|| format!("first sentence does not name {symbol}")))
        }
        [kind, rest @ ..] if ["buys", "sells", "trades"].contains(kind) => {
            let side = match *kind {
                "buys" => Some("buy"),
                "sells" => Some("sell"),
                _ => None,
            };
            let (symbol, year) = match rest {
                [] => (None, None),
                ["year", y] => (None, y.parse().ok()),
                [s] => (Some(*s), None),
                _ => return Some(format!("oracle: cannot read {want:?}")),
            };
            let matching = book.trades_of(symbol, side, year);
            let n = matching.len();

            let words = match n {
                1 => vec!["1".to_string(), "once".to_string()],
                2 => vec!["2".to_string(), "twice".to_string()],
                n => vec![n.to_string()],
            };
            (!words.iter().any(|w| has_word(&first.to_lowercase(), w)))
                .then(|| format!("first sentence lacks the count {n}"))
        }
        [kind, rest @ ..]
            if [
                "first_buy",
                "last_buy",
                "first_sell",
                "last_sell",
                "first_trade",
                "last_trade",
            ]
            .contains(kind) =>
        {
            let side = if kind.ends_with("buy") {
                Some("buy")
            } else if kind.ends_with("sell") {
                Some("sell")
            } else {
                None
            };
            let trades = book.trades_of(rest.first().copied(), side, None);
            let trade = if kind.starts_with("first") {
                trades.first()
            } else {
                trades.last()
            };
            match trade.and_then(|t| t["tradeDate"].as_str()?.parse::<NaiveDate>().ok()) {
                None => Some("oracle: no such trade".into()),
                Some(d) => {
                    let human = d.format("%-d %b %Y").to_string();
                    let long = d.format("%-d %B %Y").to_string();
                    let iso = d.to_string();
                    (![human.as_str(), long.as_str(), iso.as_str()]
                        .iter()
                        .any(|f| first.contains(f)))
                    .then(|| format!("first sentence lacks the date {human}"))
                }
            }
        }
        ["which", way, measure] => {
            let key = |h: &Value| -> f64 {
                match *measure {
                    "value" => paise(&h["valuePaise"]) as f64,
                    "invested" => paise(&h["investedPaise"]) as f64,
                    "pnl" => paise(&h["unrealizedPaise"]) as f64,
                    "pnlpct" => decimal(&h["unrealizedPercent"]),
                    _ => decimal(&h["quantity"]),
                }
            };
            let best = book.holdings.iter().map(key).fold(
                if *way == "max" { f64::MIN } else { f64::MAX },
                |a, b| {
                    if *way == "max" { a.max(b) } else { a.min(b) }
                },
            );
            let winners: Vec<String> = book
                .holdings
                .iter()
                .filter(|h| key(h) == best)
                .filter_map(|h| h["symbol"].as_str().map(str::to_string))
                .collect();
            let named: Vec<&String> = held.iter().filter(|s| has_word(first, s)).collect();
            (named.len() != 1 || !winners.contains(named[0]))
                .then(|| format!("first sentence names {named:?}, not one of {winners:?}"))
        }
        [end, n, measure] if ["top", "bottom"].contains(end) => {
            let n: usize = n.parse().unwrap_or(1);
            let field = match *measure {
                "value" => "valuePaise",
                "invested" => "investedPaise",
                _ => "unrealizedPaise",
            };
            let mut rows: Vec<(i64, String)> = book
                .holdings
                .iter()
                .map(|h| {
                    (
                        paise(&h[field]),
                        h["symbol"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            rows.sort_by(|a, b| {
                if *end == "top" {
                    b.0.cmp(&a.0).then(a.1.cmp(&b.1))
                } else {
                    a.0.cmp(&b.0).then(a.1.cmp(&b.1))
                }
            });
            // Holdings level on the measure may come in either order.
            let key_of = |symbol: &str| rows.iter().find(|(_, s)| s == symbol).map(|(k, _)| *k);
            let wanted_keys: Vec<i64> = rows.iter().take(n).map(|(k, _)| *k).collect();
            let wanted: Vec<String> = rows.iter().take(n).map(|(_, s)| s.clone()).collect();
            let mut named: Vec<(usize, String)> = held
                .iter()
                .filter_map(|s| {
                    answer
                        .match_indices(s.as_str())
                        .find(|(at, _)| {
                            let before = answer[..*at].chars().next_back();
                            let after = answer[at + s.len()..].chars().next();
                            !before.is_some_and(char::is_alphanumeric)
                                && !after.is_some_and(char::is_alphanumeric)
                        })
                        .map(|(at, _)| (at, s.clone()))
                })
                .collect();
            named.sort();
            let named: Vec<String> = named.into_iter().map(|(_, s)| s).collect();
            let keys: Vec<Option<i64>> = named.iter().map(|s| key_of(s)).collect();
            (keys != wanted_keys.iter().map(|k| Some(*k)).collect::<Vec<_>>())
                .then(|| format!("lists {named:?}, not {wanted:?}"))
        }
        _ => Some(format!("oracle: cannot read {want:?}")),
    };
    finish(verdict, answer, &allowed, &extra)
}

fn finish(
    verdict: Option<String>,
    answer: &str,
    allowed: &BTreeSet<String>,
    extra: &[String],
) -> Option<String> {
    let invented: Vec<String> = numbers_in(answer)
        .into_iter()
        .filter(|n| !allowed.contains(n) && !extra.contains(n))
        .collect();
    match (verdict, invented.is_empty()) {
        (None, true) => None,
        (Some(v), true) => Some(v),
        (v, false) => Some(format!(
            "{}states numbers the portfolio does not hold: {invented:?}",
            v.map(|v| format!("{v}; ")).unwrap_or_default()
        )),
    }
}

/// Every template of every file of the set.
fn cases() -> anyhow::Result<Vec<Case>> {
    let mut out = Vec::new();
    for text in [GENERAL, FRESH, DEV2, DEV3, DEV4, DEV5, DEV6, DEV7] {
        out.extend(toml::from_str::<Set>(text)?.case);
    }
    Ok(out)
}

/// The seed of this run's random portfolio (`KITEMATE_CHAT_SEED` replays
/// one), and the four portfolios the set is asked over.
fn portfolios() -> anyhow::Result<(u64, Vec<Portfolio>)> {
    let general: Set = toml::from_str(GENERAL)?;
    let eval: Portfolios = toml::from_str(EVAL)?;
    let seed = std::env::var("KITEMATE_CHAT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(7, |d| d.as_nanos() as u64)
        });
    let mut portfolios: Vec<Portfolio> = eval.portfolio;
    portfolios.extend(general.portfolio);
    portfolios.push(Portfolio {
        name: "random".into(),
        tradebook: random_tradebook(seed),
    });
    Ok((seed, portfolios))
}

/// The turns of case `i` over `book` and what the last must state, or
/// `None` when a placeholder has nothing to fill it there.
fn questions(case: &Case, fill: &Fill) -> anyhow::Result<Option<(Vec<String>, String)>> {
    let turns: Vec<String> = match (&case.q, &case.turns) {
        (Some(q), _) => vec![q.clone()],
        (None, Some(t)) => t.clone(),
        (None, None) => anyhow::bail!("a case has no question: {case:?}"),
    };
    Ok(turns
        .iter()
        .map(|t| instantiate(t, fill))
        .collect::<Option<Vec<String>>>()
        .zip(instantiate(&case.want, fill)))
}

/// Asks `turns` in one conversation; the last reply.
async fn converse(app: &TestApp, token: &str, turns: &[String]) -> anyhow::Result<Value> {
    let mut conversation: Option<String> = None;
    let mut reply = Value::Null;
    for turn in turns {
        let mut body = json!({ "message": turn });
        if let Some(id) = &conversation {
            body["conversationId"] = json!(id);
        }
        let r = ask(app, token, body).await?;
        anyhow::ensure!(r.status == StatusCode::OK, "{turn}: {r:?}");
        reply = r.json();
        conversation = reply["conversationId"].as_str().map(str::to_string);
    }
    Ok(reply)
}

#[derive(Default)]
struct Tally {
    asked: usize,
    misses: Vec<String>,
}

#[tokio::test]
#[expect(
    clippy::print_stdout,
    reason = "the accuracy report is for whoever runs the test"
)]
async fn chat_generalises() -> TestResult {
    let general = Set {
        portfolio: Vec::new(),
        case: cases()?,
    };
    let (seed, portfolios) = portfolios()?;
    let companies = companies();

    let app = noon_app().await?;
    let mut books = Vec::new();
    for p in &portfolios {
        let name = format!("g{}", p.name);
        let token = pro_with_trades(&app, &name, &p.tradebook).await?;
        books.push(Book::load(&app, &p.name, token).await?);
    }

    let mut dev = Tally::default();
    let mut held = Tally::default();
    let mut fresh = Tally::default();
    for book in &books {
        for (i, case) in general.case.iter().enumerate() {
            let fill = fill(book, i, &companies);
            let Some((turns, want)) = questions(case, &fill)? else {
                continue;
            };
            let reply = converse(&app, &book.token, &turns).await?;
            let tally = match case.split.as_str() {
                "held" => &mut held,
                "fresh" => &mut fresh,
                _ => &mut dev,
            };
            tally.asked += 1;
            let question = turns.join(" / ");
            if let Some(miss) = judge(book, &want, &fill, &question, &reply) {
                tally.misses.push(format!(
                    "[{}] {question:?} ({want}): {miss}\n      {:?}",
                    book.name,
                    reply["answer"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    let rate = |t: &Tally| 100.0 * (t.asked - t.misses.len()) as f64 / t.asked.max(1) as f64;
    println!("chat generalisation (random portfolio seed {seed}):");
    println!(
        "  development: {}/{} right ({:.1}%)",
        dev.asked - dev.misses.len(),
        dev.asked,
        rate(&dev)
    );
    for miss in &dev.misses {
        println!("  miss {miss}");
    }
    println!(
        "  held out:    {}/{} right ({:.1}%)",
        held.asked - held.misses.len(),
        held.asked,
        rate(&held)
    );
    println!(
        "  fresh:       {}/{} right ({:.1}%)",
        fresh.asked - fresh.misses.len(),
        fresh.asked,
        rate(&fresh)
    );
    if std::env::var("KITEMATE_SHOW_HELDOUT").is_ok() {
        for miss in held.misses.iter().chain(&fresh.misses) {
            println!("  miss {miss}");
        }
    }
    let invented = dev
        .misses
        .iter()
        .chain(&held.misses)
        .chain(&fresh.misses)
        .filter(|m| m.contains("does not hold"))
        .count();
    assert!(
        held.asked + fresh.asked >= 300,
        "only {} held-out questions",
        held.asked + fresh.asked
    );
    assert_eq!(
        invented, 0,
        "answers stated numbers the portfolio does not hold"
    );
    assert!(rate(&dev) >= 95.0, "development split below 95%");
    // The goal is 95% held out. The "held" split was written alongside
    // the rules, "fresh" apart from them (docs/chat.md says how); these
    // floors guard what is reached so far and rise as the engine does.
    assert!(rate(&held) >= 95.0, "held-out split below its floor");
    assert!(rate(&fresh) >= 95.0, "fresh split below the target");
    app.stop().await
}

/// With a model configured, the model's tools reach every answer the engine
/// gives: each question of the set is read by the engine, its intent sent
/// as the tool call a model would make, and the figures the tool returns
/// must be the engine's own (over the fixed `family` portfolio).
#[tokio::test]
async fn tools_give_the_engines_figures() -> TestResult {
    use crate::support::fake_llm::{FakeLlm, Step};
    use kitemate::chat::{engine, llm::tools};

    let general = Set {
        portfolio: Vec::new(),
        case: cases()?,
    };
    let (seed, portfolios) = portfolios()?;
    let companies = companies();
    let engine_app = noon_app().await?;
    let fake = FakeLlm::start().await?;
    let model_app = crate::chat::llm::model_app(&fake, 10_000, |_| {}).await?;
    crate::chat::eval::set_noon(&model_app)?;
    let today = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap_or_default();
    let (mut checked, mut misses) = (0, Vec::new());
    // The fixed portfolio with every kind of holding (banks, IT, an ETF, a
    // full exit, losses): one is enough to reach every tool.
    for p in portfolios.iter().filter(|p| p.name == "family") {
        let name = format!("t{}", p.name);
        let token = pro_with_trades(&engine_app, &name, &p.tradebook).await?;
        let model_token = pro_with_trades(&model_app, &name, &p.tradebook).await?;
        let book = Book::load(&engine_app, &p.name, token).await?;
        let mut own: Vec<(String, String)> = Vec::new();
        for t in &book.trades {
            let pair = (
                t["symbol"].as_str().unwrap_or_default().to_string(),
                t["isin"].as_str().unwrap_or_default().to_string(),
            );
            if !own.contains(&pair) {
                own.push(pair);
            }
        }
        let catalog = engine::names::catalog(&own);
        for (i, case) in general.case.iter().enumerate() {
            let Some((turns, _)) = questions(case, &fill(&book, i, &companies))? else {
                continue;
            };
            let from_engine = converse(&engine_app, &book.token, &turns).await?;
            let mut context = None;
            let mut intent = engine::Intent::Unknown;
            for turn in &turns {
                (intent, context) = engine::resolve(turn, context.as_ref(), &catalog, today);
            }
            let Some((tool, arguments)) = tools::call_for(&intent) else {
                if from_engine["answered"] == true {
                    misses.push(format!(
                        "{turns:?}: answered, but no tool asks for {intent:?}"
                    ));
                }
                continue;
            };
            fake.then(Step::Tool(tool.into(), arguments.to_string()))
                .then(Step::Text(vec!["Here it is.".into()]));
            let last = turns.last().cloned().unwrap_or_default();
            let from_model = ask(&model_app, &model_token, json!({ "message": last })).await?;
            anyhow::ensure!(from_model.status == StatusCode::OK, "{from_model:?}");
            checked += 1;
            if from_model.json()["data"] != from_engine["data"] {
                misses.push(format!(
                    "[{}] {turns:?} via {tool} {arguments}: the tool gave {} where the engine gave {}",
                    p.name,
                    from_model.json()["data"],
                    from_engine["data"]
                ));
            }
        }
    }
    assert!(
        checked >= 250,
        "only {checked} questions reached a tool (seed {seed})"
    );
    assert!(
        misses.is_empty(),
        "{} of {checked} differ (seed {seed}):\n{}",
        misses.len(),
        misses.join("\n")
    );
    model_app.stop().await?;
    engine_app.stop().await
}
