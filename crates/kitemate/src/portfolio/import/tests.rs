//! The parsers over the real exports in `tests/data/console` (see its
//! SOURCES.md), and over the variations people's files come in.
//!
//! Expected counts were worked out with Python's `csv` module over the same
//! files: 378 trades (228 buys, 150 sells, 378 distinct trade ids, 62 orders
//! filled in parts, 2024-04-01 … 2025-03-18); 81 holdings rows, 2 of them
//! with quantity 0 and 2 with only the first four fields.

use rust_decimal::Decimal;

use super::*;
use crate::portfolio::model::Side;

const TRADEBOOK: &[u8] =
    include_bytes!("../../../tests/data/console/mohit-manna__capital-gain-fy-24-25__tradebook.csv");
const HOLDINGS: &[u8] =
    include_bytes!("../../../tests/data/console/Neeraj-Verma__tradingapi__holdings.csv");
const TAX_PNL: &[u8] = include_bytes!(
    "../../../tests/data/console/mohit-manna__capital-gain-fy-24-25__taxPnL-shortTerm.csv"
);

fn d(text: &str) -> Decimal {
    text.parse().unwrap_or(Decimal::MAX)
}

fn trades(bytes: &[u8]) -> Parsed<Trade> {
    let table = Table::read(bytes).expect("readable");
    tradebook::parse(&table).expect("a tradebook")
}

#[test]
fn the_real_tradebook_reads_whole() {
    let parsed = trades(TRADEBOOK);
    assert_eq!((parsed.rows_read, parsed.rows.len()), (378, 378));
    assert!(parsed.skipped.is_empty(), "{:?}", parsed.skipped);
    let buys = parsed.rows.iter().filter(|t| t.side == Side::Buy).count();
    assert_eq!((buys, 378 - buys), (228, 150));
    let first = &parsed.rows[0];
    assert_eq!(
        (
            first.symbol.as_str(),
            first.isin.as_str(),
            first.side,
            first.quantity,
            first.price
        ),
        (
            "JUNIORBEES",
            "INF732E01045",
            Side::Sell,
            d("2"),
            d("652.29")
        )
    );
    assert_eq!(first.trade_date.to_string(), "2024-04-01");
    assert_eq!(
        (first.trade_id.as_str(), first.order_id.as_str()),
        ("41795167", "1200000009438445")
    );
    assert_eq!(
        first.executed_at.map(|t| t.to_string()).as_deref(),
        Some("2024-04-01 09:57:47")
    );
    assert!(
        parsed
            .rows
            .iter()
            .any(|t| t.symbol == "GET&D-BE" && t.series == "BE")
    );
    let ids: std::collections::HashSet<_> = parsed.rows.iter().map(|t| &t.trade_id).collect();
    assert_eq!(ids.len(), 378);
}

