//! Which securities a question names: by symbol (`INFY`), by company name
//! (`Infosys`, `tata consultancy`), or misspelt (`infosis`, `relaince`).
//! The user's own securities come first when a name could mean several.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// A security the engine can name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub symbol: String,
    /// The symbol lowercased, to compare with a question's words.
    lower: String,
    pub isin: String,
    /// The company's name, words lowercased, without "Ltd." and the like.
    pub name: Vec<String>,
    /// Whether the user holds or traded it.
    pub own: bool,
}

/// Words of questions that are never a company's name on their own.
const COMMON: &[&str] = &[
    "allocation",
    "annualized",
    "asset",
    "biggest",
    "booked",
    "breakdown",
    "capital",
    "change",
    "class",
    "compare",
    "concentrated",
    "concentration",
    "distributed",
    "equity",
    "exposure",
    "financial",
    "holdings",
    "invested",
    "investment",
    "largest",
    "losing",
    "market",
    "overall",
    "positions",
    "quantity",
    "realized",
    "returns",
    "smallest",
    "sorted",
    "transactions",
    "unrealized",
    "valuation",
    "winners",
    "a",
    "about",
    "all",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "average",
    "avg",
    "bank",
    "be",
    "best",
    "biggest",
    "bought",
    "buy",
    "by",
    "can",
    "compare",
    "cost",
    "current",
    "day",
    "did",
    "do",
    "does",
    "down",
    "each",
    "for",
    "from",
    "fund",
    "funds",
    "gain",
    "gainers",
    "gains",
    "get",
    "give",
    "have",
    "held",
    "hold",
    "holding",
    "holdings",
    "how",
    "i",
    "idea",
    "in",
    "india",
    "indian",
    "is",
    "it",
    "last",
    "list",
    "long",
    "loss",
    "losers",
    "lose",
    "made",
    "many",
    "me",
    "money",
    "month",
    "most",
    "much",
    "my",
    "of",
    "on",
    "one",
    "or",
    "own",
    "paid",
    "pay",
    "percent",
    "performing",
    "pnl",
    "portfolio",
    "price",
    "profit",
    "sale",
    "sector",
    "sell",
    "share",
    "shares",
    "short",
    "show",
    "since",
    "sold",
    "stock",
    "stocks",
    "tell",
    "term",
    "than",
    "that",
    "the",
    "this",
    "to",
    "today",
    "top",
    "total",
    "trade",
    "trades",
    "up",
    "value",
    "vs",
    "versus",
    "was",
    "weight",
    "what",
    "when",
    "which",
    "who",
    "why",
    "with",
    "worst",
    "worth",
    "year",
    "you",
    "your",
    "start",
    "notional",
    "paper",
    "mtm",
    "red",
    "green",
    "deep",
    "calendar",
    "account",
    "add",
    "max",
    "min",
    "maximum",
    "minimum",
    "recent",
    "cost",
    "started",
    "starting",
    "investing",
    "purchased",
    "position",
    "largest",
    "returns",
    "amount",
    "banks",
    "buys",
    "count",
    "date",
    "days",
    "deployed",
    "ever",
    "exit",
    "first",
    "highest",
    "latest",
    "least",
    "lowest",
    "number",
    "often",
    "orders",
    "percentage",
    "profitable",
    "purchase",
    "purchases",
    "recent",
    "return",
    "sells",
    "times",
    "units",
    "where",
    "now",
    "only",
    "just",
    "demat",
    "put",
    "more",
    "less",
    "ago",
    "wise",
    "losses",
    "charges",
    "dividend",
    "dividends",
    "tax",
    "brokerage",
    "should",
    "will",
];

/// What people call some companies instead of their symbol or name.
const ALIASES: &[(&str, &str)] = &[
    ("sbi", "SBIN"),
    ("hul", "HINDUNILVR"),
    ("l&t", "LT"),
    ("airtel", "BHARTIARTL"),
    ("ril", "RELIANCE"),
];

/// Suffixes a company's listed name carries that nobody says.
const SUFFIXES: &[&str] = &["ltd", "ltd.", "limited", "(india)", "co.", "company"];

fn name_words(name: &str) -> Vec<String> {
    name.to_lowercase()
        .split_whitespace()
        .filter(|w| !SUFFIXES.contains(w))
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric() && c != '&')
                .to_string()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// NIFTY 500, as shipped in `data/nifty500-sectors.csv`.
