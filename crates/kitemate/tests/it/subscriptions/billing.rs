//! Plans, billing details and tax invoices: CGST + SGST within the
//! seller's state, IGST across states, numbers without gaps, a PDF a
//! person can print (read back with poppler's `pdftotext` and rendered
//! with `pdftoppm`).

use reqwest::Method;
use serde_json::json;

use super::{app_with, invoices, razorpay_ok};
use crate::support::fake_payments::{razorpay_event, start_razorpay};
use crate::support::{Kind, TestApp, TestResult};

async fn plans_are_public_and_say_what_they_include(kind: Kind) -> TestResult {
    let fake = start_razorpay().await?;
    let app = app_with(kind, Some(&fake.url), None).await?;
    let plans = app.get("/subscriptions/plans", None).await?;
    assert_eq!(plans.status, 200);
    let list = plans.json()["plans"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let ids: Vec<&str> = list.iter().filter_map(|p| p["id"].as_str()).collect();
    assert_eq!(ids, ["free", "pro_monthly", "pro_yearly"]);
    assert_eq!(
        list[0]["includes"],
        json!({ "questionsPerMonth": 50, "widgets": 10, "dashboards": 1 })
    );
    assert_eq!(list[1]["includes"]["questionsPerMonth"], json!(null));
    assert_eq!(list[1]["pricePaise"], 29_900);
    // Monthly has a Razorpay plan id here; yearly has none, so nobody sells it.
    assert_eq!(list[1]["providers"], json!(["razorpay"]));
    assert_eq!(list[2]["providers"], json!([]));
    let asha = app.signup("asha").await?;
    let yearly = app
        .call(
            Method::POST,
            "/subscriptions/checkout",
            Some(json!({ "plan": "pro_yearly", "provider": "razorpay" })),
            Some(&asha),
        )
        .await?;
    assert_eq!(yearly.status, 503);
    let bad = app
        .call(
            Method::POST,
            "/subscriptions/checkout",
            Some(json!({ "plan": "gold", "provider": "razorpay" })),
            Some(&asha),
        )
        .await?;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["details"]["field"], "plan");
    app.stop().await
}

async fn billing_details_are_checked_field_by_field(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let none = app
        .get("/subscriptions/billing-details", Some(&asha))
        .await?;
    assert_eq!(none.status, 404);
    let cases = [
        (json!({ "name": "Asha" }), "address"),
        (
            json!({ "name": "Asha", "address": "Pune", "stateCode": "00" }),
            "stateCode",
        ),
        (
            json!({ "name": "Asha", "address": "Pune", "stateCode": "27", "gstin": "27AAPFU0939F1ZW" }),
            "gstin",
        ),
        (
            json!({ "name": "Asha", "address": "Pune", "stateCode": "29", "gstin": "27AAPFU0939F1ZV" }),
            "gstin",
        ),
        (
            json!({ "name": "   ", "address": "Pune", "stateCode": "27" }),
            "name",
        ),
        (
            json!({ "name": "A".repeat(101), "address": "Pune", "stateCode": "27" }),
            "name",
        ),
    ];
    for (body, field) in cases {
        let reply = app
            .call(
                Method::PATCH,
                "/subscriptions/billing-details",
                Some(body.clone()),
                Some(&asha),
            )
            .await?;
        assert_eq!(reply.status, 400, "{body}: {reply:?}");
        assert_eq!(reply.json()["details"]["field"], field, "{body}");
    }
    assert_eq!(
        app.get("/subscriptions/billing-details", Some(&asha))
            .await?
            .status,
        404,
        "nothing half-written"
    );
    let set = json!({ "name": "Asha Traders", "address": "12 MG Road\nPune", "stateCode": "27", "gstin": "27aapfu0939f1zv" });
    let reply = app
        .call(
            Method::PATCH,
            "/subscriptions/billing-details",
            Some(set),
            Some(&asha),
        )
        .await?;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.json()["gstin"], "27AAPFU0939F1ZV");
    let cleared = app
        .call(
            Method::PATCH,
            "/subscriptions/billing-details",
            Some(json!({ "gstin": "" })),
            Some(&asha),
        )
        .await?;
    assert_eq!(cleared.json().get("gstin"), None);
    assert_eq!(cleared.json()["address"], "12 MG Road\nPune");
    app.stop().await
}

