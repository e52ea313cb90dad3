//! History back-filled from imported trades and the closes loaded, and
//! returns over a period against NIFTY 50, through HTTP, worked by hand:
//!
//! RELIANCE 10 bought at ₹3,100 on Friday 5 July 2024; it closed at
//! ₹3,177.20 that day and ₹3,201.80 on Monday 8 July. NIFTY 50 closed at
//! 24,323.85 and 24,320.55.
//!
//! - 5 July: value ₹31,772, invested ₹31,000, ₹31,000 put in.
//! - 8 July: value ₹32,018, nothing put in, change ₹246.
//! - All of it, time-weighted: 31,772 / 31,000 × 32,018 / 31,772 − 1 = 3.28 %.
//! - NIFTY 50 from the first day's close: 24,320.55 / 24,323.85 − 1 = −0.01 %.
//! - Money-weighted: ₹31,000 in on 5 July grows to ₹32,018 by 8 July:
//!   (32,018 / 31,000)^(365/3) − 1 a year.

use reqwest::StatusCode;
use serde_json::json;

use super::imports::upload;
use crate::market::{INDICES, NSE_LEGACY, NSE_UDIFF, fixture};
use crate::support::{Kind, TestApp, TestResult};

async fn setup(kind: Kind) -> anyhow::Result<(TestApp, String)> {
    let app = TestApp::spawn(kind).await?;
    let at: chrono::DateTime<chrono::Utc> = "2024-07-08T13:00:00Z".parse()?;
    app.clock.advance(at - app.clock.now());
    let asha = app.signup("asha").await?;
    let book = "symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,trade_id,order_id,order_execution_time\n\
                RELIANCE,INE002A01018,2024-07-05,NSE,EQ,EQ,buy,false,10,3100.00,801,901,2024-07-05T10:00:00\n";
    let imported = upload(
        &app,
        &asha,
        "?kind=tradebook",
        "text/csv",
        book.as_bytes().to_vec(),
    )
    .await?;
    anyhow::ensure!(imported.status == StatusCode::OK, "{imported:?}");
    let market = &app.app.market;
    for name in [NSE_LEGACY, NSE_UDIFF, INDICES] {
        market.load(name, fixture(name)).await?;
    }
    // NSE's index closes of Friday 5 July, in the same layout.
    let friday = String::from_utf8(fixture(INDICES))?
        .replace("08-07-2024", "05-07-2024")
        .replace("24320.55", "24323.85");
    market
        .load("ind_close_all_05072024.csv", friday.into_bytes())
        .await?;
    Ok((app, asha))
}

async fn history_is_worked_out_from_trades_and_closes(kind: Kind) -> TestResult {
    let (app, asha) = setup(kind).await?;
    let history = app
        .get(
            "/portfolio/history?from=2024-07-01&to=2024-07-08",
            Some(&asha),
        )
        .await?;
    assert_eq!(history.status, StatusCode::OK, "{history:?}");
    assert_eq!(
        history.json()["days"],
        json!([
            {
                "day": "2024-07-05", "valuePaise": 3_177_200, "investedPaise": 3_100_000,
                "pnlPaise": 77_200, "dayChangePaise": null, "netFlowPaise": 3_100_000,
                "nifty50": "24323.85", "source": "trades"
            },
            {
                "day": "2024-07-08", "valuePaise": 3_201_800, "investedPaise": 3_100_000,
                "pnlPaise": 101_800, "dayChangePaise": 24_600, "netFlowPaise": 0,
                "nifty50": "24320.55", "source": "trades"
            }
        ])
    );
    // A range over ten years is refused, naming the field.
    let long = app
        .get(
            "/portfolio/history?from=2010-01-01&to=2024-07-08",
            Some(&asha),
        )
        .await?;
    assert_eq!(long.status, StatusCode::BAD_REQUEST);
    assert_eq!(long.json()["details"]["field"], "from", "{long:?}");
    app.stop().await
}

async fn performance_says_which_return_is_which(kind: Kind) -> TestResult {
    let (app, asha) = setup(kind).await?;
    let reply = app
        .get("/portfolio/performance?period=all", Some(&asha))
        .await?;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let p = reply.json();
    assert_eq!(p["period"], "all");
    assert_eq!(
        (p["from"].as_str(), p["to"].as_str()),
        (Some("2024-07-05"), Some("2024-07-08"))
    );
    assert_eq!(p["startValuePaise"], 0);
    assert_eq!(p["endValuePaise"], 3_201_800);
    assert_eq!(p["netFlowPaise"], 3_100_000);
    assert_eq!(p["timeWeighted"]["percent"], "3.28");
    assert_eq!(
        p["timeWeighted"]["annualizedPercent"],
        json!(null),
        "under a year"
    );
    assert!(
        p["timeWeighted"]["label"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Time-weighted")
    );
    assert!(
        p["moneyWeighted"]["label"]
            .as_str()
            .unwrap_or_default()
            .contains("XIRR")
    );
    let expected = ((32_018.0_f64 / 31_000.0).powf(365.0 / 3.0) - 1.0) * 100.0;
    let got: f64 = p["moneyWeighted"]["annualizedPercent"]
        .as_str()
        .unwrap_or_default()
        .parse()?;
    assert!((got - expected).abs() < 0.01, "{got} vs {expected}");
    assert_eq!(p["nifty50"]["percent"], "-0.01");
    assert_eq!(p["excessPercent"], "3.3");

    let bad = app
        .get("/portfolio/performance?period=2w", Some(&asha))
        .await?;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{bad:?}");
    app.stop().await
}

async fn chat_answers_returns_against_nifty(kind: Kind) -> TestResult {
    let (app, asha) = setup(kind).await?;
    for question in ["Did I beat the Nifty?", "How have I done since July 2024?"] {
        let reply = app
            .call(
                reqwest::Method::POST,
                "/chat/query",
                Some(json!({ "message": question })),
                Some(&asha),
            )
            .await?;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        let body = reply.json();
        let answer = body["answer"].as_str().unwrap_or_default();
        assert!(
            answer.starts_with("Your holdings returned **3.28%**"),
            "{question}: {answer}"
        );
        assert!(
            answer.contains("NIFTY 50 returned **-0.01%**"),
            "{question}: {answer}"
        );
        assert!(
            answer.contains("you beat it by **3.3** points"),
            "{question}: {answer}"
        );
        assert!(answer.contains("XIRR"), "{question}: {answer}");
        assert_eq!(body["data"]["rows"][0]["percent"], "3.28", "{body}");
    }
    app.stop().await
}

crate::both_backends!(
    history_is_worked_out_from_trades_and_closes,
    performance_says_which_return_is_which,
    chat_answers_returns_against_nifty,
);
