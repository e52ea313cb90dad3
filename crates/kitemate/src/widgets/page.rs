//! A shared widget as a web page: what a signed-out browser and a link
//! preview see at its share link. The figures are those the JSON gives
//! anyone with the link (amounts left out unless the owner shows them),
//! drawn by the server's SVG and set out again as a table.

use platform::ApiError;

use super::chart;
use super::service::{WidgetService, draw};
use crate::portfolio::query::Data;
use crate::web::html::{Page, esc};

/// The figures as an HTML table, each cell written as its column says.
pub fn table(data: &Data, caption: &str) -> String {
    let numeric = |c: &crate::portfolio::query::Column| {
        !matches!(
            c.format,
            crate::portfolio::query::Format::Text | crate::portfolio::query::Format::Date
        )
    };
    let mut html = format!(
        "<div class=\"table-wrap\"><table><caption>{}</caption><thead><tr>",
        esc(caption)
    );
    for column in &data.columns {
        let class = if numeric(column) {
            " class=\"num\""
        } else {
            ""
        };
        html.push_str(&format!(
            "<th scope=\"col\"{class}>{}</th>",
            esc(&column.label)
        ));
    }
    html.push_str("</tr></thead><tbody>");
    for row in &data.rows {
        html.push_str("<tr>");
        for column in &data.columns {
            let value = row.get(&column.key).unwrap_or(&serde_json::Value::Null);
            let class = if numeric(column) {
                " class=\"num\""
            } else {
                ""
            };
            html.push_str(&format!(
                "<td{class}>{}</td>",
                esc(&chart::cell(column, value))
            ));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></div>");
    html
}

impl WidgetService {
    /// The page at a share link.
    pub async fn shared_page(&self, token: &str) -> Result<String, ApiError> {
        let (widget, owner_id, data) = self.shared_parts(token).await?;
        let owner = self.auth.user(&owner_id).await?.username;
        self.viewed(&widget.id);
        let svg = draw(&widget, &data);
        // Only what its owner published is for search engines.
        let index = widget.visibility == super::model::Visibility::Public;
        let public = self.public_of(widget, owner.clone());
        let mut body = format!(
            "<article class=\"card\"><h1>{title}</h1>\
             <p class=\"muted\">By <a href=\"/u/{owner_path}\">@{owner}</a> · {likes} likes · {forks} forks</p>",
            title = esc(&public.title),
            owner_path = esc(&owner),
            owner = esc(&owner),
            likes = public.reactions.likes,
            forks = public.reactions.forks,
        );
        if !public.description.is_empty() {
            body.push_str(&format!("<p>{}</p>", esc(&public.description)));
        }
        body.push_str(&format!(
            "<figure role=\"img\" aria-label=\"{label}\">{svg}</figure>",
            label = esc(&format!(
                "{}: the table below gives each figure",
                public.title
            )),
        ));
        if let Some(figures) = &data.data {
            body.push_str(&table(figures, &public.title));
        }
        if data.amounts_hidden {
            body.push_str("<p class=\"muted\">Amounts and quantities are hidden by the owner.</p>");
        }
        // The link's secret rides in the fragment: it never reaches a log.
        body.push_str(&format!(
            "<p><a class=\"button\" href=\"/app/fork/{id}#token={token}\">Fork into my KiteMate</a></p></article>",
            id = esc(&public.id),
            token = esc(token),
        ));
        let description = if public.description.is_empty() {
            format!("A {} widget by @{owner} on KiteMate", public.kind.as_str())
        } else {
            public.description.clone()
        };
        Ok(Page {
            title: &public.title,
            description: &description,
            url: &public.share_url,
            image: Some(&public.card_url),
            large_image: true,
            index,
            body,
        }
        .render())
    }
}
