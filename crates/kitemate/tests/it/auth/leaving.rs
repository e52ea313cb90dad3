//! Leaving KiteMate: the export holds everything the user keeps, read back
//! from a real ZIP; a deletion leaves no row of theirs in any database,
//! gives back what they added to others' counts, needs their password or a
//! fresh session, and cancels a subscription at its provider first.

use std::collections::BTreeMap;
use std::io::Read;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::chat::answers::{ask, with_trades};
use crate::subscriptions::{app_with, invoices, razorpay_paid};
use crate::support::fake_payments::start_razorpay;
use crate::support::{Kind, TestApp, TestResult, eventually};

const TRADEBOOK: &str = "symbol,isin,trade_date,exchange,segment,series,trade_type,auction,quantity,price,trade_id,order_id,order_execution_time
INFY,INE009A01021,2024-01-02,NSE,EQ,EQ,buy,false,10.000000,1400.000000,7001,8001,2024-01-02T10:00:00
INFY,INE009A01021,2024-09-02,NSE,EQ,EQ,sell,false,4.000000,1600.000000,7002,8002,2024-09-02T10:00:00
TCS,INE467B01029,2025-01-10,NSE,EQ,EQ,buy,false,20.000000,3500.000000,7003,8003,2025-01-10T10:00:00
";

/// The archive's files by name, read with a real unzip.
fn unzip(bytes: &[u8]) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))?;
    let mut files = BTreeMap::new();
    for n in 0..zip.len() {
        let mut file = zip.by_index(n)?;
        let mut body = Vec::new();
        file.read_to_end(&mut body)?;
        files.insert(file.name()?.to_string(), body);
    }
    Ok(files)
}

fn lines(files: &BTreeMap<String, Vec<u8>>, name: &str) -> Vec<Value> {
    let text = String::from_utf8_lossy(files.get(name).map_or(&[][..], Vec::as_slice)).to_string();
    text.lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect()
}

async fn export(
    app: &TestApp,
    token: &str,
) -> anyhow::Result<(reqwest::header::HeaderMap, Vec<u8>)> {
    let res = app
        .client
        .get(app.url("/auth/export"))
        .bearer_auth(token)
        .send()
        .await?;
    anyhow::ensure!(res.status() == StatusCode::OK, "export: {}", res.status());
    let headers = res.headers().clone();
    Ok((headers, res.bytes().await?.to_vec()))
}

async fn widget(app: &TestApp, token: &str, title: &str) -> anyhow::Result<String> {
    let body = json!({ "title": title, "kind": "pie", "visibility": "public",
                       "source": { "type": "allocation", "by": "sector" } });
    let made = app
        .call(Method::POST, "/widgets", Some(body), Some(token))
        .await?;
    anyhow::ensure!(made.status == StatusCode::CREATED, "{made:?}");
    Ok(made.json()["id"].as_str().unwrap_or_default().to_string())
}

async fn ok(app: &TestApp, method: Method, path: &str, token: &str) -> anyhow::Result<Value> {
    let reply = app.call(method, path, None, Some(token)).await?;
    anyhow::ensure!(reply.status.is_success(), "{path}: {reply:?}");
    Ok(reply.json())
}

/// Asha and Ravi, each with a public widget, who like, fork and follow
/// each other; Asha has trades and a conversation.
struct Pair {
    asha: String,
    ravi: String,
    asha_id: String,
    asha_widget: String,
    ravi_widget: String,
    ravi_fork: String,
}

