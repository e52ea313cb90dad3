//! A ZIP archive written as a stream: each file is compressed as it is
//! written and the bytes go out in pieces through a bounded channel, so an
//! archive of any size holds at most a few pieces in memory, and a client
//! that stops reading stops the writer.
//!
//! The ZIP uses data descriptors (sizes after each file), which every
//! unzip tool reads; the central directory comes last, so an archive cut
//! short by an error is not a valid ZIP and cannot pass for a complete one.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use chrono::{DateTime, Datelike, Timelike, Utc};
use futures_util::Stream;
use serde::Serialize;
use tokio::sync::mpsc;
use zip::write::{SimpleFileOptions, StreamWriter};
use zip::{CompressionMethod, ZipWriter};

/// Bytes gathered before they are sent on as one piece.
const PIECE: usize = 64 * 1024;
/// Pieces waiting for the client: the memory an export holds is about
/// `PIECE * (PIECES + 1)` plus the compressor's window.
const PIECES: usize = 4;

/// The writing end of an archive; [`archive`] makes one with its stream.
pub struct ArchiveWriter {
    /// Boxed: the writer and its compressor are kilobytes, and the futures
    /// that hold an `ArchiveWriter` should not be.
    zip: Box<ZipWriter<StreamWriter<Pending>>>,
    pending: Pending,
    tx: mpsc::Sender<io::Result<Bytes>>,
    options: SimpleFileOptions,
    /// Files written so far with their sizes, for the archive's contents list.
    files: Vec<(String, u64)>,
}

impl std::fmt::Debug for ArchiveWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArchiveWriter")
            .field("files", &self.files.len())
            .finish_non_exhaustive()
    }
}

/// What the ZIP writer has produced and not yet sent.
#[derive(Clone, Default)]
struct Pending(Arc<Mutex<Vec<u8>>>);

impl Pending {
    fn take_if(&self, at_least: usize) -> Option<Vec<u8>> {
        let mut buf = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        (buf.len() >= at_least.max(1)).then(|| std::mem::take(&mut *buf))
    }
}

impl Write for Pending {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The client went away: the archive is not wanted any more.
#[derive(Debug, thiserror::Error)]
#[error("the archive's reader has gone")]
pub struct ReaderGone;

/// A new archive whose files are dated `now`: the writer, and the stream of
/// its bytes to hand to a response body. Write from a task of its own; the
/// writer waits whenever the reader is [`PIECES`] pieces behind.
pub fn archive(now: DateTime<Utc>) -> (ArchiveWriter, impl Stream<Item = io::Result<Bytes>>) {
    let (tx, rx) = mpsc::channel(PIECES);
    let pending = Pending::default();
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(zip_time(now))
        .unix_permissions(0o644);
    let writer = ArchiveWriter {
        zip: Box::new(ZipWriter::new_stream(pending.clone())),
        pending,
        tx,
        options,
        files: Vec::new(),
    };
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|piece| (piece, rx))
    });
    (writer, stream)
}

/// ZIP times are local times from 1980 to 2107 without a zone; ours are UTC.
fn zip_time(now: DateTime<Utc>) -> zip::DateTime {
    let part = |n: u32| u8::try_from(n).unwrap_or(0);
    u16::try_from(now.year())
        .ok()
        .and_then(|year| {
            zip::DateTime::from_date_and_time(
                year,
                part(now.month()),
                part(now.day()),
                part(now.hour()),
                part(now.minute()),
                part(now.second()),
            )
            .ok()
        })
        .unwrap_or_default()
}

impl ArchiveWriter {
    /// Starts the file `name` (a relative path with `/` between folders);
    /// what is written next goes into it.
    pub async fn file(&mut self, name: &str) -> anyhow::Result<()> {
        self.zip.start_file(name, self.options)?;
        self.files.push((name.to_owned(), 0));
        self.send(PIECE).await
    }

    /// Appends bytes to the current file.
    pub async fn write(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.zip.write_all(bytes)?;
        if let Some((_, size)) = self.files.last_mut() {
            *size += bytes.len() as u64;
        }
        self.send(PIECE).await
    }

    /// A whole file holding `value` as pretty JSON.
    pub async fn json(&mut self, name: &str, value: &impl Serialize) -> anyhow::Result<()> {
        self.file(name).await?;
        let mut text = serde_json::to_vec_pretty(value)?;
        text.push(b'\n');
        self.write(&text).await
    }

    /// Appends `rows` to the current file, one JSON document per line.
    pub async fn lines<T: Serialize>(&mut self, rows: &[T]) -> anyhow::Result<()> {
        let mut text = Vec::new();
        for row in rows {
            serde_json::to_writer(&mut text, row)?;
            text.push(b'\n');
        }
        self.write(&text).await
    }

    /// The files written so far, with their uncompressed sizes in bytes.
    pub fn files(&self) -> &[(String, u64)] {
        &self.files
    }

    /// Writes the central directory and sends the rest: the archive is complete.
    pub async fn finish(mut self) -> anyhow::Result<()> {
        let zip = std::mem::replace(
            &mut self.zip,
            Box::new(ZipWriter::new_stream(Pending::default())),
        );
        zip.finish()?;
        self.send(0).await
    }

    /// Ends the stream with an error, so the client's download fails
    /// instead of ending in a truncated file that looks whole.
    pub async fn fail(self, error: &anyhow::Error) {
        let sent = self.tx.send(Err(io::Error::other(error.to_string()))).await;
        drop(sent);
    }

    /// Sends what is pending once there is at least `at_least` of it.
    async fn send(&mut self, at_least: usize) -> anyhow::Result<()> {
        if let Some(piece) = self.pending.take_if(at_least) {
            self.tx
                .send(Ok(Bytes::from(piece)))
                .await
                .map_err(|_| ReaderGone)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn a_streamed_archive_unzips_to_what_was_written() {
        let (mut writer, stream) = archive(Utc::now());
        let reader = tokio::spawn(async move {
            let pieces: Vec<_> = stream.collect().await;
            let mut all = Vec::new();
            for piece in pieces {
                all.extend_from_slice(&piece.expect("no error"));
            }
            all
        });
        writer
            .json("a/one.json", &serde_json::json!({"x": 1}))
            .await
            .unwrap();
        writer.file("a/many.jsonl").await.unwrap();
        // More than several pieces, so the channel fills and waits.
        for n in 0..20_000 {
            writer
                .lines(&[serde_json::json!({ "n": n, "pad": "x".repeat(40) })])
                .await
                .unwrap();
        }
        writer.finish().await.unwrap();
        let bytes = reader.await.unwrap();
        let mut zip = zip::ZipArchive::new(io::Cursor::new(bytes)).expect("a valid zip");
        assert_eq!(zip.len(), 2);
        let mut text = String::new();
        io::Read::read_to_string(&mut zip.by_name("a/many.jsonl").unwrap(), &mut text).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 20_000);
        assert!(lines[19_999].starts_with(r#"{"n":19999,"#));
    }

    #[tokio::test]
    async fn a_reader_that_leaves_stops_the_writer() {
        let (mut writer, stream) = archive(Utc::now());
        drop(stream);
        writer.file("many.jsonl").await.unwrap();
        let mut failed = false;
        for n in 0..100_000 {
            if let Err(err) = writer.lines(&[serde_json::json!({ "n": n })]).await {
                assert!(err.is::<ReaderGone>(), "{err}");
                failed = true;
                break;
            }
        }
        assert!(failed, "writing to a gone reader must fail");
    }
}
