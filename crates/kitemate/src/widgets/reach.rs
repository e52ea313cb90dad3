//! What others do with shared widgets: forks (with their lineage and event),
//! likes, views and the trending score they feed; the discovery and feed
//! pages; the stocks a widget concerns; what administrators hide.

use std::time::Duration;

use base64::Engine as _;
use platform::ApiError;

use super::events::{WidgetForked, WidgetLiked};
use super::model::{ForkedFrom, PublicWidgetPage, Reactions, Visibility, Widget, WidgetKind};
use super::reach_store::{self, Bump, Filter, Liked, Order};
use super::service::{MAX_PAGE, NewRow, WidgetService};
use super::store::WidgetRow;
use super::trend::{self, Event};
use crate::auth::User;

/// How often counted views are written.
const VIEW_FLUSH: Duration = Duration::from_secs(5);
/// Symbols kept per widget.
const MAX_SYMBOLS: usize = 100;
/// Search words read of a query.
pub const MAX_WORDS: usize = 8;

/// A discovery page's order, as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Trending,
    New,
    Top,
}

impl Sort {
    /// As the `sort` parameter names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trending => "trending",
            Self::New => "new",
            Self::Top => "top",
        }
    }
}

/// What `GET /discover/widgets` asks.
#[derive(Debug, Clone, Default)]
pub struct Discover {
    pub sort: Sort,
    pub kind: Option<WidgetKind>,
    pub q: Option<String>,
    pub symbol: Option<String>,
    pub cursor: Option<String>,
    pub limit: i64,
}

fn bad_cursor() -> ApiError {
    ApiError::invalid_field("cursor", "is not a cursor of this list and order")
}

