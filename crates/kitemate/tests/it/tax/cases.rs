//! The hand-worked cases of `tests/data/tax/cases.toml` through the API, as
//! a user gets them: each case's tradebook imported by a user of its own,
//! its actions declared, NSE's rows and the 31 January 2018 bhavcopies
//! loaded (NSE's and BSE's older layouts, the higher high winning), and
//! the year's capital gains read back.

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::portfolio::imports::upload;
use crate::support::{Kind, TestApp, TestResult};

const CASES: &str = include_str!("../../data/tax/cases.toml");

#[derive(Debug, serde::Deserialize)]
struct File {
    case: Vec<Case>,
}

#[derive(Debug, serde::Deserialize)]
pub struct Case {
    name: String,
    fy: String,
    trades: Vec<String>,
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default)]
    nse: Vec<String>,
    #[serde(default)]
    fmv: std::collections::BTreeMap<String, String>,
    expect: toml::Table,
}

/// A Console tradebook of `trades` ("DATE SIDE SYMBOL ISIN QUANTITY PRICE").
pub fn tradebook(case: usize, trades: &[String]) -> String {
    let mut out = String::from(
        "symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,trade_id,order_id,order_execution_time\n",
    );
    for (i, t) in trades.iter().enumerate() {
        let w: Vec<&str> = t.split_whitespace().collect();
        out.push_str(&format!(
            "{},{},{},NSE,EQ,EQ,{},false,{},{},{case}{i:04},{case}{i:04},{}T10:{:02}:{:02}\n",
            w[2],
            w[3],
            w[0],
            w[1],
            w[4],
            w[5],
            w[0],
            i / 60,
            i % 60
        ));
    }
    out
}

/// The JSON declaring an action written "KIND ISIN EX-DATE NEW:OLD …".
pub fn declaration(line: &str) -> Value {
    let w: Vec<&str> = line.split_whitespace().collect();
    let (new, old) = w[3].split_once(':').unwrap_or(("1", "1"));
    let after = |word: &str| w.iter().position(|x| *x == word).map(|i| w[i + 1]);
    let mut body = json!({
        "kind": w[0], "isin": w[1], "exDate": w[2],
        "ratioNew": new.parse::<u32>().unwrap_or(1), "ratioOld": old.parse::<u32>().unwrap_or(1),
    });
    if let Some(day) = after("allotted") {
        body["allottedOn"] = json!(day);
    }
    if let Some(i) = w.iter().position(|x| *x == "into") {
        body["intoIsin"] = json!(w[i + 1]);
        body["intoSymbol"] = json!(w[i + 2]);
    }
    if let Some(share) = after("cost") {
        body["costSharePercent"] = json!(share);
    }
    body
}

/// Bhavcopies of 31 January 2018 in NSE's and BSE's older layouts with
/// the cases' values as the day's high: NSE's for all but the first, which
/// is BSE's (higher there), so the higher of the two must win every time.
fn bhavcopies_of_31_january_2018(values: &[(String, Decimal)]) -> (String, String) {
    let mut nse = String::from(
        "SYMBOL,SERIES,OPEN,HIGH,LOW,CLOSE,LAST,PREVCLOSE,TOTTRDQTY,TOTTRDVAL,TIMESTAMP,TOTALTRADES,ISIN,\n",
    );
    let mut bse = String::from(
        "SC_CODE,SC_NAME,SC_GROUP,SC_TYPE,OPEN,HIGH,LOW,CLOSE,LAST,PREVCLOSE,NO_TRADES,NO_OF_SHRS,NET_TURNOV,TDCLOINDI,ISIN_CODE,TRADING_DATE,FILLER2,FILLER3\n",
    );
    for (i, (isin, high)) in values.iter().enumerate() {
        let (nse_high, bse_high) = if i == 0 {
            (*high - Decimal::TEN, *high)
        } else {
            (*high, *high - Decimal::ONE)
        };
        let low = *high / Decimal::TWO;
        nse.push_str(&format!(
            "T{i},EQ,{low},{nse_high},{low},{low},{low},{low},100,1000,31-JAN-2018,10,{isin},\n"
        ));
        bse.push_str(&format!("{},T{i} LTD,A ,Q,{low},{bse_high},{low},{low},{low},{low},10,100,1000.00,,{isin},31-Jan-18,,\n", 900_000 + i));
    }
    (nse, bse)
}

