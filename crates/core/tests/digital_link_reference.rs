//! Digital Link parsing agrees with GS1's Barcode Syntax Engine (gs1/gs1-syntax-engine, `dl.c` unit tests)
//! under its default options: each input is accepted or refused as the engine decides, and accepted ones
//! give the same AI data (written here as the engine's `^`-separated element string, FNC1 as `^`, without the
//! separators a fixed-length AI does not need).

use suyuan_core::id::dl::parse_digital_link;

/// The AI data of an accepted link, as `(AI, value)` pairs.
fn pairs(uri: &str) -> Option<Vec<(String, String)>> {
    parse_digital_link(uri).ok().map(|d| d.data.pairs)
}

fn p(list: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
    Some(
        list.iter()
            .map(|(a, v)| (a.to_string(), v.to_string()))
            .collect(),
    )
}

#[test]
fn refused_as_the_reference_refuses() {
    for uri in [
        "",
        "ftp://",
        "http://",
        "http:///",
        "http://a",
        "http://a/",
        "http://a/b",
        "http://a/b/",
        "HtTp://a/b/00/006141411234567890",
        "https://00/006141411234567890",
        "https://[fe80::1%25lo]/01/12312312312333",
        "https://$a/006141411234567890",
        "https://a$/006141411234567890",
        "https://a/gtin/12312312312333",
        "https://a/01/2112345678900",
        "https://a/01/416000336108",
        "https://a/01/02345673",
        "https://a/253/1231231231232TEST56789012345678",
        "https://a/stem/00/006141411234567890/",
        "https://a/01/12312312312333?99=",
        "https://a/01/12312312312333?99=ABC&999=faux",
        "https://a/01/12312312312333/22/ABC%2d123?99=ABC&98=XYZ+987",
        "https://example.com/01/09520123456788?10=ABC123",
        "https://id.gs1.org/01/09520123456788/10/ABC123?99=XYZ789&01=09520123456788",
        "https://id.gs1.org/01/09520123456788/10/ABC123?99=XYZ789&10=ABC123",
        "https://id.gs1.org/01/09520123456788/10/ABC123?99=XYZ789&99=XYZ789",
        "https://example.com/01/09520123456788/89/ABC123?99=XYZ",
        "https://example.com/01/09520123456788?99=XYZ&89=ABC123",
        // Options the engine has off by default: convenience alphas, zero-suppressed GTINs in the path.
        "https://a/gtin/12312312312333/ser/ABC123",
        "https://a/sscc/006141411234567890",
        "https://brand.example.com/01/9520123456788",
        "https://brand.example.com/some-extra/pathinfo/01/9520123456788",
        "https://example.com/01/9520123456788?3103=000195&3922=0299&17=201225",
        "https://id.gs1.org/01/9520123456788?3103=000195&3922=0299&17=201225",
        "https://id.gs1.org/01/9520123456788?17=201225&3103=000195&3922=0299",
    ] {
        assert!(pairs(uri).is_none(), "the reference refuses {uri}");
    }
}

