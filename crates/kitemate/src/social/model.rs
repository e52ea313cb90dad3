//! Profiles as anyone sees them: no email, no amounts; plain types.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::widgets::model::{PublicDashboardPage, PublicWidgetPage};

pub const MAX_DISPLAY_NAME: usize = 60;
pub const MAX_BIO: usize = 300;
pub const MAX_LINKS: usize = 5;
pub const MAX_LINK: usize = 200;

/// What a profile counts.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub public_widgets: i64,
    pub followers: i64,
    pub following: i64,
    /// Forks others made of their widgets.
    pub forks_received: i64,
}

/// A public profile.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub username: String,
    pub display_name: String,
    pub bio: String,
    pub links: Vec<String>,
    /// Hidden from everyone but its owner.
    pub private: bool,
    /// Their picture, 256 pixels square; absent when they have none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    /// The same, 64 pixels square.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar_small_url: Option<String>,
    pub joined_at: DateTime<Utc>,
    pub counts: Counts,
    /// Whether the signed-in viewer follows them (absent when signed out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub followed_by_you: Option<bool>,
    /// Their public widgets, newest first, a page at a time.
    pub widgets: PublicWidgetPage,
    /// Their public dashboards with the public widgets on them, newest
    /// first, a page at a time.
    pub dashboards: PublicDashboardPage,
}

/// What a notice tells of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// Someone forked your widget.
    Forked,
    /// People liked your widget (grouped while unread).
    Liked,
    /// Someone followed you.
    Followed,
    /// Your Zerodha session ended (Kite ends them at 06:00 IST): log in
    /// with Zerodha again for fresh syncs. The actor is you.
    ZerodhaReauth,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Forked => "forked",
            Self::Liked => "liked",
            Self::Followed => "followed",
            Self::ZerodhaReauth => "zerodha_reauth",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "forked" => Some(Self::Forked),
            "liked" => Some(Self::Liked),
            "followed" => Some(Self::Followed),
            "zerodha_reauth" => Some(Self::ZerodhaReauth),
            _ => None,
        }
    }
}

/// The widget a notice is about.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NoticeWidget {
    pub id: String,
    /// Its title when it happened.
    pub title: String,
}

/// A notice: what happened, in words and in fields.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// Time-ordered: pass to `POST /notifications/read` as `upTo`.
    pub id: String,
    pub kind: NoticeKind,
    /// "asha forked “Allocation”", "3 people liked “Allocation”", "ravi followed you".
    pub text: String,
    /// Who did it (the latest, for a group of likes).
    pub actor: String,
    /// How many did it (likes gather while unread).
    pub count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub widget: Option<NoticeWidget>,
    /// The fork made, on a `forked` notice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fork_id: Option<String>,
    pub read: bool,
    pub created_at: DateTime<Utc>,
}

/// A page of notices, newest first, and how many are unread.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationPage {
    pub notifications: Vec<Notification>,
    /// Unread notices, counted up to 100 (`100` means "100 or more").
    pub unread: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A profile in a list: who they are, not what is on their profile.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileCard {
    pub username: String,
    pub display_name: String,
    pub bio: String,
    /// Their picture, 64 pixels square.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    pub followers: i64,
}

/// Profiles matching a search, best first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProfileList {
    /// At most 20.
    pub profiles: Vec<ProfileCard>,
}

/// What a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportTarget {
    Widget,
    Profile,
}

impl ReportTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Widget => "widget",
            Self::Profile => "profile",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "widget" => Some(Self::Widget),
            "profile" => Some(Self::Profile),
            _ => None,
        }
    }
}

/// Why something is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportReason {
    Spam,
    Abuse,
    /// It shows someone's amounts or other private figures.
    PrivateData,
    Other,
}

impl ReportReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spam => "spam",
            Self::Abuse => "abuse",
            Self::PrivateData => "private_data",
            Self::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "spam" => Some(Self::Spam),
            "abuse" => Some(Self::Abuse),
            "private_data" => Some(Self::PrivateData),
            "other" => Some(Self::Other),
            _ => None,
        }
    }
}

/// Where a report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    Open,
    /// An administrator hid what it reports.
    Hidden,
    Dismissed,
}

impl ReportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Hidden => "hidden",
            Self::Dismissed => "dismissed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(Self::Open),
            "hidden" => Some(Self::Hidden),
            "dismissed" => Some(Self::Dismissed),
            _ => None,
        }
    }
}

/// A report as its reporter sees it when made.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportReceipt {
    pub id: String,
    pub status: ReportStatus,
}

/// A report, as administrators see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub id: String,
    pub target: ReportTarget,
    /// The widget's id, or the profile's username.
    pub target_id: String,
    /// The widget's title or the profile's display name, when it still exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_title: Option<String>,
    pub reason: ReportReason,
    pub note: String,
    pub reporter: String,
    pub status: ReportStatus,
    pub created_at: DateTime<Utc>,
}

/// A page of reports, oldest first (the longest waiting on top).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportPage {
    pub reports: Vec<Report>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Where to send an avatar's bytes.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AvatarUpload {
    /// Pass to `POST /profiles/me/avatar/{upload}` once uploaded.
    pub upload_id: String,
    /// `PUT` the image here, with the content type asked for.
    pub upload_url: String,
    pub expires_at: DateTime<Utc>,
}