/// A cursor names the order it belongs to, and the last row's keys.
fn encode_cursor(sort: Sort, key: &str, id: &str) -> String {
    let text = match sort {
        Sort::Trending => format!("t:{key}:{id}"),
        Sort::Top => format!("p:{key}:{id}"),
        Sort::New => format!("n:{id}"),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

fn decode_cursor(sort: Sort, cursor: Option<&str>) -> Result<Order, ApiError> {
    let Some(cursor) = cursor else {
        return Ok(match sort {
            Sort::Trending => Order::Trending(None),
            Sort::Top => Order::Top(None),
            Sort::New => Order::New(None),
        });
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad_cursor())?;
    let text = String::from_utf8(bytes).map_err(|_| bad_cursor())?;
    let mut parts = text.splitn(3, ':');
    let (tag, a, b) = (parts.next(), parts.next(), parts.next());
    let id_ok = |id: &str| id.len() <= 64 && !id.is_empty();
    match (sort, tag, a, b) {
        (Sort::Trending, Some("t"), Some(score), Some(id)) if id_ok(id) => {
            let score: f64 = score.parse().map_err(|_| bad_cursor())?;
            if !score.is_finite() {
                return Err(bad_cursor());
            }
            Ok(Order::Trending(Some((score, id.to_string()))))
        }
        (Sort::Top, Some("p"), Some(points), Some(id)) if id_ok(id) => Ok(Order::Top(Some((
            points.parse().map_err(|_| bad_cursor())?,
            id.to_string(),
        )))),
        (Sort::New, Some("n"), Some(id), None) if id_ok(id) => Ok(Order::New(Some(id.to_string()))),
        _ => Err(bad_cursor()),
    }
}

/// The words of a search: letters and digits, lower case, at most
/// [`MAX_WORDS`]. Both databases split text the same way.
pub fn words(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(40).collect::<String>().to_lowercase())
        .take(MAX_WORDS)
        .collect()
}

fn not_shared() -> ApiError {
    ApiError::not_found("no such shared widget")
}

impl WidgetService {
    /// Counts a view of a shared widget; written with others every few seconds.
    pub(super) fn viewed(&self, id: &str) {
        let Some(batch) = self.views.count(id, VIEW_FLUSH) else {
            return;
        };
        let now = self.clock.now().timestamp_millis();
        let batch: Vec<(String, i64, f64)> = batch
            .into_iter()
            .map(|(id, n)| {
                let event = trend::of(Event::View, now) + (n as f64).log2();
                (id, n, event)
            })
            .collect();
        let db = self.db.clone();
        tokio::spawn(async move {
            if let Err(err) = reach_store::add_views(&db, &batch).await {
                tracing::warn!(error = %err, "views not recorded");
            }
        });
    }

    /// A widget `viewer` may reach: public, or unlisted with its link's
    /// `token`; not hidden; its owner visible unless it is the viewer.
    async fn reachable(
        &self,
        id: &str,
        token: Option<&str>,
        viewer: &str,
    ) -> Result<WidgetRow, ApiError> {
        let row = reach_store::reachable(&self.db, id, viewer)
            .await?
            .ok_or_else(not_shared)?;
        if row.visibility == Visibility::Unlisted.as_str() {
            let same = match (token, row.share_token.as_deref()) {
                (Some(given), Some(kept)) => {
                    platform::crypto::constant_time_eq(given.as_bytes(), kept.as_bytes())
                }
                _ => false,
            };
            if !same {
                return Err(not_shared());
            }
        }
        Ok(row)
    }

    /// A widget `viewer` may fork or like: their own, whatever its
    /// visibility, or one shared with them.
    async fn own_or_reachable(
        &self,
        id: &str,
        token: Option<&str>,
        viewer: &str,
    ) -> Result<WidgetRow, ApiError> {
        match super::store::owned(&self.db, viewer, id).await? {
            Some(mine) => Ok(mine),
            None => self.reachable(id, token, viewer).await,
        }
    }

    /// The owner of a widget `viewer` may fork or like (for checks first).
    pub async fn owner_for_reach(
        &self,
        id: &str,
        token: Option<&str>,
        viewer: &User,
    ) -> Result<String, ApiError> {
        Ok(self.own_or_reachable(id, token, &viewer.id).await?.user_id)
    }

    /// The owner of a widget others may reach (for checks before acting).
    pub async fn owner_of_shared(
        &self,
        id: &str,
        token: Option<&str>,
        viewer: &User,
    ) -> Result<String, ApiError> {
        Ok(self.reachable(id, token, &viewer.id).await?.user_id)
    }

    /// The title and owner of any widget, for notices about it.
    pub async fn title_of(&self, id: &str) -> Result<Option<(String, String)>, ApiError> {
        let Some(row) = reach_store::any(&self.db, id).await? else {
            return Ok(None);
        };
        let owner = row.user_id.clone();
        Ok(Some((self.widget(row)?.content.title, owner)))
    }

    /// Copies a shared widget's definition (never its data) into the
    /// caller's account, within their plan, recording where it came from;
    /// the creator hears of it through `widget-forks`. Forking one's own
    /// widget, shared or not, duplicates it.
    pub async fn fork(&self, me: &User, id: &str, token: Option<&str>) -> Result<Widget, ApiError> {
        let row = self.own_or_reachable(id, token, &me.id).await?;
        let owner_id = row.user_id.clone();
        let original = self.widget(row)?;
        let owner = if owner_id == me.id {
            None
        } else {
            Some(self.auth.user(&owner_id).await?)
        };
        let mut tx = self.db.begin().await?;
        let now = self.clock.now().timestamp_millis();
        let row = self
            .fork_in(&mut tx, me, &original, owner.as_ref(), now)
            .await?;
        tx.commit().await?;
        self.public_changed().await;
        self.widget(row)
    }

    /// Stores in `tx` a private copy of `original`'s definition for `me`,
    /// within their plan (a rupee bound of its source is dropped when its
    /// owner hides amounts). With `owner` (someone else) it is a fork: its
    /// lineage is kept, the original's counts and score grow, and
    /// `widget-forks` is published; without, a plain duplicate.
    pub(super) async fn fork_in(
        &self,
        tx: &mut platform::db::Tx,
        me: &User,
        original: &Widget,
        owner: Option<&User>,
        now: i64,
    ) -> Result<WidgetRow, ApiError> {
        let mut content = original.content.clone();
        if original.hide_amounts {
            content.source = content.source.map(|s| s.without_amounts());
        }
        let lineage = owner.map(|owner| ForkedFrom {
            widget_id: original.id.clone(),
            revision: original.revision,
            owner_username: Some(owner.username.clone()),
        });
        let row = self
            .insert_widget(
                tx,
                &me.id,
                NewRow {
                    content: &content,
                    visibility: Visibility::Private,
                    hide_amounts: true,
                    forked_from: lineage.as_ref(),
                },
                self.widget_limit(me),
            )
            .await?;
        if let Some(owner) = owner {
            let bump = Bump {
                forks: 1,
                event: Some(trend::of(Event::Fork, now)),
                ..Bump::default()
            };
            reach_store::bump(tx, &original.id, bump).await?;
            reach_store::fork_received(tx, &owner.id).await?;
            let event = WidgetForked {
                widget_id: original.id.clone(),
                original_user_id: owner.id.clone(),
                forking_user_id: me.id.clone(),
                fork_id: row.id.clone(),
            };
            self.forks
                .publish_in(tx, &event)
                .await
                .map_err(ApiError::internal)?;
        }
        Ok(row)
    }

    /// The caller likes a shared widget (again: no change). The owner hears
    /// of a first like through `widget-likes`.
    pub async fn like(
        &self,
        me: &User,
        id: &str,
        token: Option<&str>,
    ) -> Result<Reactions, ApiError> {
        let row = self.own_or_reachable(id, token, &me.id).await?;
        let now = self.clock.now().timestamp_millis();
        let mut tx = self.db.begin().await?;
        let liked = reach_store::like(&mut tx, &row.id, &me.id, now).await?;
        if liked != Liked::Already {
            let bump = Bump {
                likes: 1,
                // Only a first like counts toward trending: liking, taking
                // it back and liking again pushes nothing up.
                event: (liked == Liked::New).then(|| trend::of(Event::Like, now)),
                ..Bump::default()
            };
            reach_store::bump(&mut tx, &row.id, bump).await?;
        }
        if liked == Liked::New && row.user_id != me.id {
            let event = WidgetLiked {
                widget_id: row.id.clone(),
                owner_user_id: row.user_id.clone(),
                liking_user_id: me.id.clone(),
            };
            self.likes
                .publish_in(&mut tx, &event)
                .await
                .map_err(ApiError::internal)?;
        }
        tx.commit().await?;
        self.public_changed().await;
        self.reactions(&row.id).await
    }

    /// The caller takes back a like (none: no change).
    pub async fn unlike(&self, me: &User, id: &str) -> Result<Reactions, ApiError> {
        let mut tx = self.db.begin().await?;
        if reach_store::unlike(&mut tx, id, &me.id).await? {
            let bump = Bump {
                likes: -1,
                ..Bump::default()
            };
            reach_store::bump(&mut tx, id, bump).await?;
        }
        tx.commit().await?;
        self.public_changed().await;
        self.reactions(id).await
    }

    async fn reactions(&self, id: &str) -> Result<Reactions, ApiError> {
        let row = reach_store::any(&self.db, id)
            .await?
            .ok_or_else(not_shared)?;
        Ok(Reactions {
            likes: row.likes,
            forks: row.forks,
        })
    }

    /// Forks others made of `owner_id`'s widgets.
    pub async fn forks_received(&self, owner_id: &str) -> Result<i64, ApiError> {
        Ok(reach_store::forks_received(&self.db, owner_id).await?)
    }

    /// Whether `me` likes widget `id`.
    pub async fn liked_by(&self, me: &User, id: &str) -> Result<bool, ApiError> {
        Ok(reach_store::likes(&self.db, id, &me.id).await?)
    }

    /// A page of public widgets, as anyone sees them.
    pub async fn discover(&self, ask: &Discover) -> Result<PublicWidgetPage, ApiError> {
        let order = decode_cursor(ask.sort, ask.cursor.as_deref())?;
        let words = ask.q.as_deref().map(words).unwrap_or_default();
        if ask.q.is_some() && words.is_empty() {
            return Err(ApiError::invalid_field(
                "q",
                "needs a word of letters or digits",
            ));
        }
        let filter = Filter {
            kind: ask.kind.map(WidgetKind::as_str),
            words: &words,
            symbol: ask.symbol.as_deref(),
            owners: None,
        };
        self.listed_page(ask.sort, &order, &filter, ask.limit).await
    }

    /// The public widgets of `owners` (whom someone follows), newest first.
    pub async fn feed(
        &self,
        owners: &[String],
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<PublicWidgetPage, ApiError> {
        let order = decode_cursor(Sort::New, cursor)?;
        let filter = Filter {
            owners: Some(owners),
            ..Filter::default()
        };
        self.listed_page(Sort::New, &order, &filter, limit).await
    }

    async fn listed_page(
        &self,
        sort: Sort,
        order: &Order,
        filter: &Filter<'_>,
        limit: i64,
    ) -> Result<PublicWidgetPage, ApiError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let (rows, more) = reach_store::listed(&self.db, order, filter, limit).await?;
        let owners: Vec<&str> = rows.iter().map(|r| r.widget.user_id.as_str()).collect();
        let names = self.auth.usernames(&owners).await?;
        let next_cursor = match rows.last() {
            Some(last) if more => Some(match sort {
                Sort::Trending => {
                    encode_cursor(sort, &format!("{:?}", last.trend), &last.widget.id)
                }
                Sort::Top => encode_cursor(sort, &last.points.to_string(), &last.widget.id),
                Sort::New => encode_cursor(sort, "", &last.widget.id),
            }),
            _ => None,
        };
        let mut widgets = Vec::with_capacity(rows.len());
        for row in rows {
            let owner = names.get(&row.widget.user_id).cloned().unwrap_or_default();
            widgets.push(self.public_of(self.widget(row.widget)?, owner));
        }
        Ok(PublicWidgetPage {
            widgets,
            next_cursor,
        })
    }

    /// Records which stocks a widget concerns while it is public: its
    /// source's symbol and the symbols its data shows anyone.
    pub(super) async fn refresh_symbols(
        &self,
        owner_id: &str,
        widget: &Widget,
    ) -> Result<(), ApiError> {
        let mut symbols: Vec<String> = Vec::new();
        if widget.visibility == Visibility::Public {
            if let Some(symbol) = widget.content.source.as_ref().and_then(|s| s.symbol()) {
                symbols.push(symbol.to_string());
            }
            let data = self.data_of(widget, owner_id, false).await?;
            if let Some(data) = data.data {
                for row in &data.rows {
                    if let Some(serde_json::Value::String(s)) = row.get("symbol")
                        && !symbols.contains(s)
                        && symbols.len() < MAX_SYMBOLS
                    {
                        symbols.push(s.clone());
                    }
                }
            }
        }
        let mut tx = self.db.begin().await?;
        reach_store::set_symbols(&mut tx, &widget.id, &symbols).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Refreshes the symbols of every public widget of the user's (after
    /// their holdings changed).
    pub async fn refresh_owner_symbols(&self, owner_id: &str) -> Result<(), ApiError> {
        for id in reach_store::public_ids(&self.db, owner_id).await? {
            if let Some(row) = reach_store::any(&self.db, &id).await? {
                let widget = self.widget(row)?;
                self.refresh_symbols(owner_id, &widget).await?;
            }
        }
        Ok(())
    }

    /// Hides (or shows again) a widget wherever others see it; false when
    /// there is no such widget.
    pub async fn set_hidden(&self, id: &str, hidden: bool) -> Result<bool, ApiError> {
        let found = reach_store::set_hidden(&self.db, id, hidden).await?;
        self.public_changed().await;
        Ok(found)
    }

    /// Keeps the user's widgets out of public lists (or lets them back):
    /// `private` is the owner's choice, `hidden` an administrator's.
    pub async fn withdraw(
        &self,
        user_id: &str,
        private: Option<bool>,
        hidden: Option<bool>,
    ) -> Result<(), ApiError> {
        reach_store::withdraw(&self.db, user_id, private, hidden).await?;
        self.public_changed().await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_belong_to_their_order() {
        let c = encode_cursor(Sort::Trending, &format!("{:?}", 700.123_456_789_f64), "abc");
        assert_eq!(
            decode_cursor(Sort::Trending, Some(&c)).ok(),
            Some(Order::Trending(Some((700.123_456_789, "abc".into()))))
        );
        assert!(decode_cursor(Sort::Top, Some(&c)).is_err());
        assert!(decode_cursor(Sort::New, Some("not base64!")).is_err());
        let n = encode_cursor(Sort::New, "", "0192");
        assert_eq!(
            decode_cursor(Sort::New, Some(&n)).ok(),
            Some(Order::New(Some("0192".into())))
        );
    }

    #[test]
    fn search_words_are_split_like_the_databases_split_text() {
        assert_eq!(
            words("Mid-cap  ETFs, 2024!"),
            ["mid", "cap", "etfs", "2024"]
        );
        assert_eq!(words("\"quoted\" OR * NEAR"), ["quoted", "or", "near"]);
        assert!(words("*** --").is_empty());
    }
}
