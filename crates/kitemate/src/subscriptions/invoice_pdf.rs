//! An invoice as a one-page A4 PDF (pdf-writer, the standard Helvetica
//! fonts, so nothing is embedded): seller and customer, the service line
//! with its SAC and period, the taxable value, each GST line, the total in
//! figures and in words. Text is WinAnsi; characters it lacks print as `?`.

use chrono::{DateTime, Utc};
use pdf_writer::{Content, Finish as _, Name, Pdf, Rect, Ref, Str, TextStr};

use super::model::Invoice;

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const LEFT: f32 = 50.0;
const RIGHT: f32 = WIDTH - 50.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// The invoice's PDF bytes.
pub fn render(invoice: &Invoice) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let (catalog, tree, page_id, regular, bold, content_id, info) = (
        Ref::new(1),
        Ref::new(2),
        Ref::new(3),
        Ref::new(4),
        Ref::new(5),
        Ref::new(6),
        Ref::new(7),
    );
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page_id]).count(1);
    let mut page = pdf.page(page_id);
    page.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
    page.parent(tree);
    page.contents(content_id);
    page.resources()
        .fonts()
        .pair(REGULAR, regular)
        .pair(BOLD, bold);
    page.finish();
    for (id, name) in [(regular, &b"Helvetica"[..]), (bold, &b"Helvetica-Bold"[..])] {
        pdf.type1_font(id)
            .base_font(Name(name))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    let title = format!("Tax invoice {}", invoice.number);
    pdf.document_info(info)
        .title(TextStr(&title))
        .creator(TextStr("KiteMate"));
    let content = page_content(invoice);
    pdf.stream(content_id, &content.finish());
    pdf.finish()
}

struct Page {
    content: Content,
}

impl Page {
    fn text(&mut self, font: Name<'_>, size: f32, x: f32, y: f32, text: &str) {
        let bytes = win_ansi(text);
        self.content
            .begin_text()
            .set_font(font, size)
            .next_line(x, y)
            .show(Str(&bytes))
            .end_text();
    }

    /// Text whose right edge is at `x`.
    fn right(&mut self, font: Name<'_>, size: f32, x: f32, y: f32, text: &str) {
        let width = text_width(text, font == BOLD) * size / 1000.0;
        self.text(font, size, x - width, y, text);
    }

    fn rule(&mut self, y: f32, gray: f32) {
        self.content
            .set_stroke_gray(gray)
            .set_line_width(0.6)
            .move_to(LEFT, y)
            .line_to(RIGHT, y)
            .stroke();
    }

    fn band(&mut self, y: f32, height: f32) {
        self.content
            .set_fill_gray(0.93)
            .rect(LEFT, y, RIGHT - LEFT, height)
            .fill_nonzero()
            .set_fill_gray(0.0);
    }
}

