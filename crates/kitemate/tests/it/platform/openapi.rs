//! The committed spec is the one the code generates, and the app serves it and its docs.

use reqwest::StatusCode;

use crate::support::{Kind, TestApp, TestResult};

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi.json");

#[test]
fn committed_openapi_spec_is_fresh() -> TestResult {
    let generated = kitemate::app::openapi_json();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(COMMITTED, &generated)?;
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test -p kitemate openapi` \
         (or `cargo run -- openapi > openapi.json`) and commit the diff"
    );
    Ok(())
}

/// Every `$ref` points at a schema the spec defines (a generated client
/// cannot be built otherwise).
#[test]
fn every_reference_resolves() -> TestResult {
    fn walk(value: &serde_json::Value, refs: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(target)) = map.get("$ref") {
                    refs.push(target.clone());
                }
                map.values().for_each(|v| walk(v, refs));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, refs)),
            _ => {}
        }
    }
    let spec: serde_json::Value = serde_json::from_str(&kitemate::app::openapi_json())?;
    let mut refs = Vec::new();
    walk(&spec, &mut refs);
    assert!(!refs.is_empty());
    let missing: Vec<&String> = refs
        .iter()
        .filter(|r| {
            let name = r.trim_start_matches("#/components/schemas/");
            spec["components"]["schemas"].get(name).is_none()
        })
        .collect();
    assert!(missing.is_empty(), "unresolved: {missing:?}");
    Ok(())
}

#[tokio::test]
async fn serves_the_spec_and_a_self_contained_docs_page() -> TestResult {
    let app = TestApp::spawn(Kind::Sqlite).await?;
    let spec = app.get("/openapi.json", None).await?;
    assert_eq!(spec.status, StatusCode::OK);
    assert_eq!(spec.text, kitemate::app::openapi_json());

    let page = app.get("/docs", None).await?;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("/docs/swagger-ui-bundle.js"));
    assert!(
        !page.text.contains("https://"),
        "the page loads nothing from elsewhere"
    );
    let csp = page.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    for asset in [
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-ui.css",
        "/docs/init.js",
    ] {
        let reply = app.get(asset, None).await?;
        assert_eq!(reply.status, StatusCode::OK, "{asset}");
        assert!(reply.text.len() > 100, "{asset}");
    }
    app.stop().await
}

/// Every operation has its own id: generated clients name their methods by
/// them, and two alike do not compile (two services' `create` once broke
/// the TypeScript client).
#[test]
fn operation_ids_are_unique() -> TestResult {
    let spec: serde_json::Value = serde_json::from_str(&kitemate::app::openapi_json())?;
    let mut seen = std::collections::BTreeMap::new();
    let mut twice = Vec::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            if let Some(id) = operation["operationId"].as_str()
                && let Some(first) = seen.insert(id.to_string(), format!("{method} {path}"))
            {
                twice.push(format!("{id}: {first} and {method} {path}"));
            }
        }
    }
    assert!(twice.is_empty(), "operation ids used twice: {twice:#?}");
    Ok(())
}
