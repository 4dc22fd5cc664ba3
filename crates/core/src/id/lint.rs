//! The GS1 Barcode Syntax Tests ("linters") named by the syntax dictionary: content checks applied to one
//! component of an AI's data after its length and character set are right.

use std::collections::HashSet;
use std::sync::LazyLock;

/// A named content check from the syntax dictionary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)] // The variants are the dictionary's linter names.
pub enum Linter {
    Csum,
    CsumAlpha,
    GcpPos1,
    GcpPos2,
    HasNonDigit,
    Hh,
    HhMi,
    Mi,
    Ss,
    Hyphen,
    Iban,
    ImporterIdx,
    Iso3166,
    Iso3166_999,
    Iso3166Alpha2,
    Iso4217,
    Iso5218,
    Latitude,
    Longitude,
    MediaType,
    NonZero,
    NoZeroPrefix,
    PackageType,
    PcEnc,
    PieceOfTotal,
    PosInSeqSlash,
    Winding,
    YesNo,
    YyMmD0,
    YyMmDd,
    YyyyMmDd,
    Zero,
    CouponCode,
    CouponPosOffer,
}

impl Linter {
    /// The linter of a dictionary name such as `csum` or `yymmd0`.
    pub fn from_name(name: &str) -> Option<Linter> {
        use Linter::*;
        Some(match name {
            "csum" => Csum,
            "csumalpha" => CsumAlpha,
            "gcppos1" => GcpPos1,
            "gcppos2" => GcpPos2,
            "hasnondigit" => HasNonDigit,
            "hh" => Hh,
            "hhmi" => HhMi,
            "mi" => Mi,
            "ss" => Ss,
            "hyphen" => Hyphen,
            "iban" => Iban,
            "importeridx" => ImporterIdx,
            "iso3166" => Iso3166,
            "iso3166999" => Iso3166_999,
            "iso3166alpha2" => Iso3166Alpha2,
            "iso4217" => Iso4217,
            "iso5218" => Iso5218,
            "latitude" => Latitude,
            "longitude" => Longitude,
            "mediatype" => MediaType,
            "nonzero" => NonZero,
            "nozeroprefix" => NoZeroPrefix,
            "packagetype" => PackageType,
            "pcenc" => PcEnc,
            "pieceoftotal" => PieceOfTotal,
            "posinseqslash" => PosInSeqSlash,
            "winding" => Winding,
            "yesno" => YesNo,
            "yymmd0" => YyMmD0,
            "yymmdd" => YyMmDd,
            "yyyymmdd" => YyyyMmDd,
            "zero" => Zero,
            "couponcode" => CouponCode,
            "couponposoffer" => CouponPosOffer,
            _ => return None,
        })
    }