fn page_content(inv: &Invoice) -> Content {
    let mut p = Page {
        content: Content::new(),
    };
    let date = |d: DateTime<Utc>| {
        d.with_timezone(&chrono_tz::Asia::Kolkata)
            .format("%-d %b %Y")
            .to_string()
    };
    // Heading.
    p.text(BOLD, 20.0, LEFT, 780.0, "TAX INVOICE");
    p.right(
        BOLD,
        11.0,
        RIGHT,
        786.0,
        &format!("Invoice no. {}", inv.number),
    );
    p.right(
        REGULAR,
        10.0,
        RIGHT,
        772.0,
        &format!("Date: {}", date(inv.issued_at)),
    );
    p.rule(760.0, 0.6);

    // Seller and customer side by side.
    let mut y = 742.0;
    p.text(BOLD, 9.0, LEFT, y, "FROM");
    p.text(BOLD, 9.0, 310.0, y, "BILLED TO");
    y -= 15.0;
    let mut seller = vec![inv.seller.name.clone()];
    seller.extend(wrap(&inv.seller.address, 45, 3));
    if let Some(gstin) = &inv.seller.gstin {
        seller.push(format!("GSTIN: {gstin}"));
    }
    seller.push(format!("State code: {}", inv.seller.state_code));
    let customer = match &inv.customer {
        Some(c) => {
            let mut lines = vec![c.name.clone()];
            lines.extend(wrap(&c.address, 45, 3));
            if let Some(gstin) = &c.gstin {
                lines.push(format!("GSTIN: {gstin}"));
            }
            lines.push(format!("State code (place of supply): {}", c.state_code));
            lines
        }
        None => vec![
            "Customer (no billing details given)".to_string(),
            format!("Place of supply: state code {}", inv.seller.state_code),
        ],
    };
    for i in 0..seller.len().max(customer.len()) {
        let font = if i == 0 { BOLD } else { REGULAR };
        if let Some(line) = seller.get(i) {
            p.text(font, 10.0, LEFT, y, line);
        }
        if let Some(line) = customer.get(i) {
            p.text(font, 10.0, 310.0, y, line);
        }
        y -= 13.0;
    }

    // The service line.
    y -= 14.0;
    p.band(y - 5.0, 18.0);
    p.text(BOLD, 9.0, LEFT + 6.0, y, "DESCRIPTION");
    p.text(BOLD, 9.0, 300.0, y, "SAC");
    p.text(BOLD, 9.0, 360.0, y, "PERIOD");
    p.right(BOLD, 9.0, RIGHT - 6.0, y, "TAXABLE VALUE (INR)");
    y -= 22.0;
    let plan = match inv.plan {
        super::model::PaidPlan::ProMonthly => "KiteMate Pro, monthly subscription",
        super::model::PaidPlan::ProYearly => "KiteMate Pro, yearly subscription",
    };
    p.text(REGULAR, 10.0, LEFT + 6.0, y, plan);
    p.text(REGULAR, 10.0, 300.0, y, &inv.seller.sac);
    let period = match (inv.period_start, inv.period_end) {
        (Some(a), Some(b)) => format!("{} - {}", date(a), date(b)),
        _ => "-".to_string(),
    };
    p.text(REGULAR, 9.0, 360.0, y, &period);
    p.right(REGULAR, 10.0, RIGHT - 6.0, y, &rupees(inv.taxable_paise));
    y -= 12.0;
    p.rule(y, 0.8);

    // Totals.
    y -= 20.0;
    let half = inv.gst_percent as f32 / 2.0;
    let mut lines = vec![("Taxable value".to_string(), inv.taxable_paise)];
    if inv.igst_paise > 0 || inv.cgst_paise == 0 {
        lines.push((format!("IGST @ {}%", inv.gst_percent), inv.igst_paise));
    } else {
        lines.push((format!("CGST @ {half}%"), inv.cgst_paise));
        lines.push((format!("SGST @ {half}%"), inv.sgst_paise));
    }
    for (label, paise) in &lines {
        p.text(REGULAR, 10.0, 330.0, y, label);
        p.right(REGULAR, 10.0, RIGHT - 6.0, y, &rupees(*paise));
        y -= 16.0;
    }
    p.rule(y + 8.0, 0.6);
    y -= 6.0;
    p.text(BOLD, 12.0, 330.0, y, "Total (INR)");
    p.right(BOLD, 12.0, RIGHT - 6.0, y, &rupees(inv.total_paise));
    y -= 26.0;
    p.text(
        REGULAR,
        9.0,
        LEFT,
        y,
        &format!("Amount in words: {}", in_words(inv.total_paise)),
    );
    y -= 14.0;
    p.text(
        REGULAR,
        9.0,
        LEFT,
        y,
        &format!(
            "Paid through {}. Tax is not payable on reverse charge.",
            inv.provider.name()
        ),
    );
    p.rule(70.0, 0.8);
    p.text(
        REGULAR,
        8.0,
        LEFT,
        56.0,
        "This is a computer-generated invoice and needs no signature.",
    );
    p.content
}

/// Paise as rupees with Indian digit grouping: 1,23,456.78.
pub fn rupees(paise: i64) -> String {
    let sign = if paise < 0 { "-" } else { "" };
    let paise = paise.unsigned_abs();
    let whole = (paise / 100).to_string();
    let mut grouped = String::new();
    let (head, last3) = whole.split_at(whole.len().saturating_sub(3));
    let head: Vec<char> = head.chars().collect();
    let first = head.len() % 2;
    for (i, c) in head.iter().enumerate() {
        if i > 0 && (i + 2 - first).is_multiple_of(2) {
            grouped.push(',');
        }
        grouped.push(*c);
    }
    if !head.is_empty() {
        grouped.push(',');
    }
    grouped.push_str(last3);
    format!("{sign}{grouped}.{:02}", paise % 100)
}

/// The total in words, Indian style: "Rupees Two Thousand Nine Hundred
/// Ninety-Nine and Fifty Paise Only".
pub fn in_words(paise: i64) -> String {
    let rupees = paise.unsigned_abs() / 100;
    let rest = paise.unsigned_abs() % 100;
    let mut out = format!("Rupees {}", words(rupees));
    if rest > 0 {
        out.push_str(&format!(" and {} Paise", words(rest)));
    }
    out.push_str(" Only");
    out
}

fn words(n: u64) -> String {
    const ONES: [&str; 20] = [
        "Zero",
        "One",
        "Two",
        "Three",
        "Four",
        "Five",
        "Six",
        "Seven",
        "Eight",
        "Nine",
        "Ten",
        "Eleven",
        "Twelve",
        "Thirteen",
        "Fourteen",
        "Fifteen",
        "Sixteen",
        "Seventeen",
        "Eighteen",
        "Nineteen",
    ];
    const TENS: [&str; 10] = [
        "", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety",
    ];
    fn below_hundred(n: u64) -> String {
        match n {
            0..20 => ONES[n as usize].to_string(),
            _ if n.is_multiple_of(10) => TENS[(n / 10) as usize].to_string(),
            _ => format!("{}-{}", TENS[(n / 10) as usize], ONES[(n % 10) as usize]),
        }
    }
    if n == 0 {
        return "Zero".into();
    }
    let mut parts = Vec::new();
    let mut rest = n;
    for (unit, name) in [
        (10_000_000, "Crore"),
        (100_000, "Lakh"),
        (1000, "Thousand"),
        (100, "Hundred"),
    ] {
        if rest >= unit {
            let count = rest / unit;
            let count = if count >= 100 {
                words(count)
            } else {
                below_hundred(count)
            };
            parts.push(format!("{count} {name}"));
            rest %= unit;
        }
    }
    if rest > 0 {
        parts.push(below_hundred(rest));
    }
    parts.join(" ")
}

