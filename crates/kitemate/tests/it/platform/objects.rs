//! Object storage: the bucket API on the embedded folder and on a real
//! S3-compatible server, and `/objects/{bucket}/{key}` over HTTP.

use std::time::Duration;

use platform::clock::Clock;
use platform::objects::{BucketDecl, ObjectError, Objects};
use reqwest::StatusCode;

use crate::support::{Kind, TestApp, TestResult, s3_url, test_config, use_s3};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";

static FILES: BucketDecl = BucketDecl::private("files").max_size(64);
static HISTORY: BucketDecl = BucketDecl::private("history").versioned();
static PICTURES: BucketDecl = BucketDecl::public("pictures").content_types(&["image/png"]);

#[derive(Debug, Clone, Copy)]
enum On {
    Folder,
    S3,
}

/// Buckets on a fresh store; `None` when S3 is wanted but not configured.
fn store(on: On, dir: &std::path::Path) -> anyhow::Result<Option<Objects>> {
    let mut config = test_config(&Kind::Sqlite, dir);
    if let On::S3 = on {
        let Some(url) = s3_url() else { return Ok(None) };
        use_s3(&mut config, &url, dir)?;
    }
    let resolved = config.resolve()?;
    let (backend, signer) = (resolved.objects, resolved.signer);
    let decls = [&FILES, &HISTORY, &PICTURES];
    Ok(Some(Objects::new(
        &backend,
        &decls,
        signer,
        "http://objects.test",
        Clock::system(),
    )?))
}

macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod folder {
            $(
                #[tokio::test]
                async fn $name() -> $crate::support::TestResult {
                    super::$name(super::On::Folder).await
                }
            )*
        }
        mod s3 {
            $(
                #[tokio::test]
                async fn $name() -> $crate::support::TestResult {
                    super::$name(super::On::S3).await
                }
            )*
        }
    };
}

on_both_stores!(
    files_on_disk_upload_a_piece_at_a_time,
    upload_read_list_delete,
    versioned_buckets_keep_every_upload,
    bad_uploads_are_refused_and_leave_nothing
);

/// A file uploaded from disk (as `kitemate import` keeps a large export)
/// reads back as its bytes, with the same checks as an upload from memory.
/// 9 MiB (under the bucket's 10 MiB): two S3 multipart pieces of 5 MiB at most.
async fn files_on_disk_upload_a_piece_at_a_time(on: On) -> TestResult {
    let dir = tempfile::tempdir()?;
    let Some(objects) = store(on, dir.path())? else {
        return Ok(());
    };
    let big: Vec<u8> = (0..9 << 20)
        .map(|i: u32| b"0123456789,\n"[(i % 12) as usize])
        .collect();
    let on_disk = dir.path().join("export.csv");
    std::fs::write(&on_disk, &big)?;
    let history = objects.require("history")?;
    let attrs = history
        .upload_file("exports/big.csv", &on_disk, Some("text/csv"))
        .await?;
    assert_eq!(
        (attrs.size, attrs.content_type.as_str()),
        (big.len() as u64, "text/csv")
    );
    assert!(attrs.version.is_some(), "versioned like any upload");
    let got = history.download("exports/big.csv").await?;
    assert_eq!(got.bytes.len(), big.len());
    assert!(got.bytes[..] == big[..], "the bytes read back as written");
    let again = history
        .upload("exports/small.csv", big.clone(), Some("text/csv"))
        .await?;
    if let On::Folder = on {
        assert_eq!(again.etag, attrs.etag, "the same etag as from memory");
    }

    // The same checks as from memory: size, and the content type against
    // the bytes; nothing is left by a refused one.
    let small = objects.require("files")?;
    assert!(matches!(
        small
            .upload_file("too/big.csv", &on_disk, Some("text/csv"))
            .await,
        Err(ObjectError::TooLarge { limit: 64 })
    ));
    let picture = dir.path().join("picture.csv");
    std::fs::write(&picture, PNG)?;
    assert!(matches!(
        history
            .upload_file("not/text.csv", &picture, Some("text/csv"))
            .await,
        Err(ObjectError::ContentType(_))
    ));
    assert!(!small.exists("too/big.csv").await? && !history.exists("not/text.csv").await?);
    Ok(())
}

