//! The `kitemate` command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// KiteMate: a portfolio companion for Zerodha investors.
#[derive(Debug, Parser)]
#[command(name = "kitemate", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file (optional; `KITEMATE_*` variables override it).
    #[arg(
        long,
        global = true,
        default_value = "kitemate.toml",
        env = "KITEMATE_CONFIG"
    )]
    pub config: PathBuf,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the app: every service, on the configured backends (the default).
    Serve,
    /// Create each service's database when missing and apply its migrations, then exit.
    Migrate,
    /// Print the OpenAPI 3.1 spec of the whole API as JSON.
    Openapi,
    /// Cron jobs: list them with their next runs, or run one now.
    Cron {
        #[command(subcommand)]
        command: CronCommand,
    },
    /// Manage users.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Import a Console tradebook or holdings export for a user, as
    /// `POST /portfolio/import` does (and larger than the 20 MiB it takes).
    Import {
        /// The CSV file.
        file: PathBuf,
        /// The email of the user it belongs to.
        #[arg(long)]
        user: String,
        /// tradebook or holdings; found from the header when left out.
        #[arg(long)]
        kind: Option<ImportKind>,
    },
    /// Closing prices: load files downloaded by hand, or fetch a range of days.
    Prices {
        #[command(subcommand)]
        command: PricesCommand,
    },
    /// Corporate actions (splits, bonuses): load NSE's files.
    CorporateActions {
        #[command(subcommand)]
        command: ActionsCommand,
    },
    /// Subscriptions: compare every open one with its provider now.
    Subscriptions {
        #[command(subcommand)]
        command: SubscriptionsCommand,
    },
    /// Manage the keys that seal secrets at rest.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum PricesCommand {
    /// Load NSE or BSE bhavcopies, AMFI NAV files or NSE index closes
    /// (zipped or not), each whole or, when malformed, not at all.
    Load {
        /// The files, in any order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Fetch every trading day's files from NSE, BSE and AMFI that are not
    /// loaded yet, from `--from` to `--to`.
    Backfill {
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Last day, YYYY-MM-DD; today (India time) when left out.
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ActionsCommand {
    /// Load NSE's corporate-actions export (CSV), a `Bc` file of its daily
    /// market-data archive, or the archive (`PRDDMMYY.zip`) holding one;
    /// each whole or, when malformed, not at all.
    Load {
        /// The files, in any order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ImportKind {
    Tradebook,
    Holdings,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Seal every stored Kite token again under KITEMATE_ENCRYPTION_KEY.
    /// Put the previous key in KITEMATE_ENCRYPTION_OLD_KEYS while this runs;
    /// afterwards it can go.
    Rotate,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Make the user with this email an administrator.
    GrantAdmin {
        /// The user's email address.
        email: String,
    },
    /// Grant the user with this email Pro (support's grant, on top of any
    /// subscription), or take the grant away with `free`; published and
    /// applied like a payment's change.
    SetTier {
        /// The user's email address.
        email: String,
        /// `free` or `pro`.
        tier: TierArg,
    },
}

/// A plan, as the command line names it.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum TierArg {
    Free,
    Pro,
}

#[derive(Debug, Subcommand)]
pub enum SubscriptionsCommand {
    /// Read every open subscription back from its provider and fix drift
    /// (what the daily `reconcile-subscriptions` job does).
    Reconcile,
}

#[derive(Debug, Subcommand)]
pub enum CronCommand {
    /// Every job with its schedule, time zone and next run (UTC and local).
    List,
    /// Run a job now, wait for it, and print how it went.
    Run {
        /// The job's name, as `cron list` shows it.
        name: String,
    },
}
