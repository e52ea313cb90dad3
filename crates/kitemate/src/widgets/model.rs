//! Widgets as the rest of the app sees them: what a widget shows (its kind
//! and typed [`Source`]), who may see it, and the kinds each source can be
//! drawn as. Plain types; nothing here reads a database.

use chrono::{DateTime, Utc};
use platform::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::portfolio::query::{Data, Source};

/// How a widget is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WidgetKind {
    /// One or a few headline figures.
    Metric,
    Table,
    Pie,
    Donut,
    Bar,
    /// A time series.
    Line,
    /// Markdown text (`options.text`), no data.
    Note,
}

impl WidgetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Metric => "metric",
            Self::Table => "table",
            Self::Pie => "pie",
            Self::Donut => "donut",
            Self::Bar => "bar",
            Self::Line => "line",
            Self::Note => "note",
        }
    }
}

/// Who may see a widget besides its owner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Nobody.
    #[default]
    Private,
    /// Anyone with its share link.
    Unlisted,
    /// Anyone with its share link, and listed on the owner's profile.
    Public,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::Unlisted => "unlisted",
            Self::Public => "public",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "private" => Some(Self::Private),
            "unlisted" => Some(Self::Unlisted),
            "public" => Some(Self::Public),
            _ => None,
        }
    }

    pub fn is_shared(self) -> bool {
        self != Self::Private
    }
}

/// The longest markdown a note holds.
pub const MAX_NOTE: usize = 10_000;
pub const MAX_TITLE: usize = 100;
pub const MAX_DESCRIPTION: usize = 500;
/// Tags a widget carries, for search.
pub const MAX_TAGS: usize = 10;

/// A word a widget is found by: 1 to 30 of a-z, 0-9 and `-`, starting with
/// a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Tag(pub String);

impl Tag {
    pub fn is_valid(&self) -> bool {
        let b = self.0.as_bytes();
        (1..=30).contains(&b.len())
            && b[0] != b'-'
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
    }
}

impl utoipa::PartialSchema for Tag {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(1))
            .max_length(Some(30))
            .pattern(Some("^[a-z0-9][a-z0-9-]{0,29}$"))
            .examples([serde_json::json!("dividend")])
            .into()
    }
}

impl ToSchema for Tag {}

/// How a widget is drawn beyond its kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WidgetOptions {
    /// A note's markdown (notes only), up to 10,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 10000)]
    pub text: Option<String>,
    /// Whether charts show their legend (default yes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_legend: Option<bool>,
}

/// A widget as chat suggests it: `POST /widgets` takes it as it comes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WidgetDraft {
    pub kind: WidgetKind,
    pub title: String,
    pub source: Source,
}

impl WidgetDraft {
    pub fn new(kind: WidgetKind, title: &str, source: Source) -> Option<Self> {
        Some(Self {
            kind,
            title: title.into(),
            source,
        })
    }
}

/// What a widget shows: the part its revisions keep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    pub title: String,
    pub description: String,
    pub kind: WidgetKind,
    /// Absent for notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    #[serde(default)]
    pub options: WidgetOptions,
    /// Up to 10 words it is found by in discovery.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 10)]
    pub tags: Vec<Tag>,
}

/// Where a fork came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ForkedFrom {
    pub widget_id: String,
    /// The original's revision that was copied.
    pub revision: i64,
    /// `null` once the original's owner has deleted their account.
    pub owner_username: Option<String>,
}

/// What others did with a widget.
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Reactions {
    pub likes: i64,
    pub forks: i64,
}

/// A widget, as its owner sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Widget {
    #[schema(example = "0192f3a4-5b6c-7d8e-9f00-112233445566")]
    pub id: String,
    #[serde(flatten)]
    pub content: Content,
    pub visibility: Visibility,
    /// Other viewers see no rupee amount or quantity.
    pub hide_amounts: bool,
    /// The link that opens it without signing in, while it is shared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_url: Option<String>,
    /// Counts every change; its revisions can be restored.
    pub revision: i64,
    /// Present on a fork.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forked_from: Option<ForkedFrom>,
    pub reactions: Reactions,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A page of the caller's widgets, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WidgetPage {
    pub widgets: Vec<Widget>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A kept revision of a widget's content.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    pub revision: i64,
    pub created_at: DateTime<Utc>,
    #[serde(flatten)]
    pub content: Content,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionList {
    /// Newest first; the last 20 are kept.
    pub revisions: Vec<Revision>,
}

/// A widget's data, as the viewer may see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WidgetData {
    pub widget_id: String,
    pub revision: i64,
    pub kind: WidgetKind,
    /// Absent for notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Data>,
    /// True when amounts and quantities were left out for this viewer.
    pub amounts_hidden: bool,
}

/// A shared widget as anyone with its link sees it: no source (its bounds
/// could be amounts), amounts left out when the owner hides them.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SharedWidget {
    #[serde(flatten)]
    pub widget: PublicWidget,
    pub options: WidgetOptions,
    pub data: WidgetData,
}

/// A widget others may see, as lists show it (profiles, discovery, the
/// feed): what it is and who made it, never its data or source; open its
/// `shareUrl` for the figures or show its `cardUrl` picture.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicWidget {
    /// What `/widgets/{id}/fork` and `/widgets/{id}/like` take.
    pub id: String,
    /// Its link: opens it without signing in.
    pub share_url: String,
    /// A 1200×630 PNG picture of it, for previews.
    pub card_url: String,
    pub title: String,
    pub description: String,
    pub kind: WidgetKind,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// The owner's username.
    pub owner: String,
    pub reactions: Reactions,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forked_from: Option<ForkedFrom>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Whether `kind` can draw `source`: a reason naming the field when not.