    /// Checks `v`; the error says what is wrong in plain words.
    pub fn check(self, v: &str) -> Result<(), String> {
        use Linter::*;
        let b = v.as_bytes();
        match self {
            Csum => {
                let (body, last) = b.split_at(b.len().saturating_sub(1));
                let want = mod10(body).ok_or("must be digits")?;
                match last.first() {
                    Some(&c) if c == b'0' + want => Ok(()),
                    Some(&c) => Err(format!(
                        "check digit should be {want}, got {}",
                        char::from(c)
                    )),
                    None => Err("is empty".into()),
                }
            }
            CsumAlpha => csum_alpha(b),
            GcpPos1 => gcp_at(b, 0),
            GcpPos2 => gcp_at(b, 1),
            HasNonDigit => {
                if b.iter().all(u8::is_ascii_digit) {
                    Err("must contain a non-digit character".into())
                } else {
                    Ok(())
                }
            }
            Hh => range(v, 0, 23, "hour"),
            Mi => range(v, 0, 59, "minute"),
            Ss => range(v, 0, 59, "second"),
            HhMi => {
                range(&v[..2.min(v.len())], 0, 23, "hour")?;
                range(&v[2.min(v.len())..], 0, 59, "minute")
            }
            Hyphen => expect(v == "-", "must be '-'"),
            Iban => iban(v),
            ImporterIdx => expect(
                b.len() == 1 && (b[0].is_ascii_alphanumeric() || b[0] == b'-' || b[0] == b'_'),
                "importer index must be one of 0-9, A-Z, a-z, '-', '_'",
            ),
            Iso3166 => expect(ISO.numeric.contains(v), "is not an ISO 3166 country code"),
            Iso3166_999 => expect(
                v == "999" || ISO.numeric.contains(v),
                "is not an ISO 3166 country code or 999",
            ),
            Iso3166Alpha2 => expect(
                ISO.alpha2.contains(v),
                "is not an ISO 3166 alpha-2 country code",
            ),
            Iso4217 => expect(ISO.currency.contains(v), "is not an ISO 4217 currency code"),
            Iso5218 => expect(
                matches!(v, "0" | "1" | "2" | "9"),
                "sex code must be 0, 1, 2 or 9 (ISO 5218)",
            ),
            Latitude => expect(
                v.parse::<u64>().is_ok_and(|n| n <= 1_800_000_000),
                "latitude must be 0000000000 to 1800000000",
            ),
            Longitude => expect(
                v.parse::<u64>().is_ok_and(|n| n <= 3_600_000_000),
                "longitude must be 0000000000 to 3600000000",
            ),
            MediaType => expect(
                v.parse::<u8>()
                    .is_ok_and(|n| (1..=10).contains(&n) || (80..=99).contains(&n)),
                "AIDC media type must be 01-10 or 80-99",
            ),
            NonZero => expect(b.iter().any(|&c| c != b'0'), "must not be zero"),
            NoZeroPrefix => expect(
                b.len() == 1 || b.first() != Some(&b'0'),
                "must not start with 0",
            ),
            PackageType => expect(
                (1..=3).contains(&b.len())
                    && b.iter()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
                "package type must be a UN/ECE Rec. 21 code (1-3 upper-case letters or digits)",
            ),
            PcEnc => pcenc(b),
            PieceOfTotal => {
                let (p, t) = v.split_at(v.len() / 2);
                let (p, t): (u32, u32) = (p.parse().unwrap_or(0), t.parse().unwrap_or(0));
                expect(
                    p >= 1 && t >= 1 && p <= t,
                    "piece must be 1 or more and not greater than the total",
                )
            }
            PosInSeqSlash => {
                let ok = v.split_once('/').is_some_and(|(p, t)| {
                    match (p.parse::<u32>(), t.parse::<u32>()) {
                        (Ok(p), Ok(t)) => p >= 1 && p <= t && !p.to_string().is_empty(),
                        _ => false,
                    }
                });
                expect(ok, "must be 'position/total' with position ≤ total")
            }
            Winding => expect(matches!(v, "0" | "1" | "9"), "winding must be 0, 1 or 9"),
            YesNo => expect(matches!(v, "0" | "1"), "must be 0 or 1"),
            YyMmD0 => date(b, false, true),
            YyMmDd => date(b, false, false),
            YyyyMmDd => date(b, true, false),
            Zero => expect(v == "0", "must be 0"),
            CouponCode | CouponPosOffer => expect(
                b.iter().all(u8::is_ascii_digit),
                "coupon data must be digits",
            ),
        }
    }
}

fn expect(ok: bool, msg: &str) -> Result<(), String> {
    if ok { Ok(()) } else { Err(msg.to_string()) }
}

/// The GS1 mod-10 check digit of `digits` (without the check digit).
pub fn mod10(digits: &[u8]) -> Option<u8> {
    let mut sum = 0u32;
    for (i, &c) in digits.iter().rev().enumerate() {
        if !c.is_ascii_digit() {
            return None;
        }
        let d = u32::from(c - b'0');
        sum += if i % 2 == 0 { d * 3 } else { d };
    }
    Some(((10 - sum % 10) % 10) as u8)
}

const CSET82: &[u8] =
    b"!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
const CSET32: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
const PRIMES: [u32; 23] = [
    2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83,
];

/// The two check characters of a GMN-style alphanumeric string (GS1 General Specifications 7.9.5).
pub fn csum_alpha_pair(body: &[u8]) -> Option<[u8; 2]> {
    if body.len() > PRIMES.len() {
        return None;
    }
    // The rightmost character is weighted 2, the next 3, and so on up the primes.
    let weights = PRIMES[..body.len()].iter().rev();
    let mut sum = 0u32;
    for (&c, &w) in body.iter().zip(weights) {
        let pos = CSET82.iter().position(|&x| x == c)? as u32;
        sum += pos * w;
    }
    sum %= 1021;
    Some([CSET32[(sum >> 5) as usize], CSET32[(sum & 31) as usize]])
}

fn csum_alpha(b: &[u8]) -> Result<(), String> {
    if b.len() < 2 {
        return Err("too short for its check character pair".into());
    }
    let (body, check) = b.split_at(b.len() - 2);
    let want = csum_alpha_pair(body).ok_or("cannot compute the check character pair")?;
    if check == want {
        Ok(())
    } else {
        Err(format!(
            "check characters should be {}, got {}",
            String::from_utf8_lossy(&want),
            String::from_utf8_lossy(check)
        ))
    }
}