fn rupees(value: &Value) -> Option<Decimal> {
    value.as_i64().map(|p| Decimal::new(p, 2))
}

fn wanted(value: &toml::Value) -> Decimal {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| value.as_integer().map(Decimal::from))
        .unwrap_or(Decimal::MAX)
}

/// What of `got` (a capital-gains answer and holdings) differs from `expect`.
fn differences(expect: &toml::Table, got: &Value, holdings: &Value) -> Vec<String> {
    let wrong = std::cell::RefCell::new(Vec::new());
    let check = |what: &str, got: Option<Decimal>, want: Decimal| {
        if got.map(|d| d.normalize()) != Some(want.normalize()) {
            wrong
                .borrow_mut()
                .push(format!("{what}: got {got:?}, want {want}"));
        }
    };
    for (key, value) in expect {
        let field = |path: &[&str]| path.iter().fold(got, |v, p| &v[*p]);
        match key.as_str() {
            "tax" => check(key, rupees(field(&["taxPaise"])), wanted(value)),
            "exemption_used" => check(
                key,
                rupees(field(&["exemption", "usedPaise"])),
                wanted(value),
            ),
            "exemption_left" => check(
                key,
                rupees(field(&["exemption", "leftPaise"])),
                wanted(value),
            ),
            "st_used" => check(
                key,
                rupees(field(&["setOff", "shortTermLossesUsedPaise"])),
                wanted(value),
            ),
            "lt_used" => check(
                key,
                rupees(field(&["setOff", "longTermLossesUsedPaise"])),
                wanted(value),
            ),
            "st_carried" => check(
                key,
                rupees(field(&["setOff", "shortTermCarriedPaise"])),
                wanted(value),
            ),
            "lt_carried" => check(
                key,
                rupees(field(&["setOff", "longTermCarriedPaise"])),
                wanted(value),
            ),
            "speculative" => check(key, rupees(field(&["speculativeNetPaise"])), wanted(value)),
            "realized" => check(key, rupees(field(&["realizedPaise"])), wanted(value)),
            "check_with_ca" => check(
                key,
                field(&["checkWithCa"]).as_i64().map(Decimal::from),
                wanted(value),
            ),
            "lines_total" => check(
                key,
                field(&["total"]).as_i64().map(Decimal::from),
                wanted(value),
            ),
            "unmatched" => {
                let got: Vec<String> = got["unmatched"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|u| {
                        format!(
                            "{} {}",
                            u["symbol"].as_str().unwrap_or(""),
                            u["quantity"].as_str().unwrap_or("")
                        )
                    })
                    .collect();
                let want: Vec<String> = value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect();
                if got != want {
                    wrong
                        .borrow_mut()
                        .push(format!("unmatched: got {got:?}, want {want:?}"));
                }
            }
            "held" | "average" => {
                for (symbol, want) in value.as_table().into_iter().flatten() {
                    let holding = holdings["holdings"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|h| h["symbol"] == symbol.as_str());
                    let got = match (key.as_str(), holding) {
                        ("held", None) => Some(Decimal::ZERO),
                        ("held", Some(h)) => h["quantity"].as_str().and_then(|q| q.parse().ok()),
                        (_, h) => h
                            .and_then(|h| h["averagePrice"].as_str())
                            .and_then(|a| a.parse::<Decimal>().ok())
                            .map(|a| a.round_dp(2)),
                    };
                    check(&format!("{key} {symbol}"), got, wanted(want));
                }
            }
            "lines" => {
                let lines: Vec<String> = got["lines"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|l| {
                        let money = |k: &str| {
                            rupees(&l[k])
                                .map(|d| d.normalize().to_string())
                                .unwrap_or_default()
                        };
                        let mut text = format!(
                            "{} {} {} {} basis {} gain {}",
                            l["symbol"].as_str().unwrap_or(""),
                            l["quantity"].as_str().unwrap_or(""),
                            l["acquiredOn"].as_str().unwrap_or(""),
                            l["category"].as_str().unwrap_or(""),
                            money("costBasisPaise"),
                            money("gainPaise"),
                        );
                        if l["via"] != "bought" {
                            text.push(' ');
                            text.push_str(l["via"].as_str().unwrap_or(""));
                        }
                        if l["grandfathered"] == true {
                            text.push_str(" grandfathered");
                        }
                        text
                    })
                    .collect();
                for want in value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str())
                {
                    if !lines.iter().any(|l| l == want) {
                        wrong
                            .borrow_mut()
                            .push(format!("no line {want:?} among {lines:?}"));
                    }
                }
            }
            category => {
                let (category, period) = category.split_once('/').unwrap_or((category, ""));
                let period = if period == "before" {
                    "before_2024_07_23"
                } else {
                    "from_2024_07_23"
                };
                let net = got["totals"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|t| t["category"] == category && t["period"] == period)
                    .map_or(Some(Decimal::ZERO), |t| rupees(&t["netPaise"]));
                check(&format!("{category}/{period}"), net, wanted(value));
            }
        }
    }
    wrong.into_inner()
}

