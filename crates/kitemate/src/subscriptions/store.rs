//! SQL of the subscriptions service. Times are Unix seconds.

use platform::db::{Db, Tx};
use platform::{with_db, with_tx};

#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub(super) struct SubRow {
    pub id: String,
    pub user_id: String,
    pub provider: String,
    pub provider_subscription_id: Option<String>,
    pub checkout_id: Option<String>,
    pub checkout_url: Option<String>,
    pub plan: String,
    pub status: String,
    pub customer_id: Option<String>,
    pub period_end: Option<i64>,
    pub next_charge_at: Option<i64>,
    pub cancel_at_period_end: bool,
    pub grace_until: Option<i64>,
    pub hint_until: Option<i64>,
    pub last_event_at: i64,
    pub expire_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Rows read to be changed are locked on PostgreSQL (two deliveries about
/// one subscription must not both read, then both write); SQLite has one
/// writer, which serialises them already.
fn lock(tx: &mut Tx) -> &'static str {
    if tx.is_sqlite() { "" } else { " FOR UPDATE" }
}

const SUB_COLUMNS: &str = "id, user_id, provider, provider_subscription_id, checkout_id, checkout_url, plan, \
    status, customer_id, period_end, next_charge_at, cancel_at_period_end, grace_until, \
    hint_until, last_event_at, expire_by, created_at, updated_at";

/// Records a delivery by its provider event id; `false` when it was
/// recorded before (a duplicate).
pub(super) async fn record_delivery(
    tx: &mut Tx,
    provider: &str,
    event_id: &str,
    kind: &str,
    body_sha256: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO webhook_events (provider, event_id, kind, body_sha256, received_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (provider, event_id) DO NOTHING",
        )
        .bind(provider)
        .bind(event_id)
        .bind(kind)
        .bind(body_sha256)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|done| done.rows_affected() == 1)
    })
}

/// What applying a delivery came to, in the transaction of its effect.
pub(super) async fn finish_delivery(
    tx: &mut Tx,
    provider: &str,
    event_id: &str,
    outcome: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO delivery_outcomes (provider, event_id, outcome, handled_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (provider, event_id) DO NOTHING",
        )
        .bind(provider)
        .bind(event_id)
        .bind(outcome)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}

/// Deliveries recorded, in the inbox database.
pub(super) async fn deliveries_count(inbox: &Db) -> Result<i64, sqlx::Error> {
    with_db!(inbox, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events")
            .fetch_one(pool)
            .await
    })
}

/// Deliveries handled, payments and invoices.
pub(super) async fn ledger_counts(db: &Db) -> Result<(i64, i64, i64), sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as::<_, (i64, i64, i64)>(
            "SELECT (SELECT COUNT(*) FROM delivery_outcomes), \
             (SELECT COUNT(*) FROM payments), (SELECT COUNT(*) FROM invoices)",
        )
        .fetch_one(pool)
        .await
    })
}

/// The subscription the provider knows as `provider_id`.
pub(super) async fn by_provider_id(
    tx: &mut Tx,
    provider: &str,
    provider_id: &str,
) -> Result<Option<SubRow>, sqlx::Error> {
    let lock = lock(tx);
    with_tx!(tx, |conn| {
        sqlx::query_as::<_, SubRow>(&format!(
            "SELECT {SUB_COLUMNS} FROM subscriptions \
             WHERE provider = $1 AND provider_subscription_id = $2{lock}"
        ))
        .bind(provider)
        .bind(provider_id)
        .fetch_optional(&mut *conn)
        .await
    })
}

pub(super) async fn by_checkout(
    tx: &mut Tx,
    checkout_id: &str,
) -> Result<Option<SubRow>, sqlx::Error> {
    let lock = lock(tx);
    with_tx!(tx, |conn| {
        sqlx::query_as::<_, SubRow>(&format!(
            "SELECT {SUB_COLUMNS} FROM subscriptions WHERE checkout_id = $1{lock}"
        ))
        .bind(checkout_id)
        .fetch_optional(&mut *conn)
        .await
    })
}

/// The user's subscriptions, newest first (a user has a handful).
pub(super) async fn of_user_in(tx: &mut Tx, user_id: &str) -> Result<Vec<SubRow>, sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query_as::<_, SubRow>(&format!(
            "SELECT {SUB_COLUMNS} FROM subscriptions WHERE user_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT 50"
        ))
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await
    })
}

pub(super) async fn of_user(db: &Db, user_id: &str) -> Result<Vec<SubRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as::<_, SubRow>(&format!(
            "SELECT {SUB_COLUMNS} FROM subscriptions WHERE user_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT 50"
        ))
        .bind(user_id)
        .fetch_all(pool)
        .await
    })
}

