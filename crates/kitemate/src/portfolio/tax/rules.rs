//! The Income-tax Act's rules for a sale of shares or fund units, by what
//! the security is and when it was bought and sold. Each rule, its
//! section and a worked example are in `docs/tax.md`.

use chrono::{Months, NaiveDate};
use rust_decimal::Decimal;

use super::super::calc::fifo::Realized;

const fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(day) => day,
        None => panic!("a real date"),
    }
}

/// Finance (No. 2) Act 2024: sales from this day pay the new rates.
pub const RATES_CHANGED: NaiveDate = day(2024, 7, 23);
/// s.112A taxes long-term gains on transfers from this day (before, s.10(38) exempted them).
pub const LTCG_TAXED_FROM: NaiveDate = day(2018, 4, 1);
/// Equity acquired before this day is grandfathered (s.55(2)(ac)).
pub const GRANDFATHERED_BEFORE: NaiveDate = day(2018, 2, 1);
/// s.50AA: specified mutual-fund units acquired from this day are short-term whenever sold.
pub const SPECIFIED_FUND_FROM: NaiveDate = day(2023, 4, 1);
/// The Finance (No. 2) Act, 2024 narrowed s.50AA's "specified mutual fund"
/// to funds more than 65 % in debt, from AY 2026-27: sales from this day.
pub const SPECIFIED_NARROWED: NaiveDate = day(2025, 4, 1);

/// What a security is, as the Act sorts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asset {
    /// A listed equity share, bought and sold on an exchange (STT paid).
    EquityShare,
    /// An equity-oriented fund: an ETF of Indian shares.
    EquityFund,
    /// A fund of gold or silver, or of foreign shares: not equity-oriented.
    OtherFund,
    /// A debt or liquid fund (more than 65 % in debt).
    DebtFund,
    /// Something whose treatment depends on facts KiteMate does not have.
    Unknown,
}

impl Asset {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EquityShare => "equity_share",
            Self::EquityFund => "equity_fund",
            Self::OtherFund => "other_fund",
            Self::DebtFund => "debt_fund",
            Self::Unknown => "unknown",
        }
    }

    pub fn is_equity(self) -> bool {
        matches!(self, Self::EquityShare | Self::EquityFund)
    }
}

/// Sorts a security by its ISIN and symbol. Indian shares' ISINs begin
/// `INE`, funds' `INF`; a fund's kind shows in its symbol (`GOLDBEES`,
/// `LIQUIDBEES`, `NIFTYBEES`). A fund the words do not place is Unknown,
/// never taxed as equity by default.
pub fn asset(isin: &str, symbol: &str) -> Asset {
    let symbol = symbol.to_ascii_uppercase();
    let has = |words: &[&str]| words.iter().any(|w| symbol.contains(w));
    if isin.starts_with("INE") || (isin.is_empty() && !symbol.ends_with("BEES") && !has(&["ETF"])) {
        return Asset::EquityShare;
    }
    if !isin.starts_with("INF") && !isin.is_empty() {
        return Asset::Unknown;
    }
    // Foreign indices first: `MONQ50` is Nasdaq's, not NIFTY's 50.
    let foreign = [
        "MON100", "MONQ50", "MAFANG", "MASPTOP", "MAHKTECH", "HNGSNG", "HANGSENG", "NASDAQ",
        "NAS100", "N100", "SP500", "S&P", "FANG", "MSCI", "INTL", "GLOBAL", "CHINA", "JAPAN",
        "EUROPE", "EAFE", "EMERGING", "USTECH",
    ];
    let debt = [
        "LIQUID",
        "GILT",
        "BOND",
        "SDL",
        "GSEC",
        "G-SEC",
        "MONEY",
        "CASH",
        "DEBT",
        "BBETF",
        "OVERNIGHT",
        "1DRATE",
        "TBILL",
    ];
    // Indian indices by name: a fund the words do not place is Unknown.
    let indian = [
        "NIFTY",
        "SENSEX",
        "SENSX",
        "BANKBEES",
        "BANKETF",
        "PSUBNK",
        "PSUBANK",
        "PVTBANK",
        "JUNIOR",
        "NEXT50",
        "MIDCAP",
        "SMALLCAP",
        "MID150",
        "SML250",
        "ITBEES",
        "ITETF",
        "PHARMABEES",
        "PHARMAETF",
        "INFRABEES",
        "INFRAETF",
        "CPSEETF",
        "BHARAT22",
        "ALPHA",
        "MOMENTUM",
        "MOM30",
        "MOM50",
        "LOWVOL",
        "QUALITY",
        "QUAL30",
        "VALUE",
        "CONSUMBEES",
        "CONSUMPTION",
        "AUTOBEES",
        "AUTOETF",
        "FMCGIETF",
        "HEALTHY",
        "HEALTHIETF",
        "METALIETF",
        "REALTY",
        "ENERGY",
        "DIVOPP",
        "MNC",
        "SHARIABEES",
        "EQUAL",
        "EQWT",
        "MONIFTY",
        "SETFNIF",
        "SETFNN50",
        "UTISENSETF",
    ];
    if has(&debt) {
        Asset::DebtFund
    } else if has(&["GOLD", "SILVER"]) || has(&foreign) {
        Asset::OtherFund
    } else if has(&indian) {
        Asset::EquityFund
    } else {
        Asset::Unknown
    }
}

