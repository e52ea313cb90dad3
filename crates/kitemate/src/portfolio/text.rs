//! Rupees and percentages as Indians write them: `₹1,23,456.78` (lakh
//! grouping), and short forms for chart axes (`₹1.5L`, `₹2.3Cr`).

use super::model::{Paise, Percent};

/// `₹1,23,456.78`; whole rupees lose the `.00`.
pub fn inr(amount: Paise) -> String {
    let paise = amount.get();
    let sign = if paise < 0 { "-" } else { "" };
    let abs = paise.unsigned_abs();
    let (rupees, fraction) = (abs / 100, abs % 100);
    let digits = rupees.to_string();
    let grouped = if digits.len() <= 3 {
        digits
    } else {
        // The last three digits, then pairs: 12,34,56,789.
        let (head, tail) = digits.split_at(digits.len() - 3);
        let mut pairs = Vec::new();
        let mut rest = head;
        while rest.len() > 2 {
            let (more, pair) = rest.split_at(rest.len() - 2);
            pairs.push(pair);
            rest = more;
        }
        pairs.push(rest);
        pairs.reverse();
        format!("{},{tail}", pairs.join(","))
    };
    if fraction == 0 {
        format!("{sign}₹{grouped}")
    } else {
        format!("{sign}₹{grouped}.{fraction:02}")
    }
}

/// `+₹1,200` or `-₹300`: a change, with its sign always shown.
pub fn signed_inr(amount: Paise) -> String {
    if amount > Paise::ZERO {
        format!("+{}", inr(amount))
    } else {
        inr(amount)
    }
}

/// `12.5%`.
pub fn percent(p: Percent) -> String {
    format!("{p}%")
}

/// A short label for an axis or a slice: `₹950`, `₹12K`, `₹1.5L`, `₹2.3Cr`.
pub fn short_inr(amount: Paise) -> String {
    let rupees = amount.get() as f64 / 100.0;
    let sign = if rupees < 0.0 { "-" } else { "" };
    let abs = rupees.abs();
    let (value, unit) = if abs >= 1e7 {
        (abs / 1e7, "Cr")
    } else if abs >= 1e5 {
        (abs / 1e5, "L")
    } else if abs >= 1e3 {
        (abs / 1e3, "K")
    } else {
        (abs, "")
    };
    let text = if unit.is_empty() || value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}").trim_end_matches(".0").to_string()
    };
    format!("{sign}₹{text}{unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_the_indian_way() {
        assert_eq!(inr(Paise::new(12_345_678)), "₹1,23,456.78");
        assert_eq!(inr(Paise::new(-100_000_000)), "-₹10,00,000");
        assert_eq!(signed_inr(Paise::new(120_000)), "+₹1,200");
        assert_eq!(short_inr(Paise::new(95_000)), "₹950");
        assert_eq!(short_inr(Paise::new(1_200_000)), "₹12K");
        assert_eq!(short_inr(Paise::new(15_000_000)), "₹1.5L");
        assert_eq!(short_inr(Paise::new(2_300_000_000)), "₹2.3Cr");
        assert_eq!(short_inr(Paise::new(-50_000_000)), "-₹5L");
    }
}