/// A customer in Maharashtra buying from a seller in Karnataka pays IGST;
/// the PDF shows the number and the totals, and renders.
async fn invoices_split_gst_by_state_and_print(kind: Kind) -> TestResult {
    let fake = start_razorpay().await?;
    let app = app_with(kind, Some(&fake.url), None).await?;
    let asha = app.signup("asha").await?;
    let ravi = app.signup("ravi").await?;
    let user = app.get("/auth/me", Some(&asha)).await?.json()["id"].clone();
    let details = json!({ "name": "Asha Traders", "address": "12 MG Road, Pune", "stateCode": "27", "gstin": "27AAPFU0939F1ZV" });
    app.call(
        Method::PATCH,
        "/subscriptions/billing-details",
        Some(details),
        Some(&asha),
    )
    .await?;
    let now = app.clock.now().timestamp();
    let sub = json!({ "id": "sub_I1", "status": "active", "notes": { "user_id": user },
        "current_start": now, "current_end": now + 365 * 86_400 });
    for (i, amount) in [299_900_i64, 29_950].iter().enumerate() {
        let body = razorpay_event(
            "subscription.charged",
            &sub,
            Some((&format!("pay_I{i}"), *amount)),
            now + i as i64,
        );
        razorpay_ok(&app, &body, &format!("evt_I{i}")).await?;
    }
    crate::support::eventually(30, || async { Ok(invoices(&app, &asha).await?.len() == 2) })
        .await?;
    let list = invoices(&app, &asha).await?;
    // Numbered 1 and 2 in the order they were applied, newest first.
    let numbers: Vec<&str> = list.iter().filter_map(|i| i["number"].as_str()).collect();
    assert!(
        numbers[0].ends_with("/000002") && numbers[1].ends_with("/000001"),
        "{numbers:?}"
    );
    for inv in &list {
        let total = inv["totalPaise"].as_i64().unwrap_or_default();
        let parts: i64 = ["taxablePaise", "cgstPaise", "sgstPaise", "igstPaise"]
            .iter()
            .map(|k| inv[*k].as_i64().unwrap_or_default())
            .sum();
        assert_eq!(parts, total, "{inv}");
        assert_eq!(
            (inv["cgstPaise"].as_i64(), inv["sgstPaise"].as_i64()),
            (Some(0), Some(0))
        );
        assert_eq!(inv["customer"]["gstin"], "27AAPFU0939F1ZV");
    }
    let yearly = list
        .iter()
        .find(|i| i["totalPaise"] == 299_900)
        .ok_or_else(|| anyhow::anyhow!("no yearly invoice"))?;
    assert_eq!(
        (
            yearly["igstPaise"].as_i64(),
            yearly["taxablePaise"].as_i64()
        ),
        (Some(45_747), Some(254_153))
    );
    // Ravi cannot see hers.
    let id = yearly["id"].as_str().unwrap_or_default();
    assert_eq!(
        app.get(&format!("/subscriptions/invoices/{id}"), Some(&ravi))
            .await?
            .status,
        404
    );
    assert_eq!(
        app.get(
            &format!("/subscriptions/invoices/{id}/invoice.pdf"),
            Some(&ravi)
        )
        .await?
        .status,
        404
    );
    let one = app
        .get(&format!("/subscriptions/invoices/{id}"), Some(&asha))
        .await?;
    assert_eq!(one.json()["number"], yearly["number"]);
    let page = app
        .get("/subscriptions/invoices?limit=1", Some(&asha))
        .await?
        .json();
    assert_eq!(page["invoices"].as_array().map(Vec::len), Some(1));
    let next = page["nextCursor"].as_str().unwrap_or_default();
    let rest = app
        .get(
            &format!("/subscriptions/invoices?limit=1&cursor={next}"),
            Some(&asha),
        )
        .await?
        .json();
    assert_eq!(rest["invoices"][0]["id"], list[1]["id"]);
    assert!(rest.get("nextCursor").is_none());

    let res = app
        .client
        .get(app.url(&format!("/subscriptions/invoices/{id}/invoice.pdf")))
        .bearer_auth(&asha)
        .send()
        .await?;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let pdf = res.bytes().await?;
    assert!(pdf.starts_with(b"%PDF-"));
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("invoice.pdf");
    std::fs::write(&file, &pdf)?;
    let text = poppler("pdftotext", &[file.to_str().unwrap_or_default(), "-"])?;
    let number = yearly["number"].as_str().unwrap_or_default();
    for expected in [
        number,
        "TAX INVOICE",
        "2,541.53",
        "457.47",
        "2,999.00",
        "IGST @ 18%",
        "Asha Traders",
        "27AAPFU0939F1ZV",
        "Rupees Two Thousand Nine Hundred Ninety-Nine Only",
    ] {
        assert!(
            text.contains(expected),
            "the PDF lacks {expected:?}:\n{text}"
        );
    }
    let png = dir.path().join("page");
    poppler(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "60",
            "-singlefile",
            file.to_str().unwrap_or_default(),
            png.to_str().unwrap_or_default(),
        ],
    )?;
    let image = image::open(dir.path().join("page.png"))?.to_luma8();
    let dark = image.pixels().filter(|p| p.0[0] < 128).count();
    assert!(
        image.width() > 400 && dark > 2_000,
        "the page is drawn ({dark} dark pixels)"
    );
    app.stop().await
}

/// Runs a poppler tool (Debian's poppler-utils; CI installs it).
fn poppler(tool: &str, args: &[&str]) -> anyhow::Result<String> {
    let out = std::process::Command::new(tool)
        .args(args)
        .output()
        .map_err(|e| anyhow::anyhow!("{tool} (poppler-utils) is needed: {e}"))?;
    anyhow::ensure!(
        out.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

crate::both_backends!(
    plans_are_public_and_say_what_they_include,
    billing_details_are_checked_field_by_field,
    invoices_split_gst_by_state_and_print
);