/// The same trades, however the file was saved: a BOM, CRLF, columns in
/// another order and case, day-first dates, float noise in prices,
/// thousands separators in quotes, trailing empty fields, blank lines.
#[test]
fn resaved_files_give_the_same_trades() {
    let original = trades(TRADEBOOK);
    let text = String::from_utf8(TRADEBOOK.to_vec()).unwrap_or_default();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let order: Vec<usize> = (0..header.len()).rev().collect();
    let title = |name: &str| {
        name.split('_')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut out = String::from("\u{feff}");
    out += &order
        .iter()
        .map(|&i| title(header[i]))
        .collect::<Vec<_>>()
        .join(",");
    out += ",,\r\n";
    for line in lines {
        let mut cells: Vec<String> = line.split(',').map(str::to_string).collect();
        // 2024-04-01 → 01-04-2024
        let parts: Vec<&str> = cells[2].split('-').collect();
        cells[2] = format!("{}-{}-{}", parts[2], parts[1], parts[0]);
        // 652.290000 → 652.289997 (single-precision noise), 1063.5 → "1,063.50"
        let price = d(&cells[9]);
        cells[9] = if price >= d("1000") {
            let text = format!("{price:.2}");
            let (int, frac) = text.split_once('.').unwrap_or((&text, "00"));
            let (thousands, rest) = int.split_at(int.len() - 3);
            format!("\"{thousands},{rest}.{frac}\"")
        } else {
            (price - d("0.000003")).to_string()
        };
        let row: Vec<String> = order.iter().map(|&i| cells[i].clone()).collect();
        out += &row.join(",");
        out += ",,\r\n\r\n";
    }
    let resaved = trades(out.as_bytes());
    assert!(
        resaved.skipped.is_empty(),
        "{:?}",
        &resaved.skipped[..resaved.skipped.len().min(3)]
    );
    let key = |t: &Trade| {
        (
            t.trade_id.clone(),
            t.trade_date,
            t.side,
            t.quantity,
            t.price,
            t.isin.clone(),
        )
    };
    let a: Vec<_> = original.rows.iter().map(key).collect();
    let b: Vec<_> = resaved.rows.iter().map(key).collect();
    assert_eq!(a, b);
}

#[test]
fn files_without_trade_ids_still_import_once() {
    let text = "Symbol,Trade Date,Trade Type,Quantity,Price\nINFY,2024-05-02,BUY,10,1400.5\nINFY,2024-05-02,BUY,10,1400.5\nTCS,2024-05-03,sell,1,3900\n";
    let once = trades(text.as_bytes());
    let again = trades(text.as_bytes());
    let ids: Vec<_> = once.rows.iter().map(|t| t.trade_id.clone()).collect();
    assert_eq!(ids.len(), 3);
    assert_ne!(ids[0], ids[1], "two identical fills are two trades");
    assert_eq!(
        ids,
        again
            .rows
            .iter()
            .map(|t| t.trade_id.clone())
            .collect::<Vec<_>>(),
        "stable ids"
    );
    assert_eq!(once.rows[0].exchange, "NSE");
}

#[test]
fn bad_rows_are_skipped_with_their_line_and_reason() {
    let text = "symbol,isin,trade_date,trade_type,quantity,price,trade_id\n\
                INFY,INE009A01021,2024-13-45,buy,1,10,1\n\
                INFY,INE009A01021,2024-05-02,hold,1,10,2\n\
                INFY,INE009A01021,2024-05-02,buy,-1,10,3\n\
                INFY,INE009A01021,2024-05-02,buy,1,ten,4\n\
                INFY,INE009A01021,2024-05-02,buy,1,10,5\n\
                Total,,,,,,\n";
    let parsed = trades(text.as_bytes());
    assert_eq!(parsed.rows.len(), 1);
    let reasons: Vec<(usize, &str)> = parsed
        .skipped
        .iter()
        .map(|s| (s.line, s.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (2, "trade_date: \"2024-13-45\" is not a date"),
            (3, "trade_type: \"hold\" is neither buy nor sell"),
            (4, "quantity: \"-1\" is not a positive number"),
            (5, "price: \"ten\" is not a price"),
            (7, "a total row, not a trade"),
        ]
    );
}

#[test]
fn the_real_holdings_download_reads() -> Result<(), String> {
    let table = Table::read(HOLDINGS)?;
    assert_eq!(detect(&table), Some(Kind::Holdings));
    let parsed = holdings::parse(&table)?;
    assert_eq!(
        (parsed.rows_read, parsed.rows.len(), parsed.skipped.len()),
        (81, 79, 2)
    );
    assert!(
        parsed
            .skipped
            .iter()
            .all(|s| s.reason.contains("nothing held")),
        "{:?}",
        parsed.skipped
    );
    let first = &parsed.rows[0];
    assert_eq!(
        (
            first.symbol.as_str(),
            first.quantity,
            first.average_price,
            first.last_price
        ),
        ("SOLARINDS", d("21"), d("13225.38"), Some(d("12360")))
    );
    let paras = parsed
        .rows
        .iter()
        .find(|h| h.symbol == "PARAS")
        .ok_or("PARAS")?;
    assert_eq!(
        (paras.quantity, paras.average_price),
        (d("1"), d("587.7")),
        "a short row still reads"
    );
    Ok(())
}

#[test]
fn a_console_holdings_statement_with_its_preamble_reads() -> Result<(), String> {
    let text = ",Client ID,AB1234\n,Equity Holdings Statement as on 2025-03-31\n,Invested Value,100000\n\n\
                ,Symbol,ISIN,Sector,Quantity Available,Quantity Discrepant,Quantity Long Term,Quantity Pledged (Margin),Quantity Pledged (Loan),Average Price,Previous Closing Price,Unrealized P&L,Unrealized P&L Pct.\n\
                ,INFY,INE009A01021,IT,10,0,10,2,0,1400.5,1500,990,7.07\n\
                ,TCS,INE467B01029,IT,3,0,0,0,0,3900,4000,300,2.56\n\
                ,Total,,,,,,,,,,1290,\n";
    let table = Table::read(text.as_bytes())?;
    assert_eq!(detect(&table), Some(Kind::Holdings));
    let parsed = holdings::parse(&table)?;
    assert_eq!(parsed.rows.len(), 2);
    assert_eq!(
        (parsed.rows[0].isin.as_str(), parsed.rows[0].quantity),
        ("INE009A01021", d("12")),
        "pledged shares are held too"
    );
    assert_eq!(parsed.rows[1].last_price, Some(d("4000")));
    assert_eq!(parsed.skipped.len(), 1);
    Ok(())
}

#[test]
fn files_of_the_wrong_kind_say_what_is_missing() -> Result<(), String> {
    let holdings = Table::read(HOLDINGS)?;
    assert_eq!(
        tradebook::parse(&holdings).err().as_deref(),
        Some("not a tradebook: missing columns trade_date, trade_type, quantity, price")
    );
    let tradebook = Table::read(TRADEBOOK)?;
    assert!(
        holdings::parse(&tradebook)
            .err()
            .is_some_and(|e| e.starts_with("not a holdings export"))
    );
    let tax = Table::read(TAX_PNL)?;
    assert_eq!(detect(&tax), None, "a Tax P&L table is neither");
    assert_eq!(
        tradebook::parse(&tax).err().as_deref(),
        Some("not a tradebook: missing columns trade_date, trade_type, price")
    );
    assert!(Table::read(b"\xff\xfe\x00").is_err());
    Ok(())
}

/// A file read from disk a piece at a time reads as the same bytes in
/// memory do: byte-order mark, CRLF and all; bytes that are not UTF-8 are
/// refused in the same words, wherever in the file they are.
#[test]
fn a_file_on_disk_reads_as_its_bytes() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(
        String::from_utf8_lossy(TRADEBOOK)
            .replace('\n', "\r\n")
            .bytes(),
    );
    let path = dir.path().join("tradebook.csv");
    std::fs::write(&path, &bytes)?;
    let from_disk = tradebook::parse(&Table::open(&path)?)?;
    let in_memory = tradebook::parse(&Table::read(&bytes)?)?;
    assert_eq!(from_disk.rows.len(), 378);
    assert_eq!(from_disk, in_memory);

    let mut broken = TRADEBOOK.to_vec();
    broken.extend_from_slice(b"INFY,INE009A01021,2024-01-02,NSE,EQ,EQ,buy,false,1,\xff,1,1,\n");
    std::fs::write(&path, &broken)?;
    assert_eq!(
        tradebook::parse(&Table::open(&path)?).err().as_deref(),
        Some("the file is not UTF-8 text")
    );
    assert_eq!(
        Table::read(&broken).err().as_deref(),
        Some("the file is not UTF-8 text")
    );
    Ok(())
}

