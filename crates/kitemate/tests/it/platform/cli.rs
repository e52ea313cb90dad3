//! The `kitemate` command itself: config errors, migrate, users grant-admin
//! and set-tier, openapi.

use std::process::Command;

use crate::support::{Kind, TestApp, TestResult, fresh_postgres_url, kitemate, same_databases};

#[test]
fn a_bad_setting_stops_startup_with_one_line_naming_it() -> TestResult {
    let out = kitemate()
        .env("KITEMATE_LISTEN", "not-an-address")
        .arg("migrate")
        .output()?;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr)?;
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("`listen`"), "{stderr}");

    let out = kitemate()
        .env("KITEMATE_DATABASE_URL", "mysql://x")
        .arg("migrate")
        .output()?;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr)?;
    assert!(
        stderr.contains("`database_url`: only postgres:// URLs"),
        "{stderr}"
    );

    let out = kitemate()
        .env("KITEMATE_RATE_LIMIT__ENABLED", "maybe")
        .arg("migrate")
        .output()?;
    let stderr = String::from_utf8(out.stderr)?;
    assert!(stderr.contains("`rate_limit.enabled`"), "{stderr}");

    let fails_with = |name: &str, value: &str, expected: &str| -> TestResult {
        let out = kitemate().env(name, value).arg("migrate").output()?;
        assert_eq!(out.status.code(), Some(2), "{name}={value}");
        let stderr = String::from_utf8(out.stderr)?;
        assert!(stderr.contains(expected), "{name}={value}: {stderr}");
        Ok(())
    };
    fails_with(
        "KITEMATE_HTTP__CORS_ORIGINS",
        r#"["app.example.com"]"#,
        "`http.cors_origins`: \"app.example.com\" is not an origin",
    )?;
    fails_with(
        "KITEMATE_SECRETS_FILE",
        "/nonexistent/secrets.env",
        "`secrets_file`: cannot read /nonexistent/secrets.env",
    )?;
    // A misspelt setting is an error, not silently ignored.
    fails_with(
        "KITEMATE_LISTN",
        "127.0.0.1:1",
        "unknown field: found `listn`",
    )?;
    Ok(())
}

#[test]
fn settings_from_the_environment_are_used() -> TestResult {
    let dir = tempfile::tempdir()?;
    let out = kitemate()
        .env("KITEMATE_DATA_DIR", dir.path())
        .env(
            "KITEMATE_HTTP__CORS_ORIGINS",
            r#"["https://app.example.com", "http://localhost:5173"]"#,
        )
        .arg("migrate")
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("auth.db").exists());
    Ok(())
}

#[test]
fn openapi_prints_the_spec() -> TestResult {
    let out = kitemate().arg("openapi").output()?;
    assert!(out.status.success());
    let spec: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(spec["openapi"], "3.1.0");
    assert!(spec["paths"]["/auth/signup"]["post"].is_object());
    Ok(())
}

#[test]
fn help_describes_every_command() -> TestResult {
    let out = kitemate().arg("--help").output()?;
    let help = String::from_utf8(out.stdout)?;
    for command in ["serve", "migrate", "openapi", "users"] {
        assert!(help.contains(command), "{help}");
    }
    Ok(())
}

async fn grant_admin_from_the_shell(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let token = app.signup("asha").await?;
    let mut cmd = kitemate();
    same_databases(&mut cmd, &app);
    let out = cmd
        .args(["users", "grant-admin", "Asha@Example.com"])
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout)?.trim(),
        "Asha@Example.com is now an administrator"
    );
    assert_eq!(
        app.get("/auth/me", Some(&token)).await?.json()["isAdmin"],
        true
    );

    let mut cmd = kitemate();
    same_databases(&mut cmd, &app);
    let out = cmd
        .args(["users", "grant-admin", "nobody@example.com"])
        .output()?;
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr)?.contains("no user with email nobody@example.com"));

    // The plan, until payments set it: the chat allowance follows at once.
    let limit = || async {
        app.get("/chat/usage", Some(&token))
            .await
            .map(|r| r.json()["limit"].clone())
    };
    assert_eq!(limit().await?, 50);
    for (tier, expected) in [
        ("pro", serde_json::Value::Null),
        ("free", serde_json::json!(50)),
    ] {
        let mut cmd = kitemate();
        same_databases(&mut cmd, &app);
        let out = cmd
            .args(["users", "set-tier", "asha@example.com", tier])
            .output()?;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8(out.stdout)?.trim(),
            format!("asha@example.com is now on the {tier} plan")
        );
        assert_eq!(limit().await?, expected);
    }
    let mut cmd = kitemate();
    same_databases(&mut cmd, &app);
    let out = cmd
        .args(["users", "set-tier", "asha@example.com", "gold"])
        .output()?;
    assert_eq!(out.status.code(), Some(2), "clap refuses an unknown plan");
    app.stop().await
}

