//! The widgets service's logic: widgets made, changed, restored and shared
//! by their owner, and their data worked out by the portfolio service for
//! whoever may see it.

use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use platform::ApiError;
use platform::clock::Clock;
use platform::db::Db;
use platform::objects::UrlSigner;
use platform::pubsub::{PubSub, Topic};

use super::card::Cards;
use super::chart::{self, Chart};
use super::config::WidgetsConfig;
use super::events::{WIDGET_FORKS, WIDGET_LIKES, WidgetForked, WidgetLiked};
use super::model::{
    Content, ForkedFrom, MAX_DESCRIPTION, MAX_NOTE, MAX_TAGS, MAX_TITLE, PublicWidget,
    PublicWidgetPage, Reactions, Revision, RevisionList, SharedWidget, Tag, Visibility, Widget,
    WidgetData, WidgetKind, WidgetOptions, WidgetPage, fits,
};
use super::reach_store::{self, Bump};
use super::store::{self, Counted, WidgetRow};
use super::trend::{self, Event};
use crate::auth::{AuthService, Tier, User};
use crate::portfolio::PortfolioService;
use crate::portfolio::query::Source;

/// A new widget, as `POST /widgets` takes it.
#[derive(Debug, Clone)]
pub struct NewWidget {
    pub title: String,
    pub description: Option<String>,
    pub kind: WidgetKind,
    pub source: Option<Source>,
    pub options: Option<WidgetOptions>,
    pub tags: Option<Vec<Tag>>,
    pub visibility: Option<Visibility>,
    pub hide_amounts: Option<bool>,
}

/// A change, as `PATCH /widgets/{id}` takes it: what is present changes.
#[derive(Debug, Clone, Default)]
pub struct WidgetChange {
    pub title: Option<String>,
    pub description: Option<String>,
    pub kind: Option<WidgetKind>,
    /// `Some(None)` takes the source away (a widget becoming a note).
    pub source: Option<Option<Source>>,
    pub options: Option<WidgetOptions>,
    pub tags: Option<Vec<Tag>>,
    pub visibility: Option<Visibility>,
    pub hide_amounts: Option<bool>,
}

/// A checked widget to store.
#[derive(Debug, Clone, Copy)]
pub(super) struct NewRow<'a> {
    pub content: &'a Content,
    pub visibility: Visibility,
    pub hide_amounts: bool,
    /// Its lineage, when it is a fork.
    pub forked_from: Option<&'a ForkedFrom>,
}

/// `widget` drawn from `data` (already stripped for the viewer).
pub(super) fn draw(widget: &Widget, data: &WidgetData) -> String {
    chart::svg(&Chart {
        title: &widget.content.title,
        kind: widget.content.kind,
        source: widget.content.source.as_ref(),
        data: data.data.as_ref(),
        options: &widget.content.options,
    })
}

/// How shared widgets are reached from outside: the public URL links
/// start with, and the key embed links are signed with.
#[derive(Debug, Clone)]
pub struct Sharing {
    pub public_url: String,
    pub signer: UrlSigner,
    /// Where public pages are kept a moment (see `public_generation`).
    pub cache: platform::cache::Cache,
}

/// The cache key of the generation of what others see.
const PUBLIC_GENERATION: &str = "public:generation";

/// The most widgets a page lists.
pub const MAX_PAGE: i64 = 100;

#[derive(Debug, Clone)]
pub struct WidgetService {
    pub(super) db: Db,
    pub(super) clock: Clock,
    pub(super) config: WidgetsConfig,
    portfolio: PortfolioService,
    pub(super) auth: AuthService,
    /// How share links start: the configured public URL.
    pub(super) public_url: String,
    /// Signs embed links (the key object URLs are signed with).
    pub(super) signer: UrlSigner,
    /// PNG cards already drawn.
    cards: Arc<Cards>,
    pub(super) forks: Topic<WidgetForked>,
    pub(super) likes: Topic<WidgetLiked>,
    /// Views counted in memory, written a batch at a time.
    pub(super) views: Arc<super::views::Views>,
    /// Where public pages are kept a moment, and the generation of what
    /// others see that their keys carry.
    pub(super) cache: platform::cache::Cache,
}

fn corrupt(what: &str, id: &str) -> ApiError {
    ApiError::internal(anyhow::anyhow!(
        "stored {what} of widget {id} cannot be read"
    ))
}

fn at(millis: i64, id: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::from_timestamp_millis(millis).ok_or_else(|| corrupt("time", id))
}

