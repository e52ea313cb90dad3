//! Periods as people name them, relative to today (IST): today, yesterday,
//! this week, last month, this FY, last FY, FY 2023-24, YTD, since 2023,
//! March 2024, in 2024, the last 30 days.

use chrono::{Datelike as _, Months, NaiveDate, TimeDelta};

/// A span of days, both ends included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// How the answer names it: "last month (October 2026)".
    pub label: String,
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// `1` for `jan` or `january`: a month's name or its first three letters.
fn month(word: &str) -> Option<u32> {
    MONTHS
        .iter()
        .position(|m| {
            *m == word
                || word == "sept" && *m == "september"
                || word.len() == 3 && m.starts_with(word)
        })
        .map(|i| i as u32 + 1)
}

/// Whether `word` names a month (`march`, `mar`, `sept`).
pub fn is_month(word: &str) -> bool {
    word.len() >= 3 && month(word).is_some()
}

fn year(word: &str) -> Option<i32> {
    let y: i32 = word.trim_start_matches('\'').parse().ok()?;
    match y {
        1990..=2100 => Some(y),
        _ => None,
    }
}

fn month_span(year: i32, month: u32) -> Option<(NaiveDate, NaiveDate)> {
    let from = NaiveDate::from_ymd_opt(year, month, 1)?;
    let to = from.checked_add_months(Months::new(1))? - TimeDelta::days(1);
    Some((from, to))
}

/// The financial year (April–March) starting in `start`.
pub fn fy_span(start: i32) -> Option<(NaiveDate, NaiveDate)> {
    Some((
        NaiveDate::from_ymd_opt(start, 4, 1)?,
        NaiveDate::from_ymd_opt(start + 1, 3, 31)?,
    ))
}

/// The year the financial year holding `day` starts in.
pub fn fy_start(day: NaiveDate) -> i32 {
    if day.month() >= 4 {
        day.year()
    } else {
        day.year() - 1
    }
}

/// `2024-25` for the year starting April 2024.
pub fn fy_name(start: i32) -> String {
    format!("{start}-{:02}", (start + 1) % 100)
}

/// A financial year named in `words`: `fy 2023-24`, `fy24` (the year
/// ending March 2024), `2023-24`, `this fy`, `last financial year`.
pub fn financial_year(words: &[&str], today: NaiveDate) -> Option<i32> {
    let current = fy_start(today);
    for (i, w) in words.iter().enumerate() {
        // 2023-24 or 2023-2024
        if let Some((a, b)) = w.split_once('-')
            && let (Some(a), Ok(b)) = (year(a), b.parse::<i32>())
            && (b == (a + 1) % 100 || b == a + 1)
        {
            return Some(a);
        }
        let is_fy = *w == "fy"
            || *w == "fiscal"
            || (*w == "financial" && words.get(i + 1).is_some_and(|n| n.starts_with("year")));
        if let Some(rest) = w.strip_prefix("fy").filter(|r| !r.is_empty())
            && let Ok(n) = rest.parse::<i32>()
        {
            // fy24: the year ending March 2024.
            return Some(if n < 100 { 2000 + n - 1 } else { n - 1 });
        }
        if is_fy {
            let before = i.checked_sub(1).and_then(|j| words.get(j)).copied();
            match before {
                Some("this" | "current") => return Some(current),
                Some("last" | "previous" | "prior") => return Some(current - 1),
                _ => {}
            }
            let next = words.get(i + 1).copied().unwrap_or("");
            let next = if next.starts_with("year") {
                words.get(i + 2).copied().unwrap_or("")
            } else {
                next
            };
            if let Some((a, _)) = next.split_once('-')
                && let Some(a) = year(a)
            {
                return Some(a);
            }
            if let Ok(n) = next.parse::<i32>() {
                return Some(if n < 100 { 2000 + n - 1 } else { n - 1 });
            }
            return Some(current);
        }
    }
    None
}