async fn upload_read_list_delete(on: On) -> TestResult {
    let dir = tempfile::tempdir()?;
    let Some(objects) = store(on, dir.path())? else {
        return Ok(());
    };
    let files = objects.require("files")?;

    let attrs = files
        .upload("reports/2024/q1.csv", "a,b\n1,2\n", Some("text/csv"))
        .await?;
    assert_eq!(
        (attrs.key.as_str(), attrs.size, attrs.content_type.as_str()),
        ("reports/2024/q1.csv", 8, "text/csv")
    );
    assert!(!attrs.etag.is_empty());
    assert_eq!(attrs.version, None);
    files
        .upload("reports/2024/q2.csv", "a,b\n3,4\n5,6\n", Some("text/csv"))
        .await?;
    files.upload("reports/2025/q1.csv", "a\n", None).await?;
    files.upload("notes.txt", "hello", None).await?;

    let got = files.download("reports/2024/q1.csv").await?;
    assert_eq!(&got.bytes[..], b"a,b\n1,2\n");
    assert_eq!(got.attrs, files.attrs("reports/2024/q1.csv").await?);
    assert_eq!(
        files.attrs("notes.txt").await?.content_type,
        "text/plain",
        "sniffed"
    );
    assert!(files.exists("notes.txt").await?);
    assert!(!files.exists("nope.txt").await?);
    assert!(matches!(
        files.download("nope.txt").await,
        Err(ObjectError::NotFound)
    ));

    let keys = |entries: Vec<platform::objects::ListEntry>| {
        entries.into_iter().map(|e| e.key).collect::<Vec<_>>()
    };
    assert_eq!(
        keys(files.list("reports/2024/").await?),
        ["reports/2024/q1.csv", "reports/2024/q2.csv"]
    );
    assert_eq!(
        keys(files.list("reports/20").await?).len(),
        3,
        "a prefix need not end at a /"
    );
    assert_eq!(keys(files.list("").await?).len(), 4);
    assert_eq!(files.list("reports/2024/q2").await?[0].size, 12);

    // Replacing keeps one object; deleting twice is fine.
    files.upload("notes.txt", "hello again", None).await?;
    assert_eq!(
        &files.download("notes.txt").await?.bytes[..],
        b"hello again"
    );
    files.delete("notes.txt").await?;
    files.delete("notes.txt").await?;
    assert!(!files.exists("notes.txt").await?);
    assert_eq!(keys(files.list("").await?).len(), 3);
    Ok(())
}

