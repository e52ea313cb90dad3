//! The current time as a dependency, so that expiry can be tested without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;

/// India's time zone: trading days, financial years and monthly allowances
/// all turn at midnight here.
pub const IST: Tz = chrono_tz::Asia::Kolkata;

/// Where "now" comes from. The system clock in the app; a manual one in tests.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Milliseconds added to the system time.
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + TimeDelta::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Now, on the clock in India.
    pub fn now_ist(&self) -> DateTime<Tz> {
        self.now().with_timezone(&IST)
    }

    /// Today's date in India.
    pub fn today_ist(&self) -> NaiveDate {
        self.now_ist().date_naive()
    }

    /// Moves this clock (and every clone of it) forward; for tests.
    pub fn advance(&self, by: TimeDelta) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
}