/// Subscriptions a provider may still change (for reconciliation), after
/// `after` by id, at most `limit`.
pub(super) async fn open(db: &Db, after: &str, limit: i64) -> Result<Vec<SubRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as::<_, SubRow>(&format!(
            "SELECT {SUB_COLUMNS} FROM subscriptions WHERE id > $1 \
             AND provider_subscription_id IS NOT NULL \
             AND status NOT IN ('cancelled', 'canceled', 'completed', 'expired', \
                                'incomplete_expired', 'refunded') \
             ORDER BY id LIMIT $2"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

pub(super) async fn insert(tx: &mut Tx, row: &SubRow) -> Result<(), sqlx::Error> {
    insert_unless(tx, row, "").await
}

/// Writes `row`, with `conflict` (an `ON CONFLICT` clause) after it.
async fn insert_unless(tx: &mut Tx, row: &SubRow, conflict: &str) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(&format!(
            "INSERT INTO subscriptions ({SUB_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
             {conflict}"
        ))
        .bind(&row.id)
        .bind(&row.user_id)
        .bind(&row.provider)
        .bind(&row.provider_subscription_id)
        .bind(&row.checkout_id)
        .bind(&row.checkout_url)
        .bind(&row.plan)
        .bind(&row.status)
        .bind(&row.customer_id)
        .bind(row.period_end)
        .bind(row.next_charge_at)
        .bind(row.cancel_at_period_end)
        .bind(row.grace_until)
        .bind(row.hint_until)
        .bind(row.last_event_at)
        .bind(row.expire_by)
        .bind(row.created_at)
        .bind(row.updated_at)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}

/// Writes `row` unless the provider's subscription is known already (two
/// first deliveries at once); answers the stored row, locked.
pub(super) async fn insert_or_get(
    tx: &mut Tx,
    row: &SubRow,
) -> Result<Option<SubRow>, sqlx::Error> {
    insert_unless(
        tx,
        row,
        "ON CONFLICT (provider, provider_subscription_id) DO NOTHING",
    )
    .await?;
    let id = row.provider_subscription_id.as_deref().unwrap_or_default();
    by_provider_id(tx, &row.provider, id).await
}

/// Writes every changeable field of `row` back.
pub(super) async fn update(tx: &mut Tx, row: &SubRow) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE subscriptions SET provider_subscription_id = $2, status = $3, \
             customer_id = $4, period_end = $5, next_charge_at = $6, cancel_at_period_end = $7, \
             grace_until = $8, hint_until = $9, last_event_at = $10, updated_at = $11, plan = $12 \
             WHERE id = $1",
        )
        .bind(&row.id)
        .bind(&row.provider_subscription_id)
        .bind(&row.status)
        .bind(&row.customer_id)
        .bind(row.period_end)
        .bind(row.next_charge_at)
        .bind(row.cancel_at_period_end)
        .bind(row.grace_until)
        .bind(row.hint_until)
        .bind(row.last_event_at)
        .bind(row.updated_at)
        .bind(&row.plan)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}

pub(super) async fn delete(tx: &mut Tx, id: &str) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query("DELETE FROM subscriptions WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await
            .map(|_| ())
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct TierRow {
    pub tier: String,
    pub version: i64,
    pub pro_until: Option<i64>,
    pub granted: bool,
}

/// The user's tier row, locked for this transaction on PostgreSQL (made
/// Free first when missing), so changes of one user's tier queue.
pub(super) async fn tier(tx: &mut Tx, user_id: &str, now: i64) -> Result<TierRow, sqlx::Error> {
    let lock = lock(tx);
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO tiers (user_id, tier, version, pro_until, granted, updated_at) \
             VALUES ($1, 'free', 0, NULL, FALSE, $2) ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        sqlx::query_as::<_, TierRow>(&format!(
            "SELECT tier, version, pro_until, granted FROM tiers WHERE user_id = $1{lock}"
        ))
        .bind(user_id)
        .fetch_one(&mut *conn)
        .await
    })
}

pub(super) async fn tier_of(db: &Db, user_id: &str) -> Result<Option<TierRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as::<_, TierRow>(
            "SELECT tier, version, pro_until, granted FROM tiers WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await
    })
}

pub(super) async fn put_tier(
    tx: &mut Tx,
    user_id: &str,
    row: &TierRow,
    now: i64,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO tiers (user_id, tier, version, pro_until, granted, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id) DO UPDATE SET \
             tier = excluded.tier, version = excluded.version, pro_until = excluded.pro_until, \
             granted = excluded.granted, updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(&row.tier)
        .bind(row.version)
        .bind(row.pro_until)
        .bind(row.granted)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}