async fn every_hand_worked_case_through_the_api(kind: Kind) -> TestResult {
    let file: File = toml::from_str(CASES)?;
    assert!(file.case.len() >= 30, "at least 30 cases");
    // Forty-odd users sign up from one address: limits are not the subject.
    let app = TestApp::spawn_with(kind, |c| c.rate_limit.enabled = false).await?;
    let market = &app.app.market;
    let values: Vec<(String, Decimal)> = file
        .case
        .iter()
        .flat_map(|c| {
            c.fmv
                .iter()
                .map(|(isin, v)| (isin.clone(), v.parse().unwrap_or_default()))
        })
        .collect();
    let (nse, bse) = bhavcopies_of_31_january_2018(&values);
    market.load("cm31JAN2018bhav.csv", nse.into_bytes()).await?;
    market
        .load("EQ_ISINCODE_310118.CSV", bse.into_bytes())
        .await?;
    let mut bc = String::from(
        "SERIES,SYMBOL,SECURITY,RECORD_DT,BC_STRT_DT,BC_END_DT,EX_DT,ND_STRT_DT,ND_END_DT,PURPOSE\n",
    );
    for row in file.case.iter().flat_map(|c| &c.nse) {
        let mut w = row.splitn(3, ' ');
        let (symbol, day, purpose) = (
            w.next().unwrap_or(""),
            w.next().unwrap_or(""),
            w.next().unwrap_or(""),
        );
        bc.push_str(&format!(
            "EQ,{symbol},{symbol} Ltd,{day},,,{day},,,{purpose}\n"
        ));
    }
    market.load_actions("Bc-cases.csv", bc.into_bytes()).await?;

    let mut failures = Vec::new();
    for (i, case) in file.case.iter().enumerate() {
        let token = app.signup(&format!("taxcase{i}")).await?;
        let imported = upload(
            &app,
            &token,
            "?kind=tradebook",
            "text/csv",
            tradebook(i, &case.trades).into_bytes(),
        )
        .await?;
        anyhow::ensure!(
            imported.status == StatusCode::OK,
            "{}: {imported:?}",
            case.name
        );
        for action in &case.actions {
            let declared = app
                .call(
                    Method::POST,
                    "/portfolio/corporate-actions",
                    Some(declaration(action)),
                    Some(&token),
                )
                .await?;
            anyhow::ensure!(
                declared.status == StatusCode::CREATED,
                "{}: {action}: {declared:?}",
                case.name
            );
        }
        let gains = app
            .get(
                &format!("/portfolio/tax/capital-gains?fy={}&limit=500", case.fy),
                Some(&token),
            )
            .await?;
        anyhow::ensure!(gains.status == StatusCode::OK, "{}: {gains:?}", case.name);
        let holdings = app.get("/holdings?limit=500", Some(&token)).await?;
        anyhow::ensure!(
            holdings.status == StatusCode::OK,
            "{}: {holdings:?}",
            case.name
        );
        let holdings = holdings.json();
        let wrong = differences(&case.expect, &gains.json(), &holdings);
        if !wrong.is_empty() {
            failures.push(format!("{}:\n  {}", case.name, wrong.join("\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        file.case.len(),
        failures.join("\n")
    );
    app.stop().await
}

crate::both_backends!(every_hand_worked_case_through_the_api);
