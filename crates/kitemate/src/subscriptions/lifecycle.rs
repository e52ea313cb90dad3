//! A subscription's life as the providers' events tell it, applied so that
//! order does not matter: the status moves only to what a newer event says
//! (and never out of an ending), the paid period only lengthens, a grace
//! starts once per failure. Whether it makes its owner Pro at a moment
//! follows from that state alone. Pure functions; the service stores.

/// What one provider event says about one subscription (times in Unix
/// seconds, `at` the provider's time of the event).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observation {
    pub at: i64,
    pub status: Option<String>,
    pub period_end: Option<i64>,
    pub next_charge_at: Option<i64>,
    pub cancel_at_period_end: Option<bool>,
    pub customer_id: Option<String>,
}

/// A subscription's state as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub status: String,
    pub period_end: Option<i64>,
    pub next_charge_at: Option<i64>,
    pub cancel_at_period_end: bool,
    pub grace_until: Option<i64>,
    pub hint_until: Option<i64>,
    pub last_event_at: i64,
    pub customer_id: Option<String>,
}

/// Statuses nothing moves out of (both providers' words, and ours for a
/// full refund).
pub fn is_final(status: &str) -> bool {
    matches!(
        status,
        "cancelled" | "canceled" | "completed" | "expired" | "incomplete_expired" | "refunded"
    )
}

/// How far along the lifecycle a status is, to order two events of the
/// same second.
fn rank(status: &str) -> u8 {
    match status {
        "checkout" => 0,
        "created" | "incomplete" => 1,
        "authenticated" => 2,
        "active" | "trialing" => 3,
        "pending" | "past_due" => 4,
        "halted" | "unpaid" | "paused" => 5,
        _ => 6,
    }
}

/// Whether the status is dunning: a charge failed and the provider retries.
fn is_dunning(status: &str) -> bool {
    matches!(status, "pending" | "past_due")
}

/// Applies `seen` to `state`; `grace` is how long Pro lasts after a
/// failed charge. Answers whether the status changed.
pub fn apply(state: &mut State, seen: &Observation, grace: i64) -> bool {
    let newer = seen.at >= state.last_event_at;
    let mut changed = false;
    if let Some(status) = seen.status.as_deref()
        && status != state.status
    {
        let moves = if is_final(&state.status) {
            false
        } else if is_final(status) {
            // An ending stands whenever it arrives.
            true
        } else if seen.at == state.last_event_at {
            rank(status) >= rank(&state.status)
        } else {
            newer
        };
        if moves {
            state.status = status.to_string();
            changed = true;
        }
    }
    if changed || seen.status.as_deref() == Some(state.status.as_str()) {
        if is_dunning(&state.status) {
            // From the first failure of this episode, whichever arrives first.
            let from_this = seen.at.saturating_add(grace);
            state.grace_until = Some(state.grace_until.map_or(from_this, |g| g.min(from_this)));
        } else if matches!(state.status.as_str(), "active" | "trialing") && newer {
            state.grace_until = None;
        }
    }
    if let Some(end) = seen.period_end {
        state.period_end = Some(state.period_end.map_or(end, |have| have.max(end)));
    }
    if newer {
        if let Some(next) = seen.next_charge_at {
            state.next_charge_at = Some(next);
        }
        if let Some(cancel) = seen.cancel_at_period_end {
            state.cancel_at_period_end = cancel;
        }
        state.last_event_at = seen.at;
    }
    if let Some(customer) = &seen.customer_id {
        state.customer_id.get_or_insert_with(|| customer.clone());
    }
    changed
}

/// Whether `state` makes its owner Pro at `now`, and until when (`None`:
/// until some event says otherwise).
pub fn entitlement(state: &State, now: i64) -> Option<Option<i64>> {
    let until = |end: Option<i64>| end.filter(|end| now < *end).map(Some);
    match state.status.as_str() {
        "active" | "trialing" if state.cancel_at_period_end => {
            // Safety net: marked to cancel, so never past the period's end.
            match state.period_end {
                Some(end) => until(Some(end)),
                None => Some(None),
            }
        }
        "active" | "trialing" => Some(None),
        s if is_dunning(s) => until(state.grace_until),
        // Razorpay: a cancelled or completed subscription keeps what was paid for.
        "cancelled" | "completed" => until(state.period_end),
        // A verified Checkout callback, until the webhook says more.
        "checkout" | "created" | "authenticated" => until(state.hint_until),
        _ => None,
    }
}