static LISTED: LazyLock<Vec<Known>> = LazyLock::new(|| {
    crate::portfolio::companies()
        .map(|(name, symbol, isin)| Known {
            symbol: symbol.to_string(),
            lower: symbol.to_lowercase(),
            isin: isin.to_string(),
            name: name_words(name),
            own: false,
        })
        .collect()
});

/// Where to look in [`LISTED`]: by lowercased symbol, by ISIN and by the
/// first word of the name, so a question's word is not compared with all.
static INDEX: LazyLock<HashMap<String, Vec<usize>>> = LazyLock::new(|| {
    let mut index: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, k) in LISTED.iter().enumerate() {
        let keys = [Some(&k.lower), Some(&k.isin), k.name.first()];
        for key in keys.into_iter().flatten() {
            let at = index.entry(key.clone()).or_default();
            if !at.contains(&i) {
                at.push(i);
            }
        }
    }
    index
});

fn listed(key: &str) -> impl Iterator<Item = &'static Known> + use<> {
    INDEX
        .get(key)
        .into_iter()
        .flatten()
        .filter_map(|i| LISTED.get(*i))
}

/// The user's securities first, then every listed company they do not have.
pub fn catalog(own: &[(String, String)]) -> Catalog {
    let own_known: Vec<Known> = own
        .iter()
        .map(|(symbol, isin)| {
            let company = listed(isin)
                .next()
                .or_else(|| listed(&symbol.to_lowercase()).find(|k| k.symbol == *symbol));
            Known {
                symbol: symbol.clone(),
                lower: symbol.to_lowercase(),
                isin: isin.clone(),
                name: company.map(|k| k.name.clone()).unwrap_or_default(),
                own: true,
            }
        })
        .collect();
    let taken = own
        .iter()
        .flat_map(|(s, i)| [s.clone(), i.clone()])
        .filter(|k| !k.is_empty())
        .collect();
    Catalog {
        own: own_known,
        taken,
    }
}

/// The securities a question may name: the user's, then the listed
/// companies they have not got.
#[derive(Debug)]
pub struct Catalog {
    own: Vec<Known>,
    /// Symbols and ISINs of the user's own, which the listed entries yield to.
    taken: HashSet<String>,
}

impl Catalog {
    fn available(&self, k: &Known) -> bool {
        !self.taken.contains(&k.symbol) && !self.taken.contains(&k.isin)
    }

    /// Everything, for a misspelling.
    fn iter(&self) -> impl Iterator<Item = &Known> {
        self.own
            .iter()
            .chain(LISTED.iter().filter(|k| self.available(k)))
    }

    /// What `word` (or the symbol it is an alias of) could start.
    fn starting(&self, word: &str, alias: Option<&str>) -> Vec<&Known> {
        let mut found: Vec<&Known> = self.own.iter().collect();
        let by_alias = alias.map(str::to_lowercase);
        for key in std::iter::once(word).chain(by_alias.as_deref()) {
            for k in listed(key) {
                if self.available(k) {
                    found.push(k);
                }
            }
        }
        found
    }
}

/// Whether the company behind `isin` (or `symbol`) is a bank by its name.
pub fn is_bank(isin: &str, symbol: &str) -> bool {
    listed(isin).next().map_or(symbol.ends_with("BANK"), |k| {
        k.name.iter().any(|w| w == "bank")
    })
}

/// How far apart two words may be and still be taken for each other.
fn tolerance(word: &str) -> usize {
    match word.len() {
        0..=4 => 0,
        5..=7 => 1,
        _ => 2,
    }
}

