//! A widget as a 1200×630 PNG for link previews: its SVG rasterised with
//! resvg (pure Rust) using the font shipped in `assets/fonts`, so the card
//! looks the same on every machine. Cards are kept by the SVG's hash: the
//! same drawing is never rasterised twice.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use bytes::Bytes;

use platform::ApiError;
use resvg::{tiny_skia, usvg};
use sha2::{Digest, Sha256};

use super::chart::{HEIGHT, WIDTH};

pub const CARD_WIDTH: u32 = 1200;
pub const CARD_HEIGHT: u32 = 630;
/// Cards kept in memory (about 60 KB each).
const KEPT: usize = 256;

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The options every card is parsed with: the shipped font alone.
static OPTIONS: LazyLock<usvg::Options<'static>> = LazyLock::new(|| {
    let mut fonts = usvg::fontdb::Database::new();
    fonts.load_font_data(FONT.to_vec());
    fonts.set_sans_serif_family("DejaVu Sans");
    usvg::Options {
        font_family: "DejaVu Sans".into(),
        fontdb: Arc::new(fonts),
        ..usvg::Options::default()
    }
});

/// A drawing's SHA-256.
type Key = [u8; 32];

/// Cards by key, and the keys in the order they came.
type Kept = (HashMap<Key, Bytes>, VecDeque<Key>);

/// Rasterised cards by the hash of their SVG, oldest dropped first.
#[derive(Debug, Default)]
pub struct Cards {
    kept: Mutex<Kept>,
}

impl Cards {
    /// The card of `svg`, drawn once.
    pub fn card(&self, svg: &str) -> Result<Bytes, ApiError> {
        let key: Key = Sha256::digest(svg.as_bytes()).into();
        if let Some(png) = self
            .kept
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            .get(&key)
        {
            return Ok(png.clone());
        }
        let png = Bytes::from(png(svg)?);
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.0.insert(key, png.clone()).is_none() {
            kept.1.push_back(key);
        }
        while kept.1.len() > KEPT {
            if let Some(old) = kept.1.pop_front() {
                kept.0.remove(&old);
            }
        }
        Ok(png)
    }
}

/// `svg` (a chart of [`WIDTH`]×[`HEIGHT`]) centred on a white 1200×630 card.
pub fn png(svg: &str) -> Result<Vec<u8>, ApiError> {
    let tree = usvg::Tree::from_str(svg, &OPTIONS)
        .map_err(|err| ApiError::internal(anyhow::anyhow!("drawing a card: {err}")))?;
    let mut pixmap = tiny_skia::Pixmap::new(CARD_WIDTH, CARD_HEIGHT)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no pixmap for a card")))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    let scale = (f64::from(CARD_WIDTH) / WIDTH).min(f64::from(CARD_HEIGHT) / HEIGHT) as f32;
    let x = (CARD_WIDTH as f32 - WIDTH as f32 * scale) / 2.0;
    let y = (CARD_HEIGHT as f32 - HEIGHT as f32 * scale) / 2.0;
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale).post_translate(x, y),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|err| ApiError::internal(anyhow::anyhow!("encoding a card: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/widgets/snapshots")
            .join(name);
        std::fs::read_to_string(path).unwrap()
    }

    /// Cards are 1200×630 PNGs, drawn once per drawing; `CARD_OUT=dir`
    /// keeps them to look at.
    #[test]
    fn cards_are_drawn_once_at_link_preview_size() {
        let cards = Cards::default();
        for name in ["metric.svg", "donut.svg", "bar.svg", "line.svg"] {
            let svg = snapshot(name);
            let png = cards.card(&svg).unwrap();
            assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
            let word =
                |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
            assert_eq!((word(16), word(20)), (CARD_WIDTH, CARD_HEIGHT), "{name}");
            assert!(png.len() > 10_000, "{name}: {} bytes", png.len());
            let again = cards.card(&svg).unwrap();
            assert_eq!(
                again.as_ptr(),
                png.as_ptr(),
                "{name}: kept, not drawn again"
            );
            if let Some(dir) = std::env::var_os("CARD_OUT") {
                std::fs::write(
                    std::path::Path::new(&dir).join(name.replace(".svg", ".png")),
                    &png,
                )
                .unwrap();
            }
        }
    }
}
