-- Cron runs, in the database the scheduler is given. One row per run: the
-- unique (job, tick_at) of scheduled runs is the lease that lets exactly one
-- replica run each tick; heartbeat_at tells a live run from an abandoned one.
-- Times are Unix milliseconds.
CREATE TABLE platform_cron_runs (
    id           TEXT PRIMARY KEY,
    job          TEXT NOT NULL,
    tick_at      BIGINT NOT NULL,
    manual       BOOLEAN NOT NULL DEFAULT FALSE,
    runner       TEXT NOT NULL,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    finished_at  BIGINT,
    outcome      TEXT NOT NULL,
    error        TEXT
);
CREATE UNIQUE INDEX platform_cron_runs_tick ON platform_cron_runs (job, tick_at) WHERE manual = FALSE;
CREATE INDEX platform_cron_runs_job ON platform_cron_runs (job, started_at);