/// What `words` (lowercased) name, in the order they name it; `original`
/// is the question as typed, where an all-capitals word is a symbol even
/// when it is also an English word.
pub fn find(words: &[&str], original: &str, catalog: &Catalog) -> Vec<Known> {
    let capitals: Vec<String> = original
        .split(|c: char| !c.is_alphanumeric() && c != '&' && c != '-')
        .filter(|w| {
            w.len() >= 2
                && w.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '&' || c == '-')
        })
        .map(str::to_string)
        .collect();
    let mut found: Vec<Known> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = words[i];
        let common =
            COMMON.contains(&word) && !capitals.iter().any(|c| c.eq_ignore_ascii_case(word));
        let alias = ALIASES
            .iter()
            .find(|(a, _)| *a == word)
            .map(|(_, symbol)| *symbol);
        // Longest company name starting here; the user's own first on a tie.
        let mut best: Option<(usize, &Known)> = None;
        let mut tied = false;
        for known in catalog.starting(word, alias) {
            let matched = known
                .name
                .iter()
                .zip(&words[i..])
                .take_while(|(n, w)| n == w)
                .count();
            let by_symbol =
                (known.lower == word && !common) || alias == Some(known.symbol.as_str());
            let length = if by_symbol { matched.max(1) } else { matched };
            // One word of a name counts when it is not an everyday word.
            if length == 0 || (length == 1 && !by_symbol && (common || word.len() < 3)) {
                continue;
            }
            match best {
                Some((l, b)) if l > length || (l == length && b.own && !known.own) => {}
                Some((l, b)) if l == length && b.own == known.own && !by_symbol => {
                    tied = tied || b.symbol != known.symbol
                }
                _ => {
                    best = Some((length, known));
                    tied = false;
                }
            }
        }
        // Names are short: a long word is nobody's misspelling, and comparing
        // it with every name would cost what a long message costs.
        if best.is_none()
            && !common
            && (4..=24).contains(&word.len())
            && word.chars().all(char::is_alphabetic)
        {
            // A misspelling of a symbol or of a name's first word.
            best = catalog
                .iter()
                .filter_map(|k| {
                    let allowed = tolerance(word);
                    // (distance, whether it is two letters swapped), or none
                    // when lengths alone rule the name out (most of them).
                    let compare = |other: &str| -> Option<(usize, bool)> {
                        let apart = word.len().abs_diff(other.len());
                        if apart > allowed {
                            return None;
                        }
                        // An English word is often a name with a letter
                        // added or dropped at its end ("start", "star"): a
                        // slip counts there only for the user's own.
                        let at_end =
                            apart > 0 && (word.starts_with(other) || other.starts_with(word));
                        if at_end && !k.own {
                            return None;
                        }
                        let d = strsim::osa_distance(word, other);
                        // Two letters swapped is one slip, even in a short word.
                        let swapped = d == 1 && apart == 0 && strsim::levenshtein(word, other) == 2;
                        Some((d, swapped))
                    };
                    let found = [Some(k.lower.as_str()), k.name.first().map(String::as_str)]
                        .into_iter()
                        .flatten()
                        .filter_map(compare)
                        .filter(|(d, swapped)| *d <= allowed || *swapped)
                        .map(|(d, _)| d)
                        .min();
                    found.map(|d| (d, k))
                })
                .min_by_key(|(d, k)| (*d, !k.own))
                .map(|(_, k)| (1, k));
        }
        match best {
            Some((length, known)) => {
                // Several companies go by this name and the user has none of
                // them: which one does not matter to say they hold none.
                let known = if tied && !known.own {
                    Known {
                        symbol: word.to_uppercase(),
                        lower: word.to_string(),
                        isin: String::new(),
                        name: Vec::new(),
                        own: false,
                    }
                } else {
                    known.clone()
                };
                if !found.iter().any(|f| f.symbol == known.symbol) {
                    found.push(known);
                }
                i += length;
            }
            None => i += 1,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbols(question: &str, own: &[(&str, &str)]) -> Vec<String> {
        let own: Vec<(String, String)> = own
            .iter()
            .map(|(s, i)| (s.to_string(), i.to_string()))
            .collect();
        let catalog = catalog(&own);
        let lower = question.to_lowercase();
        let words: Vec<&str> = lower.split_whitespace().collect();
        find(&words, question, &catalog)
            .into_iter()
            .map(|k| k.symbol)
            .collect()
    }

    #[test]
    fn symbols_names_and_misspellings() {
        let none: &[(&str, &str)] = &[];
        assert_eq!(symbols("how many infy do i have", none), ["INFY"]);
        assert_eq!(symbols("what did i pay for infosys", none), ["INFY"]);
        assert_eq!(
            symbols("tata consultancy vs infosis", none),
            ["TCS", "INFY"]
        );
        assert_eq!(symbols("hdfc bank share", none), ["HDFCBANK"]);
        assert_eq!(symbols("relaince industries", none), ["RELIANCE"]);
        assert_eq!(
            symbols("what is my portfolio worth", none),
            Vec::<String>::new()
        );
        assert_eq!(symbols("any idea how i did", none), Vec::<String>::new());
        assert_eq!(symbols("how is IDEA doing", none), ["IDEA"]);
    }

    #[test]
    fn the_users_own_security_wins_a_tie() {
        let own = [("BAJAJFINSV", "INE918I01026")];
        assert_eq!(symbols("how is bajaj doing", &own), ["BAJAJFINSV"]);
        assert_eq!(
            symbols("how is bajaj doing", &[]),
            ["BAJAJ"],
            "several, none of them the user's"
        );
        let own = [("SYM7", "INE000007A01010")];
        assert_eq!(symbols("sym7 position", &own), ["SYM7"]);
    }
}
