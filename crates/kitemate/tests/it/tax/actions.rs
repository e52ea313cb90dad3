//! Corporate actions: declared by a user (checked, applied, taken back),
//! loaded from NSE's files with `kitemate corporate-actions load`, found
//! from a holdings export that disagrees with the trades, and the real
//! Console exports with the actions of their period applied.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::cases::tradebook;
use crate::portfolio::imports::upload;
use crate::support::fake_market::zipped_many;
use crate::support::{Kind, TestApp, TestResult, kitemate, same_databases};

const TRADEBOOK: &[u8] =
    include_bytes!("../../data/console/mohit-manna__capital-gain-fy-24-25__tradebook.csv");
const TAX_PNL: &str =
    include_str!("../../data/console/mohit-manna__capital-gain-fy-24-25__taxPnL-shortTerm.csv");
const HOLDINGS: &[u8] = include_bytes!("../../data/console/Neeraj-Verma__tradingapi__holdings.csv");
const ACTIONS: &str = "../../data/market/corporate-actions";

fn action_file(name: &str) -> anyhow::Result<Vec<u8>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/market/corporate-actions")
        .join(name);
    Ok(std::fs::read(path)?)
}

async fn declare(app: &TestApp, token: &str, body: Value) -> anyhow::Result<crate::support::Reply> {
    app.call(
        Method::POST,
        "/portfolio/corporate-actions",
        Some(body),
        Some(token),
    )
    .await
}