/// Where a sale's gain goes in the return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Short-term gain on equity, s.111A.
    EquityShortTerm,
    /// Long-term gain on equity, s.112A.
    EquityLongTerm,
    /// Long-term gain on equity sold before 1 April 2018: exempt, s.10(38).
    EquityLongTermExempt,
    /// Short-term gain on other assets, taxed at the slab rate.
    OtherShortTerm,
    /// Long-term gain on other assets, s.112.
    OtherLongTerm,
    /// Bought and sold the same day: speculative business income (s.43(5)).
    Speculative,
    /// Depends on facts KiteMate does not have.
    CheckWithCa,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EquityShortTerm => "equity_stcg",
            Self::EquityLongTerm => "equity_ltcg",
            Self::EquityLongTermExempt => "equity_ltcg_exempt",
            Self::OtherShortTerm => "other_stcg",
            Self::OtherLongTerm => "other_ltcg",
            Self::Speculative => "speculative",
            Self::CheckWithCa => "check_with_ca",
        }
    }

    pub fn section(self) -> &'static str {
        match self {
            Self::EquityShortTerm => "111A",
            Self::EquityLongTerm => "112A",
            Self::EquityLongTermExempt => "10(38)",
            Self::OtherShortTerm => "slab",
            Self::OtherLongTerm => "112",
            Self::Speculative => "43(5)",
            Self::CheckWithCa => "-",
        }
    }
}

/// Which side of 23 July 2024 a sale fell on, where the rates changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    Before,
    From,
}

impl Period {
    pub fn of(sold_on: NaiveDate) -> Self {
        if sold_on < RATES_CHANGED {
            Self::Before
        } else {
            Self::From
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Before => "before_2024_07_23",
            Self::From => "from_2024_07_23",
        }
    }
}

/// How one matched piece of a sale is taxed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Treatment {
    pub category: Category,
    /// The listed rate as a percent; `None` at the slab rate or unknown.
    pub rate: Option<Decimal>,
    pub period: Period,
    /// Cost for the gain: the actual cost, or the grandfathered one.
    pub cost: Decimal,
    pub grandfathered: bool,
    /// The fair market value per share of 31 January 2018 was needed and
    /// is not loaded: the actual cost stands, and a CA should look.
    pub check_with_ca: bool,
    /// The rule in words.
    pub rule: String,
}

/// Holding more than `months` months.
fn held_over(bought: NaiveDate, sold: NaiveDate, months: u32) -> bool {
    bought
        .checked_add_months(Months::new(months))
        .is_some_and(|limit| sold > limit)
}

fn pct(units: i64, scale: u32) -> Option<Decimal> {
    Some(Decimal::new(units, scale))
}