pub fn fits(content: &Content) -> Result<(), ApiError> {
    use Source as S;
    use WidgetKind as K;
    let Some(source) = &content.source else {
        return if content.kind == K::Note {
            if content.options.text.as_deref().is_none_or(str::is_empty) {
                Err(ApiError::invalid_field(
                    "options.text",
                    "a note needs its markdown text",
                ))
            } else {
                Ok(())
            }
        } else {
            Err(ApiError::invalid_field(
                "source",
                format!("a {} widget needs a source", content.kind.as_str()),
            ))
        };
    };
    if content.options.text.is_some() && content.kind != K::Note {
        return Err(ApiError::invalid_field(
            "options.text",
            "only notes have text",
        ));
    }
    let fits = match content.kind {
        K::Note => false,
        K::Table => true,
        K::Metric => {
            matches!(source, S::Summary(_) | S::Position(_))
                || matches!(source, S::Realized(r) if !r.by_year)
                || matches!(source, S::Xirr(x) if !x.per_holding)
        }
        K::Pie | K::Donut => matches!(
            source,
            S::Allocation(_) | S::Holdings(_) | S::Concentration(_)
        ),
        K::Bar => {
            matches!(
                source,
                S::Allocation(_) | S::Holdings(_) | S::Movers(_) | S::Concentration(_)
            ) || matches!(source, S::Realized(r) if r.by_year)
                || matches!(source, S::Xirr(x) if x.per_holding)
        }
        K::Line => matches!(source, S::History(_)),
    };
    if fits {
        Ok(())
    } else if content.kind == K::Note {
        Err(ApiError::invalid_field("source", "a note has no source"))
    } else {
        Err(ApiError::invalid_field(
            "kind",
            format!(
                "a {} widget cannot show a {} source",
                content.kind.as_str(),
                source.name()
            ),
        ))
    }
}

/// Columns of the dashboard grid.
pub const GRID_COLUMNS: u16 = 12;
/// The lowest row a widget may reach (`y + h`).
pub const GRID_ROWS: u16 = 200;
/// Widgets on one dashboard.
pub const MAX_PLACEMENTS: usize = 50;

/// Where a widget sits on a dashboard's 12-column grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Placement {
    pub widget_id: String,
    /// Column, 0 to 11.
    #[schema(minimum = 0, maximum = 11)]
    pub x: u16,
    /// Row, from 0.
    #[schema(minimum = 0, maximum = 199)]
    pub y: u16,
    /// Width in columns, 1 to 12, with `x + w` at most 12.
    #[schema(minimum = 1, maximum = 12)]
    pub w: u16,
    /// Height in rows, 1 to 200, with `y + h` at most 200.
    #[schema(minimum = 1, maximum = 200)]
    pub h: u16,
}

impl Placement {
    fn overlaps(&self, other: &Self) -> bool {
        self.x < other.x + other.w
            && other.x < self.x + self.w
            && self.y < other.y + other.h
            && other.y < self.y + self.h
    }
}

/// Every rule a layout obeys, naming the placement that breaks one.
pub fn check_layout(layout: &[Placement]) -> Result<(), ApiError> {
    if layout.len() > MAX_PLACEMENTS {
        return Err(ApiError::invalid_field(
            "layout",
            format!("at most {MAX_PLACEMENTS} widgets"),
        ));
    }
    for (i, p) in layout.iter().enumerate() {
        let field = |name: &str| format!("layout[{i}].{name}");
        if p.w == 0 || p.x + p.w > GRID_COLUMNS {
            return Err(ApiError::invalid_field(
                &field("w"),
                format!("must be at least 1 with x + w at most {GRID_COLUMNS}"),
            ));
        }
        if p.h == 0 || p.y + p.h > GRID_ROWS {
            return Err(ApiError::invalid_field(
                &field("h"),
                format!("must be at least 1 with y + h at most {GRID_ROWS}"),
            ));
        }
        if let Some(j) = layout[..i].iter().position(|q| q.widget_id == p.widget_id) {
            return Err(ApiError::invalid_field(
                &field("widgetId"),
                format!("is placed already at layout[{j}]"),
            ));
        }
        if let Some(j) = layout[..i].iter().position(|q| q.overlaps(p)) {
            return Err(ApiError::invalid_field(
                &field("x"),
                format!("overlaps layout[{j}]"),
            ));
        }
    }
    Ok(())
}

/// A dashboard: a title and its widgets' places.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub id: String,
    pub title: String,
    pub layout: Vec<Placement>,
    /// Public: listed on your profile (with its shared widgets) and
    /// forkable; private widgets on it stay private.
    pub visibility: Visibility,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A widget on a dashboard with its data, so one request draws it all.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlacedWidget {
    pub placement: Placement,
    pub widget: Widget,
    pub data: WidgetData,
}

/// A dashboard with every widget on it and their data.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DashboardView {
    pub id: String,
    pub title: String,
    pub widgets: Vec<PlacedWidget>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A page of the caller's dashboards, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DashboardPage {
    pub dashboards: Vec<Dashboard>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A page of someone's public widgets, as anyone sees them.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicWidgetPage {
    pub widgets: Vec<PublicWidget>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A public dashboard as lists show it: which of its widgets others may see.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicDashboard {
    /// What `POST /dashboards/{id}/fork` takes.
    pub id: String,
    pub title: String,
    pub owner: String,
    /// Its shared widgets, in their places.
    pub widgets: Vec<PublicPlacement>,
    pub updated_at: DateTime<Utc>,
}

/// A shared widget on a public dashboard, where it sits.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicPlacement {
    pub placement: Placement,
    pub widget: PublicWidget,
}

/// A page of someone's public dashboards.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicDashboardPage {
    pub dashboards: Vec<PublicDashboard>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
