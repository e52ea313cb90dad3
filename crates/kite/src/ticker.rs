//! The ticker's binary protocol: frames of packets, decoded into ticks.
//!
//! A frame is a big-endian `u16` packet count, then for each packet a `u16`
//! length and that many bytes. The length says the mode: 8 LTP, 28/32 an
//! index in quote/full mode, 44/184 a tradable instrument in quote/full
//! mode. Anything else is skipped rather than guessed at. A frame shorter
//! than two bytes is a heartbeat.

use rust_decimal::Decimal;

/// The exchange segment, from the low byte of an instrument token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    Nse,
    Nfo,
    /// NSE currency derivatives.
    Cds,
    Bse,
    Bfo,
    /// BSE currency derivatives.
    Bcd,
    Mcx,
    McxSx,
    Indices,
    Unknown(u8),
}

impl Segment {
    pub fn of(token: u32) -> Self {
        match token & 0xFF {
            1 => Self::Nse,
            2 => Self::Nfo,
            3 => Self::Cds,
            4 => Self::Bse,
            5 => Self::Bfo,
            6 => Self::Bcd,
            7 => Self::Mcx,
            8 => Self::McxSx,
            9 => Self::Indices,
            other => Self::Unknown(other as u8),
        }
    }

    /// Decimal places prices carry on the wire: paise everywhere except
    /// currency derivatives (CDS 7, BCD 4, as the official clients read them).
    fn scale(self) -> u32 {
        match self {
            Self::Cds => 7,
            Self::Bcd => 4,
            _ => 2,
        }
    }
}

/// How much a packet carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Ltp,
    Quote,
    Full,
}

/// One level of market depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthLevel {
    pub quantity: u32,
    pub price: Decimal,
    pub orders: u16,
}

/// Five bid and five ask levels (zeros where the book is thinner).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Depth {
    pub buy: [DepthLevel; 5],
    pub sell: [DepthLevel; 5],
}

/// A decoded packet. Prices are exact decimals in rupees; fields a mode does
/// not carry are `None`. Timestamps are Unix seconds (`None` when zero).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    pub mode: Mode,
    pub instrument_token: u32,
    pub segment: Segment,
    /// False for indices, which cannot be traded.
    pub tradable: bool,
    pub last_price: Decimal,
    pub last_quantity: Option<u32>,
    pub average_price: Option<Decimal>,
    pub volume: Option<u32>,
    pub buy_quantity: Option<u32>,
    pub sell_quantity: Option<u32>,
    pub open: Option<Decimal>,
    pub high: Option<Decimal>,
    pub low: Option<Decimal>,
    /// The previous day's close.
    pub close: Option<Decimal>,
    /// `last_price − close`, in rupees (the index packet sends it; for
    /// others it is worked out from the close).
    pub change: Option<Decimal>,
    pub last_trade_time: Option<u32>,
    pub oi: Option<u32>,
    pub oi_day_high: Option<u32>,
    pub oi_day_low: Option<u32>,
    pub exchange_timestamp: Option<u32>,
    pub depth: Option<Depth>,
}

impl Tick {
    /// `(last_price − close) / close × 100`, when there is a close.
    pub fn change_percent(&self) -> Option<Decimal> {
        let close = self.close.filter(|c| !c.is_zero())?;
        Some((self.last_price - close) * Decimal::ONE_HUNDRED / close)
    }
}

/// Why a frame could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame ends inside packet {index} (needs {needed} more bytes)")]
    Truncated { index: usize, needed: usize },
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn i32_at(bytes: &[u8], at: usize) -> i32 {
    i32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn nonzero(value: u32) -> Option<u32> {
    (value != 0).then_some(value)
}

/// Decodes a binary frame into its ticks; a heartbeat gives none.
pub fn parse_frame(frame: &[u8]) -> Result<Vec<Tick>, FrameError> {
    if frame.len() < 2 {
        return Ok(Vec::new());
    }
    let count = usize::from(u16_at(frame, 0));
    let mut ticks = Vec::with_capacity(count);
    let mut at = 2;
    for index in 0..count {
        if frame.len() < at + 2 {
            return Err(FrameError::Truncated {
                index,
                needed: at + 2 - frame.len(),
            });
        }
        let len = usize::from(u16_at(frame, at));
        at += 2;
        let Some(packet) = frame.get(at..at + len) else {
            return Err(FrameError::Truncated {
                index,
                needed: at + len - frame.len(),
            });
        };
        if let Some(tick) = parse_packet(packet) {
            ticks.push(tick);
        }
        at += len;
    }
    Ok(ticks)
}

/// Decodes one packet (no frame header); `None` for a length no mode has.
pub fn parse_packet(packet: &[u8]) -> Option<Tick> {
    if !matches!(packet.len(), 8 | 28 | 32 | 44 | 184) {
        return None;
    }
    let token = u32_at(packet, 0);
    let segment = Segment::of(token);
    let scale = segment.scale();
    let price = |at: usize| Decimal::new(i64::from(u32_at(packet, at)), scale);
    let mut tick = Tick {
        mode: Mode::Ltp,
        instrument_token: token,
        segment,
        tradable: segment != Segment::Indices,
        last_price: price(4),
        last_quantity: None,
        average_price: None,
        volume: None,
        buy_quantity: None,
        sell_quantity: None,
        open: None,
        high: None,
        low: None,
        close: None,
        change: None,
        last_trade_time: None,
        oi: None,
        oi_day_high: None,
        oi_day_low: None,
        exchange_timestamp: None,
        depth: None,
    };
    match packet.len() {
        8 => {}
        28 | 32 => {
            // Indices order their fields differently, and send the change.
            tick.mode = if packet.len() == 32 {
                Mode::Full
            } else {
                Mode::Quote
            };
            tick.high = Some(price(8));
            tick.low = Some(price(12));
            tick.open = Some(price(16));
            tick.close = Some(price(20));
            tick.change = Some(Decimal::new(i64::from(i32_at(packet, 24)), scale));
            if packet.len() == 32 {
                tick.exchange_timestamp = nonzero(u32_at(packet, 28));
            }
        }
        _ => {
            tick.mode = if packet.len() == 184 {
                Mode::Full
            } else {
                Mode::Quote
            };
            tick.last_quantity = Some(u32_at(packet, 8));
            tick.average_price = Some(price(12));
            tick.volume = Some(u32_at(packet, 16));
            tick.buy_quantity = Some(u32_at(packet, 20));
            tick.sell_quantity = Some(u32_at(packet, 24));
            tick.open = Some(price(28));
            tick.high = Some(price(32));
            tick.low = Some(price(36));
            tick.close = Some(price(40));
            tick.change = Some(tick.last_price - price(40));
            if packet.len() == 184 {
                tick.last_trade_time = nonzero(u32_at(packet, 44));
                tick.oi = Some(u32_at(packet, 48));
                tick.oi_day_high = Some(u32_at(packet, 52));
                tick.oi_day_low = Some(u32_at(packet, 56));
                tick.exchange_timestamp = nonzero(u32_at(packet, 60));
                let level = |at: usize| DepthLevel {
                    quantity: u32_at(packet, at),
                    price: price(at + 4),
                    orders: u16_at(packet, at + 8),
                };
                tick.depth = Some(Depth {
                    buy: std::array::from_fn(|i| level(64 + i * 12)),
                    sell: std::array::from_fn(|i| level(124 + i * 12)),
                });
            }
        }
    }
    Some(tick)
}
