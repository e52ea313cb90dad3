//! The `kitemate` command: serve (default), migrate, openapi, users.

use std::process::ExitCode;

use clap::Parser;
use kitemate::auth::Tier;
use kitemate::cli::{
    ActionsCommand, Cli, Command, CronCommand, ImportKind, KeysCommand, PricesCommand,
    SubscriptionsCommand, TierArg, UsersCommand,
};
use kitemate::config::Resolved;
use kitemate::{App, Config, app};
use platform::clock::Clock;
use platform::db::Check;

#[expect(clippy::print_stdout, reason = "the spec is the command's answer")]
fn main() -> ExitCode {
    let cli = Cli::parse();
    // The spec depends on the code alone, not on any setting.
    if let Some(Command::Openapi) = cli.command {
        print!("{}", app::openapi_json());
        return ExitCode::SUCCESS;
    }
    let config = match Config::load(&cli.config) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("kitemate: {err}");
            return ExitCode::from(2);
        }
    };
    if let Err(err) = platform::telemetry::init(&config.log) {
        eprintln!("kitemate: {err}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("kitemate: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    // Secrets are read and clients built once, here; a bad one is a settings error.
    let resolved = match config.resolve() {
        Ok(resolved) => resolved,
        Err(err) => {
            eprintln!("kitemate: {err}");
            return ExitCode::from(2);
        }
    };
    let settings = Settings { config, resolved };
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve), settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("kitemate: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The settings, checked and resolved.
struct Settings {
    config: Config,
    resolved: Resolved,
}

impl Settings {
    /// The app, not yet serving: databases migrated.
    async fn open(self) -> anyhow::Result<App> {
        let app = self.app()?;
        app.prepare(Check::Full).await?;
        Ok(app)
    }

    /// The app before its databases are opened.
    fn app(self) -> anyhow::Result<App> {
        App::with(self.config, self.resolved, Clock::system())
    }
}

#[expect(clippy::print_stdout, reason = "these commands answer on stdout")]
async fn run(command: Command, config: Settings) -> anyhow::Result<()> {
    match command {
        Command::Openapi => unreachable_openapi(),
        Command::Migrate => {
            let app = config.open().await?;
            println!(
                "migrated {} database(s) on {} at {}",
                app.databases().len(),
                app.backend.kind(),
                app.backend.describe()
            );
            app.close().await;
            Ok(())
        }
        Command::Users {
            command: UsersCommand::GrantAdmin { email },
        } => {
            let app = config.open().await?;
            app.auth.grant_admin(&email).await?;
            println!("{email} is now an administrator");
            app.close().await;
            Ok(())
        }
        Command::Users {
            command: UsersCommand::SetTier { email, tier },
        } => {
            let app = config.open().await?;
            let tier = match tier {
                TierArg::Free => Tier::Free,
                TierArg::Pro => Tier::Pro,
            };
            let now = app.subscriptions.grant(&email, tier).await?;
            println!("{email} is now on the {} plan", now.as_str());
            app.close().await;
            Ok(())
        }
        Command::Subscriptions {
            command: SubscriptionsCommand::Reconcile,
        } => {
            let app = config.open().await?;
            let done = app.subscriptions.reconcile().await?;
            println!(
                "checked {} subscription(s): {} fixed, {} the provider did not answer for",
                done.checked, done.fixed, done.failed
            );
            app.close().await;
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Rotate,
        } => {
            let app = config.open().await?;
            let count = app.auth.reseal_tokens().await?;
            println!("sealed {count} Kite token(s) again under the current key");
            app.close().await;
            Ok(())
        }
        Command::Import { file, user, kind } => import(config, &file, &user, kind).await,
        Command::Prices { command } => prices(command, config).await,
        Command::CorporateActions { command } => corporate_actions(command, config).await,
        Command::Cron { command } => Box::pin(cron(command, config)).await,
        Command::Serve => serve(config).await,
    }
}

#[expect(
    clippy::print_stdout,
    reason = "tells the person who started it where to look"
)]
async fn serve(settings: Settings) -> anyhow::Result<()> {
    let listen = settings.config.listen;
    let grace = std::time::Duration::from_secs(settings.config.http.shutdown_grace_secs);
    let app = settings.app()?;
    // Migrations and the router and socket are independent: do them at once.
    let (prepared, listening) = tokio::join!(app.prepare(Check::Quick), async {
        let router = app.router()?;
        let listener = tokio::net::TcpListener::bind(listen).await.map_err(|err| {
            anyhow::anyhow!("cannot listen on {listen} (setting `listen`): {err}")
        })?;
        anyhow::Ok((router, listener))
    });
    prepared?;
    let (router, listener) = listening?;
    let addr = listener.local_addr()?;
    println!("KiteMate listening on http://{addr}  (API docs: http://{addr}/docs)");
    println!(
        "data: {} databases at {}",
        app.backend.kind(),
        app.backend.describe()
    );
    tracing::info!(%addr, backend = app.backend.kind(), "serving");
    if let Some(at) = app.config.metrics_listen {
        let listener = tokio::net::TcpListener::bind(at).await.map_err(|err| {
            anyhow::anyhow!("cannot listen on {at} (setting `metrics_listen`): {err}")
        })?;
        println!("metrics: http://{}/metrics", listener.local_addr()?);
        let router = app.metrics_router();
        tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, router).await {
                tracing::error!(error = %err, "the metrics listener stopped");
            }
        });
    }
    app.start_background();
    platform::server::serve(listener, router, platform::server::shutdown_signal(), grace).await?;
    app.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// `kitemate import`: the file is imported whole or not at all, read as it