async fn holding(app: &TestApp, token: &str, symbol: &str) -> anyhow::Result<Value> {
    let holdings = app.get("/holdings?limit=500", Some(token)).await?.json();
    Ok(holdings["holdings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|h| h["symbol"] == symbol)
        .cloned()
        .unwrap_or(Value::Null))
}

async fn a_declaration_is_checked_applied_and_taken_back(kind: Kind) -> TestResult {
    let kind_again = kind.clone();
    // Every refusal below is a request: the limit is checked on its own.
    let app = TestApp::spawn_with(kind, |c| c.rate_limit.enabled = false).await?;
    let asha = app.signup("asha").await?;
    let trades = [
        "2023-01-02 buy ACME INEACT01A011 10 1000".to_string(),
        "2024-09-02 sell ACME INEACT01A011 20 300".to_string(),
    ];
    upload(
        &app,
        &asha,
        "?kind=tradebook",
        "text/csv",
        tradebook(1, &trades).into_bytes(),
    )
    .await?;
    let split = json!({"kind": "split", "isin": "INEACT01A011", "exDate": "2024-02-01", "ratioNew": 5, "ratioOld": 1});

    // Each rule answers 400 naming its field, and nothing is stored.
    let refused = [
        (
            json!({"kind": "split", "isin": "INEACT01A01", "exDate": "2024-02-01", "ratioNew": 5, "ratioOld": 1}),
            "isin",
        ),
        (
            json!({"kind": "split", "isin": "INEZZZ01A011", "exDate": "2024-02-01", "ratioNew": 5, "ratioOld": 1}),
            "isin",
        ),
        (
            json!({"kind": "split", "exDate": "2024-02-01", "ratioNew": 5, "ratioOld": 1}),
            "isin",
        ),
        (
            json!({"kind": "split", "symbol": "acme corp", "exDate": "2024-02-01", "ratioNew": 5, "ratioOld": 1}),
            "symbol",
        ),
        (
            json!({"kind": "split", "isin": "INEACT01A011", "exDate": "2024-02-01", "ratioNew": 1, "ratioOld": 5}),
            "ratioNew",
        ),
        (
            json!({"kind": "consolidation", "isin": "INEACT01A011", "exDate": "2024-02-01", "ratioNew": 5, "ratioOld": 1}),
            "ratioNew",
        ),
        (
            json!({"kind": "split", "isin": "INEACT01A011", "exDate": "2024-02-01", "ratioNew": 0, "ratioOld": 1}),
            "ratioNew",
        ),
        (
            json!({"kind": "merger", "isin": "INEACT01A011", "exDate": "2024-02-01", "ratioNew": 1, "ratioOld": 1}),
            "intoIsin",
        ),
        (
            json!({"kind": "demerger", "isin": "INEACT01A011", "exDate": "2024-02-01", "ratioNew": 1, "ratioOld": 1, "intoIsin": "INEACT01B011"}),
            "costSharePercent",
        ),
        (
            json!({"kind": "demerger", "isin": "INEACT01A011", "exDate": "2024-02-01", "ratioNew": 1, "ratioOld": 1, "intoIsin": "INEACT01B011", "costSharePercent": "100"}),
            "costSharePercent",
        ),
        (
            json!({"kind": "split", "isin": "INEACT01A011", "exDate": "2024-02-01", "ratioNew": 5, "ratioOld": 1, "costSharePercent": "10"}),
            "costSharePercent",
        ),
        (
            json!({"kind": "split", "isin": "INEACT01A011", "exDate": "2024-02-01", "ratioNew": 5, "ratioOld": 1, "allottedOn": "2024-02-02"}),
            "allottedOn",
        ),
        (
            json!({"kind": "bonus", "isin": "INEACT01A011", "exDate": "2024-02-01", "ratioNew": 1, "ratioOld": 1, "allottedOn": "2024-01-31"}),
            "allottedOn",
        ),
        (
            json!({"kind": "split", "isin": "INEACT01A011", "exDate": "1989-12-31", "ratioNew": 5, "ratioOld": 1}),
            "exDate",
        ),
        (
            json!({"kind": "split", "isin": "INEACT01A011", "exDate": "2024-02-01", "ratioNew": 5, "ratioOld": 1, "note": "x".repeat(201)}),
            "note",
        ),
    ];
    for (body, field) in refused {
        let reply = declare(&app, &asha, body.clone()).await?;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}: {reply:?}");
        assert!(reply.text.contains(field), "{body}: {reply:?}");
    }
    let unknown_kind = declare(&app, &asha, json!({"kind": "rights", "isin": "INEACT01A011", "exDate": "2024-02-01", "ratioNew": 1, "ratioOld": 1})).await?;
    assert_eq!(unknown_kind.status, StatusCode::BAD_REQUEST);
    let nobody = app
        .call(
            Method::POST,
            "/portfolio/corporate-actions",
            Some(split.clone()),
            None,
        )
        .await?;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
    let before = app
        .get("/portfolio/tax/capital-gains?fy=2024-25", Some(&asha))
        .await?
        .json();
    assert_eq!(
        before["unmatched"][0]["quantity"], "10",
        "without the split, 10 sold have no buy"
    );

    // Declared: the 10 bought become 50 at ₹200 from 2 January 2023.
    let declared = declare(&app, &asha, split.clone()).await?;
    assert_eq!(declared.status, StatusCode::CREATED, "{declared:?}");
    let action = declared.json();
    assert_eq!(
        (action["source"].as_str(), action["symbol"].as_str()),
        (Some("declared"), Some("ACME"))
    );
    let again = declare(&app, &asha, split.clone()).await?;
    assert_eq!(again.status, StatusCode::CONFLICT, "{again:?}");
    let gains = app
        .get("/portfolio/tax/capital-gains?fy=2024-25", Some(&asha))
        .await?
        .json();
    assert_eq!(gains["unmatched"], json!([]));
    assert_eq!(gains["lines"][0]["quantity"], "20");
    assert_eq!(gains["lines"][0]["acquiredOn"], "2023-01-02");
    assert_eq!(gains["lines"][0]["costPaise"], 400_000, "20 × ₹200");
    assert_eq!(gains["lines"][0]["gainPaise"], 200_000, "20 × (300 − 200)");
    assert_eq!(holding(&app, &asha, "ACME").await?["quantity"], "30");
    let listed = app
        .get("/portfolio/corporate-actions", Some(&asha))
        .await?
        .json();
    assert_eq!(
        (listed["declared"].as_u64(), listed["maxDeclared"].as_u64()),
        (Some(1), Some(100))
    );
    assert_eq!(listed["actions"][0]["id"], action["id"]);

    // Another user neither sees nor can delete it.
    let ravi = app.signup("ravi").await?;
    let path = format!(
        "/portfolio/corporate-actions/{}",
        action["id"].as_str().unwrap_or("")
    );
    let theirs = app.call(Method::DELETE, &path, None, Some(&ravi)).await?;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/portfolio/corporate-actions", Some(&ravi))
            .await?
            .json()["total"],
        0
    );

    // Taken back: the figures are the trades' alone again.
    let deleted = app.call(Method::DELETE, &path, None, Some(&asha)).await?;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{deleted:?}");
    let after = app
        .get("/portfolio/tax/capital-gains?fy=2024-25", Some(&asha))
        .await?
        .json();
    assert_eq!(after["unmatched"][0]["quantity"], "10");
    app.stop().await?;

    // Declaring works a portfolio out again: a user's declarations are limited.
    let app = TestApp::spawn(kind_again).await?;
    let asha = app.signup("asha").await?;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(declare(&app, &asha, split.clone()).await?.status);
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    app.stop().await
}

