//! Views of shared widgets, counted in memory and written a batch at a time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Views counted in memory since the last write: a view is a read, and a
/// write per read would cost every shared page a database write. Views of
/// the last seconds before a stop are lost, which a count of views allows.
#[derive(Debug)]
pub struct Views {
    pending: Mutex<(HashMap<String, i64>, Instant)>,
}

impl Views {
    /// Counts a view of `id`; the batch to write when `every` has passed
    /// since the last (or a thousand widgets wait).
    pub fn count(&self, id: &str, every: Duration) -> Option<HashMap<String, i64>> {
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *pending.0.entry(id.to_string()).or_default() += 1;
        if pending.1.elapsed() < every && pending.0.len() < 1000 {
            return None;
        }
        pending.1 = Instant::now();
        Some(std::mem::take(&mut pending.0))
    }
}

impl Default for Views {
    fn default() -> Self {
        Self {
            pending: Mutex::new((HashMap::new(), Instant::now())),
        }
    }
}