/// is parsed; the report is printed.
#[expect(clippy::print_stdout, reason = "the command answers on stdout")]
async fn import(
    config: Settings,
    file: &std::path::Path,
    email: &str,
    kind: Option<ImportKind>,
) -> anyhow::Result<()> {
    let app = config.open().await?;
    let user = app
        .auth
        .user_id_by_email(email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no user with email {email}"))?;
    // Read as it is parsed and kept: a file of any size is never held whole.
    let size = tokio::fs::metadata(file)
        .await
        .map_err(|err| anyhow::anyhow!("cannot open {}: {err}", file.display()))?
        .len();
    let spinner = indicatif::ProgressBar::new_spinner()
        .with_message(format!("importing {}", indicatif::HumanBytes(size)));
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let kind = kind.map(|k| match k {
        ImportKind::Tradebook => kitemate::portfolio::model::Kind::Tradebook,
        ImportKind::Holdings => kitemate::portfolio::model::Kind::Holdings,
    });
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
    let report = app.portfolio.import_file(&user, kind, name, file).await;
    spinner.finish_and_clear();
    let report = report?;
    println!(
        "imported {} of {} rows ({} already there, {} skipped)",
        report.imported,
        report.rows,
        report.duplicates,
        report.skipped.len()
    );
    for skipped in report.skipped.iter().take(20) {
        println!("  line {}: {}", skipped.line, skipped.reason);
    }
    app.close().await;
    Ok(())
}

/// A progress bar on stderr: `done/total` with the rate and time left.
fn progress_bar(total: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg} [{bar:30}] {pos}/{len} ({per_sec}, {eta} left)",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

/// `kitemate prices`: files loaded one by one (each whole or not at all),
/// or a range of days fetched; what failed is listed and fails the command.
#[expect(clippy::print_stdout, reason = "the command answers on stdout")]
async fn prices(command: PricesCommand, config: Settings) -> anyhow::Result<()> {
    let app = config.open().await?;
    let mut failed = Vec::new();
    match command {
        PricesCommand::Load { files } => {
            let bar = progress_bar(files.len() as u64, "loading");
            for file in &files {
                let (name, bytes) = read_file(file).await;
                let loaded = match bytes {
                    Ok(bytes) => app
                        .market
                        .load(&name, bytes)
                        .await
                        .map_err(|err| err.to_string()),
                    Err(err) => Err(err),
                };
                // The bar is on stderr (and hidden off a terminal); reports go to stdout.
                match loaded {
                    Ok(report) => bar.suspend(|| println!("{}", describe_load(&report))),
                    Err(err) => {
                        bar.suspend(|| println!("{name}: not loaded: {err}"));
                        failed.push(name);
                    }
                }
                bar.inc(1);
            }
            bar.finish_and_clear();
            println!(
                "{} of {} files loaded",
                files.len() - failed.len(),
                files.len()
            );
        }
        PricesCommand::Backfill { from, to } => {
            let to = to.unwrap_or_else(|| app.clock.today_ist());
            anyhow::ensure!(from <= to, "--from {from} is after --to {to}");
            let bar = progress_bar(0, "fetching");
            let fetched = app
                .market
                .fetch_days(from, to, |done, total| {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                })
                .await?;
            bar.finish_and_clear();
            for report in &fetched.loaded {
                println!("{}", describe_load(report));
            }
            for (feed, why) in &fetched.failed {
                println!("{}: {why}", feed.as_str());
                failed.push(feed.as_str().to_string());
            }
            println!(
                "{} files loaded, {} were loaded before, {} failed",
                fetched.loaded.len(),
                fetched.had,
                fetched.failed.len()
            );
        }
    }
    app.close().await;
    anyhow::ensure!(failed.is_empty(), "{} file(s) not loaded", failed.len());
    Ok(())
}

/// `kitemate corporate-actions load`: each file whole or not at all; what
/// failed is listed and fails the command.
#[expect(clippy::print_stdout, reason = "the command answers on stdout")]
async fn corporate_actions(command: ActionsCommand, config: Settings) -> anyhow::Result<()> {
    let app = config.open().await?;
    let ActionsCommand::Load { files } = command;
    let mut failed = Vec::new();
    for file in &files {
        let (name, bytes) = read_file(file).await;
        let loaded = match bytes {
            Ok(bytes) => app
                .market
                .load_actions(&name, bytes)
                .await
                .map_err(|err| err.to_string()),
            Err(err) => Err(err),
        };
        match loaded {
            Ok(report) => {
                println!(
                    "{name}: {} splits, consolidations and bonuses; {} rows changed no share count",
                    report.actions, report.skipped
                );
                for scheme in &report.need_terms {
                    println!("  terms not in the file (declare them to apply): {scheme}");
                }
            }
            Err(err) => {
                println!("{name}: not loaded: {err}");
                failed.push(name);
            }
        }
    }
    println!(
        "{} of {} files loaded",
        files.len() - failed.len(),
        files.len()
    );
    app.close().await;
    anyhow::ensure!(failed.is_empty(), "{} file(s) not loaded", failed.len());
    Ok(())
}

/// A file given on the command line: its name as reports show it, and its
/// bytes or why they could not be read.
async fn read_file(file: &std::path::Path) -> (String, Result<Vec<u8>, String>) {
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let bytes = tokio::fs::read(file)
        .await
        .map_err(|err| format!("{}: {err}", file.display()));
    (name, bytes)
}

fn describe_load(report: &kitemate::market::LoadReport) -> String {
    let days = match (report.days.first(), report.days.last()) {
        (Some(first), Some(last)) if first == last => first.to_string(),
        (Some(first), Some(last)) => format!("{first} to {last}"),
        _ => "no days".into(),
    };
    let again = if report.already_loaded {
        " (loaded before)"
    } else {
        ""
    };
    format!(
        "{}: {} ({days}): {} closes, {} index values, {} rows skipped{again}",
        report.file, report.layout, report.closes, report.indices, report.skipped
    )
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// `openapi` is answered in `main` before any configuration is read.
fn unreachable_openapi() -> anyhow::Result<()> {
    anyhow::bail!("`openapi` is handled before configuration is loaded")
}

#[expect(clippy::print_stdout, reason = "these commands answer on stdout")]
async fn cron(command: CronCommand, config: Settings) -> anyhow::Result<()> {
    match command {
        CronCommand::List => {
            let app = config.open().await?;
            let jobs = app.cron.jobs_with_last_runs().await?;
            app.close().await;
            println!(
                "{:<24} {:<22} {:<14} {:<22} {:<28} LAST RUN",
                "NAME", "SCHEDULE", "TIME ZONE", "NEXT (UTC)", "NEXT (LOCAL)"
            );
            for job in jobs {
                let utc = job
                    .next_run
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_default();
                let last = job.last_run.map_or_else(
                    || "never".to_string(),
                    |run| {
                        let at = run.started_at.format("%Y-%m-%d %H:%M:%S UTC");
                        match run.error {
                            Some(error) => {
                                format!("{} at {at}: {}", run.outcome, first_line(&error))
                            }
                            None => format!("{} at {at}", run.outcome),
                        }
                    },
                );
                println!(
                    "{:<24} {:<22} {:<14} {:<22} {:<28} {last}",
                    job.name,
                    job.schedule,
                    job.time_zone,
                    utc,
                    job.next_run_local.unwrap_or_default()
                );
            }
            Ok(())
        }
        CronCommand::Run { name } => {
            let app = config.open().await?;
            let (run, handle) = app.cron.run_now(&name).await?.ok_or_else(|| {
                anyhow::anyhow!("no cron job named {name} (see `kitemate cron list`)")
            })?;
            // The job's reports, drawn as a bar on stderr while it runs.
            if let Some(progress) = app.cron.progress(&run.id) {
                let mut reports = progress.watch();
                let bar = progress_bar(0, &name);
                let job = name.clone();
                let draw = tokio::spawn(async move {
                    while reports.changed().await.is_ok() {
                        if let Some(report) = reports.borrow_and_update().clone() {
                            bar.set_message(format!("{job}: {}", report.step));
                            bar.set_length(report.total);
                            bar.set_position(report.done);
                        }
                    }
                    bar.finish_and_clear();
                });
                handle.await?;
                draw.abort();
            } else {
                handle.await?;
            }
            let run = app
                .cron
                .run(&run.id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("the run vanished"))?;
            app.close().await;
            match run.error {
                None => {
                    println!("{name}: {} (run {})", run.outcome, run.id);
                    Ok(())
                }
                Some(error) => anyhow::bail!("{name} failed: {error}"),
            }
        }
    }
}