#[test]
fn accepted_as_the_reference_accepts() {
    let sscc = p(&[("00", "006141411234567890")]);
    let gtin = p(&[("01", "12312312312333")]);
    for (uri, want) in [
        ("http://a/00/006141411234567890", &sscc),
        ("HTTP://a/00/006141411234567890", &sscc),
        ("https://a/00/006141411234567890", &sscc),
        ("HTTPS://a/00/006141411234567890", &sscc),
        ("https://a/01/12312312312333", &gtin),
        ("https://xn--fsq.xn--0zwm56d/01/12312312312333", &gtin),
        ("https://a./01/12312312312333", &gtin),
        ("https://a:65535/01/12312312312333", &gtin),
        ("https://192.0.2.1/01/12312312312333", &gtin),
        ("https://3232235777/01/12312312312333", &gtin),
        ("https://0xC0.0xA8.0x01.0x01/01/12312312312333", &gtin),
        ("https://[2001:db8::1]/01/12312312312333", &gtin),
        ("https://a/stem/00/006141411234567890", &sscc),
        ("https://a/more/stem/00/006141411234567890", &sscc),
        ("https://a/00/faux/00/006141411234567890", &sscc),
        ("https://a/stem/00/006141411234567890?", &sscc),
    ] {
        assert_eq!(&pairs(uri), want, "{uri}");
    }
    let gtin88 = |rest: &[(&str, &str)]| {
        let mut v = vec![("01", "09520123456788")];
        v.extend_from_slice(rest);
        p(&v)
    };
    let abc_xyz = p(&[("01", "12312312312333"), ("99", "ABC"), ("98", "XYZ")]);
    for (uri, want) in [
        ("https://id.gs1.org/01/09520123456788", gtin88(&[])),
        (
            "https://id.gs1.org/01/09520123456788/22/2A",
            gtin88(&[("22", "2A")]),
        ),
        (
            "https://id.gs1.org/01/09520123456788/10/ABC123",
            gtin88(&[("10", "ABC123")]),
        ),
        (
            "https://id.gs1.org/01/09520123456788/21/12345",
            gtin88(&[("21", "12345")]),
        ),
        (
            "https://id.gs1.org/01/09520123456788?3103=000195",
            gtin88(&[("3103", "000195")]),
        ),
        (
            "https://example.com/01/09520123456788?3103=000195&3922=0299&17=201225",
            gtin88(&[("3103", "000195"), ("3922", "0299"), ("17", "201225")]),
        ),
        (
            "https://id.gs1.org/01/09520123456788?3103=000195&3922=0299&17=201225",
            gtin88(&[("3103", "000195"), ("3922", "0299"), ("17", "201225")]),
        ),
        (
            "https://id.gs1.org/00/952012345678912345",
            p(&[("00", "952012345678912345")]),
        ),
        (
            "https://id.gs1.org/414/9520123456788",
            p(&[("414", "9520123456788")]),
        ),
        ("https://a/01/12312312312333?99=ABC&98=XYZ", abc_xyz.clone()),
        (
            "https://a/01/12312312312333?99=ABC&unknown=666&98=XYZ",
            abc_xyz.clone(),
        ),
        (
            "https://a/01/12312312312333?unknown=666&99=ABC&98=XYZ",
            abc_xyz.clone(),
        ),
        (
            "https://a/01/12312312312333?99=ABC&98=XYZ&unknown=666",
            abc_xyz.clone(),
        ),
        (
            "https://a/01/12312312312333?unknown1=555&99=ABC&unknown2=666&98=XYZ&unknown3=777",
            abc_xyz.clone(),
        ),
        (
            "https://a/01/12312312312333?99=ABC&singleton&98=XYZ",
            abc_xyz.clone(),
        ),
        (
            "https://a/01/12312312312333?singleton&99=ABC&98=XYZ",
            abc_xyz.clone(),
        ),
        (
            "https://a/01/12312312312333?99=ABC&98=XYZ&singleton",
            abc_xyz.clone(),
        ),
        (
            "https://a/01/12312312312333?singleton1&99=ABC&singleton2&98=XYZ&singleton3",
            abc_xyz.clone(),
        ),
        (
            "https://a/01/12312312312333/22/test/10/abc/21/xyz#",
            p(&[
                ("01", "12312312312333"),
                ("22", "test"),
                ("10", "abc"),
                ("21", "xyz"),
            ]),
        ),
        (
            "https://a/stem/00/006141411234567890?99=ABC#fragment",
            p(&[("00", "006141411234567890"), ("99", "ABC")]),
        ),
        (
            "https://a/01/12312312312333/22/TEST/10/ABC/21/XYZ",
            p(&[
                ("01", "12312312312333"),
                ("22", "TEST"),
                ("10", "ABC"),
                ("21", "XYZ"),
            ]),
        ),
        (
            "https://a/01/12312312312333/235/TEST",
            p(&[("01", "12312312312333"), ("235", "TEST")]),
        ),
        (
            "https://a/253/1231231231232",
            p(&[("253", "1231231231232")]),
        ),
        (
            "https://a/253/1231231231232TEST5678901234567",
            p(&[("253", "1231231231232TEST5678901234567")]),
        ),
        (
            "https://a/8018/123456789012345675/8019/123",
            p(&[("8018", "123456789012345675"), ("8019", "123")]),
        ),
        (
            "https://a/stem/00/006141411234567890?99=ABC",
            p(&[("00", "006141411234567890"), ("99", "ABC")]),
        ),
        (
            "https://a/stem/401/12345678?99=ABC",
            p(&[("401", "12345678"), ("99", "ABC")]),
        ),
        (
            "https://a/01/12312312312333?&&&99=ABC&&&&&&98=XYZ&&&",
            p(&[("01", "12312312312333"), ("99", "ABC"), ("98", "XYZ")]),
        ),
        (
            "https://a/01/12312312312333?singleton1&unknown1=555&99=ABC&singleton2&unknown2=6666&98=XYZ&unknown3=777&singleton3",
            p(&[("01", "12312312312333"), ("99", "ABC"), ("98", "XYZ")]),
        ),
        (
            "https://a/01/12312312312333/22/ABC%2d123?99=ABC&98=XYZ%2f987",
            p(&[
                ("01", "12312312312333"),
                ("22", "ABC-123"),
                ("99", "ABC"),
                ("98", "XYZ/987"),
            ]),
        ),
        (
            "https://a/01/12312312312333/22/ABC+123?99=ABC&98=XYZ%2f987",
            p(&[
                ("01", "12312312312333"),
                ("22", "ABC+123"),
                ("99", "ABC"),
                ("98", "XYZ/987"),
            ]),
        ),
        (
            "https://a/01/12312312312333/22/test/10/abc/21/xyz#fragment",
            p(&[
                ("01", "12312312312333"),
                ("22", "test"),
                ("10", "abc"),
                ("21", "xyz"),
            ]),
        ),
        (
            "https://a/stem/00/006141411234567890?99=ABC#",
            p(&[("00", "006141411234567890"), ("99", "ABC")]),
        ),
        (
            "https://id.gs1.org/01/09520123456788/10/ABC1/21/12345?17=180426",
            p(&[
                ("01", "09520123456788"),
                ("10", "ABC1"),
                ("21", "12345"),
                ("17", "180426"),
            ]),
        ),
        (
            "https://id.gs1.org/01/09520123456788?17=201225&3103=000195&3922=0299",
            p(&[
                ("01", "09520123456788"),
                ("17", "201225"),
                ("3103", "000195"),
                ("3922", "0299"),
            ]),
        ),
        (
            "https://id.gs1.org/00/952012345678912345?02=09520123456788&37=25&10=ABC123",
            p(&[
                ("00", "952012345678912345"),
                ("02", "09520123456788"),
                ("37", "25"),
                ("10", "ABC123"),
            ]),
        ),
        (
            "https://id.gs1.org/414/9520123456788/254/32a%2Fb",
            p(&[("414", "9520123456788"), ("254", "32a/b")]),
        ),
        (
            "https://example.com/8004/9520614141234567?01=9520123456788",
            p(&[("8004", "9520614141234567"), ("01", "09520123456788")]),
        ),
        (
            "https://id.gs1.org/01/09520123456788/235/XYZ?10=ABC123",
            p(&[("01", "09520123456788"), ("235", "XYZ"), ("10", "ABC123")]),
        ),
    ] {
        assert_eq!(pairs(uri), want, "{uri}");
    }
}

