//! Console imports through HTTP on both backends: real exports, overlaps,
//! bad files, pagination, and one user's data hidden from another.

use reqwest::StatusCode;
use serde_json::Value;

use crate::harness::{Kind, Reply, TestApp, TestResult};

const TRADEBOOK: &[u8] =
    include_bytes!("../data/console/mohit-manna__capital-gain-fy-24-25__tradebook.csv");
const HOLDINGS: &[u8] = include_bytes!("../data/console/Neeraj-Verma__tradingapi__holdings.csv");

async fn upload(
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
    let user_id = app.get("/auth/me", Some(&asha)).await?.json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let kept = app
        .app
        .objects
        .require("imports")?
        .download(&format!("{user_id}/{id}.csv"))
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
    let too_big = upload(&app, &asha, "", "text/csv", huge).await?;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    let anonymous = app
        .client
        .post(app.url("/portfolio/import"))
        .header("content-type", "text/csv")
        .body(TRADEBOOK.to_vec())
        .send()
        .await?;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // Nothing of any of them was kept.
    assert_eq!(trades(&app, &asha, "").await?["total"], 0);
    assert_eq!(
        app.get("/portfolio/imports", Some(&asha)).await?.json()["imports"],
        serde_json::json!([])
    );

    let bad_limit = app.get("/portfolio/trades?limit=0", Some(&asha)).await?;
    assert_eq!(
        (bad_limit.status, field(&bad_limit).as_str()),
        (StatusCode::BAD_REQUEST, "limit")
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

crate::both_backends!(
    a_tradebook_imports_once_however_often_it_comes,
    a_multipart_upload_and_a_holdings_export,
    bad_files_are_refused_whole,
    one_users_trades_are_not_anothers,
);
