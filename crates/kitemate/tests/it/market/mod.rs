//! Market data: files loaded whole (by hand and from the fake sources),
//! holdings valued at the newest close, and the trading calendar.

pub mod fetch;
mod loads;

/// The fixture files, by name (`tests/data/market`, see its SOURCES.md).
pub fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/market")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

pub const NSE_UDIFF: &str = "BhavCopy_NSE_CM_0_0_0_20240708_F_0000.csv";
pub const NSE_LEGACY: &str = "cm05JUL2024bhav.csv";
pub const BSE_UDIFF: &str = "BhavCopy_BSE_CM_0_0_0_20240708_F_0000.CSV";
pub const INDICES: &str = "ind_close_all_08072024.csv";
pub const NAV_ALL: &str = "NAVAll.txt";