/// The later of two ends, where `None` runs on.
pub fn later(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: i64 = 7 * 86_400;

    fn seen(at: i64, status: &str, end: Option<i64>) -> Observation {
        Observation {
            at,
            status: Some(status.into()),
            period_end: end,
            ..Observation::default()
        }
    }

    fn run(events: &[Observation]) -> State {
        let mut state = State {
            status: "created".into(),
            ..State::default()
        };
        for e in events {
            apply(&mut state, e, GRACE);
        }
        state
    }

    #[test]
    fn order_does_not_change_the_outcome() {
        let authenticated = seen(100, "authenticated", None);
        let activated = seen(110, "active", Some(1000));
        let charged = seen(110, "active", Some(1000));
        let renewed = seen(1000, "active", Some(2000));
        let cancelled = seen(1500, "cancelled", Some(2000));
        let all = [authenticated, activated, charged, renewed, cancelled];
        let expected = run(&all);
        assert_eq!(expected.status, "cancelled");
        assert_eq!(expected.period_end, Some(2000));
        // Every order of the five (and each twice) ends the same.
        let mut order: Vec<usize> = (0..all.len()).collect();
        for _ in 0..120 {
            let shuffled: Vec<Observation> = order
                .iter()
                .flat_map(|&i| [all[i].clone(), all[i].clone()])
                .collect();
            let got = run(&shuffled);
            assert_eq!(
                (got.status, got.period_end),
                ("cancelled".into(), Some(2000))
            );
            next_permutation(&mut order);
        }
        assert_eq!(entitlement(&expected, 1999), Some(Some(2000)));
        assert_eq!(entitlement(&expected, 2000), None);
    }

    #[test]
    fn a_failed_charge_keeps_pro_for_the_grace_then_recovers() {
        let mut state = run(&[seen(100, "active", Some(1000))]);
        apply(&mut state, &seen(1000, "pending", None), GRACE);
        assert_eq!(state.grace_until, Some(1000 + GRACE));
        // A second failure does not lengthen the grace.
        apply(&mut state, &seen(90_000, "pending", None), GRACE);
        assert_eq!(state.grace_until, Some(1000 + GRACE));
        // An earlier failure heard late shortens it to its own start.
        let mut late = run(&[
            seen(100, "active", Some(1000)),
            seen(90_000, "pending", None),
        ]);
        apply(&mut late, &seen(1000, "pending", None), GRACE);
        assert_eq!(late.grace_until, Some(1000 + GRACE));
        assert_eq!(
            entitlement(&state, 1000 + GRACE - 1),
            Some(Some(1000 + GRACE))
        );
        assert_eq!(entitlement(&state, 1000 + GRACE), None);
        apply(&mut state, &seen(200_000, "active", Some(3_000_000)), GRACE);
        assert_eq!(
            (state.grace_until, entitlement(&state, 200_001)),
            (None, Some(None))
        );
        // A late copy of the failure changes nothing.
        apply(&mut state, &seen(90_000, "pending", None), GRACE);
        assert_eq!(state.status, "active");
        assert_eq!(state.grace_until, None);
    }

    #[test]
    fn halted_is_free_and_endings_stand() {
        let state = run(&[seen(1, "active", Some(50)), seen(60, "halted", None)]);
        assert_eq!(entitlement(&state, 61), None);
        let state = run(&[seen(5, "cancelled", Some(50)), seen(9, "active", Some(40))]);
        assert_eq!(state.status, "cancelled");
        let state = run(&[seen(9, "canceled", None), seen(5, "active", Some(40))]);
        assert_eq!(
            entitlement(&state, 10),
            None,
            "Stripe's canceled is Free at once"
        );
    }

    #[test]
    fn cancel_at_period_end_is_pro_until_then() {
        let mut state = run(&[seen(1, "active", Some(100))]);
        apply(
            &mut state,
            &Observation {
                at: 2,
                cancel_at_period_end: Some(true),
                ..Observation::default()
            },
            GRACE,
        );
        assert_eq!(entitlement(&state, 99), Some(Some(100)));
        assert_eq!(entitlement(&state, 100), None);
        // An older event does not take the cancellation back.
        apply(
            &mut state,
            &Observation {
                at: 1,
                cancel_at_period_end: Some(false),
                ..Observation::default()
            },
            GRACE,
        );
        assert!(state.cancel_at_period_end);
    }

    fn next_permutation(v: &mut [usize]) {
        let n = v.len();
        let Some(i) = (0..n - 1).rev().find(|&i| v[i] < v[i + 1]) else {
            v.reverse();
            return;
        };
        let j = (i + 1..n).rev().find(|&j| v[j] > v[i]).unwrap_or(i + 1);
        v.swap(i, j);
        v[i + 1..].reverse();
    }
}