/// Users whose Pro has run out by `now` with no event saying so, at most `limit`.
pub(super) async fn lapsed(db: &Db, now: i64, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar::<_, String>(
            "SELECT user_id FROM tiers WHERE pro_until <= $1 ORDER BY pro_until LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct PaymentRow {
    pub user_id: String,
    pub subscription_id: String,
    pub amount: i64,
    pub refunded: i64,
}

/// Records a charge; `false` when it was recorded before.
pub(super) async fn add_payment(
    tx: &mut Tx,
    provider: &str,
    payment_id: &str,
    row: &PaymentRow,
    currency: &str,
    paid_at: i64,
) -> Result<bool, sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO payments (provider, payment_id, user_id, subscription_id, amount, \
             currency, refunded, paid_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7) \
             ON CONFLICT (provider, payment_id) DO NOTHING",
        )
        .bind(provider)
        .bind(payment_id)
        .bind(&row.user_id)
        .bind(&row.subscription_id)
        .bind(row.amount)
        .bind(currency)
        .bind(paid_at)
        .execute(&mut *conn)
        .await
        .map(|done| done.rows_affected() == 1)
    })
}

pub(super) async fn payment(
    tx: &mut Tx,
    provider: &str,
    payment_id: &str,
) -> Result<Option<PaymentRow>, sqlx::Error> {
    let lock = lock(tx);
    with_tx!(tx, |conn| {
        sqlx::query_as::<_, PaymentRow>(&format!(
            "SELECT user_id, subscription_id, amount, refunded FROM payments \
             WHERE provider = $1 AND payment_id = $2{lock}"
        ))
        .bind(provider)
        .bind(payment_id)
        .fetch_optional(&mut *conn)
        .await
    })
}

pub(super) async fn set_refunded(
    tx: &mut Tx,
    provider: &str,
    payment_id: &str,
    refunded: i64,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query("UPDATE payments SET refunded = $3 WHERE provider = $1 AND payment_id = $2")
            .bind(provider)
            .bind(payment_id)
            .bind(refunded)
            .execute(&mut *conn)
            .await
            .map(|_| ())
    })
}

/// The user whose subscription the provider's customer id is on.
pub(super) async fn user_of_customer(
    tx: &mut Tx,
    provider: &str,
    customer_id: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query_as::<_, (String, String)>(
            "SELECT user_id, id FROM subscriptions WHERE provider = $1 AND customer_id = $2 \
             ORDER BY created_at DESC LIMIT 1",
        )
        .bind(provider)
        .bind(customer_id)
        .fetch_optional(&mut *conn)
        .await
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct DetailsRow {
    pub name: String,
    pub address: String,
    pub state_code: String,
    pub gstin: Option<String>,
}

pub(super) async fn details_in(
    tx: &mut Tx,
    user_id: &str,
) -> Result<Option<DetailsRow>, sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query_as::<_, DetailsRow>(
            "SELECT name, address, state_code, gstin FROM billing_details WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await
    })
}

pub(super) async fn details(db: &Db, user_id: &str) -> Result<Option<DetailsRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as::<_, DetailsRow>(
            "SELECT name, address, state_code, gstin FROM billing_details WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await
    })
}

pub(super) async fn put_details(
    tx: &mut Tx,
    user_id: &str,
    row: &DetailsRow,
    now: i64,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO billing_details (user_id, name, address, state_code, gstin, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id) DO UPDATE SET \
             name = excluded.name, address = excluded.address, state_code = excluded.state_code, \
             gstin = excluded.gstin, updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(&row.name)
        .bind(&row.address)
        .bind(&row.state_code)
        .bind(&row.gstin)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}

/// The next invoice number of financial year `fy`, taken in `tx`: a
/// rolled-back invoice gives its number back, so numbers have no gaps.
pub(super) async fn next_invoice_number(tx: &mut Tx, fy: &str) -> Result<i64, sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO invoice_counters (fy, last) VALUES ($1, 1) \
             ON CONFLICT (fy) DO UPDATE SET last = invoice_counters.last + 1 RETURNING last",
        )
        .bind(fy)
        .fetch_one(&mut *conn)
        .await
    })
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct InvoiceRow {
    pub id: String,
    pub number: String,
    pub user_id: String,
    pub provider: String,
    pub payment_id: String,
    pub plan: String,
    pub issued_at: i64,
    pub period_start: Option<i64>,
    pub period_end: Option<i64>,
    pub total: i64,
    pub taxable: i64,
    pub cgst: i64,
    pub sgst: i64,
    pub igst: i64,
    pub seller: String,
    pub customer: String,
}

const INVOICE_COLUMNS: &str = "id, number, user_id, provider, payment_id, plan, issued_at, \
    period_start, period_end, total, taxable, cgst, sgst, igst, seller, customer";

