//! The public pages as HTML, for browsers and link previews: a profile at
//! `/u/{username}` and discovery at `/discover`. They show what the JSON
//! shows a signed-out visitor (public widgets, never amounts), as cards
//! that open each widget's share link.

use platform::ApiError;

use super::pages::PROFILE_PAGE;
use super::service::SocialService;
use crate::web::html::{Page, esc};
use crate::widgets::Discover;
use crate::widgets::model::PublicWidget;

/// Public widgets as a list of cards.
fn cards(widgets: &[PublicWidget]) -> String {
    if widgets.is_empty() {
        return "<p class=\"muted\">No public widgets yet.</p>".into();
    }
    let mut html = String::from("<ul class=\"cards\">");
    for w in widgets {
        html.push_str(&format!(
            "<li class=\"card\"><a href=\"{share}\"><img src=\"{card}\" alt=\"\" width=\"1200\" height=\"630\" loading=\"lazy\">\
             <strong>{title}</strong></a><p class=\"muted\">{kind} by <a href=\"/u/{owner}\">@{owner}</a> · \
             {likes} likes · {forks} forks</p></li>",
            share = esc(&w.share_url),
            card = esc(&w.card_url),
            title = esc(&w.title),
            kind = w.kind.as_str(),
            owner = esc(&w.owner),
            likes = w.reactions.likes,
            forks = w.reactions.forks,
        ));
    }
    html.push_str("</ul>");
    html
}

/// An absolute URL for previews: stored pictures may be given as paths.
fn absolute(base: &str, url: &str) -> String {
    if url.starts_with('/') {
        format!("{base}{url}")
    } else {
        url.to_string()
    }
}

impl SocialService {
    /// A profile as a signed-out visitor sees it.
    pub async fn profile_page(&self, username: &str) -> Result<String, ApiError> {
        let profile = self
            .profile_with(username, None, (None, None), PROFILE_PAGE)
            .await?;
        let base = self.widgets.public_url();
        let name = if profile.display_name.is_empty() {
            profile.username.clone()
        } else {
            profile.display_name.clone()
        };
        let mut body = String::from("<section class=\"card row\">");
        if let Some(avatar) = &profile.avatar_url {
            body.push_str(&format!(
                "<img class=\"avatar\" src=\"{}\" alt=\"\" width=\"96\" height=\"96\">",
                esc(avatar)
            ));
        }
        body.push_str(&format!(
            "<div><h1>{name}</h1><p class=\"muted\">@{username} · {followers} followers · {following} following · \
             {forks} forks received</p><p>{bio}</p></div></section>",
            name = esc(&name),
            username = esc(&profile.username),
            followers = profile.counts.followers,
            following = profile.counts.following,
            forks = profile.counts.forks_received,
            bio = esc(&profile.bio),
        ));
        if !profile.links.is_empty() {
            body.push_str("<ul>");
            for link in &profile.links {
                body.push_str(&format!(
                    "<li><a href=\"{0}\" rel=\"nofollow noopener noreferrer ugc\">{0}</a></li>",
                    esc(link)
                ));
            }
            body.push_str("</ul>");
        }
        body.push_str("<h2>Public widgets</h2>");
        body.push_str(&cards(&profile.widgets.widgets));
        let url = format!("{base}/u/{}", profile.username);
        // Their picture; else their newest widget's card, for a preview with something in it.
        let avatar = profile.avatar_url.as_deref().map(|a| absolute(base, a));
        let large_image = avatar.is_none();
        let image = avatar.or_else(|| profile.widgets.widgets.first().map(|w| w.card_url.clone()));
        let description = if profile.bio.is_empty() {
            format!("{name} (@{}) on KiteMate", profile.username)
        } else {
            profile.bio
        };
        Ok(Page {
            title: &name,
            description: &description,
            url: &url,
            image: image.as_deref(),
            large_image,
            index: true,
            body,
        }
        .render())
    }

    /// Discovery: public widgets, trending or found by words.
    pub async fn discover_page(&self, ask: &Discover) -> Result<String, ApiError> {
        let page = self.discover(ask).await?;
        let q = ask.q.as_deref().unwrap_or("");
        let mut body = format!(
            "<h1>Discover</h1><form role=\"search\" method=\"get\" action=\"/discover\" class=\"row\">\
             <label for=\"q\">Search widgets</label><input id=\"q\" name=\"q\" type=\"search\" maxlength=\"100\" value=\"{}\">\
             <button class=\"button\" type=\"submit\">Search</button></form>",
            esc(q)
        );
        body.push_str(&cards(&page.widgets));
        if let Some(next) = &page.next_cursor {
            // The next page of the same question: its words, kind, stock and order.
            let mut query = form_urlencoded::Serializer::new(String::new());
            query.append_pair("cursor", next);
            query.append_pair("sort", ask.sort.as_str());
            for (key, value) in [
                ("q", ask.q.as_deref()),
                ("symbol", ask.symbol.as_deref()),
                ("kind", ask.kind.map(|k| k.as_str())),
            ] {
                if let Some(value) = value {
                    query.append_pair(key, value);
                }
            }
            body.push_str(&format!(
                "<p><a href=\"/discover?{}\">More</a></p>",
                esc(&query.finish())
            ));
        }
        let url = format!("{}/discover", self.widgets.public_url());
        let image = page.widgets.first().map(|w| w.card_url.clone());
        Ok(Page {
            title: "Discover portfolios' widgets",
            description: "Widgets KiteMate's investors share: allocations, returns and movers, without amounts.",
            url: &url,
            image: image.as_deref(),
            large_image: true,
            index: true,
            body,
        }
        .render())
    }
}
