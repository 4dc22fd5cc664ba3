//! Property tests: every generated valid key round-trips element string ↔ Digital Link ↔ EPC URN (↔ tag).

use proptest::prelude::*;
use suyuan_core::id::{self, AiData, dl, element, epc, rfid};

const CSET82: &str =
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

fn with_check(body: &str) -> String {
    let c = id::lint::mod10(body.as_bytes()).expect("digits");
    format!("{body}{c}")
}

fn digits(n: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, n)
        .prop_map(|v| v.iter().map(|d| char::from(b'0' + d)).collect())
}

fn cset82(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0..CSET82.len(), 1..=max).prop_map(|v| {
        v.iter()
            .map(|&i| char::from(CSET82.as_bytes()[i]))
            .collect()
    })
}

/// A key as AI data plus the Company Prefix length it was made with.
fn key() -> impl Strategy<Value = (AiData, usize)> {
    let gcp = 6usize..=12;
    (gcp, digits(17), cset82(20), cset82(16), 0u8..6).prop_map(|(gcp, d, s, s16, kind)| {
        let mut a = AiData::default();
        let ok = match kind {
            0 => a
                .push("01", &with_check(&d[..13]))
                .and_then(|_| a.push("21", &s)),
            1 => a
                .push("01", &with_check(&d[..13]))
                .and_then(|_| a.push("10", &s)),
            2 => a.push("00", &with_check(&d[..17])),
            3 => a
                .push("414", &with_check(&d[..12]))
                .and_then(|_| a.push("254", &format!("E{}", &s[..s.len().min(19)]))),
            4 => a.push("8003", &format!("0{}{s16}", with_check(&d[..12]))),
            _ => a.push(
                "8004",
                &format!("{}{}", &d[..gcp], &s[..s.len().min(30 - gcp)]),
            ),
        };
        ok.expect("generated values are valid");
        (a, gcp)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn keys_round_trip_through_every_form((data, gcp) in key()) {
        let es = id::parse_element_string(&data.to_bracketed()).expect("bracketed");
        prop_assert_eq!(&es, &data);
        let raw = id::parse_element_string(&format!("]d2{}", data.to_raw())).expect("raw");
        prop_assert_eq!(&raw, &data);
        let link = dl::to_digital_link(&data, "https://brand.example.cn").expect("dl");
        let back = dl::parse_digital_link(&link).expect("parse dl");
        prop_assert_eq!(&back.data, &data);
        prop_assert_eq!(back.base, "https://brand.example.cn");
        let urn = epc::to_epc_urn(&data, gcp).expect("urn");
        prop_assert_eq!(&epc::parse_epc_urn(&urn).expect("parse urn"), &data);
        let scheme = match urn.split(':').nth(3) {
            Some("sgtin") => Some(rfid::Scheme::Sgtin198),
            Some("sscc") => Some(rfid::Scheme::Sscc96),
            Some("sgln") => Some(rfid::Scheme::Sgln195),
            Some("grai") => Some(rfid::Scheme::Grai170),
            Some("giai") => Some(rfid::Scheme::Giai202),
            _ => None,
        };
        if let Some(scheme) = scheme {
            let hex = rfid::encode(&urn, scheme, 1).expect("encode");
            let tag = rfid::decode(&hex).expect("decode");
            prop_assert_eq!(tag.pure_uri, urn);
        }
    }

    #[test]
    fn numeric_serials_round_trip_through_96_bit_tags(gcp in 6usize..=12, d in digits(12), serial in 0u64..(1 << 38)) {
        let urn = format!("urn:epc:id:sgtin:{}.{}.{serial}", &d[..gcp], &format!("1{}", &d[gcp..12]));
        let hex = rfid::encode(&urn, rfid::Scheme::Sgtin96, 3).expect("encode");
        prop_assert_eq!(hex.len(), 24);
        let tag = rfid::decode(&hex).expect("decode");
        prop_assert_eq!(&tag.pure_uri, &urn);
        prop_assert_eq!(tag.filter, 3);
    }

    #[test]
    fn any_changed_gtin_digit_is_caught(d in digits(13), pos in 0usize..14, delta in 1u8..10) {
        let gtin = with_check(&d);
        let mut b = gtin.into_bytes();
        b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
        let changed = String::from_utf8(b).expect("ascii");
        let input = format!("(01){changed}");
        prop_assert!(id::parse_element_string(&input).is_err());
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,40}") {
        let _ = id::parse(&s, &id::ParseOptions::default());
        let _ = id::parse(&format!("(01){s}"), &id::ParseOptions::default());
        let _ = id::parse(&format!("https://x.cn/01/{s}"), &id::ParseOptions::default());
        let _ = element::parse_element_string(&format!("]d201{s}"));
    }
}
