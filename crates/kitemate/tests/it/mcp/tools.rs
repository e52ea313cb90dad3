//! Every tool, resource and prompt through `rmcp`'s client, in both
//! protocol eras, with the figures the portfolio endpoints give.

use reqwest::StatusCode;
use rmcp::model::{GetPromptRequestParams, ReadResourceRequestParams, ResourceContents};
use serde_json::{Value, json};

use super::{call, connect, mcp};
use crate::chat::answers::with_trades;
use crate::support::{Kind, TestApp, TestResult};
use crate::widgets::crud::starter;

const TRADEBOOK: &str =
    include_str!("../../data/console/mohit-manna__capital-gain-fy-24-25__tradebook.csv");

/// The API's answer to `path` for `token`.
async fn api(app: &TestApp, token: &str, path: &str) -> anyhow::Result<Value> {
    let reply = app.get(path, Some(token)).await?;
    anyhow::ensure!(reply.status == StatusCode::OK, "{path}: {reply:?}");
    Ok(reply.json())
}

/// A tool's structured content, or the test fails with its error.
async fn tool(
    client: &rmcp::service::RunningService<rmcp::RoleClient, super::Quiet>,
    name: &str,
    args: Value,
) -> anyhow::Result<Value> {
    call(client, name, args)
        .await?
        .map_err(|e| anyhow::anyhow!("{name} failed: {e}"))
}

/// A resource's JSON text.
async fn resource(
    client: &rmcp::service::RunningService<rmcp::RoleClient, super::Quiet>,
    uri: &str,
) -> anyhow::Result<Value> {
    let read = client
        .read_resource(ReadResourceRequestParams::new(uri))
        .await?;
    match read.contents.first() {
        Some(ResourceContents::TextResourceContents {
            text, mime_type, ..
        }) => {
            assert_eq!(mime_type.as_deref(), Some("application/json"), "{uri}");
            Ok(serde_json::from_str(text)?)
        }
        other => anyhow::bail!("{uri}: {other:?}"),
    }
}

fn without(mut value: Value, key: &str) -> Value {
    if let Some(map) = value.as_object_mut() {
        map.remove(key);
    }
    value
}

