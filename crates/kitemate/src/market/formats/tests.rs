//! Each layout read from a few lines written as its publisher writes them.

use super::*;

const UDIFF: &str = "TradDt,BizDt,Sgmt,Src,FinInstrmTp,FinInstrmId,ISIN,TckrSymb,SctySrs,XpryDt,FininstrmActlXpryDt,StrkPric,OptnTp,FinInstrmNm,OpnPric,HghPric,LwPric,ClsPric,LastPric,PrvsClsgPric,UndrlygPric,SttlmPric,OpnIntrst,ChngInOpnIntrst,TtlTradgVol,TtlTrfVal,TtlNbOfTxsExctd,SsnId,NewBrdLotQty,Rmks,Rsvd1,Rsvd2,Rsvd3,Rsvd4
2024-07-08,2024-07-08,CM,NSE,STK,2885,INE002A01018,RELIANCE,EQ,,,,,RELIANCE INDUSTRIES LTD,3185.00,3198.90,3150.05,3177.70,3176.00,3182.95,,3177.70,,,5381634,17087654321.1,150000,F1,1,,,,,
2024-07-08,2024-07-08,CM,NSE,STK,11536,INE467B01029,TCS,EQ,,,,,TATA CONSULTANCY SERV LT,4005.00,4040.00,3990.00,4003.25,4004.00,3994.85,,4003.25,,,1000,4003250,10,F1,1,,,,,
2024-07-08,2024-07-08,CM,NSE,STK,99999,INE467B01029,TCS,BL,,,,,TATA CONSULTANCY SERV LT,4000.00,4000.00,4000.00,4000.00,4000.00,3994.85,,4000.00,,,10,40000,1,F1,1,,,,,
2024-07-08,2024-07-08,CM,NSE,STK,1,,SOMEBOND,N1,,,,,A BOND,100,100,100,100.5,100,100,,100,,,1,100,1,F1,1,,,,,
";

#[test]
fn a_udiff_bhavcopy_gives_one_close_per_isin_from_its_equity_series() {
    let parsed = parse(UDIFF.as_bytes()).expect("reads");
    assert_eq!(parsed.layout, Layout::Udiff);
    let day = NaiveDate::from_ymd_opt(2024, 7, 8).unwrap();
    assert_eq!(
        parsed.closes,
        vec![
            Close {
                day,
                isin: "INE002A01018".into(),
                symbol: "RELIANCE".into(),
                close: 31_777_000,
                high: Some(31_989_000),
                source: Source::Nse,
            },
            Close {
                day,
                isin: "INE467B01029".into(),
                symbol: "TCS".into(),
                close: 40_032_500,
                high: Some(40_400_000),
                source: Source::Nse,
            },
        ]
    );
    // The block-deal series' duplicate and the bond without an ISIN.
    assert_eq!(parsed.skipped, 2);
    assert_eq!(parsed.days(), vec![day]);
}

#[test]
fn bse_rows_say_bse() {
    let bse = UDIFF.replace(",NSE,", ",BSE,");
    let parsed = parse(bse.as_bytes()).expect("reads");
    assert!(parsed.closes.iter().all(|c| c.source == Source::Bse));
}

#[test]
fn the_legacy_nse_layout_reads_with_its_trailing_comma() {
    let text = "SYMBOL,SERIES,OPEN,HIGH,LOW,CLOSE,LAST,PREVCLOSE,TOTTRDQTY,TOTTRDVAL,TIMESTAMP,TOTALTRADES,ISIN,\n\
                RELIANCE,EQ,3150,3190,3140,3182.95,3183,3150.1,100,318295,05-JUL-2024,10,INE002A01018,\n\
                HDFCBANK,EQ,1700,1710,1690,1648.40,1650,1700,100,164840,05-JUL-2024,10,INE040A01034,\n";
    let parsed = parse(text.as_bytes()).expect("reads");
    assert_eq!(parsed.layout, Layout::NseLegacy);
    assert_eq!(parsed.closes.len(), 2);
    assert_eq!(parsed.closes[1].close, 16_484_000);
    assert_eq!(
        parsed.closes[0].day,
        NaiveDate::from_ymd_opt(2024, 7, 5).unwrap()
    );
}

#[test]
fn amfi_navs_read_both_isins_and_skip_headings_and_missing_navs() {
    let text = "Scheme Code;ISIN Div Payout/ ISIN Growth;ISIN Div Reinvestment;Scheme Name;Net Asset Value;Date\n\
                \n\
                Open Ended Schemes(Equity Scheme - Large Cap Fund)\n\
                \n\
                Axis Mutual Fund\n\
                \n\
                120465;INF846K01EW2;-;Axis Bluechip Fund - Direct Plan - Growth;62.4500;08-Jul-2024\n\
                120466;INF846K01EX0;INF846K01EY8;Axis Bluechip Fund - Direct Plan - IDCW;21.1234;08-Jul-2024\n\
                120467;INF846K01EZ5;;Axis Old Fund;N.A.;08-Jul-2024\n";
    let parsed = parse(text.as_bytes()).expect("reads");
    assert_eq!(parsed.layout, Layout::AmfiNav);
    let isins: Vec<&str> = parsed.closes.iter().map(|c| c.isin.as_str()).collect();
    assert_eq!(isins, ["INF846K01EW2", "INF846K01EX0", "INF846K01EY8"]);
    assert_eq!(parsed.closes[1].close, 211_234);
    assert_eq!(parsed.closes[1].source, Source::Amfi);
    assert_eq!(parsed.skipped, 1);
}