mod properties {
    use proptest::prelude::*;

    use super::super::*;
    use crate::portfolio::model::Side;

    const COLUMNS: [&str; 13] = [
        "symbol",
        "isin",
        "trade_date",
        "exchange",
        "segment",
        "series",
        "trade_type",
        "auction",
        "quantity",
        "price",
        "trade_id",
        "order_id",
        "order_execution_time",
    ];

    /// One generated trade: symbol (with `&` and a `-BE` series as Console
    /// writes them), day, side, quantity in thousandths, price in paise, id.
    type Row = (String, u32, bool, i64, u32, Option<u64>);

    fn cells(row: &Row) -> Vec<String> {
        let (symbol, day, buy, milli, paise, trade_id) = row;
        let date = chrono::NaiveDate::from_ymd_opt(2015, 1, 1).unwrap_or_default()
            + chrono::TimeDelta::days(i64::from(*day));
        vec![
            symbol.clone(),
            "INE000A01010".into(),
            date.to_string(),
            "NSE".into(),
            "EQ".into(),
            if symbol.ends_with("-BE") { "BE" } else { "EQ" }.into(),
            if *buy { "buy" } else { "sell" }.into(),
            "false".into(),
            format!("{}.{:03}000", milli / 1000, milli % 1000),
            format!("{}.{:02}0000", paise / 100, paise % 100),
            trade_id.map(|t| t.to_string()).unwrap_or_default(),
            "1".into(),
            format!("{date}T10:00:00"),
        ]
    }