/// Generating links from AI data gives the engine's links: qualifiers in the path in order, other keys and
/// attributes in the query (fixed-length AIs first), repeated AIs once, `+` escaped and a space as `+`.
#[test]
fn generated_as_the_reference_generates() {
    use suyuan_core::id::dl::to_digital_link;
    use suyuan_core::id::element::parse_element_string;
    for (es, want) in [
        (
            "(01)12312312312326(21)abc123",
            "https://example.com/01/12312312312326/21/abc123",
        ),
        (
            "(01)12312312312326(22)ABC(10)DEF(21)GHI(95)INT",
            "https://example.com/01/12312312312326/22/ABC/10/DEF/21/GHI?95=INT",
        ),
        (
            "(21)XYZ(01)12312312312333(10)ABC123(99)XYZ",
            "https://example.com/01/12312312312333/10/ABC123/21/XYZ?99=XYZ",
        ),
        (
            "(01)12312312312333(10)ABC+123(99)XYZ+QWERTY",
            "https://example.com/01/12312312312333/10/ABC%2B123?99=XYZ%2BQWERTY",
        ),
        (
            "(253)9526064000028000001(99)000001(01)12312312312326(10)DEF(95)INT",
            "https://example.com/253/9526064000028000001?01=12312312312326&99=000001&10=DEF&95=INT",
        ),
        (
            "(01)12312312312326(10)ABC123(10)ABC123(99)XYZ789",
            "https://example.com/01/12312312312326/10/ABC123?99=XYZ789",
        ),
    ] {
        let data = parse_element_string(es).unwrap_or_else(|e| panic!("{es}: {e}"));
        assert_eq!(
            to_digital_link(&data, "https://example.com").as_deref(),
            Ok(want),
            "{es}"
        );
    }
    for es in [
        "(01)12312312312326(99)000001(8200)http://example.com(95)INT",
        "(01)12312312312326(235)TPX9526064(99)000001(22)ABC(95)INT",
    ] {
        let data = parse_element_string(es).unwrap_or_else(|e| panic!("{es}: {e}"));
        assert!(
            to_digital_link(&data, "https://example.com").is_err(),
            "{es}"
        );
    }
}