/// Splits text into lines of at most `width` characters, at most `max` lines.
fn wrap(text: &str, width: usize, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.lines() {
        let mut line = String::new();
        for word in para.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    lines.truncate(max);
    lines
}

/// `text` in WinAnsiEncoding: Latin-1 as is, a few typographic marks
/// mapped, anything else `?`. Control characters become spaces.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{ff}' => c as u8,
            '\u{2013}' => 0x96,
            '\u{2014}' => 0x97,
            '\u{2018}' => 0x91,
            '\u{2019}' => 0x92,
            '\u{201c}' => 0x93,
            '\u{201d}' => 0x94,
            '\u{2022}' => 0x95,
            '\u{2026}' => 0x85,
            '\u{20b9}' => b'?',
            c if c.is_control() => b' ',
            _ => b'?',
        })
        .collect()
}

/// Helvetica's advance widths (per 1000 units) for what right-aligned text
/// holds; other characters count as an average letter.
fn text_width(text: &str, bold: bool) -> f32 {
    text.chars()
        .map(|c| match c {
            '0'..='9' => 556.0,
            ',' | '.' | ' ' => 278.0,
            '-' => 333.0,
            ':' => {
                if bold {
                    333.0
                } else {
                    278.0
                }
            }
            '(' | ')' => 333.0,
            'I' => 278.0,
            'M' => 833.0,
            'W' => 944.0,
            'A'..='Z' => 722.0,
            _ => 556.0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rupees_group_the_indian_way() {
        assert_eq!(rupees(29_900), "299.00");
        assert_eq!(rupees(299_950), "2,999.50");
        assert_eq!(rupees(10_000_000), "1,00,000.00");
        assert_eq!(rupees(123_456_789), "12,34,567.89");
        assert_eq!(rupees(5), "0.05");
    }

    #[test]
    fn totals_read_in_words() {
        assert_eq!(in_words(29_900), "Rupees Two Hundred Ninety-Nine Only");
        assert_eq!(
            in_words(299_950),
            "Rupees Two Thousand Nine Hundred Ninety-Nine and Fifty Paise Only"
        );
        assert_eq!(
            in_words(1_234_567_800),
            "Rupees One Crore Twenty-Three Lakh Forty-Five Thousand Six Hundred Seventy-Eight Only"
        );
    }

    /// A sample invoice; `KITEMATE_SAMPLE_INVOICE=path.pdf` keeps it (the
    /// picture in `docs/` is made from it with `pdftoppm`).
    #[test]
    fn a_sample_invoice_carries_its_number_and_totals() {
        use super::super::model::{BillingDetails, PaidPlan, Provider, Seller};
        use chrono::TimeZone as _;
        let at = |d| Utc.with_ymd_and_hms(2026, 11, d, 6, 30, 0).unwrap();
        let invoice = Invoice {
            id: "0193".into(),
            number: "KM/2026-27/000123".into(),
            issued_at: at(28),
            plan: PaidPlan::ProMonthly,
            provider: Provider::Razorpay,
            period_start: Some(at(28)),
            period_end: Some(at(28) + chrono::TimeDelta::days(30)),
            total_paise: 29_900,
            taxable_paise: 25_338,
            cgst_paise: 2_281,
            sgst_paise: 2_281,
            igst_paise: 0,
            gst_percent: 18,
            seller: Seller {
                name: "KiteMate Technologies Pvt Ltd".into(),
                address: "4th Floor, 80 Feet Road, Koramangala, Bengaluru 560034, Karnataka".into(),
                state_code: "29".into(),
                gstin: Some("29AAPFU0939F1ZR".into()),
                sac: "998314".into(),
            },
            customer: Some(BillingDetails {
                name: "Asha Rao".into(),
                address: "12 Residency Road\nBengaluru 560025".into(),
                state_code: "29".into(),
                gstin: None,
            }),
            pdf_url: String::new(),
        };
        let pdf = render(&invoice);
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        for shown in [
            "KM/2026-27/000123)",
            "(253.38)",
            "(22.81)",
            "(299.00)",
            "(CGST @ 9%)",
        ] {
            assert!(text.contains(shown), "{shown} is not on the page");
        }
        if let Ok(path) = std::env::var("KITEMATE_SAMPLE_INVOICE") {
            std::fs::write(path, &pdf).expect("write the sample");
        }
    }

    #[test]
    fn text_outside_win_ansi_prints_as_a_question_mark() {
        assert_eq!(win_ansi("Café – ₹ अ"), b"Caf\xe9 \x96 ? ?".to_vec());
    }
}
