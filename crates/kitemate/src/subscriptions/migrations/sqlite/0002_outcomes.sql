-- Deliveries are recorded in the `payment_inbox` database now; what
-- applying one came to is written here, in the transaction of its effect.
DROP TABLE webhook_events;
CREATE TABLE delivery_outcomes (
    provider    TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    -- applied, ignored, unknown_customer, …
    outcome     TEXT NOT NULL,
    handled_at  BIGINT NOT NULL,
    PRIMARY KEY (provider, event_id)
);
