//! India's GST on a tax invoice: the tax inside a GST-inclusive price,
//! split into CGST + SGST within the supplier's state and IGST across
//! states, in whole paise that add up exactly; GSTINs; financial years.

use chrono::{DateTime, Datelike as _, Utc};

/// The tax lines of one invoice, in paise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tax {
    pub taxable: i64,
    pub cgst: i64,
    pub sgst: i64,
    pub igst: i64,
}

/// The lines of a `total` that includes `percent` GST. Within a state the
/// tax is two equal halves (so a paisa of rounding goes to the taxable
/// value, not to one half); across states it is one IGST line.
pub fn split(total: i64, percent: u32, same_state: bool) -> Tax {
    let p = i128::from(percent);
    let t = i128::from(total);
    // round(t * p / d), half up, in integers.
    let round = |num: i128, den: i128| (2 * num + den) / (2 * den);
    if same_state {
        let half = round(t * p, 2 * (100 + p)) as i64;
        Tax {
            taxable: total - 2 * half,
            cgst: half,
            sgst: half,
            igst: 0,
        }
    } else {
        let igst = round(t * p, 100 + p) as i64;
        Tax {
            taxable: total - igst,
            cgst: 0,
            sgst: 0,
            igst,
        }
    }
}

/// The financial year (April to March, India time) `at` falls in: `2026-27`.
pub fn financial_year(at: DateTime<Utc>) -> String {
    let ist = at.with_timezone(&chrono_tz::Asia::Kolkata);
    let start = if ist.month() >= 4 {
        ist.year()
    } else {
        ist.year() - 1
    };
    format!("{start}-{:02}", (start + 1) % 100)
}

/// `KM/2026-27/000123`.
pub fn invoice_number(fy: &str, sequence: i64) -> String {
    format!("KM/{fy}/{sequence:06}")
}

/// GST state codes in use (01–38, and 97 for other territory).
pub fn is_state_code(code: &str) -> bool {
    code.len() == 2
        && code
            .parse::<u32>()
            .is_ok_and(|n| (1..=38).contains(&n) || n == 97)
}

const GSTIN_CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// A GSTIN: state code, PAN (5 letters, 4 digits, a letter), entity
/// number, `Z`, and the check character of the GSTN's mod-36 scheme.
pub fn is_gstin(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() != 15 || !is_state_code(&text[..2]) {
        return false;
    }
    let pan_ok = b[2..7].iter().all(u8::is_ascii_uppercase)
        && b[7..11].iter().all(u8::is_ascii_digit)
        && b[11].is_ascii_uppercase();
    if !pan_ok || !(b[12].is_ascii_uppercase() || b[12].is_ascii_digit()) || b[13] != b'Z' {
        return false;
    }
    let mut sum = 0usize;
    for (i, c) in b[..14].iter().enumerate() {
        let Some(value) = GSTIN_CHARS.iter().position(|x| x == c) else {
            return false;
        };
        let product = value * if i % 2 == 0 { 1 } else { 2 };
        sum += product / 36 + product % 36;
    }
    GSTIN_CHARS[(36 - sum % 36) % 36] == b[14]
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    #[test]
    fn lines_add_up_for_every_price() {
        for total in [1, 2, 99, 100, 29_900, 299_900, 12_345, 10_000_001] {
            for same in [true, false] {
                let tax = split(total, 18, same);
                assert_eq!(tax.taxable + tax.cgst + tax.sgst + tax.igst, total);
                assert_eq!(tax.cgst, tax.sgst);
                // Within a paisa of the exact share per line.
                let exact = total as f64 * 18.0 / 118.0;
                let got = (tax.cgst + tax.sgst + tax.igst) as f64;
                assert!(
                    (got - exact).abs() <= 1.0,
                    "{total} {same}: {got} vs {exact}"
                );
            }
        }
        // ₹299: taxable ₹253.39, 9 % each ₹22.81 (2 × 2,281 + 25,338 = 29,900).
        assert_eq!(
            split(29_900, 18, true),
            Tax {
                taxable: 25_338,
                cgst: 2_281,
                sgst: 2_281,
                igst: 0
            }
        );
        assert_eq!(
            split(29_900, 18, false),
            Tax {
                taxable: 25_339,
                cgst: 0,
                sgst: 0,
                igst: 4_561
            }
        );
    }

    #[test]
    fn financial_years_turn_on_the_first_of_april_in_india() {
        let at = |y, m, d, h, min| Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap();
        assert_eq!(financial_year(at(2026, 3, 31, 18, 29)), "2025-26");
        // 18:30 UTC on 31 March is midnight in India.
        assert_eq!(financial_year(at(2026, 3, 31, 18, 30)), "2026-27");
        assert_eq!(financial_year(at(2099, 12, 1, 0, 0)), "2099-00");
        assert_eq!(invoice_number("2026-27", 123), "KM/2026-27/000123");
    }

    #[test]
    fn gstins_are_checked_by_their_check_character() {
        assert!(is_gstin("27AAPFU0939F1ZV"));
        assert!(!is_gstin("27AAPFU0939F1ZW"));
        assert!(!is_gstin("99AAPFU0939F1ZV"));
        assert!(!is_gstin("27aapfu0939f1zv"));
        assert!(!is_gstin("27AAPFU0939F1Z"));
        assert!(is_state_code("29") && is_state_code("97") && !is_state_code("00"));
    }
}