async fn migrate_creates_the_databases(kind: Kind) -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut cmd = kitemate();
    cmd.env("KITEMATE_DATA_DIR", dir.path());
    let url = match &kind {
        Kind::Postgres(base) | Kind::Nats { database: base, .. } => {
            let url = fresh_postgres_url(base);
            cmd.env("KITEMATE_DATABASE_URL", &url);
            Some(url)
        }
        Kind::Sqlite => None,
    };
    let out = cmd.arg("migrate").output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout)?;
    assert!(stdout.starts_with("migrated 12 database(s)"), "{stdout}");
    // Running it again is harmless, and the app starts on what it made.
    let mut again = kitemate();
    again.env("KITEMATE_DATA_DIR", dir.path());
    if let Some(url) = &url {
        again.env("KITEMATE_DATABASE_URL", url);
    }
    assert!(again.arg("migrate").output()?.status.success());
    if url.is_none() {
        assert!(dir.path().join("auth.db").exists());
    }
    // The app starts on what `migrate` made, and it works.
    let mut config = crate::support::test_config(&Kind::Sqlite, dir.path());
    if let Some(url) = &url {
        config.database_url = kitemate::config::DatabaseUrl::new(url.clone());
    }
    let app = kitemate::App::build(config, platform::clock::Clock::system()).await?;
    let schema = app.databases()[0].schema().await?;
    assert!(
        schema
            .iter()
            .any(|(table, column, _)| table == "users" && column == "email")
    );
    app.close().await;
    app.backend.drop_all().await
}

crate::both_backends!(
    grant_admin_from_the_shell,
    migrate_creates_the_databases,
    import_from_the_shell
);

#[test]
fn json_logs_carry_the_request_id_on_every_line_of_a_request() -> TestResult {
    use std::io::Read;
    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut child = kitemate()
        .env("KITEMATE_DATA_DIR", dir.path())
        .env("KITEMATE_LISTEN", format!("127.0.0.1:{port}"))
        .env("KITEMATE_LOG__FORMAT", "json")
        .env("KITEMATE_LOG__LEVEL", "info")
        .arg("serve")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let answered = (0..100).find_map(|_| {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        std::io::Write::write_all(
            &mut stream,
            b"GET /auth/me HTTP/1.1\r\nHost: x\r\nX-Request-Id: trace-me-42\r\nConnection: close\r\n\r\n",
        )
        .ok()?;
        let mut reply = String::new();
        stream.read_to_string(&mut reply).ok()?;
        Some(reply)
    });
    // SIGTERM: the server drains and exits cleanly.
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    assert!(term.success());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .map(|mut s| s.read_to_string(&mut stderr));
    let status = child.wait()?;
    assert!(status.success(), "exit after SIGTERM: {status}");
    let reply = answered.unwrap_or_default();
    assert!(reply.starts_with("HTTP/1.1 401"), "{reply}");
    let all: Vec<serde_json::Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    // Every line logged while the request ran is inside its span and carries its id.
    let in_request: Vec<_> = all.iter().filter(|l| l.get("span").is_some()).collect();
    assert!(
        !in_request.is_empty(),
        "no line logged within the request: {stderr}"
    );
    assert!(
        in_request
            .iter()
            .all(|l| l["span"]["request_id"] == "trace-me-42"),
        "{stderr}"
    );
    let lines = in_request;
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "request answered" && l["status"] == 401),
        "{stderr}"
    );
    Ok(())
}

#[test]
fn the_example_config_is_valid_and_shows_the_defaults() -> TestResult {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../kitemate.example.toml");
    let loaded = kitemate::Config::load(std::path::Path::new(example))?;
    assert_eq!(
        serde_json::to_value(&loaded)?,
        serde_json::to_value(kitemate::Config::default())?,
        "kitemate.example.toml should list the defaults"
    );
    Ok(())
}

/// `kitemate import` puts a Console file into the same databases the app
/// reads, once however often it runs.
async fn import_from_the_shell(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/console/mohit-manna__capital-gain-fy-24-25__tradebook.csv"
    );
    for expected in [
        "imported 378 of 378 rows (0 already there, 0 skipped)",
        "imported 0 of 378 rows (378 already there, 0 skipped)",
    ] {
        let mut cmd = kitemate();
        same_databases(&mut cmd, &app);
        let out = cmd
            .args(["import", file, "--user", "ASHA@example.com"])
            .output()?;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8(out.stdout)?.trim(), expected);
    }
    assert_eq!(
        app.get("/portfolio/trades", Some(&asha)).await?.json()["total"],
        378
    );
    // Each run kept the file as it was, sent from disk a piece at a time.
    let kept = app.app.objects.require("imports")?.list("").await?;
    let size = std::fs::metadata(file)?.len();
    assert_eq!(
        kept.iter().map(|e| e.size).collect::<Vec<_>>(),
        [size, size],
        "{kept:?}"
    );
    let mut cmd = kitemate();
    same_databases(&mut cmd, &app);
    let out = cmd
        .args(["import", file, "--user", "nobody@example.com"])
        .output()?;
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr)?.contains("no user with email nobody@example.com"));
    app.stop().await
}
