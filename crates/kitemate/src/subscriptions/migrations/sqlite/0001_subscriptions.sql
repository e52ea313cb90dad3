-- Subscriptions bought through a payment provider, one row each, as the
-- provider's events last described them (times in Unix seconds).
CREATE TABLE subscriptions (
    id                        TEXT PRIMARY KEY,
    user_id                   TEXT NOT NULL,
    provider                  TEXT NOT NULL,
    -- sub_… at either provider; a Stripe checkout has none until it completes.
    provider_subscription_id  TEXT,
    -- Stripe's Checkout Session (cs_…) that made it.
    checkout_id               TEXT,
    -- Where the browser pays: Stripe's Checkout page or Razorpay's hosted page.
    checkout_url              TEXT,
    plan                      TEXT NOT NULL,
    -- The provider's word (active, pending, past_due, cancelled, …) or
    -- `checkout` before the provider has said anything.
    status                    TEXT NOT NULL,
    customer_id               TEXT,
    period_end                BIGINT,
    next_charge_at            BIGINT,
    cancel_at_period_end      BOOLEAN NOT NULL,
    grace_until               BIGINT,
    -- A verified Checkout callback shows Pro until this time (a hint: the
    -- webhook is the truth).
    hint_until                BIGINT,
    -- The provider time of the newest event applied.
    last_event_at             BIGINT NOT NULL,
    -- Razorpay: when the created subscription can no longer be authorised.
    expire_by                 BIGINT,
    created_at                BIGINT NOT NULL,
    updated_at                BIGINT NOT NULL
);
CREATE UNIQUE INDEX subscriptions_provider_id ON subscriptions (provider, provider_subscription_id);
CREATE UNIQUE INDEX subscriptions_checkout ON subscriptions (checkout_id);
CREATE INDEX subscriptions_user ON subscriptions (user_id, created_at);
CREATE INDEX subscriptions_open ON subscriptions (status, updated_at);

-- Every signed delivery, by the provider's event id: a duplicate is known.
CREATE TABLE webhook_events (
    provider     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    kind         TEXT NOT NULL,
    body_sha256  TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    -- applied, ignored, unknown_customer, … once handled.
    outcome      TEXT,
    handled_at   BIGINT,
    PRIMARY KEY (provider, event_id)
);

-- Successful charges (and refunds of them), by the provider's id.
CREATE TABLE payments (
    provider         TEXT NOT NULL,
    payment_id       TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    subscription_id  TEXT NOT NULL,
    amount           BIGINT NOT NULL,
    currency         TEXT NOT NULL,
    refunded         BIGINT NOT NULL,
    paid_at          BIGINT NOT NULL,
    PRIMARY KEY (provider, payment_id)
);
CREATE INDEX payments_user ON payments (user_id, paid_at);

-- Who is on Pro, as last published: each change bumps the version, so a
-- late delivery of an older change is ignored by auth.
CREATE TABLE tiers (
    user_id    TEXT PRIMARY KEY,
    tier       TEXT NOT NULL,
    version    BIGINT NOT NULL,
    -- When Pro lapses with no further event (a grace or a paid period's
    -- end); NULL while it runs on.
    pro_until  BIGINT,
    -- Support's grant (`kitemate users set-tier pro`), beside any subscription.
    granted    BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX tiers_lapsing ON tiers (pro_until);

-- What a customer wants on their tax invoices.
CREATE TABLE billing_details (
    user_id     TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    address     TEXT NOT NULL,
    state_code  TEXT NOT NULL,
    gstin       TEXT,
    updated_at  BIGINT NOT NULL
);

-- Tax invoices, numbered without gaps per financial year.
CREATE TABLE invoices (
    id               TEXT PRIMARY KEY,
    number           TEXT NOT NULL UNIQUE,
    user_id          TEXT NOT NULL,
    provider         TEXT NOT NULL,
    payment_id       TEXT NOT NULL,
    plan             TEXT NOT NULL,
    issued_at        BIGINT NOT NULL,
    period_start     BIGINT,
    period_end       BIGINT,
    -- Paise: total = taxable + cgst + sgst + igst.
    total            BIGINT NOT NULL,
    taxable          BIGINT NOT NULL,
    cgst             BIGINT NOT NULL,
    sgst             BIGINT NOT NULL,
    igst             BIGINT NOT NULL,
    -- JSON: the seller and the customer as they were when it was issued.
    seller           TEXT NOT NULL,
    customer         TEXT NOT NULL,
    UNIQUE (provider, payment_id)
);
CREATE INDEX invoices_user ON invoices (user_id, issued_at);

CREATE TABLE invoice_counters (
    fy    TEXT PRIMARY KEY,
    last  BIGINT NOT NULL
);

-- One checkout at a time per user: held while the provider is called.
CREATE TABLE checkout_holds (
    user_id  TEXT PRIMARY KEY,
    until    BIGINT NOT NULL
);