async fn every_tool_gives_the_figures_the_api_gives(kind: Kind) -> TestResult {
    let app = TestApp::spawn_with(kind, |c| {
        c.mcp.tool_calls_per_minute = 10_000;
        c.mcp.tool_call_burst = 1_000;
    })
    .await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    starter(&app, &asha).await?;
    crate::widgets::crud::pro(&app, "asha").await?;
    let tokens = connect(&app, "asha", "portfolio:read widgets:read").await?;
    let client = mcp(&app, &tokens.access, true).await?;

    // Twelve tools, each read-only, each with an output schema.
    let tools = client.list_all_tools().await?;
    let mut names: Vec<_> = tools.iter().map(|t| t.name.to_string()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "allocation",
            "capital_gains",
            "data_status",
            "harvest_candidates",
            "holding_lots",
            "holdings",
            "list_widgets",
            "performance",
            "portfolio_summary",
            "realized_pnl",
            "search_trades",
            "widget_data"
        ]
    );
    for t in &tools {
        let annotations = t.annotations.clone().unwrap_or_default();
        assert_eq!(annotations.read_only_hint, Some(true), "{}", t.name);
        assert!(!annotations.destructive_hint.unwrap_or(false), "{}", t.name);
        assert!(t.output_schema.is_some(), "{} has an output schema", t.name);
    }

    let summary = tool(&client, "portfolio_summary", json!({})).await?;
    assert_eq!(
        summary["summary"],
        api(&app, &asha, "/portfolio/summary").await?
    );
    assert!(summary["lastImportAt"].is_string(), "{summary}");

    let holdings = tool(&client, "holdings", json!({ "limit": 100 })).await?;
    assert_eq!(
        holdings["page"],
        api(&app, &asha, "/holdings?limit=100").await?
    );
    let rows = holdings["page"]["holdings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!rows.is_empty(), "the tradebook leaves holdings");
    let terms = holdings["terms"].as_array().cloned().unwrap_or_default();
    assert_eq!(terms.len(), rows.len());
    let number = |v: &Value| {
        v.as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .or(v.as_f64())
            .unwrap_or(f64::NAN)
    };
    for (row, term) in rows.iter().zip(&terms) {
        assert_eq!(row["symbol"], term["symbol"]);
        let split = number(&term["longTermQuantity"]) + number(&term["shortTermQuantity"]);
        assert!(
            (split - number(&row["quantity"])).abs() < 1e-9,
            "{row} {term}"
        );
        assert!(
            term["firstBoughtOn"].is_string() && term["heldDays"].as_i64().unwrap_or(-1) >= 0,
            "{term}"
        );
        // A date to turn long-term is ahead, never behind.
        if let Some(next) = term["nextLongTermOn"].as_str() {
            assert!(
                next > summary["today"].as_str().unwrap_or_default(),
                "{term}"
            );
            assert!(number(&term["shortTermQuantity"]) > 0.0, "{term}");
        }
    }

    // One holding's lots are the harvest page's lots of that symbol.
    let symbol = rows[0]["symbol"].as_str().unwrap_or_default().to_string();
    let lots = tool(
        &client,
        "holding_lots",
        json!({ "symbol": symbol.to_lowercase() }),
    )
    .await?;
    let harvest = api(&app, &asha, "/portfolio/tax/harvest?limit=500").await?;
    let mut expected: Vec<Value> = harvest["lots"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|l| l["symbol"] == symbol.as_str())
        .collect();
    expected.sort_by_key(|l| l["acquiredOn"].as_str().unwrap_or_default().to_string());
    assert_eq!(lots["lots"], Value::Array(expected.clone()));
    assert_eq!(lots["total"], expected.len());
    let held: f64 = expected.iter().map(|l| number(&l["quantity"])).sum();
    assert!((held - number(&rows[0]["quantity"])).abs() < 1e-9);
    let missing = call(&client, "holding_lots", json!({ "symbol": "NOTHELD" })).await?;
    assert!(missing.is_err_and(|e| e.contains("NOTHELD")));

    let realized = tool(
        &client,
        "realized_pnl",
        json!({ "fy": "2024-25", "limit": 100 }),
    )
    .await?;
    let realized_api = api(&app, &asha, "/portfolio/pnl/realized?fy=2024-25&limit=100").await?;
    assert_eq!(realized, realized_api);
    assert_ne!(realized["totalPaise"], 0, "the year has sales");
    let bad_fy = call(&client, "realized_pnl", json!({ "fy": "2024-26" })).await?;
    assert!(bad_fy.is_err_and(|e| e.contains("fy")));

    let gains = tool(
        &client,
        "capital_gains",
        json!({ "fy": "2024-25", "limit": 100 }),
    )
    .await?;
    assert_eq!(
        gains,
        api(
            &app,
            &asha,
            "/portfolio/tax/capital-gains?fy=2024-25&limit=100"
        )
        .await?
    );

    let ideas = tool(&client, "harvest_candidates", json!({})).await?;
    // The same ideas and totals; the lots are holding_lots' to give.
    let strip = |v: Value| without(without(v, "lots"), "limit");
    assert_eq!(strip(ideas), strip(harvest));

    for period in ["1y", "all"] {
        let perf = tool(&client, "performance", json!({ "period": period })).await?;
        assert_eq!(
            perf,
            api(
                &app,
                &asha,
                &format!("/portfolio/performance?period={period}")
            )
            .await?
        );
    }
    for by in ["stock", "sector", "asset_class"] {
        let slices = tool(&client, "allocation", json!({ "by": by })).await?;
        assert_eq!(
            slices,
            api(&app, &asha, &format!("/portfolio/allocation?by={by}")).await?
        );
    }

    let trades = tool(
        &client,
        "search_trades",
        json!({ "symbol": symbol, "fy": "2024-25", "limit": 200 }),
    )
    .await?;
    let trades_api = api(
        &app,
        &asha,
        &format!("/portfolio/trades?symbol={symbol}&from=2024-04-01&to=2025-03-31&limit=200"),
    )
    .await?;
    assert_eq!(trades["trades"], trades_api["trades"]);
    assert_eq!(trades["total"], trades_api["total"]);
    let sells = tool(
        &client,
        "search_trades",
        json!({ "side": "sell", "limit": 200 }),
    )
    .await?;
    let sold = sells["trades"].as_array().cloned().unwrap_or_default();
    assert!(
        !sold.is_empty() && sold.iter().all(|t| t["side"] == "sell"),
        "{sells}"
    );
    // One side pages and counts as the API's list of every trade does.
    let every = api(&app, &asha, "/portfolio/trades?limit=500").await?;
    let all_sells: Vec<Value> = every["trades"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["side"] == "sell")
        .cloned()
        .collect();
    assert!(
        every["total"].as_i64() < Some(500),
        "one page holds them all"
    );
    assert_eq!(sells["total"], all_sells.len());
    assert_eq!(sold, all_sells[..sold.len()]);
    let second = tool(
        &client,
        "search_trades",
        json!({ "side": "sell", "offset": 5, "limit": 5 }),
    )
    .await?;
    assert_eq!(second["trades"], json!(all_sells[5..10]));
    let backwards = call(
        &client,
        "search_trades",
        json!({ "from": "2025-01-02", "to": "2025-01-01" }),
    )
    .await?;
    assert!(backwards.is_err_and(|e| e.contains("to")));

    let widgets = tool(&client, "list_widgets", json!({ "limit": 50 })).await?;
    let widgets_api = api(&app, &asha, "/widgets?limit=50").await?;
    let listed = widgets["widgets"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        listed.len(),
        widgets_api["widgets"].as_array().map_or(0, Vec::len)
    );
    assert!(!listed.is_empty());
    for (mine, theirs) in listed
        .iter()
        .zip(widgets_api["widgets"].as_array().into_iter().flatten())
    {
        assert_eq!(
            without(mine.clone(), "shareUrl"),
            without(theirs.clone(), "shareUrl")
        );
        assert!(
            mine.get("shareUrl").is_none_or(Value::is_null),
            "no share link handed on"
        );
    }
    let id = listed[0]["id"].as_str().unwrap_or_default().to_string();
    let data = tool(&client, "widget_data", json!({ "id": id })).await?;
    assert_eq!(
        data,
        api(&app, &asha, &format!("/widgets/{id}/data")).await?
    );

    let status = tool(&client, "data_status", json!({})).await?;
    assert_eq!(status["importsTotal"], 1);
    assert_eq!(status["holdings"], summary["summary"]["holdings"]);

    // Resources: the summary, P&L per year, trades per symbol, widgets.
    let listed = client.list_all_resources().await?;
    let uris: Vec<String> = listed.iter().map(|r| r.uri.clone()).collect();
    assert!(
        uris.contains(&"kitemate://portfolio/summary".to_string()),
        "{uris:?}"
    );
    assert!(
        uris.contains(&"kitemate://pnl/2024-25".to_string()),
        "{uris:?}"
    );
    assert!(
        uris.contains(&format!("kitemate://widgets/{id}")),
        "{uris:?}"
    );
    let templates = client.list_all_resource_templates().await?;
    assert!(
        templates
            .iter()
            .any(|t| t.uri_template == "kitemate://trades/{symbol}")
    );
    assert_eq!(
        resource(&client, "kitemate://portfolio/summary").await?,
        api(&app, &asha, "/portfolio/summary").await?
    );
    assert_eq!(
        resource(&client, "kitemate://pnl/2024-25").await?,
        api(&app, &asha, "/portfolio/pnl/realized?fy=2024-25&limit=200").await?
    );
    let by_symbol = resource(&client, &format!("kitemate://trades/{symbol}")).await?;
    assert_eq!(
        by_symbol["trades"],
        api(
            &app,
            &asha,
            &format!("/portfolio/trades?symbol={symbol}&limit=200")
        )
        .await?["trades"]
    );
    let widget = resource(&client, &format!("kitemate://widgets/{id}")).await?;
    assert_eq!(widget["data"], data);
    assert!(widget["widget"]["shareUrl"].is_null());
    assert!(
        client
            .read_resource(ReadResourceRequestParams::new("kitemate://nothing"))
            .await
            .is_err()
    );

    // Prompts: four, each naming the tools it leans on.
    let prompts = client.list_all_prompts().await?;
    let mut names: Vec<_> = prompts.iter().map(|p| p.name.clone()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "explain_holding",
            "portfolio_health_check",
            "tax_review",
            "year_end_harvest_review"
        ]
    );
    let mut args = serde_json::Map::new();
    args.insert("symbol".into(), json!(symbol));
    let explained = client
        .get_prompt(GetPromptRequestParams::new("explain_holding").with_arguments(args))
        .await?;
    let text = serde_json::to_string(&explained.messages)?;
    assert!(
        text.contains(&symbol) && text.contains("holding_lots"),
        "{text}"
    );
    client.cancel().await?;

    // A 2025-era client (initialize, no session) sees the same.
    let legacy = mcp(&app, &tokens.access, false).await?;
    assert_eq!(legacy.list_all_tools().await?.len(), 12);
    assert_eq!(
        tool(&legacy, "portfolio_summary", json!({})).await?["summary"],
        summary["summary"]
    );
    legacy.cancel().await?;
    app.stop().await
}

crate::both_backends!(every_tool_gives_the_figures_the_api_gives);
