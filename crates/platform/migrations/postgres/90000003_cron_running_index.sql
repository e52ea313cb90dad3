-- Each tick asks whether a run of the job is going; answer from a small index.
CREATE INDEX platform_cron_runs_running ON platform_cron_runs (job) WHERE outcome = 'running';