/// The period named in `words`, if any.
pub fn period(words: &[&str], today: NaiveDate) -> Option<Period> {
    let span = |from: NaiveDate, to: NaiveDate, label: String| Some(Period { from, to, label });
    let has = |w: &str| words.contains(&w);
    let pair = |a: &str, b: &str| words.windows(2).any(|p| p[0] == a && p[1] == b);
    if let Some(start) = financial_year(words, today) {
        let (from, to) = fy_span(start)?;
        return span(from, to.min(today), format!("FY {}", fy_name(start)));
    }
    if has("today") {
        return span(today, today, "today".into());
    }
    if has("yesterday") {
        let day = today - TimeDelta::days(1);
        return span(day, day, "yesterday".into());
    }
    if has("ytd") || pair("year", "to") || pair("this", "year") {
        let from = NaiveDate::from_ymd_opt(today.year(), 1, 1)?;
        return span(from, today, format!("{} so far", today.year()));
    }
    if pair("last", "year") || pair("previous", "year") {
        let y = today.year() - 1;
        return span(
            NaiveDate::from_ymd_opt(y, 1, 1)?,
            NaiveDate::from_ymd_opt(y, 12, 31)?,
            y.to_string(),
        );
    }
    let week_start = today - TimeDelta::days(i64::from(today.weekday().num_days_from_monday()));
    if pair("this", "week") {
        return span(week_start, today, "this week".into());
    }
    if pair("last", "week") || pair("previous", "week") {
        return span(
            week_start - TimeDelta::days(7),
            week_start - TimeDelta::days(1),
            "last week".into(),
        );
    }
    let month_name = |from: NaiveDate| {
        format!(
            "{} {}",
            capitalized(MONTHS[from.month0() as usize]),
            from.year()
        )
    };
    if pair("this", "month") {
        let (from, _) = month_span(today.year(), today.month())?;
        return span(from, today, month_name(from));
    }
    if pair("last", "month") || pair("previous", "month") {
        let earlier = today.checked_sub_months(Months::new(1))?;
        let (from, to) = month_span(earlier.year(), earlier.month())?;
        return span(from, to, format!("last month ({})", month_name(from)));
    }
    // "last 30 days", "past 3 months", "last two weeks"
    for w in words.windows(3) {
        if matches!(w[0], "last" | "past")
            && let Some(n) = super::money::count(w[1])
            && n > 0
        {
            let from = match w[2].trim_end_matches('s') {
                "day" => today - TimeDelta::days(n - 1),
                "week" => today - TimeDelta::days(7 * n - 1),
                "month" => {
                    today.checked_sub_months(Months::new(u32::try_from(n).ok()?))?
                        + TimeDelta::days(1)
                }
                "year" => {
                    today.checked_sub_months(Months::new(u32::try_from(n * 12).ok()?))?
                        + TimeDelta::days(1)
                }
                _ => continue,
            };
            return span(from, today, format!("the last {n} {}", w[2]));
        }
    }
    // "since march 2024", "since 2023"
    if let Some(at) = words.iter().position(|w| *w == "since" || *w == "from") {
        let rest = &words[at + 1..];
        if let Some(m) = rest.first().and_then(|w| month(w)) {
            let y = rest.get(1).and_then(|w| year(w)).unwrap_or(today.year());
            let (from, _) = month_span(y, m)?;
            return span(from, today, format!("since {}", month_name(from)));
        }
        if let Some(y) = rest.first().and_then(|w| year(w)) {
            let from = NaiveDate::from_ymd_opt(y, 1, 1)?;
            return span(from, today, format!("since {y}"));
        }
    }
    // "march 2024", "in march" (the latest March), "in 2024"
    for (i, w) in words.iter().enumerate() {
        if let Some(m) = month(w) {
            // "may" is also a verb: only with a year or after "in".
            let y = words.get(i + 1).and_then(|w| year(w));
            let after_in = i > 0 && matches!(words[i - 1], "in" | "during" | "of");
            if *w == "may" && y.is_none() && !after_in {
                continue;
            }
            if y.is_none() && !after_in && w.len() < 4 {
                continue;
            }
            let y = y.unwrap_or(if m <= today.month() {
                today.year()
            } else {
                today.year() - 1
            });
            let (from, to) = month_span(y, m)?;
            return span(from, to.min(today), month_name(from));
        }
    }
    for (i, w) in words.iter().enumerate() {
        if let Some(y) = year(w)
            && i > 0
            && matches!(
                words[i - 1],
                "in" | "during" | "of" | "for" | "year" | "calendar"
            )
        {
            return span(
                NaiveDate::from_ymd_opt(y, 1, 1)?,
                NaiveDate::from_ymd_opt(y, 12, 31)?.min(today),
                y.to_string(),
            );
        }
    }
    None
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap_or_default()
    }

    fn span(text: &str) -> Option<(String, String)> {
        let words: Vec<&str> = text.split_whitespace().collect();
        period(&words, day("2026-11-25")).map(|p| (p.from.to_string(), p.to.to_string()))
    }

    #[test]
    fn periods_people_name() {
        let s = |a: &str, b: &str| Some((a.to_string(), b.to_string()));
        assert_eq!(
            span("what did i buy last month"),
            s("2026-10-01", "2026-10-31")
        );
        assert_eq!(span("trades this fy"), s("2026-04-01", "2026-11-25"));
        assert_eq!(span("gains in fy 2023-24"), s("2023-04-01", "2024-03-31"));
        assert_eq!(span("gains fy24"), s("2023-04-01", "2024-03-31"));
        assert_eq!(span("last financial year"), s("2025-04-01", "2026-03-31"));
        assert_eq!(span("ytd"), s("2026-01-01", "2026-11-25"));
        assert_eq!(span("since 2023"), s("2023-01-01", "2026-11-25"));
        assert_eq!(span("trades in march 2024"), s("2024-03-01", "2024-03-31"));
        assert_eq!(span("bought in march"), s("2026-03-01", "2026-03-31"));
        assert_eq!(span("sold in december"), s("2025-12-01", "2025-12-31"));
        assert_eq!(span("last 30 days"), s("2026-10-27", "2026-11-25"));
        assert_eq!(span("in 2024"), s("2024-01-01", "2024-12-31"));
        assert_eq!(span("today"), s("2026-11-25", "2026-11-25"));
        assert_eq!(span("this week"), s("2026-11-23", "2026-11-25"));
        assert_eq!(span("what may i ask"), None);
        assert_eq!(span("how many infy do i have"), None);
    }
}
