//! Avatars through HTTP on both backends: a signed upload, checked from
//! its bytes and re-encoded at 256 and 64 pixels without its metadata into
//! the public bucket; a bad one refused with why, the old one kept.

use std::io::Cursor;

use image::ImageFormat;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Kind, TestApp, TestResult};
use crate::widgets::crud::call;

/// A photo-like JPEG carrying an Exif block with a GPS position.
fn jpeg_with_position() -> anyhow::Result<Vec<u8>> {
    let mut plain = Vec::new();
    image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    })
    .write_to(&mut Cursor::new(&mut plain), ImageFormat::Jpeg)?;
    // An APP1 segment right after the start-of-image marker, as cameras
    // write it; its words are what must not survive.
    let exif = b"Exif\0\0MM\0*\0\0\0\x08\0\0GPSLatitude 28.6139 N GPSLongitude 77.2090 E";
    let len = u16::try_from(exif.len() + 2)?.to_be_bytes();
    let mut out = plain[..2].to_vec();
    out.extend([0xFF, 0xE1, len[0], len[1]]);
    out.extend_from_slice(exif);
    out.extend_from_slice(&plain[2..]);
    Ok(out)
}

fn png(width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    image::RgbaImage::from_pixel(width, height, image::Rgba([10, 120, 200, 255]))
        .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)?;
    Ok(bytes)
}

/// Asks for an upload URL, uploads `bytes` as `content_type`, and answers
/// the upload id.
async fn upload(
    app: &TestApp,
    token: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> anyhow::Result<String> {
    let asked = call(
        app,
        Method::POST,
        "/profiles/me/avatar",
        Some(json!({ "contentType": content_type })),
        token,
    )
    .await?;
    anyhow::ensure!(asked.status == StatusCode::OK, "{asked:?}");
    let url = asked.json()["uploadUrl"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let put = app
        .client
        .put(app.object_url(&url))
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await?;
    anyhow::ensure!(put.status().is_success(), "upload: {}", put.status());
    Ok(asked.json()["uploadId"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

async fn fetch(app: &TestApp, url: &Value) -> anyhow::Result<(StatusCode, Vec<u8>)> {
    let res = app
        .client
        .get(app.object_url(url.as_str().unwrap_or_default()))
        .send()
        .await?;
    Ok((res.status(), res.bytes().await?.to_vec()))
}

async fn avatars_are_checked_re_encoded_and_replaced(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = app.signup("asha").await?;
    let photo = jpeg_with_position()?;
    assert!(
        photo.windows(11).any(|w| w == b"GPSLatitude"),
        "the fixture has a position"
    );
    let id = upload(&app, &asha, "image/jpeg", photo).await?;
    let used = call(
        &app,
        Method::POST,
        &format!("/profiles/me/avatar/{id}"),
        None,
        &asha,
    )
    .await?;
    assert_eq!(used.status, StatusCode::OK, "{used:?}");
    let profile = app.get("/profiles/asha", None).await?.json();
    for (field, side) in [("avatarUrl", 256), ("avatarSmallUrl", 64)] {
        let (status, bytes) = fetch(&app, &profile[field]).await?;
        assert_eq!(status, StatusCode::OK, "{field}: {profile}");
        let picture = image::load_from_memory_with_format(&bytes, ImageFormat::Png)?;
        assert_eq!((picture.width(), picture.height()), (side, side));
        assert!(
            !bytes.windows(3).any(|w| w == b"GPS"),
            "{field} keeps no metadata"
        );
    }
    // An upload is used once.
    let again = call(
        &app,
        Method::POST,
        &format!("/profiles/me/avatar/{id}"),
        None,
        &asha,
    )
    .await?;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    // Too large a picture is refused by name; the old one stays.
    let first = profile["avatarUrl"].clone();
    let wide = upload(&app, &asha, "image/png", png(5000, 8)?).await?;
    let refused = call(
        &app,
        Method::POST,
        &format!("/profiles/me/avatar/{wide}"),
        None,
        &asha,
    )
    .await?;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{refused:?}");
    assert_eq!(refused.json()["details"]["field"], "upload");
    assert!(
        refused.message().contains("5000×8"),
        "{}",
        refused.message()
    );
    assert_eq!(
        app.get("/profiles/asha", None).await?.json()["avatarUrl"],
        first
    );
    let gone = call(
        &app,
        Method::POST,
        &format!("/profiles/me/avatar/{wide}"),
        None,
        &asha,
    )
    .await?;
    assert_eq!(
        gone.status,
        StatusCode::NOT_FOUND,
        "the refused upload was deleted"
    );

    // A new picture replaces the old, whose files go.
    let next = upload(&app, &asha, "image/png", png(300, 300)?).await?;
    let used = call(
        &app,
        Method::POST,
        &format!("/profiles/me/avatar/{next}"),
        None,
        &asha,
    )
    .await?;
    assert_eq!(used.status, StatusCode::OK);
    assert_ne!(used.json()["avatarUrl"], first);
    assert_eq!(fetch(&app, &first).await?.0, StatusCode::NOT_FOUND);

    // Deleted: no picture, its files gone.
    let now = used.json()["avatarUrl"].clone();
    let deleted = call(&app, Method::DELETE, "/profiles/me/avatar", None, &asha).await?;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(
        app.get("/profiles/asha", None)
            .await?
            .json()
            .get("avatarUrl")
            .is_none()
    );
    assert_eq!(fetch(&app, &now).await?.0, StatusCode::NOT_FOUND);

    // Only image types are asked for; the upload URL takes only that type.
    let gif = call(
        &app,
        Method::POST,
        "/profiles/me/avatar",
        Some(json!({ "contentType": "image/gif" })),
        &asha,
    )
    .await?;
    assert_eq!(gif.status, StatusCode::BAD_REQUEST);
    assert_eq!(gif.json()["details"]["field"], "contentType");
    app.stop().await
}

crate::both_backends!(avatars_are_checked_re_encoded_and_replaced);