pub(super) async fn add_invoice(tx: &mut Tx, row: &InvoiceRow) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(&format!(
            "INSERT INTO invoices ({INVOICE_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        ))
        .bind(&row.id)
        .bind(&row.number)
        .bind(&row.user_id)
        .bind(&row.provider)
        .bind(&row.payment_id)
        .bind(&row.plan)
        .bind(row.issued_at)
        .bind(row.period_start)
        .bind(row.period_end)
        .bind(row.total)
        .bind(row.taxable)
        .bind(row.cgst)
        .bind(row.sgst)
        .bind(row.igst)
        .bind(&row.seller)
        .bind(&row.customer)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}

/// A page of the user's invoices older than `before` (an id), newest first.
pub(super) async fn invoices(
    db: &Db,
    user_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<(Vec<InvoiceRow>, bool), sqlx::Error> {
    let after = if before.is_some() { "AND id < $3 " } else { "" };
    let sql = format!(
        "SELECT {INVOICE_COLUMNS} FROM invoices WHERE user_id = $1 {after}ORDER BY id DESC LIMIT $2"
    );
    let rows: Vec<InvoiceRow> = with_db!(db, |pool| {
        let query = sqlx::query_as::<_, InvoiceRow>(&sql)
            .bind(user_id)
            .bind(limit + 1);
        match before {
            Some(before) => query.bind(before),
            None => query,
        }
        .fetch_all(pool)
        .await
    })?;
    Ok(platform::db::page_of(rows, limit))
}

pub(super) async fn invoice(
    db: &Db,
    user_id: &str,
    id: &str,
) -> Result<Option<InvoiceRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as::<_, InvoiceRow>(&format!(
            "SELECT {INVOICE_COLUMNS} FROM invoices WHERE user_id = $1 AND id = $2"
        ))
        .bind(user_id)
        .bind(id)
        .fetch_optional(pool)
        .await
    })
}

/// Takes the user's checkout hold until `until` unless another holds it
/// past `now`; `false` when one does.
pub(super) async fn hold_checkout(
    db: &Db,
    user_id: &str,
    now: i64,
    until: i64,
) -> Result<bool, sqlx::Error> {
    platform::with_write!(db, |pool| {
        sqlx::query(
            "INSERT INTO checkout_holds (user_id, until) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET until = excluded.until \
             WHERE checkout_holds.until <= $3",
        )
        .bind(user_id)
        .bind(until)
        .bind(now)
        .execute(pool)
        .await
        .map(|done| done.rows_affected() == 1)
    })
}

pub(super) async fn release_checkout(db: &Db, user_id: &str) -> Result<(), sqlx::Error> {
    platform::with_write!(db, |pool| {
        sqlx::query("DELETE FROM checkout_holds WHERE user_id = $1")
            .bind(user_id)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

/// Writes a new subscription row outside any other change.
pub(super) async fn insert_alone(db: &Db, row: &SubRow) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    insert(&mut tx, row).await?;
    tx.commit().await
}

/// A row by our id, in `tx`.
pub(super) async fn by_id(tx: &mut Tx, id: &str) -> Result<Option<SubRow>, sqlx::Error> {
    let lock = lock(tx);
    with_tx!(tx, |conn| {
        sqlx::query_as::<_, SubRow>(&format!(
            "SELECT {SUB_COLUMNS} FROM subscriptions WHERE id = $1{lock}"
        ))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
    })
}

/// A payment as its payer exports it.
#[derive(Debug, sqlx::FromRow, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PaymentExport {
    pub provider: String,
    pub payment_id: String,
    pub subscription_id: String,
    /// Paise.
    pub amount: i64,
    pub currency: String,
    /// Paise refunded so far.
    pub refunded: i64,
    /// Unix seconds.
    pub paid_at: i64,
}

pub(super) async fn payments_of(db: &Db, user_id: &str) -> Result<Vec<PaymentExport>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT provider, payment_id, subscription_id, amount, currency, refunded, paid_at \
             FROM payments WHERE user_id = $1 ORDER BY paid_at, payment_id",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })
}

/// The customer printed on each of the user's invoices: (id, JSON).
pub(super) async fn invoice_customers_in(
    tx: &mut Tx,
    user_id: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query_as("SELECT id, customer FROM invoices WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(&mut *conn)
            .await
    })
}

pub(super) async fn set_invoice_customer(
    tx: &mut Tx,
    id: &str,
    customer: &str,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query("UPDATE invoices SET customer = $1 WHERE id = $2")
            .bind(customer)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map(|_| ())
    })
}

/// Deletes the user's subscriptions, tier, billing details and checkout
/// hold. Payments and invoices stay: the law keeps them.
pub(super) async fn delete_user(tx: &mut Tx, user_id: &str) -> Result<(), sqlx::Error> {
    let tables = [
        "subscriptions",
        "tiers",
        "billing_details",
        "checkout_holds",
    ];
    tx.delete_where(&tables, "user_id", user_id).await.map(drop)
}
