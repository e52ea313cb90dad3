//! What a CA gets: Schedule 112A's lines and Schedule CG's summary as CSV,
//! the year asked for checked, and this year's harvesting view.

use reqwest::StatusCode;

use super::cases::tradebook;
use crate::portfolio::imports::upload;
use crate::support::{Kind, TestApp, TestResult};

/// A bhavcopy of 31 January 2018 (NSE's older layout) giving `isin` a high of `high`.
fn bhavcopy_2018(isin: &str, high: &str) -> Vec<u8> {
    format!(
        "SYMBOL,SERIES,OPEN,HIGH,LOW,CLOSE,LAST,PREVCLOSE,TOTTRDQTY,TOTTRDVAL,TIMESTAMP,TOTALTRADES,ISIN,\n\
         OLDCO,EQ,200,{high},190,200,200,200,100,20000,31-JAN-2018,10,{isin},\n"
    )
    .into_bytes()
}

async fn the_schedules_come_as_csv_a_ca_can_use(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    app.app
        .market
        .load("cm31JAN2018bhav.csv", bhavcopy_2018("INEEXP01A011", "250"))
        .await?;
    let asha = app.signup("asha").await?;
    let trades = [
        // Grandfathered, two lots sold together: a line each (the schedule's
        // cost is max(cost, min(value, consideration)) on its own line):
        // max(1,000, min(2,500, 3,000)) = 2,500 and max(1,200, min(2,500,
        // 3,000)) = 2,500; 500 gain each.
        "2017-03-01 buy OLDCO INEEXP01A011 10 100".to_string(),
        "2017-06-01 buy OLDCO INEEXP01A011 10 120".to_string(),
        "2024-09-02 sell OLDCO INEEXP01A011 20 300".to_string(),
        // Long-term before 23 July: 10 × 50 = 500 at 10%.
        "2023-01-02 buy NEWCO INEEXP01B011 10 100".to_string(),
        "2024-07-01 sell NEWCO INEEXP01B011 10 150".to_string(),
        // Short-term after 23 July: 10 × 20 = 200 at 20% = 40.
        "2024-08-01 buy QUICK INEEXP01C011 10 100".to_string(),
        "2024-09-02 sell QUICK INEEXP01C011 10 120".to_string(),
    ];
    let imported = upload(
        &app,
        &asha,
        "?kind=tradebook",
        "text/csv",
        tradebook(9, &trades).into_bytes(),
    )
    .await?;
    assert_eq!(imported.status, StatusCode::OK, "{imported:?}");

    let reply = app
        .get("/portfolio/tax/capital-gains.csv?fy=2024-25", Some(&asha))
        .await?;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(
        reply.header("content-disposition").as_deref(),
        Some("attachment; filename=\"kitemate-schedule-112a-fy2024-25.csv\"")
    );
    let rows: Vec<Vec<String>> = reply
        .text
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert_eq!(
        rows.len(),
        4,
        "a header, NEWCO's line and one per OLDCO lot: {}",
        reply.text
    );
    assert_eq!(rows[0][1], "Share/Unit acquired");
    assert_eq!(
        rows[0][10],
        "Fair Market Value per share/unit as on 31st January 2018"
    );
    let newco = rows
        .iter()
        .find(|r| r[3] == "NEWCO")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        newco,
        [
            "Before 23 July 2024",
            "After 31st January 2018",
            "INEEXP01B011",
            "NEWCO",
            "10",
            "150.00",
            "1500.00",
            "1000.00",
            "1000.00",
            "",
            "",
            "",
            "0.00",
            "1000.00",
            "500.00"
        ]
    );
    let oldco = rows
        .iter()
        .find(|r| r[3] == "OLDCO")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        oldco,
        [
            "On or after 23 July 2024",
            "On or before 31st January 2018",
            "INEEXP01A011",
            "OLDCO",
            "10",
            "300.00",
            "3000.00",
            "2500.00",
            "1000.00",
            "2500.00",
            "250.00",
            "2500.00",
            "0.00",
            "2500.00",
            "500.00"
        ]
    );

    assert_eq!(rows.iter().filter(|r| r[3] == "OLDCO").count(), 2);
    let cg = app
        .get(
            "/portfolio/tax/capital-gains.csv?fy=2024-25&schedule=cg",
            Some(&asha),
        )
        .await?;
    assert_eq!(cg.status, StatusCode::OK, "{cg:?}");
    let line = |id: &str| {
        cg.text
            .lines()
            .find(|l| l.starts_with(&format!("{id},")))
            .map(|l| l.rsplit(',').next().unwrap_or("").to_string())
    };
    assert_eq!(line("A2b").as_deref(), Some("200.00"));
    assert_eq!(line("B4a").as_deref(), Some("500.00"));
    assert_eq!(line("B4b").as_deref(), Some("1000.00"));
    assert_eq!(line("112A-exempt").as_deref(), Some("1500.00"));
    // Only the short-term gain is taxed: 200 × 20% = 40.
    assert_eq!(line("TAX").as_deref(), Some("40.00"));
    let gains = app
        .get("/portfolio/tax/capital-gains?fy=2024-25", Some(&asha))
        .await?
        .json();
    assert_eq!(gains["taxPaise"], 4000);
    assert!(
        gains["notice"]
            .as_str()
            .unwrap_or("")
            .contains("before surcharge")
    );

    for bad in [
        "fy=2024-26",
        "fy=24-25",
        "fy=1999-00",
        "fy=2099-00",
        "schedule=pdf",
        "limit=0",
        "limit=501",
    ] {
        let path = if bad.starts_with("schedule") {
            format!("/portfolio/tax/capital-gains.csv?{bad}")
        } else {
            format!("/portfolio/tax/capital-gains?{bad}")
        };
        let reply = app.get(&path, Some(&asha)).await?;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}: {reply:?}");
    }
    let nobody = app.get("/portfolio/tax/capital-gains", None).await?;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
    app.stop().await
}

