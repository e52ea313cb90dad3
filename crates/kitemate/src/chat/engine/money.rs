//! Rupees as Indians write and say them: `₹1,23,456.78` (lakh grouping),
//! `1.5 lakh`, `2 crore`, `10k`, `one lakh`.

use rust_decimal::Decimal;

pub use crate::portfolio::text::{inr, percent, signed_inr};

const WORDS: &[(&str, i64)] = &[
    ("zero", 0),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("fifteen", 15),
    ("twenty", 20),
    ("twenty-five", 25),
    ("fifty", 50),
    ("hundred", 100),
];

/// Multipliers, as words and as suffixes.
fn scale(word: &str) -> Option<i64> {
    match word {
        "k" | "thousand" | "thousands" => Some(1_000),
        "l" | "lac" | "lacs" | "lakh" | "lakhs" => Some(100_000),
        "cr" | "crore" | "crores" => Some(10_000_000),
        "m" | "million" | "millions" => Some(1_000_000),
        _ => None,
    }
}

/// A small count in words or digits: `five`, `10`.
pub fn count(word: &str) -> Option<i64> {
    word.parse()
        .ok()
        .or_else(|| WORDS.iter().find(|(w, _)| *w == word).map(|(_, n)| *n))
}

/// An amount in rupees from the words `at` points to (`1,00,000`, `1.5
/// lakh`, `2cr`, `₹50k`, `one lakh`), and how many words it took.
pub fn amount(words: &[&str]) -> Option<(Decimal, usize)> {
    let first = words
        .first()?
        .trim_start_matches('₹')
        .trim_start_matches("rs");
    let first = first.trim_start_matches('.');
    // A suffix glued on: 10k, 2cr, 1.5l.
    let split = first
        .find(|c: char| c.is_ascii_alphabetic())
        .filter(|&at| at > 0);
    let (number, glued) = match split {
        Some(at) => (&first[..at], Some(&first[at..])),
        None => (first, None),
    };
    let value: Decimal = number
        .replace(',', "")
        .parse()
        .ok()
        .or_else(|| count(number).map(Decimal::from))?;
    if let Some(suffix) = glued {
        return Some((value * Decimal::from(scale(suffix)?), 1));
    }
    match words.get(1).and_then(|w| scale(w)) {
        Some(multiplier) => Some((value * Decimal::from(multiplier), 2)),
        None => Some((value, 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portfolio::Paise;

    #[test]
    fn rupees_are_grouped_the_indian_way() {
        assert_eq!(inr(Paise::new(12_345_678)), "₹1,23,456.78");
        assert_eq!(inr(Paise::new(100_000_000_000)), "₹1,00,00,00,000");
        assert_eq!(inr(Paise::new(99_900)), "₹999");
        assert_eq!(inr(Paise::new(-150_050)), "-₹1,500.50");
        assert_eq!(signed_inr(Paise::new(120_000)), "+₹1,200");
        assert_eq!(inr(Paise::new(5)), "₹0.05");
    }

    #[test]
    fn amounts_in_words_and_figures() {
        let d = |s: &str| s.parse::<Decimal>().unwrap_or_default();
        assert_eq!(amount(&["1,00,000"]), Some((d("100000"), 1)));
        assert_eq!(amount(&["1.5", "lakh"]), Some((d("150000"), 2)));
        assert_eq!(amount(&["2cr"]), Some((d("20000000"), 1)));
        assert_eq!(amount(&["₹50k"]), Some((d("50000"), 1)));
        assert_eq!(amount(&["one", "lakh"]), Some((d("100000"), 2)));
        assert_eq!(amount(&["ten", "crore"]), Some((d("100000000"), 2)));
        assert_eq!(amount(&["500"]), Some((d("500"), 1)));
        assert_eq!(amount(&["shares"]), None);
    }
}