async fn nse_files_load_from_the_command_line_and_apply(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let trades = [
        "2025-06-02 buy LALPATHLAB INE600L01024 10 3000".to_string(),
        "2025-06-02 buy KMEW INE0CJD01011 4 2000".to_string(),
        "2024-06-03 buy SPLITBON INEACT02A011 10 90".to_string(),
        "2024-06-03 buy CONSOL INEACT03A011 100 1".to_string(),
    ];
    upload(
        &app,
        &asha,
        "?kind=tradebook",
        "text/csv",
        tradebook(2, &trades).into_bytes(),
    )
    .await?;
    let dir = tempfile::tempdir()?;
    let archive = zipped_many(&[
        ("Pd281024.csv", b"MKT,SERIES,SYMBOL\n".as_slice()),
        ("Bc281024.csv", &action_file("Bc281024.csv")?),
    ]);
    let mut paths = Vec::new();
    for (name, bytes) in [
        ("bc16122025.csv", action_file("bc16122025.csv")?),
        ("CF-CA-equities.csv", action_file("CF-CA-equities.csv")?),
        ("PR281024.zip", archive),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes)?;
        paths.push(path);
    }
    let mut cmd = kitemate();
    same_databases(&mut cmd, &app);
    let out = cmd
        .args(["corporate-actions", "load"])
        .args(&paths)
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // bc16122025: LALPATHLAB's bonus, KMEW's and NUVAMA's splits (once each, not per series).
    assert!(
        stdout.contains("bc16122025.csv: 3 splits, consolidations and bonuses"),
        "{stdout}"
    );
    assert!(stdout.contains("DCMSRIND 2025-12-19: DEMERGER"), "{stdout}");
    // CF-CA: RELIANCE's and LALPATHLAB's bonuses and NESTLEIND's split; the demerger and amalgamation need terms.
    assert!(stdout.contains("CF-CA-equities.csv: 3 splits"), "{stdout}");
    assert!(
        stdout.contains("HDFC 2023-07-13: Scheme of Amalgamation"),
        "{stdout}"
    );
    // The archive's Bc file: RELIANCE's bonus, SPLITBON's bonus and split, CONSOL's consolidation.
    assert!(stdout.contains("PR281024.zip: 4 splits"), "{stdout}");
    assert!(stdout.contains("3 of 3 files loaded"), "{stdout}");

    // 10 + 10 bonus; 4 × 2 for the split of ₹10 into ₹5; SPLITBON 10 + 5 bonus, then × 5;
    // CONSOL 100 of ₹1 into 10 of ₹10.
    for (symbol, held, average) in [
        ("LALPATHLAB", "20", "1500"),
        ("KMEW", "8", "1000"),
        ("SPLITBON", "75", "12"),
        ("CONSOL", "10", "10"),
    ] {
        let h = holding(&app, &asha, symbol).await?;
        assert_eq!(h["quantity"], held, "{symbol}: {h}");
        let avg: rust_decimal::Decimal = h["averagePrice"].as_str().unwrap_or("0").parse()?;
        assert_eq!(
            avg.round_dp(2).normalize().to_string(),
            average,
            "{symbol}: {h}"
        );
    }
    let listed = app
        .get("/portfolio/corporate-actions", Some(&asha))
        .await?
        .json();
    let sources: Vec<&str> = listed["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["source"].as_str())
        .collect();
    assert!(sources.iter().all(|s| *s == "nse"), "{listed}");
    // LALPATHLAB's bonus is in two of the files: it is one action.
    assert_eq!(listed["total"], 5, "{listed}");

    let bad = dir.path().join("not-actions.csv");
    std::fs::write(&bad, "a,b\n1,2\n")?;
    let mut cmd = kitemate();
    same_databases(&mut cmd, &app);
    let out = cmd.args(["corporate-actions", "load"]).arg(&bad).output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(stdout.contains("not-actions.csv: not loaded"), "{stdout}");
    let _ = ACTIONS;
    app.stop().await
}

async fn a_holdings_export_that_disagrees_by_a_clean_ratio_suggests_the_action(
    kind: Kind,
) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let trades = [
        "2023-03-01 buy SOLARINDS INE343H01029 7 9000".to_string(),
        "2023-03-01 buy PAYTM INE982J01020 100 1048.9".to_string(),
    ];
    upload(
        &app,
        &asha,
        "?kind=tradebook",
        "text/csv",
        tradebook(3, &trades).into_bytes(),
    )
    .await?;
    // The real holdings export states SOLARINDS 21 (7 × 3) and PAYTM 100.
    let report = upload(&app, &asha, "?kind=holdings", "text/csv", HOLDINGS.to_vec())
        .await?
        .json();
    let suggested = report["suggestedActions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(suggested.len(), 1, "{report}");
    let s = &suggested[0];
    assert_eq!(
        (
            s["symbol"].as_str(),
            s["ratioNew"].as_u64(),
            s["ratioOld"].as_u64()
        ),
        (Some("SOLARINDS"), Some(3), Some(1))
    );
    assert_eq!(
        (s["statedQuantity"].as_str(), s["fifoQuantity"].as_str()),
        (Some("21"), Some("7"))
    );
    assert!(
        s["explanation"]
            .as_str()
            .unwrap_or("")
            .contains("bonus of 2:1"),
        "{s}"
    );
    assert_eq!(s["declare"][0]["kind"], "split");
    assert_eq!(s["declare"][1]["kind"], "bonus");
    assert_eq!(s["declare"][1]["exDate"], "2023-03-02");
    // Offered, applied: the bonus suggestion declared as it is.
    let declared = declare(&app, &asha, s["declare"][1].clone()).await?;
    assert_eq!(declared.status, StatusCode::CREATED, "{declared:?}");
    let again = upload(&app, &asha, "?kind=holdings", "text/csv", HOLDINGS.to_vec())
        .await?
        .json();
    assert_eq!(again["suggestedActions"], json!([]), "{again}");
    app.stop().await
}