/// A GS1 Company Prefix must start at `pos` with at least four digits (the shortest prefix allocated).
fn gcp_at(b: &[u8], pos: usize) -> Result<(), String> {
    let ok = b.len() >= pos + 4 && b[pos..pos + 4].iter().all(u8::is_ascii_digit);
    expect(ok, "does not start with a GS1 Company Prefix")
}

fn range(v: &str, lo: u32, hi: u32, what: &str) -> Result<(), String> {
    match v.parse::<u32>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(()),
        _ => Err(format!("{what} must be {lo:02} to {hi:02}, got {v}")),
    }
}

fn date(b: &[u8], four_digit_year: bool, day_zero: bool) -> Result<(), String> {
    let n = |s: &[u8]| -> u32 { s.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')) };
    let (year, rest) = if four_digit_year {
        (n(&b[..4]), &b[4..])
    } else {
        // Two-digit years resolve within a sliding century; only leap years matter here.
        (2000 + n(&b[..2]), &b[2..])
    };
    let (month, day) = (n(&rest[..2]), n(&rest[2..4]));
    if !(1..=12).contains(&month) {
        return Err(format!("month must be 01 to 12, got {month:02}"));
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if (day == 0 && day_zero) || (1..=days).contains(&day) {
        Ok(())
    } else {
        Err(format!("day {day:02} does not exist in month {month:02}"))
    }
}

fn pcenc(b: &[u8]) -> Result<(), String> {
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let ok =
                b.len() > i + 2 && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit();
            if !ok {
                return Err("bad percent-encoding".into());
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    Ok(())
}

fn iban(v: &str) -> Result<(), String> {
    let b = v.as_bytes();
    if b.len() < 5
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..4].iter().all(u8::is_ascii_digit)
        || !b[4..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return Err(
            "IBAN must be a country code, two check digits and upper-case letters or digits".into(),
        );
    }
    if !ISO.alpha2.contains(&v[..2]) {
        return Err(format!("IBAN country {} is not an ISO 3166 code", &v[..2]));
    }
    let mut rem = 0u32;
    for &c in b[4..].iter().chain(&b[..4]) {
        let d = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        };
        rem = if d >= 10 {
            (rem * 100 + d) % 97
        } else {
            (rem * 10 + d) % 97
        };
    }
    expect(rem == 1, "IBAN check digits are wrong")
}

struct IsoCodes {
    numeric: HashSet<&'static str>,
    alpha2: HashSet<&'static str>,
    currency: HashSet<&'static str>,
}

static ISO: LazyLock<IsoCodes> = LazyLock::new(|| {
    let rows = |text: &'static str| {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once(' '))
    };
    let countries = include_str!("../../data/gs1/iso3166.txt");
    IsoCodes {
        numeric: rows(countries).map(|(n, _)| n).collect(),
        alpha2: rows(countries).map(|(_, a)| a).collect(),
        currency: rows(include_str!("../../data/gs1/iso4217.txt"))
            .map(|(n, _)| n)
            .collect(),
    }
});

#[cfg(test)]
mod tests {
    use super::Linter::*;

    #[test]
    fn check_digits() {
        assert_eq!(Csum.check("09521234543213"), Ok(()));
        assert_eq!(
            Csum.check("09521234543214"),
            Err("check digit should be 3, got 4".into())
        );
        // GS1 General Specifications' GMN example.
        assert_eq!(CsumAlpha.check("1987654Ad4X4bL5ttr2310c2K"), Ok(()));
        assert!(CsumAlpha.check("1987654Ad4X4bL5ttr2310c2L").is_err());
    }

    #[test]
    fn dates_and_times() {
        assert!(YyMmDd.check("240229").is_ok());
        assert!(YyMmDd.check("230229").is_err());
        assert!(YyMmD0.check("231200").is_ok());
        assert!(YyMmDd.check("231200").is_err());
        assert!(YyMmDd.check("231301").is_err());
        assert!(YyyyMmDd.check("20241231").is_ok());
        assert!(HhMi.check("2359").is_ok() && HhMi.check("2460").is_err());
    }

    #[test]
    fn code_lists() {
        assert!(Iso3166.check("156").is_ok() && Iso3166.check("000").is_err());
        assert!(Iso3166_999.check("999").is_ok());
        assert!(Iso3166Alpha2.check("CN").is_ok() && Iso3166Alpha2.check("XX").is_err());
        assert!(Iso4217.check("156").is_ok() && Iso4217.check("001").is_err());
        assert!(Iban.check("GB82WEST12345698765432").is_ok());
        assert!(Iban.check("GB82WEST12345698765433").is_err());
        assert!(PieceOfTotal.check("0102").is_ok() && PieceOfTotal.check("0301").is_err());
        assert!(PcEnc.check("a%20b").is_ok() && PcEnc.check("a%2").is_err());
    }
}
