//! Every ticker packet fixture decodes to the values the official clients'
//! tests expect (listed in `fixtures/SOURCES.md` of the shared folder).

use base64::Engine as _;
use kite::ticker::{Mode, Segment, Tick, parse_frame, parse_packet};
use rust_decimal::Decimal;

fn d(text: &str) -> Decimal {
    text.parse().unwrap_or(Decimal::MAX)
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/ticker/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn base64_packet(name: &str) -> Vec<u8> {
    let text = String::from_utf8(fixture(name)).unwrap_or_default();
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .unwrap_or_default()
}

fn one(ticks: Vec<Tick>) -> Tick {
    assert_eq!(ticks.len(), 1, "{ticks:?}");
    ticks.into_iter().next().unwrap_or_else(|| unreachable!())
}

#[test]
fn mocks_quote_packet() {
    let tick = parse_packet(&base64_packet("ticker_quote.packet")).expect("a 44-byte packet");
    assert_eq!(
        (tick.mode, tick.instrument_token, tick.segment),
        (Mode::Quote, 408065, Segment::Nse)
    );
    assert_eq!(tick.last_price, d("1573.15"));
    assert_eq!(tick.last_quantity, Some(1));
    assert_eq!(tick.average_price, Some(d("1570.33")));
    assert_eq!(tick.volume, Some(1175986));
    assert_eq!(
        (tick.buy_quantity, tick.sell_quantity),
        (Some(256511), Some(360503))
    );
    assert_eq!(
        (tick.open, tick.high, tick.low, tick.close),
        (
            Some(d("1569.15")),
            Some(d("1575")),
            Some(d("1561.05")),
            Some(d("1567.8"))
        )
    );
    assert_eq!(tick.depth, None);
}

#[test]
fn mocks_full_packet() {
    let tick = parse_packet(&base64_packet("ticker_full.packet")).expect("a 184-byte packet");
    assert_eq!((tick.mode, tick.instrument_token), (Mode::Full, 408065));
    assert_eq!(tick.last_price, d("1573.7"));
    assert_eq!(tick.last_trade_time, Some(1625461887));
    assert_eq!(tick.exchange_timestamp, Some(1625461887));
    assert_eq!(tick.oi, Some(0));
    // The mocks' JSON carries the absolute change, 1573.7 − 1567.8.
    assert_eq!(tick.change, Some(d("5.9")));
    let depth = tick.depth.expect("depth in full mode");
    assert_eq!(
        (
            depth.buy[0].quantity,
            depth.buy[0].price,
            depth.buy[0].orders
        ),
        (5, d("1573.4"), 1)
    );
    assert_eq!(
        (
            depth.sell[0].quantity,
            depth.sell[0].price,
            depth.sell[0].orders
        ),
        (172, d("1573.7"), 3)
    );
}

#[test]
fn js_ltp_quote_and_full_frames() -> Result<(), kite::ticker::FrameError> {
    let ltp = one(parse_frame(&fixture("ltpMode_binary.packet"))?);
    assert_eq!(
        (ltp.mode, ltp.instrument_token, ltp.last_price),
        (Mode::Ltp, 884737, d("392.95"))
    );
    assert_eq!(ltp.close, None);

    let quote = one(parse_frame(&fixture("quoteMode_binary.packet"))?);
    assert_eq!(
        (quote.mode, quote.last_price, quote.last_quantity),
        (Mode::Quote, d("392.95"), Some(2))
    );
    assert_eq!(
        (quote.average_price, quote.volume),
        (Some(d("403.07")), Some(22261032))
    );
    assert_eq!(
        (quote.buy_quantity, quote.sell_quantity),
        (Some(5617), Some(0))
    );
    assert_eq!(
        (quote.open, quote.high, quote.low, quote.close),
        (
            Some(d("420")),
            Some(d("420.9")),
            Some(d("390.1")),
            Some(d("414.1"))
        )
    );

    let full = one(parse_frame(&fixture("fullMode_binary.packet"))?);
    assert_eq!(
        (full.last_trade_time, full.exchange_timestamp),
        (Some(1655375264), Some(1655378328))
    );
    let depth = full.depth.expect("depth");
    assert_eq!(
        (
            depth.buy[0].quantity,
            depth.buy[0].price,
            depth.buy[0].orders
        ),
        (5617, d("392.95"), 30)
    );
    assert!(
        depth.buy[1..]
            .iter()
            .chain(depth.sell.iter())
            .all(|l| l.quantity == 0 && l.price.is_zero())
    );
    Ok(())
}

#[test]
fn cpp_frame_with_two_full_packets() -> Result<(), kite::ticker::FrameError> {
    let ticks = parse_frame(&fixture("websocket_ticks.bin"))?;
    assert_eq!(ticks.len(), 2);
    let (a, b) = (&ticks[0], &ticks[1]);
    assert_eq!(
        (a.instrument_token, a.last_price, a.last_quantity),
        (408065, d("1299.05"), Some(2))
    );
    assert_eq!(
        (a.buy_quantity, a.sell_quantity, a.volume),
        (Some(390117), Some(410173), Some(6065675))
    );
    assert_eq!(a.average_price, Some(d("1290.29")));
    assert_eq!(
        (a.open, a.high, a.low, a.close),
        (
            Some(d("1285.5")),
            Some(d("1305.9")),
            Some(d("1275.5")),
            Some(d("1272.1"))
        )
    );
    assert_eq!(
        (a.last_trade_time, a.exchange_timestamp),
        (Some(1612777255), Some(1612777255))
    );
    let depth = a.depth.clone().expect("depth");
    let levels = |side: &[kite::ticker::DepthLevel; 5]| -> Vec<(u32, Decimal, u16)> {
        side.iter()
            .map(|l| (l.quantity, l.price, l.orders))
            .collect()
    };
    assert_eq!(
        levels(&depth.buy),
        [
            (2098, d("1299"), 10),
            (6, d("1298.9"), 2),
            (135, d("1298.8"), 5),
            (1, d("1298.75"), 1),
            (55, d("1298.7"), 2)
        ]
    );
    assert_eq!(
        levels(&depth.sell),
        [
            (335, d("1299.05"), 7),
            (1, d("1299.1"), 1),
            (45, d("1299.4"), 2),
            (120, d("1299.45"), 2),
            (233, d("1299.5"), 3)
        ]
    );
    // The C++ client's expected percentage change, to its float precision.
    let pct = a.change_percent().expect("a close");
    assert_eq!(pct.round_dp(10), d("2.1185441396"));

    assert_eq!(
        (b.instrument_token, b.last_price, b.last_quantity),
        (2953217, d("3209.4"), Some(148))
    );
    assert_eq!(
        (b.buy_quantity, b.sell_quantity, b.volume),
        (Some(146646), Some(145876), Some(2261635))
    );
    assert_eq!(b.average_price, Some(d("3188.32")));
    assert_eq!(
        b.change_percent().map(|p| p.round_dp(10)),
        Some(d("1.6292214886"))
    );
    let depth = b.depth.clone().expect("depth");
    assert_eq!(
        levels(&depth.sell),
        [
            (16, d("3209.95"), 2),
            (35, d("3210.05"), 1),
            (47, d("3210.1"), 2),
            (30, d("3210.15"), 3),
            (670, d("3210.2"), 1)
        ]
    );
    Ok(())
}

#[test]
fn heartbeats_unknown_lengths_and_truncation() {
    assert_eq!(
        parse_frame(&[0]).map(|t| t.len()),
        Ok(0),
        "a one-byte heartbeat"
    );
    // One packet of 5 bytes: no mode has that length, so it is skipped.
    assert_eq!(
        parse_frame(&[0, 1, 0, 5, 1, 2, 3, 4, 5]).map(|t| t.len()),
        Ok(0)
    );
    assert!(
        parse_frame(&[0, 1, 0, 8, 0, 0]).is_err(),
        "a packet cut short"
    );
    assert!(
        parse_frame(&[0, 2, 0, 8, 0, 0, 0, 1, 0, 0, 0, 100]).is_err(),
        "a missing second packet"
    );
}

#[test]
fn segments_set_the_price_divisor() {
    // Token low byte 3 (CDS): prices carry seven decimals; 6 (BCD): four; 9: an index.
    let packet = |token: u32, price: u32| {
        let mut p = token.to_be_bytes().to_vec();
        p.extend(price.to_be_bytes());
        p
    };
    let cds = parse_packet(&packet(0x100 | 3, 742_500_000)).expect("ltp");
    assert_eq!((cds.segment, cds.last_price), (Segment::Cds, d("74.25")));
    let bcd = parse_packet(&packet(0x100 | 6, 742_500)).expect("ltp");
    assert_eq!((bcd.segment, bcd.last_price), (Segment::Bcd, d("74.25")));
    let index = parse_packet(&packet(256_265, 2_345_670)).expect("ltp");
    assert_eq!(
        (index.segment, index.tradable, index.last_price),
        (Segment::Indices, false, d("23456.7"))
    );
}
