//! An avatar from uploaded bytes: checked from the bytes themselves (PNG,
//! JPEG or WebP, at most 2 MiB and 4096×4096), turned upright, cropped to
//! a square and re-encoded as 256- and 64-pixel PNGs. Re-encoding keeps
//! pixels only, so metadata such as a photo's GPS position is gone.

use std::io::Cursor;

use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use platform::objects::Bucket;

/// The largest upload taken.
pub const MAX_BYTES: usize = 2 << 20;
/// The widest and tallest upload taken.
pub const MAX_SIDE: u32 = 4096;
/// The sizes kept.
pub const SIDES: [u32; 2] = [256, 64];

/// The two PNGs, largest first; or why the upload is refused.
pub fn avatars(bytes: &[u8]) -> Result<[Vec<u8>; 2], String> {
    if bytes.len() > MAX_BYTES {
        return Err(format!(
            "is {} bytes; at most {MAX_BYTES} (2 MiB) are taken",
            bytes.len()
        ));
    }
    let format = image::guess_format(bytes)
        .map_err(|_| "is not an image: PNG, JPEG or WebP are taken".to_string())?;
    if !matches!(
        format,
        ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP
    ) {
        return Err(format!(
            "is {}: only PNG, JPEG or WebP are taken",
            format.extensions_str().first().unwrap_or(&"another format")
        ));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    // The header's size is checked before any pixel is decoded, so a
    // small file claiming a huge image costs nothing; allocations are
    // capped besides (a 4096² RGBA image is 64 MiB).
    let mut limits = Limits::default();
    limits.max_alloc = Some(128 << 20);
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| format!("cannot be read: {e}"))?;
    let (width, height) = decoder.dimensions();
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(format!(
            "is {width}×{height} pixels; at most {MAX_SIDE}×{MAX_SIDE} are taken"
        ));
    }
    let orientation = decoder
        .orientation()
        .map_err(|e| format!("cannot be read: {e}"))?;
    let mut picture =
        DynamicImage::from_decoder(decoder).map_err(|e| format!("cannot be read: {e}"))?;
    picture.apply_orientation(orientation);
    let (w, h) = (picture.width(), picture.height());
    let side = w.min(h).max(1);
    let square = picture.crop_imm((w - side) / 2, (h - side) / 2, side, side);
    let mut out = SIDES.map(|_| Vec::new());
    for (side, png) in SIDES.iter().zip(out.iter_mut()) {
        square
            .resize_exact(*side, *side, FilterType::Lanczos3)
            .to_rgba8()
            .write_to(&mut Cursor::new(png), ImageFormat::Png)
            .map_err(|e| format!("cannot be re-encoded: {e}"))?;
    }
    Ok(out)
}

/// The public URLs of an avatar's two sizes.
pub fn urls(pictures: &Bucket, stem: Option<&str>) -> (Option<String>, Option<String>) {
    let url =
        |side: u32| stem.and_then(|stem| pictures.public_url(&format!("{stem}-{side}.png")).ok());
    (url(SIDES[0]), url(SIDES[1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        image::RgbImage::from_pixel(width, height, image::Rgb([200, 30, 30]))
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .unwrap_or_default();
        bytes
    }

    #[test]
    fn any_shape_becomes_two_squares() -> Result<(), String> {
        let [big, small] = avatars(&png(600, 300))?;
        for (bytes, side) in [(big, 256), (small, 64)] {
            let img = image::load_from_memory(&bytes).map_err(|e| e.to_string())?;
            assert_eq!((img.width(), img.height()), (side, side));
        }
        Ok(())
    }

    #[test]
    fn what_is_not_a_small_enough_image_is_refused_with_why() {
        assert!(
            avatars(b"hello")
                .err()
                .is_some_and(|e| e.contains("not an image"))
        );
        assert!(
            avatars(&png(4097, 2))
                .err()
                .is_some_and(|e| e.contains("4097×2"))
        );
        let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
        assert!(avatars(gif).err().is_some_and(|e| e.contains("only PNG")));
        let big = vec![0u8; MAX_BYTES + 1];
        assert!(avatars(&big).err().is_some_and(|e| e.contains("2 MiB")));
    }
}
