//! A fake of the servers market data comes from (NSE's archive, BSE, AMFI):
//! it serves whatever file a test puts at a path (with a query string, as
//! AMFI's history report has), answers 404 for the rest, can fail a path a
//! few times first, and keeps every request's path and headers.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::State;
use axum::http::Uri;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Default)]
struct Shared {
    files: HashMap<String, Vec<u8>>,
    /// Statuses a path answers before its file.
    failures: HashMap<String, VecDeque<u16>>,
    requests: Vec<(String, HeaderMap)>,
}

#[derive(Debug, Clone)]
pub struct FakeMarket {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
}

async fn serve(State(shared): State<Arc<Mutex<Shared>>>, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_string(), ToString::to_string);
    let mut shared = shared.lock().unwrap_or_else(PoisonError::into_inner);
    shared.requests.push((path.clone(), headers));
    if let Some(status) = shared.failures.get_mut(&path).and_then(VecDeque::pop_front) {
        return StatusCode::from_u16(status)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response();
    }
    match shared.files.get(&path) {
        Some(bytes) => bytes.clone().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

impl FakeMarket {
    pub async fn start() -> anyhow::Result<Self> {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let router = axum::Router::new()
            .fallback(serve)
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(Self { addr, shared })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves `bytes` at `path` (with its query string, if any).
    pub fn put(&self, path: &str, bytes: impl Into<Vec<u8>>) {
        self.lock().files.insert(path.to_string(), bytes.into());
    }

    /// `path` answers these statuses, one a request, before its file.
    pub fn fail(&self, path: &str, statuses: &[u16]) {
        self.lock()
            .failures
            .insert(path.to_string(), statuses.iter().copied().collect());
    }

    /// Every request so far: path (and query) and headers.
    pub fn requests(&self) -> Vec<(String, HeaderMap)> {
        self.lock().requests.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Points `config`'s market sources at `fake`, retrying after 10 ms.
pub fn use_fake_market(config: &mut kitemate::Config, fake: &FakeMarket) {
    config.market.fetch = true;
    config.market.nse_url = fake.url();
    config.market.bse_url = fake.url();
    config.market.amfi_url = fake.url();
    config.market.amfi_history_url = fake.url();
    config.market.retry_ms = 10;
}

/// `bytes` zipped as one file called `name`, as NSE ships its bhavcopies.
pub fn zipped(name: &str, bytes: &[u8]) -> Vec<u8> {
    zipped_many(&[(name, bytes)])
}

/// Files zipped together, as NSE ships its daily market-data archive.
pub fn zipped_many(files: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write as _;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut writer = zip::ZipWriter::new(&mut out);
    for (name, bytes) in files {
        let written = writer
            .start_file(*name, zip::write::SimpleFileOptions::default())
            .and_then(|()| writer.write_all(bytes).map_err(Into::into));
        assert!(written.is_ok(), "zipping {name}: {written:?}");
    }
    let finished = writer.finish().map(drop);
    assert!(finished.is_ok(), "zipping: {finished:?}");
    out.into_inner()
}