async fn pair(app: &TestApp) -> anyhow::Result<Pair> {
    let asha = with_trades(app, "asha", TRADEBOOK).await?;
    let ravi = app.signup("ravi").await?;
    let asha_id = ok(app, Method::GET, "/auth/me", &asha).await?["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let asha_widget = widget(app, &asha, "Asha's sectors").await?;
    let ravi_widget = widget(app, &ravi, "Ravi's sectors").await?;
    ok(
        app,
        Method::PUT,
        &format!("/widgets/{ravi_widget}/like"),
        &asha,
    )
    .await?;
    ok(
        app,
        Method::PUT,
        &format!("/widgets/{asha_widget}/like"),
        &ravi,
    )
    .await?;
    ok(
        app,
        Method::POST,
        &format!("/widgets/{ravi_widget}/fork"),
        &asha,
    )
    .await?;
    let fork = ok(
        app,
        Method::POST,
        &format!("/widgets/{asha_widget}/fork"),
        &ravi,
    )
    .await?;
    ok(app, Method::PUT, "/profiles/ravi/follow", &asha).await?;
    ok(app, Method::PUT, "/profiles/asha/follow", &ravi).await?;
    let answer = ask(
        app,
        &asha,
        json!({ "message": "how many TCS shares do I have?" }),
    )
    .await?;
    anyhow::ensure!(answer.status == StatusCode::OK, "{answer:?}");
    Ok(Pair {
        asha,
        ravi,
        asha_id,
        asha_widget,
        ravi_widget,
        ravi_fork: fork["id"].as_str().unwrap_or_default().to_string(),
    })
}

async fn an_export_holds_what_the_user_keeps_and_nothing_of_others(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let p = pair(&app).await?;
    let ravi_id = ok(&app, Method::GET, "/auth/me", &p.ravi).await?["id"].clone();

    let (headers, bytes) = export(&app, &p.asha).await?;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(header("content-type"), "application/zip");
    assert!(
        header("content-disposition").starts_with("attachment; filename=\"kitemate-asha-"),
        "{headers:?}"
    );
    assert_eq!(header("cache-control"), "no-store");
    let files = unzip(&bytes)?;
    for name in [
        "README.txt",
        "manifest.json",
        "account/user.json",
        "account/sessions.jsonl",
        "account/zerodha.json",
        "account/audit.jsonl",
        "portfolio/trades.jsonl",
        "portfolio/imports.jsonl",
        "portfolio/holdings.json",
        "portfolio/positions.json",
        "portfolio/history.jsonl",
        "chat/conversations.jsonl",
        "chat/usage.json",
        "widgets/widgets.jsonl",
        "widgets/dashboards.jsonl",
        "widgets/likes.jsonl",
        "social/profile.json",
        "social/following.jsonl",
        "social/followers.jsonl",
        "social/notifications.jsonl",
        "social/blocked.jsonl",
        "social/reports.jsonl",
        "subscriptions/subscriptions.jsonl",
        "subscriptions/payments.jsonl",
        "subscriptions/billing-details.json",
        "subscriptions/invoices.jsonl",
    ] {
        assert!(
            files.contains_key(name),
            "{name} missing: {:?}",
            files.keys()
        );
    }
    let user: Value = serde_json::from_slice(&files["account/user.json"])?;
    assert_eq!(user["email"], "asha@example.com");

    // Every trade, as the API lists them; the file as it was uploaded.
    let trades = lines(&files, "portfolio/trades.jsonl");
    let listed = ok(&app, Method::GET, "/portfolio/trades?limit=100", &p.asha).await?;
    assert_eq!(trades.len(), 3);
    assert_eq!(json!(trades), listed["trades"]);
    let imports = lines(&files, "portfolio/imports.jsonl");
    assert_eq!(imports.len(), 1);
    let import_id = imports[0]["id"].as_str().unwrap_or_default();
    assert_eq!(
        files.get(&format!("portfolio/imports/{import_id}.csv")),
        Some(&TRADEBOOK.as_bytes().to_vec())
    );
    let holdings: Value = serde_json::from_slice(&files["portfolio/holdings.json"])?;
    let symbols: Vec<&str> = holdings["holdings"]
        .as_array()
        .map(|h| h.iter().filter_map(|x| x["symbol"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(symbols.len(), 2, "{holdings}");

    let conversations = lines(&files, "chat/conversations.jsonl");
    assert_eq!(conversations.len(), 1);
    assert_eq!(
        conversations[0]["messages"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(
        conversations[0]["messages"][0]["content"],
        "how many TCS shares do I have?"
    );

    let widgets = lines(&files, "widgets/widgets.jsonl");
    let mine = ok(&app, Method::GET, "/widgets?limit=100", &p.asha).await?;
    assert_eq!(
        widgets.len(),
        mine["widgets"].as_array().map_or(0, Vec::len)
    );
    assert!(
        widgets
            .iter()
            .any(|w| w["widget"]["id"] == p.asha_widget.as_str())
    );
    assert!(widgets.iter().all(|w| w["revisions"].is_array()));
    let likes = lines(&files, "widgets/likes.jsonl");
    assert_eq!(likes.len(), 1);
    assert_eq!(likes[0]["widgetId"], p.ravi_widget.as_str());
    assert_eq!(
        lines(&files, "social/following.jsonl")[0]["username"],
        "ravi"
    );
    assert_eq!(
        lines(&files, "social/followers.jsonl")[0]["username"],
        "ravi"
    );
    let notices = lines(&files, "social/notifications.jsonl");
    assert_eq!(notices.len(), 3, "a like, a fork and a follow: {notices:?}");

    // The manifest names every other file with its size.
    let manifest: Value = serde_json::from_slice(&files["manifest.json"])?;
    let listed: BTreeMap<String, u64> = manifest["files"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|x| {
                    (
                        x["name"].as_str().unwrap_or_default().to_string(),
                        x["bytes"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let actual: BTreeMap<String, u64> = files
        .iter()
        .filter(|(name, _)| *name != "manifest.json")
        .map(|(name, body)| (name.clone(), body.len() as u64))
        .collect();
    assert_eq!(listed, actual);

    // Nothing of Ravi's own: not his email, not his id.
    let all: Vec<u8> = files.values().flatten().copied().collect();
    let text = String::from_utf8_lossy(&all);
    assert!(!text.contains("ravi@example.com"));
    assert!(!text.contains(ravi_id.as_str().unwrap_or("-")));

    // Exports are limited per user: a burst, then a wait.
    let mut limited = None;
    for _ in 0..5 {
        let reply = app.get("/auth/export", Some(&p.asha)).await?;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(reply);
            break;
        }
    }
    let limited = limited.expect("a limit on exports");
    assert_eq!(limited.code(), "resource_exhausted");
    assert!(limited.header("retry-after").is_some());
    app.stop().await
}

/// Rows anywhere that name `user_id` in a column that holds a user's id.
async fn rows_naming(app: &TestApp, user_id: &str) -> anyhow::Result<Vec<(String, i64)>> {
    const COLUMNS: &[&str] = &[
        "user_id",
        "follower_id",
        "followee_id",
        "blocker_id",
        "blocked_id",
        "actor_id",
        "reporter_id",
    ];
    let mut found = Vec::new();
    for db in app.app.databases() {
        for (table, column, _) in db.schema().await? {
            if !COLUMNS.contains(&column.as_str()) {
                continue;
            }
            let sql = format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1");
            let n: i64 = platform::with_db!(db, |pool| {
                sqlx::query_scalar(&sql).bind(user_id).fetch_one(pool).await
            })?;
            if n > 0 {
                found.push((format!("{}.{table}.{column}", db.name()), n));
            }
        }
    }
    Ok(found)
}

async fn a_deleted_account_leaves_nothing_behind(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let admin = app.admin("root").await?;
    let p = pair(&app).await?;
    let before = ok(&app, Method::GET, "/profiles/ravi", &p.ravi).await?;
    assert_eq!(before["counts"]["followers"], 1);
    assert_eq!(before["counts"]["forksReceived"], 1);
    let shared = ok(
        &app,
        Method::GET,
        &format!("/widgets/{}", p.asha_widget),
        &p.asha,
    )
    .await?;
    let share_url = shared["shareUrl"].as_str().unwrap_or_default().to_string();

    let deleted = app
        .call(Method::DELETE, "/auth/me", Some(json!({})), Some(&p.asha))
        .await?;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{deleted:?}");
    // Her session ends at once; she cannot sign in.
    assert_eq!(app.get("/auth/me", Some(&p.asha)).await?.status, 401);
    let login = app
        .post(
            "/auth/login",
            json!({ "email": "asha@example.com", "password": "river otter lantern" }),
        )
        .await?;
    assert_eq!(login.status, 401);

    // Every service deletes its part; what she added to Ravi's counts goes.
    // (On a timeout the assertion below names what is left.)
    let _ = eventually(20, || async {
        Ok(rows_naming(&app, &p.asha_id).await?.len() == 1)
    })
    .await;
    assert_eq!(
        rows_naming(&app, &p.asha_id).await?,
        vec![("audit.audit_log.user_id".to_string(), 1)],
        "only the audit log's record of the deletion stays"
    );
    let ravi = ok(&app, Method::GET, "/profiles/ravi", &p.ravi).await?;
    assert_eq!(
        (
            &ravi["counts"]["followers"],
            &ravi["counts"]["following"],
            &ravi["counts"]["forksReceived"]
        ),
        (&json!(0), &json!(0), &json!(0)),
        "{ravi}"
    );
    let theirs = ok(
        &app,
        Method::GET,
        &format!("/widgets/{}", p.ravi_widget),
        &p.ravi,
    )
    .await?;
    assert_eq!(theirs["reactions"], json!({ "likes": 0, "forks": 0 }));
    let fork = ok(
        &app,
        Method::GET,
        &format!("/widgets/{}", p.ravi_fork),
        &p.ravi,
    )
    .await?;
    assert_eq!(fork["forkedFrom"]["widgetId"], p.asha_widget.as_str());
    assert_eq!(fork["forkedFrom"]["ownerUsername"], Value::Null);
    let notices = ok(&app, Method::GET, "/notifications", &p.ravi).await?;
    assert!(!notices.to_string().contains("asha"), "{notices}");
    assert_eq!(app.get("/profiles/asha", None).await?.status, 404);
    let path = share_url
        .find("/shared/")
        .map_or(share_url.as_str(), |at| &share_url[at..]);
    assert_eq!(app.get(path, None).await?.status, 404, "{share_url}");
    let found = app.get("/discover/widgets?sort=new", None).await?.json();
    assert!(!found.to_string().contains(&p.asha_widget), "{found}");

    // The audit log keeps the fact, nothing else of hers.
    let audit = ok(
        &app,
        Method::GET,
        &format!("/admin/audit?userId={}", p.asha_id),
        &admin,
    )
    .await?;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .map(|e| e.iter().filter_map(|x| x["action"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(actions, ["account.deleted"]);

    // The same email starts a new, empty account.
    let again = app.signup("asha").await?;
    let me = ok(&app, Method::GET, "/auth/me", &again).await?;
    assert_ne!(me["id"], p.asha_id.as_str());
    assert_eq!(
        ok(&app, Method::GET, "/portfolio/trades", &again).await?["total"],
        0
    );
    let chats = ok(&app, Method::GET, "/chat/conversations", &again).await?;
    assert_eq!(chats["conversations"], json!([]));
    let profile = ok(&app, Method::GET, "/profiles/asha", &again).await?;
    assert_eq!(profile["counts"]["followers"], 0);
    let activity = ok(&app, Method::GET, "/auth/activity", &again).await?;
    assert_eq!(activity["entries"], json!([]));
    app.stop().await
}

async fn deleting_needs_the_password_or_a_fresh_session(kind: Kind) -> TestResult {
    // Every session is stale here: only the password will do.
    let app = TestApp::spawn_with(kind, |c| c.auth.fresh_session_minutes = 0).await?;
    let asha = app.signup("asha").await?;
    let delete = |body: Value| app.call(Method::DELETE, "/auth/me", Some(body), Some(&asha));
    let stale = delete(json!({})).await?;
    assert_eq!(
        (stale.status, stale.code().as_str()),
        (StatusCode::FORBIDDEN, "permission_denied")
    );
    assert_eq!(stale.json()["details"]["field"], "password");
    let wrong = delete(json!({ "password": "not her password" })).await?;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(wrong.json()["details"]["reason"], "the password is wrong");
    let odd = delete(json!({ "password": "" })).await?;
    assert_eq!(odd.status, StatusCode::BAD_REQUEST);
    let unknown = delete(json!({ "confirm": true })).await?;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.get("/auth/me", Some(&asha)).await?.status,
        200,
        "still there"
    );
    let done = delete(json!({ "password": "river otter lantern" })).await?;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{done:?}");
    assert_eq!(app.get("/auth/me", Some(&asha)).await?.status, 401);
    app.stop().await
}

async fn a_subscription_is_cancelled_at_the_provider_first(kind: Kind) -> TestResult {
    let fake = start_razorpay().await?;
    let app = app_with(kind, Some(&fake.url), None).await?;
    let asha = app.signup("asha").await?;
    let asha_id = ok(&app, Method::GET, "/auth/me", &asha).await?["id"].clone();
    let details =
        json!({ "name": "Asha Rao", "address": "12 MG Road, Bengaluru", "stateCode": "29" });
    let saved = app
        .call(
            Method::PATCH,
            "/subscriptions/billing-details",
            Some(details),
            Some(&asha),
        )
        .await?;
    assert_eq!(saved.status, 200, "{saved:?}");
    let sub = razorpay_paid(&app, &fake, &asha, "pay_A").await?;
    eventually(10, || async { Ok(invoices(&app, &asha).await?.len() == 1) }).await?;

    // Razorpay is down: nothing is deleted, and she is told to try again.
    fake.fail_with(Some(502));
    let refused = app
        .call(Method::DELETE, "/auth/me", Some(json!({})), Some(&asha))
        .await?;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (503, "unavailable".into())
    );
    assert_eq!(app.get("/auth/me", Some(&asha)).await?.status, 200);

    fake.fail_with(None);
    let done = app
        .call(Method::DELETE, "/auth/me", Some(json!({})), Some(&asha))
        .await?;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{done:?}");
    assert!(
        fake.calls().contains(&format!(
            "POST /subscriptions/{sub}/cancel at_cycle_end=false"
        )),
        "{:?}",
        fake.calls()
    );
    assert_eq!(fake.subscription(&sub)["status"], "cancelled");

    // The invoice stays, numbered as issued, without her name or address.
    let db = app
        .app
        .databases()
        .iter()
        .find(|db| db.name() == "subscriptions")
        .cloned()
        .expect("the subscriptions database");
    let id = asha_id.as_str().unwrap_or_default().to_string();
    eventually(20, || async {
        let left: i64 = platform::with_db!(db, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM subscriptions WHERE user_id = $1")
                .bind(&id)
                .fetch_one(pool)
                .await
        })?;
        Ok(left == 0)
    })
    .await?;
    let kept: Vec<(String, String)> = platform::with_db!(db, |pool| {
        sqlx::query_as("SELECT number, customer FROM invoices WHERE user_id = $1")
            .bind(&id)
            .fetch_all(pool)
            .await
    })?;
    assert_eq!(kept.len(), 1);
    let customer: Value = serde_json::from_str(&kept[0].1)?;
    assert_eq!(customer["name"], "Account deleted");
    assert_eq!(customer["address"], "");
    assert_eq!(customer["stateCode"], "29", "the place of supply stays");
    assert!(!kept[0].1.contains("Asha"));
    app.stop().await
}

crate::both_backends!(
    an_export_holds_what_the_user_keeps_and_nothing_of_others,
    deleting_needs_the_password_or_a_fresh_session,
    a_subscription_is_cancelled_at_the_provider_first,
);
/// The deletion on every transport: NATS carries `user-deleted` too.
mod transports {
    use super::a_deleted_account_leaves_nothing_behind;
    crate::all_transports!(a_deleted_account_leaves_nothing_behind);
}