async fn versioned_buckets_keep_every_upload(on: On) -> TestResult {
    let dir = tempfile::tempdir()?;
    let Some(objects) = store(on, dir.path())? else {
        return Ok(());
    };
    let history = objects.require("history")?;

    let first = history
        .upload("plan.json", r#"{"v":1}"#, Some("application/json"))
        .await?;
    let second = history
        .upload("plan.json", r#"{"v":2}"#, Some("application/json"))
        .await?;
    let (Some(v1), Some(v2)) = (first.version.clone(), second.version.clone()) else {
        anyhow::bail!("versioned uploads carry a version: {first:?} {second:?}");
    };
    assert_ne!(v1, v2);
    assert_eq!(
        history.attrs("plan.json").await?.version.as_deref(),
        Some(v2.as_str())
    );
    assert_eq!(
        &history.download("plan.json").await?.bytes[..],
        br#"{"v":2}"#
    );
    assert_eq!(
        &history.download_version("plan.json", &v1).await?.bytes[..],
        br#"{"v":1}"#
    );
    let versions: Vec<_> = history
        .versions("plan.json")
        .await?
        .into_iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(versions, [v1.clone(), v2]);
    // The bookkeeping folder is not listed as the caller's objects.
    let listed: Vec<_> = history.list("").await?.into_iter().map(|e| e.key).collect();
    assert_eq!(listed, ["plan.json"]);

    history.delete("plan.json").await?;
    assert!(!history.exists("plan.json").await?);
    assert_eq!(
        &history.download_version("plan.json", &v1).await?.bytes[..],
        br#"{"v":1}"#,
        "versions outlive a delete"
    );
    assert!(matches!(
        history.download_version("plan.json", "not-a-version").await,
        Err(ObjectError::NotFound)
    ));
    Ok(())
}

async fn bad_uploads_are_refused_and_leave_nothing(on: On) -> TestResult {
    let dir = tempfile::tempdir()?;
    let Some(objects) = store(on, dir.path())? else {
        return Ok(());
    };
    let files = objects.require("files")?;
    let pictures = objects.require("pictures")?;

    for key in [
        "../escape",
        "/abs",
        "a//b",
        "a/./b",
        "tab\there",
        ".versions/x",
    ] {
        let refused = files.upload(key, "x", None).await;
        assert!(
            matches!(refused, Err(ObjectError::InvalidKey(_))),
            "{key:?}: {refused:?}"
        );
    }
    let big = vec![b'a'; 65];
    assert!(matches!(
        files.upload("big.txt", big, None).await,
        Err(ObjectError::TooLarge { limit: 64 })
    ));
    let lie = files.upload("fake.png", PDF, Some("image/png")).await;
    assert!(
        matches!(&lie, Err(ObjectError::ContentType(r)) if r == "says image/png but the bytes are application/pdf"),
        "{lie:?}"
    );
    let not_png = pictures.upload("doc.pdf", PDF, None).await;
    assert!(
        matches!(not_png, Err(ObjectError::ContentType(_))),
        "{not_png:?}"
    );
    assert!(
        files.list("").await?.is_empty() && pictures.list("").await?.is_empty(),
        "nothing half-written"
    );

    assert!(matches!(
        files.public_url("a.txt"),
        Err(ObjectError::NotPublic("files"))
    ));
    assert_eq!(
        pictures.public_url("me/pic 1.png")?,
        "http://objects.test/objects/pictures/me/pic%201.png"
    );
    Ok(())
}

/// An app whose objects are in `on`; `None` when S3 is wanted but absent.
async fn app_on(on: On) -> anyhow::Result<Option<TestApp>> {
    let url = match on {
        On::Folder => None,
        On::S3 => match s3_url() {
            Some(url) => Some(url),
            None => return Ok(None),
        },
    };
    let app = TestApp::spawn_with(Kind::Sqlite, |config| {
        if let Some(url) = &url {
            let dir = config.data_dir.clone();
            use_s3(config, url, &dir).expect("S3 settings");
        }
    })
    .await?;
    Ok(Some(app))
}

#[tokio::test]
async fn public_objects_are_served_to_anyone() -> TestResult {
    Box::pin(serve_public(On::Folder)).await
}

#[tokio::test]
async fn public_objects_are_served_from_s3() -> TestResult {
    Box::pin(serve_public(On::S3)).await
}

async fn serve_public(on: On) -> TestResult {
    let Some(t) = app_on(on).await? else {
        return Ok(());
    };
    let images = t.app.objects.require("images")?;
    images
        .upload("avatars/asha.png", PNG, Some("image/png"))
        .await?;
    let url = t.object_url(&images.public_url("avatars/asha.png")?);

    let res = t.client.get(&url).send().await?;
    assert_eq!(res.status(), StatusCode::OK);
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    assert_eq!(header("content-type").as_deref(), Some("image/png"));
    assert_eq!(
        header("cache-control").as_deref(),
        Some("public, max-age=300")
    );
    assert_eq!(header("content-disposition"), None, "images show in place");
    let etag = header("etag").ok_or_else(|| anyhow::anyhow!("no etag"))?;
    assert_eq!(&res.bytes().await?[..], PNG);

    let again = t
        .client
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await?;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let missing = TestApp::read(
        t.client
            .get(t.url("/objects/images/avatars/nobody.png"))
            .send()
            .await?,
    )
    .await?;
    assert_eq!(
        (missing.status, missing.code().as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let no_bucket = TestApp::read(t.client.get(t.url("/objects/secrets/x")).send().await?).await?;
    assert_eq!(
        (no_bucket.status, no_bucket.message().as_str()),
        (StatusCode::NOT_FOUND, "no bucket called \"secrets\"")
    );
    t.stop().await
}

#[tokio::test]
async fn private_objects_need_a_signed_url_that_has_not_expired() -> TestResult {
    let t = TestApp::spawn(Kind::Sqlite).await?;
    let imports = t.app.objects.require("imports")?;
    imports
        .upload(
            "u1/tradebook.csv",
            "symbol,qty\nINFY,10\n",
            Some("text/csv"),
        )
        .await?;

    let bare = TestApp::read(
        t.client
            .get(t.url("/objects/imports/u1/tradebook.csv"))
            .send()
            .await?,
    )
    .await?;
    assert_eq!(
        (bare.status, bare.code().as_str()),
        (StatusCode::FORBIDDEN, "permission_denied")
    );
    assert_eq!(
        bare.message(),
        "this object needs a signed URL (expires and sig)"
    );

    let signed =
        t.object_url(&imports.signed_download_url("u1/tradebook.csv", Duration::from_secs(60))?);
    let res = TestApp::read(t.client.get(&signed).send().await?).await?;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.text, "symbol,qty\nINFY,10\n");
    assert_eq!(
        res.header("cache-control").as_deref(),
        Some("private, no-store")
    );

    // The signature covers the key: it does not open a neighbour.
    let other = signed.replace("tradebook", "holdings");
    let res = TestApp::read(t.client.get(&other).send().await?).await?;
    assert_eq!(
        (res.status, res.message().as_str()),
        (
            StatusCode::FORBIDDEN,
            "the signature does not match this URL"
        )
    );
    // Nor does a download URL allow an upload.
    let res = TestApp::read(t.client.put(&signed).body("x").send().await?).await?;
    assert_eq!(res.status, StatusCode::FORBIDDEN);

    t.clock.advance(chrono::TimeDelta::seconds(61));
    let res = TestApp::read(t.client.get(&signed).send().await?).await?;
    assert_eq!(
        (res.status, res.message().as_str()),
        (StatusCode::FORBIDDEN, "the signed URL has expired")
    );
    t.stop().await
}

#[tokio::test]
async fn signed_uploads_check_type_size_and_key() -> TestResult {
    let t = TestApp::spawn(Kind::Sqlite).await?;
    let images = t.app.objects.require("images")?;
    let ttl = Duration::from_secs(60);
    let url = t.object_url(&images.signed_upload_url("w/1.png", ttl, Some("image/png"))?);

    let put = |url: String, ct: &'static str, body: Vec<u8>| {
        let req = t.client.put(url).header("content-type", ct).body(body);
        async move { TestApp::read(req.send().await?).await }
    };
    let res = put(url.clone(), "image/png", PNG.to_vec()).await?;
    assert_eq!(res.status, StatusCode::CREATED, "{res:?}");
    assert_eq!(res.json()["contentType"], "image/png");
    assert_eq!(res.json()["size"], PNG.len());
    assert_eq!(&images.download("w/1.png").await?.bytes[..], PNG);

    let res = put(url.clone(), "image/jpeg", PNG.to_vec()).await?;
    assert_eq!(
        (res.status, res.json()["details"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("contentType"))
    );
    assert_eq!(res.message(), "contentType: this URL takes only image/png");
    let res = put(url.clone(), "image/png", PDF.to_vec()).await?;
    assert_eq!(
        res.message(),
        "contentType: says image/png but the bytes are application/pdf"
    );

    let any_type = t.object_url(&images.signed_upload_url("w/2.png", ttl, None)?);
    let mut big = PNG.to_vec();
    big.resize(2 << 20 | 1, 0);
    let res = put(any_type.clone(), "image/png", big).await?;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        res.message(),
        "the object is larger than this bucket's limit of 2097152 bytes"
    );
    let res = put(any_type, "text/html", b"<script>alert(1)</script>".to_vec()).await?;
    assert_eq!(
        res.message(),
        "contentType: text/html is not accepted here; use one of image/png, image/jpeg, image/webp, image/gif"
    );
    assert!(
        !images.exists("w/2.png").await?,
        "refused uploads leave nothing"
    );

    let unsigned = put(t.url("/objects/images/w/3.png"), "image/png", PNG.to_vec()).await?;
    assert_eq!(unsigned.status, StatusCode::FORBIDDEN);
    let escape = TestApp::read(
        t.client
            .get(t.url("/objects/images/a/..%2F..%2Fetc%2Fpasswd"))
            .send()
            .await?,
    )
    .await?;
    assert_eq!(
        (escape.status, escape.json()["details"]["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("key"))
    );
    t.stop().await
}
