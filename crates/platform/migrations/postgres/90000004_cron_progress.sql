-- How far a run has come, as the job reports it: JSON {"step", "done", "total"}.
ALTER TABLE platform_cron_runs ADD COLUMN progress TEXT;
