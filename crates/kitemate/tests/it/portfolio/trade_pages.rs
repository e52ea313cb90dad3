//! Pages of trades read only the months they show: every page, with every
//! filter, is the same as sorting the whole history and slicing it; and
//! trades stored before months existed are split when the app starts.

use reqwest::StatusCode;
use serde_json::Value;

use crate::portfolio::imports::upload;
use crate::support::{Kind, TestApp, TestResult};

/// `(date, time, trade id, symbol, isin)` of a generated history: three
/// securities, two symbols of one ISIN, over fourteen months.
fn history() -> Vec<(String, String, String, &'static str, &'static str)> {
    let start = chrono::NaiveDate::from_ymd_opt(2023, 11, 20).unwrap_or_default();
    let securities = [
        ("INFY", "INE009A01021"),
        ("TCS", "INE467B01029"),
        ("HDFCBANK", "INE040A01034"),
        ("HDFC", "INE040A01034"),
    ];
    (0..400)
        .map(|i| {
            let day = start + chrono::TimeDelta::days((i * 13 % 430) as i64);
            let (symbol, isin) = securities[i % securities.len()];
            (
                day.to_string(),
                format!("{day}T{:02}:{:02}:00", 9 + i % 6, i % 60),
                format!("{}", 5_000_000 + i),
                symbol,
                isin,
            )
        })
        .collect()
}

fn tradebook(rows: &[(String, String, String, &str, &str)]) -> String {
    let mut text = String::from(
        "symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,trade_id,order_id,order_execution_time\n",
    );
    for (date, time, id, symbol, isin) in rows {
        text.push_str(&format!(
            "{symbol},{isin},{date},NSE,EQ,EQ,buy,false,1,100,{id},1,{time}\n"
        ));
    }
    text
}

/// The trade ids the API should give for a filter and page.
fn expected(
    rows: &[(String, String, String, &str, &str)],
    symbol: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    offset: usize,
    limit: usize,
) -> (Vec<String>, usize) {
    let mut matching: Vec<&(String, String, String, &str, &str)> = rows
        .iter()
        .filter(|(date, _, _, s, isin)| {
            symbol.is_none_or(|want| *s == want || *isin == want)
                && from.is_none_or(|f| date.as_str() >= f)
                && to.is_none_or(|t| date.as_str() <= t)
        })
        .collect();
    matching.sort_by(|a, b| (&b.0, &b.1, &b.2).cmp(&(&a.0, &a.1, &a.2)));
    let total = matching.len();
    (
        matching
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|r| r.2.clone())
            .collect(),
        total,
    )
}

async fn every_page_is_the_sorted_history_sliced(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let rows = history();
    // Two imports that overlap: months hold blocks of both.
    let (first, second) = rows.split_at(250);
    let overlap = [&first[200..], second].concat();
    for part in [first, &overlap[..]] {
        let reply = upload(&app, &asha, "", "text/csv", tradebook(part).into_bytes()).await?;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    }
    let filters: [(Option<&str>, Option<&str>, Option<&str>); 6] = [
        (None, None, None),
        (Some("TCS"), None, None),
        (Some("INE040A01034"), None, None),
        (Some("HDFC"), Some("2024-01-15"), None),
        (None, Some("2023-12-10"), Some("2024-06-17")),
        (None, Some("2024-02-29"), Some("2024-02-29")),
    ];
    for (symbol, from, to) in filters {
        for (offset, limit) in [(0, 50), (37, 13), (120, 100), (395, 10), (1_000, 5)] {
            let mut query = format!("?offset={offset}&limit={limit}");
            for (name, value) in [("symbol", symbol), ("from", from), ("to", to)] {
                if let Some(value) = value {
                    query.push_str(&format!("&{name}={value}"));
                }
            }
            let page = app
                .get(&format!("/portfolio/trades{query}"), Some(&asha))
                .await?;
            assert_eq!(page.status, StatusCode::OK, "{query}: {page:?}");
            let page = page.json();
            let ids: Vec<String> = page["trades"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|t| t["tradeId"].as_str().unwrap_or_default().to_string())
                .collect();
            let (want, total) = expected(&rows, symbol, from, to, offset, limit);
            assert_eq!(page["total"].as_u64(), Some(total as u64), "{query}");
            assert_eq!(ids, want, "{query}");
        }
    }
    app.stop().await
}

/// Blocks stored before trades were packed by month (month '') are split by
/// month when the app starts, and nothing is lost or doubled.
async fn trades_stored_before_months_are_split(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let rows = history();
    let reply = upload(&app, &asha, "", "text/csv", tradebook(&rows).into_bytes()).await?;
    assert_eq!(reply.status, StatusCode::OK);
    let before: Value = app
        .get("/portfolio/trades?limit=500", Some(&asha))
        .await?
        .json();
    let summary = app.get("/portfolio/summary", Some(&asha)).await?.json();
    // Fold every block back into one per security and import, as they were.
    let db = app.app.portfolio.db().clone();
    platform::with_db!(db, |pool| {
        async {
        let blocks: Vec<(String, String, String, String, String)> = sqlx::query_as(
            "SELECT user_id, security, import_id, isin, fills FROM trade_blocks ORDER BY month",
        )
        .fetch_all(pool)
        .await?;
        sqlx::query("DELETE FROM trade_blocks").execute(pool).await?;
        sqlx::query("DELETE FROM trade_months").execute(pool).await?;
        let mut merged: std::collections::BTreeMap<(String, String, String, String), String> =
            Default::default();
        for (user, security, import, isin, fills) in blocks {
            merged.entry((user, security, import, isin)).or_default().push_str(&fills);
        }
        for ((user, security, import, isin), fills) in merged {
            sqlx::query(
                "INSERT INTO trade_blocks (user_id, security, import_id, month, symbol, isin, n, fills) \
                 VALUES ($1, $2, $3, '', '', $4, 0, $5)",
            )
            .bind(user)
            .bind(security)
            .bind(import)
            .bind(isin)
            .bind(fills)
            .execute(pool)
            .await?;
        }
        Ok::<_, sqlx::Error>(())
    }
    .await
    })?;
    app.app
        .portfolio
        .upgrade_storage()
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let after: Value = app
        .get("/portfolio/trades?limit=500", Some(&asha))
        .await?
        .json();
    assert_eq!(after, before);
    assert_eq!(
        app.get("/portfolio/summary", Some(&asha)).await?.json(),
        summary
    );
    let unsplit: i64 = platform::with_db!(db, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM trade_blocks WHERE month = ''")
            .fetch_one(pool)
            .await
    })?;
    assert_eq!(unsplit, 0);
    app.stop().await
}

crate::both_backends!(
    every_page_is_the_sorted_history_sliced,
    trades_stored_before_months_are_split,
);