async fn harvesting_shows_lots_the_exemption_left_and_what_fits(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    // Monday 2 December 2024: FY 2024-25.
    let at: chrono::DateTime<chrono::Utc> = "2024-12-02T09:00:00Z".parse()?;
    app.clock.advance(at - app.clock.now());
    let asha = app.signup("asha").await?;
    let trades = [
        // 1,00,000 long-term booked already: 25,000 of the exemption left.
        "2022-01-03 buy BOOKED INEHRV01A011 1000 100".to_string(),
        "2024-09-02 sell BOOKED INEHRV01A011 1000 200".to_string(),
        // Short-term gain booked: 10,000.
        "2024-06-03 buy QUICK INEHRV01B011 100 100".to_string(),
        "2024-09-02 sell QUICK INEHRV01B011 100 200".to_string(),
        // Held long-term at 1,000 a share, last traded at 1,100 (gain 100 a share).
        "2022-06-01 buy WINNER INEHRV01C011 500 1000".to_string(),
        "2024-11-29 buy WINNER INEHRV01C011 1 1100".to_string(),
        // Held short-term at a loss: bought at 500, last at 400.
        "2024-08-01 buy LOSER INEHRV01D011 100 500".to_string(),
        "2024-11-29 buy LOSER INEHRV01D011 1 400".to_string(),
    ];
    upload(
        &app,
        &asha,
        "?kind=tradebook",
        "text/csv",
        tradebook(10, &trades).into_bytes(),
    )
    .await?;
    let reply = app.get("/portfolio/tax/harvest", Some(&asha)).await?;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let h = reply.json();
    assert!(
        h["notice"]
            .as_str()
            .unwrap_or("")
            .starts_with("Information, not advice")
    );
    assert_eq!(h["fy"], "2024-25");
    assert_eq!(h["exemption"]["leftPaise"], 2_500_000);
    assert_eq!(h["shortTermBookedPaise"], 1_000_000);
    assert_eq!(h["total"], 4, "two lots each of WINNER and LOSER");
    let winner = h["lots"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l["symbol"] == "WINNER")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (winner["quantity"].as_str(), winner["longTerm"].as_bool()),
        (Some("500"), Some(true))
    );
    assert_eq!(winner["unrealizedPaise"], 5_000_000);
    // 25,000 left at 100 a share: 250 of the oldest WINNER shares.
    assert_eq!(h["withinExemption"][0]["symbol"], "WINNER");
    assert_eq!(h["withinExemption"][0]["quantity"], "250");
    assert_eq!(h["withinExemption"][0]["gainPaise"], 2_500_000);
    // LOSER's 100 bought at 500 would book 10,000 of short-term loss.
    assert_eq!(h["lossesAgainstShortTerm"][0]["symbol"], "LOSER");
    assert_eq!(h["lossesAgainstShortTerm"][0]["shortTermPaise"], -1_000_000);
    let page = app
        .get("/portfolio/tax/harvest?offset=3&limit=1", Some(&asha))
        .await?
        .json();
    assert_eq!(page["lots"].as_array().map(Vec::len), Some(1));
    app.stop().await
}

crate::both_backends!(
    the_schedules_come_as_csv_a_ca_can_use,
    harvesting_shows_lots_the_exemption_left_and_what_fits,
);
