//! Console imports through HTTP on both backends: real exports, overlaps,
//! bad files, pagination, and one user's data hidden from another.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{Kind, Reply, TestApp, TestResult};

const TRADEBOOK: &[u8] =
    include_bytes!("../../data/console/mohit-manna__capital-gain-fy-24-25__tradebook.csv");
const HOLDINGS: &[u8] = include_bytes!("../../data/console/Neeraj-Verma__tradingapi__holdings.csv");

pub async fn upload(
    app: &TestApp,
    token: &str,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> anyhow::Result<Reply> {
    let res = app
        .client
        .post(app.url(&format!("/portfolio/import{query}")))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await?;
    TestApp::read(res).await
}

async fn user_id(app: &TestApp, token: &str) -> anyhow::Result<String> {
    let me = app.get("/auth/me", Some(token)).await?.json();
    Ok(me["id"].as_str().unwrap_or_default().to_string())
}

fn imports_bucket(app: &TestApp) -> anyhow::Result<&platform::objects::Bucket> {
    app.app.objects.require("imports")
}

async fn trades(app: &TestApp, token: &str, query: &str) -> anyhow::Result<Value> {
    let reply = app
        .get(&format!("/portfolio/trades{query}"), Some(token))
        .await?;
    anyhow::ensure!(reply.status == StatusCode::OK, "{reply:?}");
    Ok(reply.json())
}

async fn a_tradebook_imports_once_however_often_it_comes(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;

    let first = upload(&app, &asha, "", "text/csv", TRADEBOOK.to_vec()).await?;
    assert_eq!(first.status, StatusCode::OK, "{first:?}");
    let report = first.json();
    assert_eq!(
        (report["kind"].as_str(), report["rows"].as_i64()),
        (Some("tradebook"), Some(378))
    );
    assert_eq!(
        (report["imported"].as_i64(), report["duplicates"].as_i64()),
        (Some(378), Some(0))
    );
    assert_eq!(report["skipped"], serde_json::json!([]));

    // The same trades again, in a file that also has a new one.
    let mut overlapping = TRADEBOOK.to_vec();
    overlapping.extend_from_slice(b"INFY,INE009A01021,2025-03-20,NSE,EQ,EQ,buy,false,5.000000,1580.100000,99999999,1300000000000001,2025-03-20T10:00:00\n");
    let second = upload(
        &app,
        &asha,
        "?kind=tradebook",
        "text/csv; charset=utf-8",
        overlapping,
    )
    .await?
    .json();
    assert_eq!(
        (second["imported"].as_i64(), second["duplicates"].as_i64()),
        (Some(1), Some(378))
    );

    let page = trades(&app, &asha, "?limit=2").await?;
    assert_eq!(page["total"], 379);
    assert_eq!(page["trades"][0]["symbol"], "INFY", "newest first");
    assert_eq!(page["trades"][0]["pricePaise"], 158010);
    assert_eq!(page["trades"][0]["valuePaise"], 790050);
    assert_eq!(page["trades"][0]["quantity"], "5");
    let juniorbees = trades(
        &app,
        &asha,
        "?symbol=juniorbees&from=2024-04-01&to=2024-04-01",
    )
    .await?;
    assert_eq!(juniorbees["total"], 1);
    assert_eq!(juniorbees["trades"][0]["side"], "sell");
    let april = trades(
        &app,
        &asha,
        "?from=2024-04-01&to=2024-04-30&offset=0&limit=500",
    )
    .await?;
    let dates_ok = april["trades"].as_array().is_some_and(|t| {
        t.iter().all(|t| {
            t["tradeDate"]
                .as_str()
                .is_some_and(|d| d.starts_with("2024-04"))
        })
    });
    assert!(dates_ok && april["total"].as_i64().unwrap_or(0) > 0);

    let imports = app.get("/portfolio/imports", Some(&asha)).await?.json();
    let list = imports["imports"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 2);
    assert_eq!(
        (list[0]["imported"].as_i64(), list[1]["imported"].as_i64()),
        (Some(1), Some(378))
    );

    // The file as uploaded is kept, privately.
    let id = report["importId"].as_str().unwrap_or_default();
    let kept = imports_bucket(&app)?
        .download(&format!("{}/{id}.csv", user_id(&app, &asha).await?))
        .await?;
    assert_eq!(&kept.bytes[..], TRADEBOOK);
    app.stop().await
}

async fn a_multipart_upload_and_a_holdings_export(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let form = reqwest::multipart::Form::new()
        .text("kind", "holdings")
        .part(
            "file",
            reqwest::multipart::Part::bytes(HOLDINGS.to_vec())
                .file_name("holdings.csv")
                .mime_str("text/csv")?,
        );
    let res = app
        .client
        .post(app.url("/portfolio/import"))
        .bearer_auth(&asha)
        .multipart(form)
        .send()
        .await?;
    let reply = TestApp::read(res).await?;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let report = reply.json();
    assert_eq!(
        (
            report["kind"].as_str(),
            report["rows"].as_i64(),
            report["imported"].as_i64()
        ),
        (Some("holdings"), Some(81), Some(79))
    );
    let skipped = report["skipped"].as_array().cloned().unwrap_or_default();
    assert_eq!(skipped.len(), 2);
    assert!(skipped.iter().all(|s| {
        s["reason"]
            .as_str()
            .is_some_and(|r| r.contains("nothing held"))
    }));
    let again = upload(&app, &asha, "", "text/csv", HOLDINGS.to_vec())
        .await?
        .json();
    assert_eq!(
        (again["imported"].as_i64(), again["duplicates"].as_i64()),
        (Some(0), Some(79))
    );
    let imports = app.get("/portfolio/imports", Some(&asha)).await?.json();
    assert_eq!(imports["imports"][1]["fileName"], "holdings.csv");
    app.stop().await
}

async fn bad_files_are_refused_whole(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let field = |r: &Reply| {
        r.json()["details"]["field"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };

    let wrong = upload(
        &app,
        &asha,
        "?kind=tradebook",
        "text/csv",
        HOLDINGS.to_vec(),
    )
    .await?;
    assert_eq!(
        (wrong.status, field(&wrong).as_str()),
        (StatusCode::BAD_REQUEST, "file")
    );
    assert_eq!(
        wrong.message(),
        "file: not a tradebook: missing columns trade_date, trade_type, quantity, price"
    );
    let neither = upload(&app, &asha, "", "text/csv", b"name,age\nasha,30\n".to_vec()).await?;
    assert_eq!(
        (neither.status, field(&neither).as_str()),
        (StatusCode::BAD_REQUEST, "file")
    );
    let binary = upload(&app, &asha, "", "text/csv", vec![0xff, 0xfe, 0, 1]).await?;
    assert_eq!(binary.message(), "file: the file is not UTF-8 text");
    let kind_typo = upload(&app, &asha, "?kind=trades", "text/csv", TRADEBOOK.to_vec()).await?;
    assert_eq!(
        (kind_typo.status, field(&kind_typo).as_str()),
        (StatusCode::BAD_REQUEST, "kind")
    );
    let json = upload(&app, &asha, "", "application/json", b"{}".to_vec()).await?;
    assert_eq!(json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let mut huge = TRADEBOOK.to_vec();
    huge.resize((20 << 20) + 70_000, b'\n');
    // The server answers 413 as soon as it sees the length; a client still
    // writing the body may see the connection close instead. (A client of
    // its own, so the closed connection is not reused below.)
    let sent = reqwest::Client::new()
        .post(app.url("/portfolio/import"))
        .bearer_auth(&asha)
        .header("content-type", "text/csv")
        .body(huge)
        .send()
        .await;
    match sent {
        Ok(res) => assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE),
        // Broken pipe or reset while writing: refused all the same.
        Err(err) => assert!(!err.is_timeout() && !err.is_connect(), "{err}"),
    }
    // Refused before its body is read, so the server may close the
    // connection: a client of its own here too.
    let anonymous = reqwest::Client::new()
        .post(app.url("/portfolio/import"))
        .header("content-type", "text/csv")
        .body(TRADEBOOK.to_vec())
        .send()
        .await?;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // Nothing of any of them was kept, not even the file.
    assert_eq!(trades(&app, &asha, "").await?["total"], 0);
    assert_eq!(
        app.get("/portfolio/imports", Some(&asha)).await?.json()["imports"],
        serde_json::json!([])
    );
    let kept = imports_bucket(&app)?
        .list(&format!("{}/", user_id(&app, &asha).await?))
        .await?;
    assert!(kept.is_empty(), "refused files are not kept: {kept:?}");

    let bad_limit = app.get("/portfolio/trades?limit=0", Some(&asha)).await?;
    assert_eq!(
        (bad_limit.status, field(&bad_limit).as_str()),
        (StatusCode::BAD_REQUEST, "limit")
    );
    let negative = app.get("/portfolio/trades?offset=-1", Some(&asha)).await?;
    assert_eq!(
        (negative.status, field(&negative).as_str()),
        (StatusCode::BAD_REQUEST, "offset")
    );
    let bad_date = app
        .get("/portfolio/trades?from=yesterday", Some(&asha))
        .await?;
    assert_eq!(field(&bad_date), "from");
    let unknown = app.get("/portfolio/trades?sort=price", Some(&asha)).await?;
    assert_eq!(
        (field(&unknown).as_str(), unknown.message().as_str()),
        ("sort", "sort: is not a parameter of this endpoint")
    );
    let backwards = app
        .get(
            "/portfolio/trades?from=2024-05-01&to=2024-04-01",
            Some(&asha),
        )
        .await?;
    assert_eq!(backwards.message(), "from: is after to");
    app.stop().await
}

async fn one_users_trades_are_not_anothers(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let ravi = app.signup("ravi").await?;
    upload(&app, &asha, "", "text/csv", TRADEBOOK.to_vec()).await?;
    assert_eq!(trades(&app, &asha, "").await?["total"], 378);
    assert_eq!(trades(&app, &ravi, "").await?["total"], 0);
    assert_eq!(trades(&app, &ravi, "?symbol=JUNIORBEES").await?["total"], 0);
    assert_eq!(
        app.get("/portfolio/imports", Some(&ravi)).await?.json()["imports"],
        serde_json::json!([])
    );
    // The same file is Ravi's own when he imports it: nothing is a duplicate of Asha's.
    let his = upload(&app, &ravi, "", "text/csv", TRADEBOOK.to_vec())
        .await?
        .json();
    assert_eq!(his["imported"], 378);
    app.stop().await
}

/// A small tradebook worked out by hand:
///
/// - INFY: buy 10 @ ₹1,400 (2024-01-02), buy 5 @ ₹1,500 (2024-06-03), sell 8 @ ₹1,600
///   (2024-09-02). FIFO sells 8 of the first lot: realized 8 × 200 = ₹1,600, held 8 months,
///   short-term, FY 2024-25. Left: 2 @ 1,400 + 5 @ 1,500 = ₹10,300 for 7 (average
///   ₹1,471.4286). Last known price ₹1,600 (the sale): value ₹11,200, unrealized ₹900.
/// - TCS: buy 20 @ ₹3,500 (2025-01-10): invested and valued ₹70,000.
/// - Total invested ₹80,300, value ₹81,200, unrealized ₹900 (1.12% of 80,300).
///   Weights by value: TCS 70,000 / 81,200 = 86.21%, INFY 13.79%. Both are
///   Information Technology in NSE's list.
const HAND_WORKED: &str = "symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,trade_id,order_id,order_execution_time
INFY,INE009A01021,2024-01-02,NSE,EQ,EQ,buy,false,10.000000,1400.000000,1001,2001,2024-01-02T10:00:00
INFY,INE009A01021,2024-06-03,NSE,EQ,EQ,buy,false,5.000000,1500.000000,1002,2002,2024-06-03T10:00:00
INFY,INE009A01021,2024-09-02,NSE,EQ,EQ,sell,false,8.000000,1600.000000,1003,2003,2024-09-02T10:00:00
TCS,INE467B01029,2025-01-10,NSE,EQ,EQ,buy,false,20.000000,3500.000000,1004,2004,2025-01-10T10:00:00
";

async fn holdings_pnl_and_allocation_from_trades(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let ravi = app.signup("ravi").await?;
    upload(&app, &asha, "", "text/csv", HAND_WORKED.as_bytes().to_vec()).await?;

    let page = app.get("/holdings", Some(&asha)).await?.json();
    assert_eq!(page["total"], 2);
    let (tcs, infy) = (&page["holdings"][0], &page["holdings"][1]);
    assert_eq!(
        (tcs["symbol"].as_str(), tcs["valuePaise"].as_i64()),
        (Some("TCS"), Some(7_000_000)),
        "largest value first"
    );
    assert_eq!(
        (infy["quantity"].as_str(), infy["averagePrice"].as_str()),
        (Some("7"), Some("1471.4286"))
    );
    assert_eq!(
        (
            infy["investedPaise"].as_i64(),
            infy["valuePaise"].as_i64(),
            infy["unrealizedPaise"].as_i64()
        ),
        (Some(1_030_000), Some(1_120_000), Some(90_000))
    );
    assert_eq!(
        (
            tcs["weightPercent"].as_str(),
            infy["weightPercent"].as_str()
        ),
        (Some("86.21"), Some("13.79"))
    );
    assert_eq!(infy["sector"], "Information Technology");
    // XIRR against today: TCS is worth what it cost, so 0%; INFY and the
    // whole portfolio gained, so their rates are positive (the exact figure
    // depends on today's date; the formula is checked in calc/xirr.rs).
    assert_eq!(tcs["xirrPercent"], "0");
    let rate = |v: &Value| {
        v.as_str()
            .and_then(|r| r.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    assert!(rate(&infy["xirrPercent"]) > 0.0, "{infy}");
    let by_symbol = app
        .get("/holdings?sort=symbol&limit=1", Some(&asha))
        .await?
        .json();
    assert_eq!(
        (
            by_symbol["holdings"][0]["symbol"].as_str(),
            by_symbol["total"].as_i64()
        ),
        (Some("INFY"), Some(2))
    );

    let summary = app.get("/portfolio/summary", Some(&asha)).await?.json();
    assert_eq!(summary["investedPaise"], 8_030_000);
    assert_eq!(summary["valuePaise"], 8_120_000);
    assert_eq!(summary["unrealizedPaise"], 90_000);
    assert_eq!(summary["unrealizedPercent"], "1.12");
    assert_eq!(summary["realizedPaise"], 160_000);
    assert!(rate(&summary["xirrPercent"]) > 0.0, "{summary}");

    let realized = app
        .get("/portfolio/pnl/realized?fy=2024-25", Some(&asha))
        .await?
        .json();
    assert_eq!(
        (
            realized["shortTermPaise"].as_i64(),
            realized["longTermPaise"].as_i64()
        ),
        (Some(160_000), Some(0))
    );
    assert_eq!(realized["sales"][0]["holdingDays"], 244);
    assert_eq!(realized["sales"][0]["term"], "short_term");
    let earlier = app
        .get("/portfolio/pnl/realized?fy=2023-24", Some(&asha))
        .await?
        .json();
    assert_eq!(earlier["sales"], serde_json::json!([]));

    let stock = app
        .get("/portfolio/allocation?by=stock", Some(&asha))
        .await?
        .json();
    assert_eq!(
        (
            stock["basis"].as_str(),
            stock["slices"][0]["name"].as_str(),
            stock["slices"][0]["percent"].as_str()
        ),
        (Some("value"), Some("TCS"), Some("86.21"))
    );
    let sector = app
        .get("/portfolio/allocation?by=sector", Some(&asha))
        .await?
        .json();
    assert_eq!(
        sector["slices"],
        serde_json::json!([{ "name": "Information Technology", "valuePaise": 8_120_000, "percent": "100" }])
    );
    let class = app
        .get("/portfolio/allocation?by=asset_class", Some(&asha))
        .await?
        .json();
    assert_eq!(class["slices"][0]["name"], "equity");

    for (path, field) in [
        ("/portfolio/allocation", "by"),
        ("/portfolio/allocation?by=colour", "by"),
        ("/portfolio/pnl/realized?fy=2024", "fy"),
        ("/holdings?sort=mood", "sort"),
    ] {
        let bad = app.get(path, Some(&asha)).await?;
        assert_eq!(
            (bad.status, bad.json()["details"]["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{path}"
        );
    }
    // Ravi sees none of it.
    assert_eq!(app.get("/holdings", Some(&ravi)).await?.json()["total"], 0);
    let his = app.get("/portfolio/summary", Some(&ravi)).await?.json();
    assert_eq!(
        (his["valuePaise"].as_i64(), his["realizedPaise"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(
        app.get("/portfolio/pnl/realized", Some(&ravi))
            .await?
            .json()["sales"],
        serde_json::json!([])
    );
    let his_allocation = app
        .get("/portfolio/allocation?by=stock", Some(&ravi))
        .await?
        .json();
    assert_eq!(his_allocation["slices"], serde_json::json!([]));
    assert_eq!(
        app.get("/holdings", None).await?.status,
        StatusCode::UNAUTHORIZED
    );
    app.stop().await
}

/// Console's own Tax P&L for the real tradebook's year, for a few of the
/// symbols whose every sale the tradebook covers (see `calc/console_check.rs`).
async fn realized_gains_of_the_real_tradebook(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    upload(&app, &asha, "", "text/csv", TRADEBOOK.to_vec()).await?;
    for (symbol, pnl) in [
        ("INDIAMART", -178_970),
        ("GENUSPOWER", 1_528_165),
        ("BASF", -2_590_135),
    ] {
        let one = app
            .get(
                &format!("/portfolio/pnl/realized?fy=2024-25&symbol={symbol}"),
                Some(&asha),
            )
            .await?
            .json();
        assert_eq!(one["totalPaise"], pnl, "{symbol}: {one}");
        let sales = one["sales"].as_array().cloned().unwrap_or_default();
        assert!(sales.iter().all(|s| s["symbol"] == symbol));
        let summed: i64 = sales.iter().filter_map(|s| s["pnlPaise"].as_i64()).sum();
        assert_eq!(summed, pnl, "{symbol}: the page holds every sale");
    }
    // Page by page, the sales add up to the year's sums.
    let mut offset = 0;
    let (mut summed, mut seen) = (0i64, 0i64);
    let first = app
        .get("/portfolio/pnl/realized?fy=2024-25&limit=7", Some(&asha))
        .await?
        .json();
    let total = first["total"].as_i64().unwrap_or_default();
    assert!(total > 14, "{first}");
    while offset < total {
        let page = app
            .get(
                &format!("/portfolio/pnl/realized?fy=2024-25&limit=7&offset={offset}"),
                Some(&asha),
            )
            .await?
            .json();
        let sales = page["sales"].as_array().cloned().unwrap_or_default();
        assert!(!sales.is_empty() && sales.len() <= 7);
        summed += sales
            .iter()
            .filter_map(|s| s["pnlPaise"].as_i64())
            .sum::<i64>();
        seen += sales.len() as i64;
        offset += 7;
    }
    assert_eq!(seen, total);
    let rounding = (summed - first["totalPaise"].as_i64().unwrap_or_default()).abs();
    assert!(
        rounding <= total,
        "sums agree to the paisa per sale: {rounding}"
    );
    let year = first["years"]
        .as_array()
        .and_then(|y| y.iter().find(|y| y["fy"] == "2024-25").cloned())
        .unwrap_or_default();
    assert_eq!(
        (year["sales"].as_i64(), year["totalPaise"].clone()),
        (Some(total), first["totalPaise"].clone())
    );
    let realized = first;
    let unmatched = realized["unmatched"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        unmatched.iter().any(|u| u["symbol"] == "JUNIORBEES"),
        "sold before its buys were imported"
    );
    app.stop().await
}

async fn a_holdings_export_states_what_is_held(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    upload(&app, &asha, "?kind=holdings", "text/csv", HOLDINGS.to_vec()).await?;
    let page = app.get("/holdings?limit=500", Some(&asha)).await?.json();
    assert_eq!(page["total"], 79);
    let solar = page["holdings"]
        .as_array()
        .and_then(|h| h.iter().find(|h| h["symbol"] == "SOLARINDS").cloned())
        .unwrap_or_default();
    // 21 × 13,225.38 = 2,77,732.98 invested; 21 × 12,360 = 2,59,560 now.
    assert_eq!(
        (
            solar["investedPaise"].as_i64(),
            solar["valuePaise"].as_i64()
        ),
        (Some(27_773_298), Some(25_956_000))
    );
    assert_eq!(
        app.get("/portfolio/summary", Some(&asha)).await?.json()["holdings"],
        79
    );
    app.stop().await
}

/// Duplicates are found in memory, so imports of one user's trades take
/// turns: the same file sent four times at once lands once.
async fn the_same_file_at_once_lands_once(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let send = || upload(&app, &asha, "", "text/csv", TRADEBOOK.to_vec());
    let replies = tokio::try_join!(send(), send(), send(), send())?;
    let (mut imported, mut duplicates) = (0, 0);
    for reply in [&replies.0, &replies.1, &replies.2, &replies.3] {
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        imported += reply.json()["imported"].as_i64().unwrap_or(-1);
        duplicates += reply.json()["duplicates"].as_i64().unwrap_or(-1);
    }
    assert_eq!((imported, duplicates), (378, 3 * 378));
    assert_eq!(trades(&app, &asha, "").await?["total"], 378);
    app.stop().await
}

/// Worked-out portfolios are kept between requests; each import (through
/// HTTP or as `kitemate import` does it) shows at once all the same.
async fn every_import_shows_at_once(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    upload(&app, &asha, "", "text/csv", HAND_WORKED.as_bytes().to_vec()).await?;
    let summary = || async {
        app.get("/portfolio/summary", Some(&asha))
            .await
            .map(|r| r.json())
    };
    assert_eq!(summary().await?["investedPaise"], 8_030_000);
    assert_eq!(
        summary().await?["investedPaise"],
        8_030_000,
        "kept, the same"
    );

    let more = "symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,trade_id,order_id,order_execution_time
TCS,INE467B01029,2025-02-10,NSE,EQ,EQ,buy,false,1.000000,3600.000000,1005,2005,2025-02-10T10:00:00
";
    upload(&app, &asha, "", "text/csv", more.as_bytes().to_vec()).await?;
    let after = summary().await?;
    assert_eq!(
        (
            after["investedPaise"].as_i64(),
            after["valuePaise"].as_i64()
        ),
        // TCS: 21 at ₹3,600 now; INFY as before (7 for ₹10,300, at ₹1,600).
        (Some(8_390_000), Some(8_680_000))
    );

    let sale = "symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,trade_id,order_id,order_execution_time
INFY,INE009A01021,2025-03-03,NSE,EQ,EQ,sell,false,7.000000,1700.000000,1006,2006,2025-03-03T10:00:00
";
    let user_id = user_id(&app, &asha).await?;
    app.app
        .portfolio
        .import(&user_id, None, None, bytes::Bytes::from(sale))
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    assert_eq!(summary().await?["holdings"], 1, "INFY sold out");
    app.stop().await
}

/// Stored trades that do not read back make the figures fail loudly (500,
/// `internal`), never a portfolio worth ₹0 or one missing a security.
async fn damaged_stored_trades_are_an_error_not_zero(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let imported = upload(&app, &asha, "", "text/csv", TRADEBOOK.to_vec()).await?;
    assert_eq!(imported.status, StatusCode::OK, "{imported:?}");
    let user = user_id(&app, &asha).await?;
    let portfolio = app
        .app
        .databases()
        .iter()
        .find(|db| db.name() == "portfolio")
        .cloned()
        .expect("the portfolio database");
    let damaged = platform::with_db!(portfolio, |pool| {
        sqlx::query(
            "UPDATE trade_blocks SET fills = REPLACE(fills, '2024-', 'x024-') WHERE user_id = $1",
        )
        .bind(&user)
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
    })?;
    assert!(damaged > 0, "the test damaged no stored trade");
    for path in ["/portfolio/summary", "/holdings", "/portfolio/pnl/realized"] {
        let reply = app.get(path, Some(&asha)).await?;
        assert_eq!(
            reply.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{path}: {reply:?}"
        );
        assert_eq!(reply.code(), "internal", "{path}");
        assert_eq!(reply.message(), "internal error", "{path}: no detail leaks");
    }
    app.stop().await
}

/// XIRR of the hand-worked portfolio on a fixed day, 2025-07-10, worked out
/// apart from the app (bisection of Σ cf / (1 + r)^(days/365) = 0, in
/// Python):
///
/// - INFY: −14,000 (2024-01-02), −7,500 (2024-06-03), +12,800 (2024-09-02),
///   and the 7 still held worth +11,200 on 2025-07-10: 12.8278 % → "12.83".
/// - The portfolio: those three, −70,000 (2025-01-10, TCS), and everything
///   held worth +81,200 on 2025-07-10: 4.6933 % → "4.69".
/// - TCS: −70,000 then worth +70,000: 0 %.
async fn xirr_of_the_hand_worked_portfolio(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let day = chrono::NaiveDate::from_ymd_opt(2025, 7, 10)
        .and_then(|d| d.and_hms_opt(6, 30, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| anyhow::anyhow!("a valid day"))?;
    app.clock.advance(day - app.clock.now());
    assert_eq!(app.clock.today_ist().to_string(), "2025-07-10");
    let asha = app.signup("asha").await?;
    let imported = upload(&app, &asha, "", "text/csv", HAND_WORKED.as_bytes().to_vec()).await?;
    assert_eq!(imported.status, StatusCode::OK, "{imported:?}");

    let page = app.get("/holdings?sort=symbol", Some(&asha)).await?;
    assert_eq!(page.status, StatusCode::OK, "{page:?}");
    let rates: Vec<(String, String)> = page.json()["holdings"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|h| {
                    (
                        h["symbol"].as_str().unwrap_or_default().to_string(),
                        h["xirrPercent"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        rates,
        [
            ("INFY".to_string(), "12.83".to_string()),
            ("TCS".to_string(), "0".to_string())
        ]
    );
    let summary = app.get("/portfolio/summary", Some(&asha)).await?;
    assert_eq!(summary.status, StatusCode::OK, "{summary:?}");
    assert_eq!(summary.json()["xirrPercent"], "4.69");
    app.stop().await
}

crate::both_backends!(
    xirr_of_the_hand_worked_portfolio,
    damaged_stored_trades_are_an_error_not_zero,
    every_import_shows_at_once,
    the_same_file_at_once_lands_once,
    holdings_pnl_and_allocation_from_trades,
    realized_gains_of_the_real_tradebook,
    a_holdings_export_states_what_is_held,
    a_tradebook_imports_once_however_often_it_comes,
    a_multipart_upload_and_a_holdings_export,
    bad_files_are_refused_whole,
    one_users_trades_are_not_anothers,
);