/// The treatment of `piece` of a security of kind `asset`.
pub fn treat(asset: Asset, piece: &Realized) -> Treatment {
    let (bought, sold) = (piece.bought_on, piece.sold_on);
    let cost = piece.quantity * piece.buy_price;
    let proceeds = piece.quantity * piece.sell_price;
    let period = Period::of(sold);
    let mut out = Treatment {
        category: Category::CheckWithCa,
        rate: None,
        period,
        cost,
        grandfathered: false,
        check_with_ca: false,
        rule: String::new(),
    };
    if piece.intraday {
        out.category = Category::Speculative;
        out.rule = "bought and sold the same day: speculative business income (s.43(5)), \
                    taxed at your slab rate with your other income, not a capital gain"
            .into();
        return out;
    }
    match asset {
        Asset::EquityShare | Asset::EquityFund => {
            if !held_over(bought, sold, 12) {
                out.category = Category::EquityShortTerm;
                out.rate = if period == Period::From {
                    pct(20, 0)
                } else if sold >= day(2008, 4, 1) {
                    pct(15, 0)
                } else {
                    pct(10, 0)
                };
                out.rule = format!(
                    "held 12 months or less: short-term, s.111A at {}%",
                    out.rate.unwrap_or_default()
                );
            } else if sold < LTCG_TAXED_FROM {
                out.category = Category::EquityLongTermExempt;
                out.rate = pct(0, 0);
                out.rule =
                    "held more than 12 months and sold before 1 April 2018: exempt, s.10(38)"
                        .into();
            } else {
                out.category = Category::EquityLongTerm;
                out.rate = if period == Period::From {
                    pct(125, 1)
                } else {
                    pct(10, 0)
                };
                out.rule = format!(
                    "held more than 12 months: long-term, s.112A at {}% above the year's exemption",
                    out.rate.unwrap_or_default()
                );
                if bought < GRANDFATHERED_BEFORE {
                    match piece.fmv {
                        Some(fmv) => {
                            // s.55(2)(ac): the higher of cost and the lower of FMV and the sale price.
                            let fmv_total = piece.quantity * fmv;
                            let grandfathered = cost.max(fmv_total.min(proceeds));
                            out.grandfathered = grandfathered != cost;
                            out.cost = grandfathered;
                            out.rule.push_str(
                                "; bought before 1 February 2018: cost is the higher of the cost and \
                                 the lower of the 31 January 2018 value and the sale price (s.55(2)(ac))",
                            );
                        }
                        None => {
                            out.check_with_ca = true;
                            out.rule.push_str(
                                "; bought before 1 February 2018 but the 31 January 2018 price is not \
                                 loaded: actual cost shown; the grandfathered cost may be higher",
                            );
                        }
                    }
                }
            }
        }
        Asset::DebtFund | Asset::OtherFund => {
            let specified = bought >= SPECIFIED_FUND_FROM
                && (asset == Asset::DebtFund || sold < SPECIFIED_NARROWED);
            if specified {
                out.category = Category::OtherShortTerm;
                out.rule = "a specified mutual fund's units bought from 1 April 2023: short-term \
                            whenever sold, at your slab rate (s.50AA)"
                    .into();
            } else if period == Period::From {
                if held_over(bought, sold, 12) {
                    out.category = Category::OtherLongTerm;
                    out.rate = pct(125, 1);
                    out.rule =
                        "listed fund units held more than 12 months, sold from 23 July 2024: \
                                long-term, s.112 at 12.5% without indexation"
                            .into();
                } else {
                    out.category = Category::OtherShortTerm;
                    out.rule =
                        "listed fund units held 12 months or less: short-term at your slab rate"
                            .into();
                }
            } else if held_over(bought, sold, 36) {
                out.category = Category::CheckWithCa;
                out.check_with_ca = true;
                out.rule = "fund units (not equity-oriented) held more than 36 months, sold before \
                            23 July 2024: long-term, s.112 at 20% after indexation, which needs the \
                            cost inflation index: check with your CA"
                    .into();
            } else {
                out.category = Category::OtherShortTerm;
                out.rule = "fund units (not equity-oriented) held 36 months or less, sold before \
                            23 July 2024: short-term at your slab rate"
                    .into();
            }
        }
        Asset::Unknown => {
            out.check_with_ca = true;
            out.rule = "not a listed Indian share, and its kind of fund cannot be told from its \
                        name: the rule depends on facts KiteMate does not have; check with your CA"
                .into();
        }
    }
    if piece.via == super::super::calc::fifo::Via::Bonus && bought < day(2001, 4, 1) {
        out.check_with_ca = true;
        out.rule.push_str(
            "; bonus shares allotted before 1 April 2001 may take their 1 April 2001 value as cost",
        );
    }
    out
}

/// The yearly exemption of s.112A for the financial year starting in `start_year`.
pub fn exemption(start_year: i32) -> Decimal {
    if start_year >= 2024 {
        Decimal::new(125_000, 0)
    } else if start_year >= 2018 {
        Decimal::new(100_000, 0)
    } else {
        Decimal::ZERO
    }
}