fn not_found() -> ApiError {
    ApiError::not_found("no such widget of yours")
}

/// A share link's secret: 256 random bits, URL-safe.
fn share_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn check_text(field: &str, value: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let chars = value.chars().count();
    if chars < min || chars > max {
        return Err(ApiError::invalid_field(
            field,
            format!("must be {min} to {max} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(ApiError::invalid_field(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// Every rule a widget's content obeys, with the field it breaks.
pub(super) fn check(content: &Content) -> Result<(), ApiError> {
    check_text("title", content.title.trim(), 1, MAX_TITLE)?;
    check_text("description", &content.description, 0, MAX_DESCRIPTION)?;
    if let Some(text) = &content.options.text {
        check_text("options.text", text, 1, MAX_NOTE)?;
    }
    if content.tags.len() > MAX_TAGS {
        return Err(ApiError::invalid_field(
            "tags",
            format!("at most {MAX_TAGS} tags"),
        ));
    }
    for (i, tag) in content.tags.iter().enumerate() {
        if !tag.is_valid() {
            return Err(ApiError::invalid_field(
                &format!("tags[{i}]"),
                "must be 1 to 30 of a-z, 0-9 and -, not starting with -",
            ));
        }
        if content.tags[..i].contains(tag) {
            return Err(ApiError::invalid_field(
                &format!("tags[{i}]"),
                "is given twice",
            ));
        }
    }
    if let Some(source) = &content.source {
        source.check("source")?;
    }
    fits(content)
}

/// What search reads of a widget: its words, lower case.
pub(super) fn search_text(content: &Content) -> String {
    let mut text = format!("{} {}", content.title, content.description);
    for tag in &content.tags {
        text.push(' ');
        text.push_str(&tag.0);
    }
    text.to_lowercase()
}

impl WidgetService {
    /// Where the server is reached from outside (no trailing slash).
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    pub fn new(
        db: Db,
        clock: Clock,
        config: WidgetsConfig,
        portfolio: PortfolioService,
        auth: AuthService,
        sharing: Sharing,
        pubsub: &PubSub,
    ) -> anyhow::Result<Self> {
        let Sharing {
            public_url,
            signer,
            cache,
        } = sharing;
        Ok(Self {
            cache,
            signer,
            forks: pubsub.topic(&WIDGET_FORKS, &db)?,
            likes: pubsub.topic(&WIDGET_LIKES, &db)?,
            views: Arc::default(),
            db,
            clock,
            config,
            portfolio,
            auth,
            public_url: public_url.trim_end_matches('/').to_string(),
            cards: Arc::default(),
        })
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub(super) fn widget(&self, row: WidgetRow) -> Result<Widget, ApiError> {
        let content: Content =
            serde_json::from_str(&row.content).map_err(|_| corrupt("content", &row.id))?;
        let visibility =
            Visibility::parse(&row.visibility).ok_or_else(|| corrupt("visibility", &row.id))?;
        let forked_from = match &row.forked_from {
            Some(json) => {
                Some(serde_json::from_str(json).map_err(|_| corrupt("lineage", &row.id))?)
            }
            None => None,
        };
        Ok(Widget {
            forked_from,
            reactions: Reactions {
                likes: row.likes,
                forks: row.forks,
            },
            share_url: row
                .share_token
                .as_ref()
                .map(|t| format!("{}/shared/widgets/{t}", self.public_url)),
            created_at: at(row.created_at, &row.id)?,
            updated_at: at(row.updated_at, &row.id)?,
            id: row.id,
            content,
            visibility,
            hide_amounts: row.hide_amounts,
            revision: row.revision,
        })
    }

    /// The generation of what others see: public pages cached under it are
    /// current until something they show changes (`public_changed`).
    pub async fn public_generation(&self) -> String {
        self.cache
            .get(PUBLIC_GENERATION)
            .await
            .map(|g| String::from_utf8_lossy(&g).into_owned())
            .unwrap_or_default()
    }

    /// Something others see changed: every cached public page is stale.
    pub async fn public_changed(&self) {
        let generation = format!("{:016x}", rand::random::<u64>());
        self.cache
            .set(
                PUBLIC_GENERATION,
                generation.as_bytes(),
                std::time::Duration::from_secs(86_400),
            )
            .await;
    }

    /// The widgets `user`'s plan keeps.
    pub(super) fn widget_limit(&self, user: &User) -> i64 {
        match user.tier {
            Tier::Pro => i64::MAX,
            Tier::Free => i64::from(self.config.free_widgets),
        }
    }

    /// Makes a widget of the caller's, within their plan's allowance.
    pub async fn create(&self, owner: &User, new: NewWidget) -> Result<Widget, ApiError> {
        let content = Content {
            title: new.title.trim().to_string(),
            description: new.description.unwrap_or_default(),
            kind: new.kind,
            source: new.source,
            options: new.options.unwrap_or_default(),
            tags: new.tags.unwrap_or_default(),
        };
        check(&content)?;
        let limit = self.widget_limit(owner);
        let mut tx = self.db.begin().await?;
        let row = self
            .insert_widget(
                &mut tx,
                &owner.id,
                NewRow {
                        content: &content,
                        visibility: new.visibility.unwrap_or_default(),
                        hide_amounts: // Anything shared hides amounts unless the owner says otherwise.
                new.hide_amounts.unwrap_or(true),
                        forked_from: None,
                    },
                limit,
            )
            .await?;
        tx.commit().await?;
        let widget = self.widget(row)?;
        self.refresh_symbols(&owner.id, &widget).await?;
        self.public_changed().await;
        Ok(widget)
    }

    /// Stores a checked widget within `limit` widgets of its owner's.
    pub(super) async fn insert_widget(
        &self,
        tx: &mut platform::db::Tx,
        user_id: &str,
        new: NewRow<'_>,
        limit: i64,
    ) -> Result<WidgetRow, ApiError> {
        let NewRow {
            content,
            visibility,
            hide_amounts,
            forked_from,
        } = new;
        let now = self.clock.now().timestamp_millis();
        let forked_from = forked_from
            .map(serde_json::to_string)
            .transpose()
            .map_err(ApiError::internal)?;
        let row = WidgetRow {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user_id.to_string(),
            content: serde_json::to_string(content).map_err(ApiError::internal)?,
            visibility: visibility.as_str().into(),
            hide_amounts,
            share_token: visibility.is_shared().then(share_token),
            revision: 1,
            created_at: now,
            updated_at: now,
            forked_from,
            hidden: false,
            likes: 0,
            forks: 0,
        };
        if !store::take_place(tx, user_id, Counted::Widgets, limit).await? {
            return Err(crate::auth::pro_required().with_details(serde_json::json!({
                "reason": "widget_limit",
                "limit": self.config.free_widgets,
            })));
        }
        store::insert(
            tx,
            &row,
            &search_text(content),
            trend::of(Event::Published, now),
        )
        .await?;
        Ok(row)
    }

    /// One of the caller's widgets.
    pub async fn get(&self, owner: &User, id: &str) -> Result<Widget, ApiError> {
        let row = store::owned(&self.db, &owner.id, id)
            .await?
            .ok_or_else(not_found)?;
        self.widget(row)
    }

    /// A page of the caller's widgets, newest first.
    pub async fn list(
        &self,
        owner: &User,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<WidgetPage, ApiError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let (rows, more) = store::page(&self.db, &owner.id, cursor, limit).await?;
        let widgets = rows
            .into_iter()
            .map(|row| self.widget(row))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(WidgetPage {
            next_cursor: more.then(|| widgets.last().map(|w| w.id.clone())).flatten(),
            widgets,
        })
    }

    /// Applies `change`; a change of content is a new revision.
    pub async fn update(
        &self,
        owner: &User,
        id: &str,
        change: WidgetChange,
    ) -> Result<Widget, ApiError> {
        let mut tx = self.db.begin().await?;
        let mut row = store::owned_for_update(&mut tx, &owner.id, id)
            .await?
            .ok_or_else(not_found)?;
        let old: Content =
            serde_json::from_str(&row.content).map_err(|_| corrupt("content", &row.id))?;
        let mut content = old.clone();
        if let Some(title) = change.title {
            content.title = title.trim().to_string();
        }
        if let Some(description) = change.description {
            content.description = description;
        }
        if let Some(kind) = change.kind {
            content.kind = kind;
        }
        if let Some(source) = change.source {
            content.source = source;
        }
        if let Some(options) = change.options {
            content.options = options;
        }
        if let Some(tags) = change.tags {
            content.tags = tags;
        }
        check(&content)?;
        let revised = content != old;
        let was_public = row.visibility == Visibility::Public.as_str();
        if let Some(visibility) = change.visibility {
            row.visibility = visibility.as_str().into();
            row.share_token = match (visibility.is_shared(), row.share_token.take()) {
                (false, _) => None,
                (true, Some(token)) => Some(token),
                (true, None) => Some(share_token()),
            };
        }
        if let Some(hide) = change.hide_amounts {
            row.hide_amounts = hide;
        }
        if revised {
            row.revision += 1;
            row.content = serde_json::to_string(&content).map_err(ApiError::internal)?;
        }
        row.updated_at = self.clock.now().timestamp_millis();
        let search = revised.then(|| search_text(&content));
        store::update(&mut tx, &row, search.as_deref()).await?;
        let widget = self.widget(row)?;
        if !was_public && widget.visibility == Visibility::Public {
            // Published now: it starts trending from now, not from when made.
            let event = trend::of(Event::Published, widget.updated_at.timestamp_millis());
            reach_store::bump(
                &mut tx,
                &widget.id,
                Bump {
                    event: Some(event),
                    ..Bump::default()
                },
            )
            .await?;
        }
        tx.commit().await?;
        self.refresh_symbols(&owner.id, &widget).await?;
        self.public_changed().await;
        Ok(widget)
    }

    /// A new share link; the old one stops working. Refused for a private
    /// widget: make it unlisted or public first.
    pub async fn rotate_link(&self, owner: &User, id: &str) -> Result<Widget, ApiError> {
        let mut tx = self.db.begin().await?;
        let mut row = store::owned_for_update(&mut tx, &owner.id, id)
            .await?
            .ok_or_else(not_found)?;
        if row.visibility == Visibility::Private.as_str() {
            return Err(ApiError::failed_precondition(
                "the widget is private: set its visibility to unlisted or public to share it",
            ));
        }
        row.share_token = Some(share_token());
        row.updated_at = self.clock.now().timestamp_millis();
        store::update(&mut tx, &row, None).await?;
        tx.commit().await?;
        self.public_changed().await;
        self.widget(row)
    }

    /// Stops sharing: the widget becomes private and its link dies.
    pub async fn revoke_link(&self, owner: &User, id: &str) -> Result<Widget, ApiError> {
        self.update(
            owner,
            id,
            WidgetChange {
                visibility: Some(Visibility::Private),
                ..WidgetChange::default()
            },
        )
        .await
    }

    pub async fn delete(&self, owner: &User, id: &str) -> Result<(), ApiError> {
        let mut tx = self.db.begin().await?;
        let deleted = store::delete(&mut tx, &owner.id, id).await?;
        tx.commit().await?;
        if !deleted {
            return Err(not_found());
        }
        self.public_changed().await;
        Ok(())
    }

    /// The kept revisions of one of the caller's widgets, newest first.
    pub async fn revisions(&self, owner: &User, id: &str) -> Result<RevisionList, ApiError> {
        let widget = self.get(owner, id).await?;
        let revisions = store::revisions(&self.db, &widget.id)
            .await?
            .into_iter()
            .map(|r| {
                Ok(Revision {
                    revision: r.revision,
                    created_at: at(r.created_at, id)?,
                    content: serde_json::from_str(&r.content)
                        .map_err(|_| corrupt("revision", id))?,
                })
            })
            .collect::<Result<_, ApiError>>()?;
        Ok(RevisionList { revisions })
    }

    /// Makes revision `n`'s content current again, as a new revision.
    pub async fn restore(&self, owner: &User, id: &str, n: i64) -> Result<Widget, ApiError> {
        let content = {
            let mut tx = self.db.begin().await?;
            store::owned_for_update(&mut tx, &owner.id, id)
                .await?
                .ok_or_else(not_found)?;
            let content = store::revision(&mut tx, id, n).await?.ok_or_else(|| {
                ApiError::not_found(format!(
                    "no revision {n} of this widget: the last {} are kept",
                    store::KEPT_REVISIONS
                ))
            })?;
            tx.commit().await?;
            content
        };
        let content: Content =
            serde_json::from_str(&content).map_err(|_| corrupt("revision", id))?;
        self.update(
            owner,
            id,
            WidgetChange {
                title: Some(content.title),
                description: Some(content.description),
                kind: Some(content.kind),
                source: Some(content.source),
                options: Some(content.options),
                tags: Some(content.tags),
                ..WidgetChange::default()
            },
        )
        .await
    }

    /// The data of a widget for a viewer: amounts left out unless the viewer
    /// is the owner or the owner shows them.
    pub(super) async fn data_of(
        &self,
        widget: &Widget,
        owner_id: &str,
        is_owner: bool,
    ) -> Result<WidgetData, ApiError> {
        let hidden = !is_owner && widget.hide_amounts;
        let data = match &widget.content.source {
            Some(source) => {
                let data = self.portfolio.data(owner_id, source).await?;
                Some(if hidden { data.without_amounts() } else { data })
            }
            None => None,
        };
        Ok(WidgetData {
            widget_id: widget.id.clone(),
            revision: widget.revision,
            kind: widget.content.kind,
            data,
            amounts_hidden: hidden,
        })
    }

    /// The data of one of the caller's widgets.
    pub async fn data(&self, owner: &User, id: &str) -> Result<WidgetData, ApiError> {
        let widget = self.get(owner, id).await?;
        self.data_of(&widget, &owner.id, true).await
    }

    /// A page of the public widgets of `owner` (id and username), newest
    /// first, as anyone sees them.
    pub async fn public_widgets(
        &self,
        owner_id: &str,
        owner_username: &str,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<PublicWidgetPage, ApiError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let (rows, more) = store::public_page(&self.db, owner_id, cursor, limit).await?;
        let widgets = rows
            .into_iter()
            .map(|row| Ok(self.public_of(self.widget(row)?, owner_username.to_string())))
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(PublicWidgetPage {
            next_cursor: more.then(|| widgets.last().map(|w| w.id.clone())).flatten(),
            widgets,
        })
    }

    /// A shared widget as lists show it.
    pub(super) fn public_of(&self, widget: Widget, owner: String) -> PublicWidget {
        let share_url = widget.share_url.unwrap_or_default();
        PublicWidget {
            id: widget.id,
            card_url: format!("{share_url}/card.png"),
            share_url,
            title: widget.content.title,
            description: widget.content.description,
            kind: widget.content.kind,
            tags: widget.content.tags,
            owner,
            reactions: widget.reactions,
            forked_from: widget.forked_from,
            created_at: widget.created_at,
            updated_at: widget.updated_at,
        }
    }

    /// How many public widgets `owner_id` has.
    pub async fn public_count(&self, owner_id: &str) -> Result<i64, ApiError> {
        Ok(store::public_count(&self.db, owner_id).await?)
    }

    /// One of the caller's widgets drawn as SVG.
    pub async fn chart(&self, owner: &User, id: &str) -> Result<String, ApiError> {
        let widget = self.get(owner, id).await?;
        let data = self.data_of(&widget, &owner.id, true).await?;
        Ok(draw(&widget, &data))
    }

    /// The widget shared at `token`, its owner's id and its data as others
    /// see it.
    pub(super) async fn shared_parts(
        &self,
        token: &str,
    ) -> Result<(Widget, String, WidgetData), ApiError> {
        let missing = || ApiError::not_found("no widget is shared at this link");
        // Tokens are 43 URL-safe characters: anything else is not looked up.
        if token.len() != 43
            || !token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(missing());
        }
        let row = store::by_share_token(&self.db, token)
            .await?
            .ok_or_else(missing)?;
        let owner_id = row.user_id.clone();
        let widget = self.widget(row)?;
        let data = self.data_of(&widget, &owner_id, false).await?;
        Ok((widget, owner_id, data))
    }

    /// `svg` as a PNG card, drawn off the async threads (it takes
    /// milliseconds of CPU) unless it was drawn before.
    async fn card_of(&self, svg: String) -> Result<Bytes, ApiError> {
        let cards = Arc::clone(&self.cards);
        tokio::task::spawn_blocking(move || cards.card(&svg))
            .await
            .map_err(ApiError::internal)?
    }

    /// One of the caller's widgets as a 1200×630 PNG card.
    pub async fn card(&self, owner: &User, id: &str) -> Result<Bytes, ApiError> {
        let svg = self.chart(owner, id).await?;
        self.card_of(svg).await
    }

    /// A shared widget as a PNG card, for link previews.
    pub async fn shared_card(&self, token: &str) -> Result<Bytes, ApiError> {
        let svg = self.shared_chart(token).await?;
        self.card_of(svg).await
    }

    /// A shared widget drawn as SVG for anyone with its link.
    pub async fn shared_chart(&self, token: &str) -> Result<String, ApiError> {
        let (widget, _, data) = self.shared_parts(token).await?;
        Ok(draw(&widget, &data))
    }

    /// A shared widget as anyone with its link sees it.
    pub async fn shared(&self, token: &str) -> Result<SharedWidget, ApiError> {
        let (widget, owner_id, data) = self.shared_parts(token).await?;
        let owner = self.auth.user(&owner_id).await?;
        self.viewed(&widget.id);
        let options = widget.content.options.clone();
        Ok(SharedWidget {
            widget: self.public_of(widget, owner.username),
            options,
            data,
        })
    }
}
