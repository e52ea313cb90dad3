//! When a job runs: `every` an interval that divides a day, or a cron
//! expression, in a time zone.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// A job's schedule, checked when the app starts.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// Ticks at local midnight and every `interval` after it.
    Every { interval: Duration, text: String },
    /// A five-field cron expression (or six, with seconds first).
    Cron {
        cron: Box<croner::Cron>,
        text: String,
    },
}

/// Why a schedule or time zone was refused; names what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ScheduleError(String);

impl Schedule {
    /// `every: "2h"`: hours, minutes and seconds (`1h30m`, `90s`); it must divide
    /// 24 hours evenly, so that ticks fall at the same times every day.
    pub fn every(text: &str) -> Result<Self, ScheduleError> {
        let interval = parse_interval(text)?;
        let secs = interval.as_secs();
        if secs == 0 || 86_400 % secs != 0 {
            return Err(ScheduleError(format!(
                "every {text:?}: the interval must divide 24 hours evenly (such as 1m, 5m, 2h, 6h)"
            )));
        }
        Ok(Self::Every {
            interval,
            text: text.to_string(),
        })
    }

    /// A cron expression such as `0 18 * * 1-5` (18:00 on weekdays).
    pub fn cron(text: &str) -> Result<Self, ScheduleError> {
        let cron = croner::Cron::from_str(text)
            .map_err(|err| ScheduleError(format!("cron {text:?}: {err}")))?;
        Ok(Self::Cron {
            cron: Box::new(cron),
            text: text.to_string(),
        })
    }

    /// Reads what [`Schedule::describe`] writes: `every 2h` or `cron 0 18 * * 1-5`.
    pub fn parse(text: &str) -> Result<Self, ScheduleError> {
        let text = text.trim();
        if let Some(every) = text.strip_prefix("every ") {
            Self::every(every.trim())
        } else if let Some(cron) = text.strip_prefix("cron ") {
            Self::cron(cron.trim())
        } else {
            Err(ScheduleError(format!(
                "{text:?}: write `every 2h` or `cron 0 18 * * 1-5`"
            )))
        }
    }

    /// How the schedule reads: `every 2h` or `cron 0 18 * * 1-5`.
    pub fn describe(&self) -> String {
        match self {
            Self::Every { text, .. } => format!("every {text}"),
            Self::Cron { text, .. } => format!("cron {text}"),
        }
    }

    /// The first tick strictly after `after`, in `tz`, on a whole second.
    ///
    /// Ticks must not depend on when each replica asks: two replicas asking
    /// a few milliseconds apart must get the same tick, or both would run it.
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let after = after.with_nanosecond(0)?;
        let mut from = after;
        // Daylight-saving overlaps can make a search land on or before
        // `after`; step past it.
        for _ in 0..4 {
            let next = self.search(from, tz)?.with_nanosecond(0)?;
            if next > after {
                return Some(next);
            }
            from = next + TimeDelta::seconds(1);
        }
        None
    }

    fn search(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&tz);
        match self {
            Self::Every { interval, .. } => {
                let step = TimeDelta::from_std(*interval).ok()?;
                // Where local midnight does not exist (a daylight-saving
                // gap), the day starts an hour later.
                let day = local.date_naive();
                let midnight = tz
                    .from_local_datetime(&day.and_time(NaiveTime::MIN))
                    .earliest()
                    .or_else(|| {
                        tz.from_local_datetime(&day.and_hms_opt(1, 0, 0)?)
                            .earliest()
                    })?
                    .with_timezone(&Utc);
                let elapsed = (after - midnight).num_milliseconds();
                let step_ms = step.num_milliseconds();
                let ticks = elapsed.div_euclid(step_ms) + 1;
                Some(midnight + TimeDelta::milliseconds(ticks * step_ms))
            }
            Self::Cron { cron, .. } => cron
                .find_next_occurrence(&local, false)
                .ok()
                .map(|t| t.with_timezone(&Utc)),
        }
    }
}

fn parse_interval(text: &str) -> Result<Duration, ScheduleError> {
    let bad = || ScheduleError(format!("every {text:?}: write it as 30s, 5m, 2h or 1h30m"));
    let mut total = 0u64;
    let mut digits = String::new();
    for ch in text.trim().chars() {
        if ch.is_ascii_digit() {
            digits.push(ch);
            continue;
        }
        let unit = match ch {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
        let n: u64 = digits.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|part| total.checked_add(part))
            .ok_or_else(bad)?;
        digits.clear();
    }
    if !digits.is_empty() || total == 0 {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

/// A time zone by its IANA name, such as `Asia/Kolkata`.
pub fn time_zone(name: &str) -> Result<Tz, ScheduleError> {
    name.parse().map_err(|_| {
        ScheduleError(format!(
            "time zone {name:?} is not an IANA name like Asia/Kolkata"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn every_must_divide_a_day() {
        assert!(Schedule::every("2h").is_ok());
        assert!(Schedule::every("1h30m").is_ok());
        assert!(Schedule::every("90s").is_ok());
        let err = Schedule::every("7h").unwrap_err().to_string();
        assert!(err.contains("must divide 24 hours"), "{err}");
        assert!(Schedule::every("2x").is_err());
        assert!(Schedule::every("").is_err());
        assert!(Schedule::every("0s").is_err());
        assert!(Schedule::every("99999999999999999999h").is_err());
    }

    #[test]
    fn every_ticks_from_local_midnight() {
        let ist = time_zone("Asia/Kolkata").unwrap();
        let every_hour = Schedule::every("1h").unwrap();
        // 10:10 UTC is 15:40 IST; the next IST hour is 16:00 IST = 10:30 UTC.
        let next = every_hour
            .next_after(at("2026-11-25T10:10:00Z"), ist)
            .unwrap();
        assert_eq!(next, at("2026-11-25T10:30:00Z"));
        let next = every_hour
            .next_after(at("2026-11-25T10:10:00Z"), Tz::UTC)
            .unwrap();
        assert_eq!(next, at("2026-11-25T11:00:00Z"));
        // Strictly after: on a tick, the next one.
        let next = every_hour
            .next_after(at("2026-11-25T11:00:00Z"), Tz::UTC)
            .unwrap();
        assert_eq!(next, at("2026-11-25T12:00:00Z"));
    }

    #[test]
    fn cron_runs_in_its_time_zone() {
        let ist = time_zone("Asia/Kolkata").unwrap();
        // 18:00 IST on weekdays; 2026-11-27 is a Friday, 28 a Saturday.
        let close = Schedule::cron("0 18 * * 1-5").unwrap();
        let next = close.next_after(at("2026-11-27T13:00:00Z"), ist).unwrap();
        assert_eq!(
            next,
            at("2026-11-30T12:30:00Z"),
            "Friday's 18:00 IST (12:30 UTC) has passed; next is Monday"
        );
        let next = close.next_after(at("2026-11-27T12:00:00Z"), ist).unwrap();
        assert_eq!(next, at("2026-11-27T12:30:00Z"));
        assert!(Schedule::cron("not a cron").is_err());
        // Replicas asking a few milliseconds apart agree on the tick.
        let a = close
            .next_after(at("2026-11-27T12:00:00.123Z"), ist)
            .unwrap();
        let b = close
            .next_after(at("2026-11-27T12:00:00.987Z"), ist)
            .unwrap();
        assert_eq!(
            (a, b),
            (at("2026-11-27T12:30:00Z"), at("2026-11-27T12:30:00Z"))
        );
        assert!(time_zone("Mars/Olympus").is_err());
    }
}