async fn the_real_console_exports_with_their_periods_actions(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    upload(&app, &asha, "", "text/csv", TRADEBOOK.to_vec()).await?;
    // RELIANCE: 1 bought on 9 May 2024, and Reliance's 1:1 bonus of 28 October 2024.
    let reliance = holding(&app, &asha, "RELIANCE").await?;
    assert_eq!(reliance["quantity"], "2", "{reliance}");
    assert_eq!(reliance["averagePrice"], "1394.7", "{reliance}");
    // Console's own short-term table, symbol by symbol, for the symbols
    // whose every share sold that year was bought that year.
    let gains = app
        .get(
            "/portfolio/tax/capital-gains?fy=2024-25&limit=500",
            Some(&asha),
        )
        .await?
        .json();
    assert!(gains["total"].as_u64().unwrap_or(0) <= 500);
    let console: std::collections::HashMap<&str, (rust_decimal::Decimal, rust_decimal::Decimal)> =
        TAX_PNL
            .lines()
            .skip(1)
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('\t').collect();
                Some((
                    *cells.first()?,
                    (cells.get(1)?.parse().ok()?, cells.get(4)?.parse().ok()?),
                ))
            })
            .collect();
    // The symbols whose every share sold that year was bought that year
    // (portfolio::calc::console_check), and STAR and ONESOURCE, which
    // Console works out with Strides' demerger of 6 December 2024 applied.
    let covered = [
        "GODFRYPHLP",
        "INDIAMART",
        "OIL",
        "SUDARSCHEM",
        "SCHNEIDER",
        "ACE",
        "GESHIP",
        "BAJAJHIND",
        "PGEL",
        "WABAG",
        "BANKBARODA",
        "ICIL",
        "DEEPAKFERT",
        "VOLTAS",
        "SUVENPHAR",
        "ICICIBANK",
        "CHOLAHLDNG",
        "KFINTECH",
        "NUVAMA",
        "MOTILALOFS",
        "NATIONALUM",
        "GENUSPOWER",
        "SHAKTIPUMP",
        "BASF",
        "GSPL",
        "MCX",
        "GREAVESCOT",
        "STAR",
        "ONESOURCE",
    ];
    let mut checked = 0;
    for (symbol, (quantity, pnl)) in &console {
        if !covered.contains(symbol) {
            continue;
        }
        let lines: Vec<&Value> = gains["lines"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|l| {
                l["symbol"] == *symbol
                    && l["term"] == "short_term"
                    && l["category"] != "speculative"
            })
            .collect();
        if lines.is_empty() {
            continue;
        }
        let q: rust_decimal::Decimal = lines
            .iter()
            .filter_map(|l| {
                l["quantity"]
                    .as_str()?
                    .parse::<rust_decimal::Decimal>()
                    .ok()
            })
            .sum();
        let g: i64 = lines.iter().filter_map(|l| l["gainPaise"].as_i64()).sum();
        // Console keeps four places where a demerger split the cost; lines are in paise.
        assert_eq!(
            (q.normalize(), rust_decimal::Decimal::new(g, 2).normalize()),
            (*quantity, pnl.round_dp(2).normalize()),
            "{symbol}"
        );
        checked += 1;
    }
    assert_eq!(checked, covered.len());
    // The holdings export of another account: no trades, so nothing to suggest.
    let ravi = app.signup("ravi").await?;
    let report = upload(&app, &ravi, "?kind=holdings", "text/csv", HOLDINGS.to_vec())
        .await?
        .json();
    assert_eq!(report["suggestedActions"], json!([]));
    app.stop().await
}

crate::both_backends!(
    a_declaration_is_checked_applied_and_taken_back,
    nse_files_load_from_the_command_line_and_apply,
    a_holdings_export_that_disagrees_by_a_clean_ratio_suggests_the_action,
    the_real_console_exports_with_their_periods_actions,
);