    /// The rows as a file: columns in `order`, with a byte-order mark and
    /// CRLF line ends when asked (Excel saves both).
    fn file(rows: &[Row], order: &[usize], bom: bool, crlf: bool) -> Vec<u8> {
        let end = if crlf { "\r\n" } else { "\n" };
        let mut text = String::new();
        if bom {
            text.push('\u{feff}');
        }
        let header: Vec<&str> = order.iter().map(|&i| COLUMNS[i]).collect();
        text.push_str(&header.join(","));
        text.push_str(end);
        for row in rows {
            let cells = cells(row);
            let line: Vec<&str> = order.iter().map(|&i| cells[i].as_str()).collect();
            text.push_str(&line.join(","));
            text.push_str(end);
        }
        text.into_bytes()
    }

    fn rows() -> impl Strategy<Value = Vec<Row>> {
        prop::collection::vec(
            (
                "[A-Z]{1,6}(&[A-Z]{1,3})?(-BE)?",
                0u32..3000,
                any::<bool>(),
                1i64..10_000_000,
                1u32..1_000_000,
                proptest::option::of(1u64..1_000_000_000),
            ),
            1..40,
        )
    }

    proptest! {
        /// Any tradebook Console (or a spreadsheet that saved it again)
        /// could write reads back as the trades in it, whatever the column
        /// order, byte-order mark or line ends, with the same ids as the
        /// plain file, so a re-saved file re-imported adds nothing.
        #[test]
        fn written_trades_read_back(
            rows in rows(),
            order in Just((0..COLUMNS.len()).collect::<Vec<_>>()).prop_shuffle(),
            bom in any::<bool>(),
            crlf in any::<bool>(),
        ) {
            let plain: Vec<usize> = (0..COLUMNS.len()).collect();
            let read = |bytes: Vec<u8>| -> Result<_, TestCaseError> {
                let table = Table::read(&bytes).map_err(TestCaseError::fail)?;
                tradebook::parse(&table).map_err(TestCaseError::fail)
            };
            let varied = read(file(&rows, &order, bom, crlf))?;
            let canonical = read(file(&rows, &plain, false, false))?;
            prop_assert_eq!(varied.rows.len(), rows.len());
            prop_assert!(varied.skipped.is_empty(), "{:?}", varied.skipped);
            for (trade, (symbol, _, buy, milli, paise, _)) in varied.rows.iter().zip(&rows) {
                prop_assert_eq!(&trade.symbol, symbol);
                prop_assert_eq!(trade.side == Side::Buy, *buy);
                prop_assert_eq!(trade.quantity, rust_decimal::Decimal::new(*milli, 3));
                prop_assert_eq!(trade.price, rust_decimal::Decimal::new(i64::from(*paise), 2));
            }
            let ids = |parsed: &Parsed<Trade>| parsed.rows.iter().map(|t| t.trade_id.clone()).collect::<Vec<_>>();
            prop_assert_eq!(ids(&varied), ids(&canonical));
        }
    }
}