#[test]
fn index_closes_read_by_name() {
    let text = "Index Name,Index Date,Open Index Value,High Index Value,Low Index Value,Closing Index Value,Points Change,Change(%),Volume,Turnover (Rs. Cr.),P/E,P/B,Div Yield\n\
                Nifty 50,08-07-2024,24329.45,24344.60,24240.55,24320.55,-2.65,-0.01,250000000,24000.5,23.1,4.1,1.2\n\
                Nifty Bank,08-07-2024,52600.00,52800.00,52300.00,52425.80,-235.00,-0.45,-,-,-,-,-\n";
    let parsed = parse(text.as_bytes()).expect("reads");
    assert_eq!(parsed.layout, Layout::NseIndices);
    assert_eq!(parsed.indices[0].name, "Nifty 50");
    assert_eq!(parsed.indices[0].close, 243_205_500);
    assert_eq!(parsed.indices.len(), 2);
}

#[test]
fn a_malformed_line_fails_the_whole_file_naming_the_line() {
    let bad = UDIFF.replace("4003.25,4004.00", "4003.x,4004.00");
    let err = parse(bad.as_bytes()).unwrap_err();
    assert!(err.0.starts_with("line 3:"), "{err}");
    let negative = UDIFF.replace("3177.70,3176.00", "-3177.70,3176.00");
    assert!(
        parse(negative.as_bytes())
            .unwrap_err()
            .0
            .contains("outside")
    );
    let bad_day = UDIFF.replace(
        "2024-07-08,2024-07-08,CM,NSE,STK,11536",
        "2024-13-08,2024-07-08,CM,NSE,STK,11536",
    );
    assert!(parse(bad_day.as_bytes()).unwrap_err().0.contains("TradDt"));
    let unknown = parse(b"a,b,c\n1,2,3\n").unwrap_err();
    assert!(unknown.0.contains("not a layout"), "{unknown}");
    assert!(parse(b"").is_err());
    assert!(parse(b"PK\x03\x04garbage").unwrap_err().0.contains("ZIP"));
}

#[test]
fn a_zipped_file_reads_as_its_content() {
    use std::io::Write as _;
    let mut zipped = std::io::Cursor::new(Vec::new());
    let mut writer = zip::ZipWriter::new(&mut zipped);
    writer
        .start_file(
            "BhavCopy_NSE_CM_0_0_0_20240708_F_0000.csv",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
    writer.write_all(UDIFF.as_bytes()).unwrap();
    writer.finish().unwrap();
    let parsed = parse(zipped.get_ref()).expect("reads");
    assert_eq!(parsed.closes.len(), 2);
}

#[test]
fn isins_have_their_shape() {
    assert!(is_isin("INE002A01018"));
    assert!(is_isin("INF204KB14I2"));
    assert!(!is_isin("INE002A0101"));
    assert!(!is_isin("ine002a01018"));
    assert!(!is_isin("INE002A0101X"));
}

const BSE_LEGACY: &str = "SC_CODE,SC_NAME,SC_GROUP,SC_TYPE,OPEN,HIGH,LOW,CLOSE,LAST,PREVCLOSE,NO_TRADES,NO_OF_SHRS,NET_TURNOV,TDCLOINDI,ISIN_CODE,TRADING_DATE,FILLER2,FILLER3
500325,RELIANCE INDUSTRIES LTD.  ,A ,Q,937.00,949.95,930.10,943.70,943.70,935.55,56843,1249340,1174591218.00,,INE002A01018,31-Jan-18,,
500180,HDFC BANK LTD.   ,A ,Q,1950.00,1968.00,1941.10,1951.10,1951.00,1948.55,4519,72187,141162451.00,,INE040A01026,31-Jan-18,,
999999,SOME DEBT,F ,D,100.00,100.00,100.00,100.00,100.00,100.00,1,1,100.00,,,31-Jan-18,,
";

#[test]
fn bses_older_bhavcopy_gives_closes_and_the_days_high() {
    let parsed = parse(BSE_LEGACY.as_bytes()).expect("reads");
    assert_eq!(parsed.layout, Layout::BseLegacy);
    let day = NaiveDate::from_ymd_opt(2018, 1, 31).unwrap();
    assert_eq!(parsed.closes.len(), 2);
    let reliance = &parsed.closes[0];
    assert_eq!(
        (
            reliance.day,
            reliance.isin.as_str(),
            reliance.close,
            reliance.high,
            reliance.source
        ),
        (day, "INE002A01018", 9_437_000, Some(9_499_500), Source::Bse)
    );
    assert_eq!(parsed.skipped, 1);
}
