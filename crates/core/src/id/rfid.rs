//! EPC binary encodings of the GS1 EPC Tag Data Standard for UHF RFID tags: SGTIN-96/198, SSCC-96,
//! SGLN-96/195, GRAI-96/170, GIAI-96/202, with filter values and partitions. Encoding starts from the pure
//! identity URN (the company prefix split is part of it); decoding yields the tag URI and the pure identity.

use super::IdError;

/// A binary encoding scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// SGTIN-96: numeric serial up to 274877906943.
    Sgtin96,
    /// SGTIN-198: alphanumeric serial up to 20 characters.
    Sgtin198,
    /// SSCC-96.
    Sscc96,
    /// SGLN-96: numeric extension.
    Sgln96,
    /// SGLN-195: alphanumeric extension.
    Sgln195,
    /// GRAI-96: numeric serial.
    Grai96,
    /// GRAI-170: alphanumeric serial up to 16 characters.
    Grai170,
    /// GIAI-96: numeric asset reference.
    Giai96,
    /// GIAI-202: alphanumeric asset reference.
    Giai202,
}

/// Company prefix bits and digits by partition value, then reference bits and digits.
type Partitions = [(u32, usize, u32, usize); 7];

const SGTIN_P: Partitions = [
    (40, 12, 4, 1),
    (37, 11, 7, 2),
    (34, 10, 10, 3),
    (30, 9, 14, 4),
    (27, 8, 17, 5),
    (24, 7, 20, 6),
    (20, 6, 24, 7),
];
const GRAI_P: Partitions = [
    (40, 12, 4, 0),
    (37, 11, 7, 1),
    (34, 10, 10, 2),
    (30, 9, 14, 3),
    (27, 8, 17, 4),
    (24, 7, 20, 5),
    (20, 6, 24, 6),
];
const SSCC_P: Partitions = [
    (40, 12, 18, 5),
    (37, 11, 21, 6),
    (34, 10, 24, 7),
    (30, 9, 28, 8),
    (27, 8, 31, 9),
    (24, 7, 34, 10),
    (20, 6, 38, 11),
];
const SGLN_P: Partitions = [
    (40, 12, 1, 0),
    (37, 11, 4, 1),
    (34, 10, 7, 2),
    (30, 9, 11, 3),
    (27, 8, 14, 4),
    (24, 7, 17, 5),
    (20, 6, 21, 6),
];
/// GIAI-96: the reference is an integer; digits are its maximum count.
const GIAI96_P: Partitions = [
    (40, 12, 42, 13),
    (37, 11, 45, 14),
    (34, 10, 48, 15),
    (30, 9, 52, 16),
    (27, 8, 55, 17),
    (24, 7, 58, 18),
    (20, 6, 62, 19),
];
/// GIAI-202: the reference is a string; digits are its maximum character count.
const GIAI202_P: Partitions = [
    (40, 12, 148, 18),
    (37, 11, 151, 19),
    (34, 10, 154, 20),
    (30, 9, 158, 21),
    (27, 8, 161, 22),
    (24, 7, 164, 23),
    (20, 6, 168, 24),
];

/// What follows the partitioned part.
#[derive(Clone, Copy)]
enum Tail {
    /// An integer of this many bits (no leading zeros).
    Integer(u32),
    /// A 7-bit string of this many bits.
    String(u32),
    /// This many zero bits (SSCC-96).
    Reserved(u32),
    /// Nothing (GIAI: the reference is the partitioned part's second field).
    None,
}

/// The second field of the partition: fixed digits with leading zeros, an integer, or a string.
#[derive(Clone, Copy, PartialEq)]
enum RefKind {
    Digits,
    Integer,
    String,
}

struct Layout {
    header: u8,
    name: &'static str,
    pure: &'static str,
    bits: u32,
    partitions: &'static Partitions,
    reference: RefKind,
    tail: Tail,
}

impl Scheme {
    fn layout(self) -> Layout {
        use Scheme::*;
        let l = |header, name, pure, bits, partitions, reference, tail| Layout {
            header,
            name,
            pure,
            bits,
            partitions,
            reference,
            tail,
        };
        match self {
            Sgtin96 => l(
                0x30,
                "sgtin-96",
                "sgtin",
                96,
                &SGTIN_P,
                RefKind::Digits,
                Tail::Integer(38),
            ),
            Sgtin198 => l(
                0x36,
                "sgtin-198",
                "sgtin",
                198,
                &SGTIN_P,
                RefKind::Digits,
                Tail::String(140),
            ),
            Sscc96 => l(
                0x31,
                "sscc-96",
                "sscc",
                96,
                &SSCC_P,
                RefKind::Digits,
                Tail::Reserved(24),
            ),
            Sgln96 => l(
                0x32,
                "sgln-96",
                "sgln",
                96,
                &SGLN_P,
                RefKind::Digits,
                Tail::Integer(41),
            ),
            Sgln195 => l(
                0x39,
                "sgln-195",
                "sgln",
                195,
                &SGLN_P,
                RefKind::Digits,
                Tail::String(140),
            ),
            Grai96 => l(
                0x33,
                "grai-96",
                "grai",
                96,
                &GRAI_P,
                RefKind::Digits,
                Tail::Integer(38),
            ),
            Grai170 => l(
                0x37,
                "grai-170",
                "grai",
                170,
                &GRAI_P,
                RefKind::Digits,
                Tail::String(112),
            ),
            Giai96 => l(
                0x34,
                "giai-96",
                "giai",
                96,
                &GIAI96_P,
                RefKind::Integer,
                Tail::None,
            ),
            Giai202 => l(
                0x38,
                "giai-202",
                "giai",
                202,
                &GIAI202_P,
                RefKind::String,
                Tail::None,
            ),
        }
    }

    /// The scheme of a tag URI name such as `sgtin-96`.
    pub fn from_name(name: &str) -> Option<Scheme> {
        use Scheme::*;
        [
            Sgtin96, Sgtin198, Sscc96, Sgln96, Sgln195, Grai96, Grai170, Giai96, Giai202,
        ]
        .into_iter()
        .find(|s| s.layout().name == name)
    }

    fn from_header(h: u8) -> Option<Scheme> {
        use Scheme::*;
        [
            Sgtin96, Sgtin198, Sscc96, Sgln96, Sgln195, Grai96, Grai170, Giai96, Giai202,
        ]
        .into_iter()
        .find(|s| s.layout().header == h)
    }

    /// The tag URI name, e.g. `sgtin-96`.
    pub fn name(self) -> &'static str {
        self.layout().name
    }
}

fn bad(msg: impl Into<String>) -> IdError {
    IdError::Rfid(msg.into())
}

#[derive(Default)]
struct Bits(Vec<bool>);

impl Bits {
    fn push(&mut self, value: u128, n: u32) {
        for i in (0..n).rev() {
            self.0.push(i < 128 && (value >> i) & 1 == 1);
        }
    }

    fn to_hex(&self) -> String {
        let mut out = String::new();
        for chunk in self.0.chunks(16) {
            let mut word = 0u16;
            for (i, &b) in chunk.iter().enumerate() {
                if b {
                    word |= 1 << (15 - i);
                }
            }
            out.push_str(&format!("{word:04X}"));
        }
        out
    }
}

struct Reader<'a> {
    bits: &'a [bool],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: u32) -> Result<u128, IdError> {
        let n = n as usize;
        if self.pos + n > self.bits.len() {
            return Err(bad("the tag holds fewer bits than its header announces"));
        }
        let v = self.bits[self.pos..self.pos + n]
            .iter()
            .fold(0u128, |v, &b| (v << 1) | u128::from(b));
        self.pos += n;
        Ok(v)
    }

    fn string(&mut self, n: u32) -> Result<String, IdError> {
        let mut s = String::new();
        let mut ended = false;
        for _ in 0..n / 7 {
            let c = self.take(7)? as u8;
            if c == 0 {
                ended = true;
            } else if ended {
                return Err(bad("non-zero character after the end of the string"));
            } else {
                s.push(char::from(c));
            }
        }
        self.take(n % 7)?;
        Ok(super::epc::escape(&s))
    }
}

fn unescape_urn(s: &str) -> Result<String, IdError> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| bad(format!("bad escape in {s}")))
}

fn digits(s: &str, what: &str) -> Result<u128, IdError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 38 {
        return Err(bad(format!("{what} must be digits, got '{s}'")));
    }
    s.parse()
        .map_err(|_| bad(format!("{what} must be digits, got '{s}'")))
}

fn integer(s: &str, bits: u32, what: &str) -> Result<u128, IdError> {
    let v = digits(s, what)?;
    if s.len() > 1 && s.starts_with('0') {
        return Err(bad(format!(
            "{what} '{s}' has a leading zero, which this binary encoding cannot keep; use the alphanumeric encoding"
        )));
    }
    if v >> bits != 0 {
        return Err(bad(format!(
            "{what} {s} is larger than {} bits allow ({})",
            bits,
            (1u128 << bits) - 1
        )));
    }
    Ok(v)
}

fn push_string(bits: &mut Bits, s: &str, n: u32, what: &str) -> Result<(), IdError> {
    let raw = unescape_urn(s)?;
    let max = (n / 7) as usize;
    if raw.chars().count() > max {
        return Err(bad(format!(
            "{what} '{raw}' is longer than {max} characters"
        )));
    }
    for c in raw.chars() {
        if !c.is_ascii() || c == '\0' || c.is_ascii_control() {
            return Err(bad(format!("{what} holds '{c}', which a tag cannot store")));
        }
        bits.push(u128::from(c as u8), 7);
    }
    bits.push(0, n - 7 * raw.chars().count() as u32);
    Ok(())
}

/// Encodes a pure identity URN (`urn:epc:id:sgtin:0614141.812345.6789`) for a tag, as upper-case hex.
pub fn encode(pure_urn: &str, scheme: Scheme, filter: u8) -> Result<String, IdError> {
    let l = scheme.layout();
    if filter > 7 {
        return Err(bad(format!("filter value must be 0 to 7, got {filter}")));
    }
    let body = pure_urn
        .strip_prefix("urn:epc:id:")
        .and_then(|r| r.strip_prefix(l.pure))
        .and_then(|r| r.strip_prefix(':'))
        .ok_or_else(|| {
            bad(format!(
                "{} encodes urn:epc:id:{}:… identities, got {pure_urn}",
                l.name, l.pure
            ))
        })?;
    let n_fields = if matches!(l.tail, Tail::None) { 2 } else { 3 };
    let fields: Vec<&str> = body.splitn(n_fields, '.').collect();
    let cp = fields[0];
    let p = l
        .partitions
        .iter()
        .position(|&(_, d, _, _)| d == cp.len())
        .ok_or_else(|| bad(format!("company prefix '{cp}' must have 6 to 12 digits")))?;
    let (cp_bits, _, ref_bits, ref_digits) = l.partitions[p];
    let mut bits = Bits::default();
    bits.push(u128::from(l.header), 8);
    bits.push(u128::from(filter), 3);
    bits.push(p as u128, 3);
    bits.push(digits(cp, "company prefix")?, cp_bits);
    let reference = fields.get(1).copied().unwrap_or("");
    match l.reference {
        RefKind::Digits => {
            if reference.len() != ref_digits {
                return Err(bad(format!(
                    "with a {}-digit company prefix the reference must have {ref_digits} digits, got '{reference}'",
                    cp.len()
                )));
            }
            let v = if ref_digits == 0 {
                0
            } else {
                digits(reference, "reference")?
            };
            bits.push(v, ref_bits);
        }
        RefKind::Integer => bits.push(integer(reference, ref_bits, "asset reference")?, ref_bits),
        RefKind::String => push_string(&mut bits, reference, ref_bits, "asset reference")?,
    }
    let tail_field = || {
        fields
            .get(2)
            .copied()
            .ok_or_else(|| bad(format!("{pure_urn} lacks its serial or extension")))
    };
    match l.tail {
        Tail::Integer(n) => bits.push(integer(tail_field()?, n, "serial")?, n),
        Tail::String(n) => push_string(&mut bits, tail_field()?, n, "serial")?,
        Tail::Reserved(n) => bits.push(0, n),
        Tail::None => {}
    }
    debug_assert_eq!(bits.0.len() as u32, l.bits);
    Ok(bits.to_hex())
}

/// A decoded tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// The encoding scheme from the header.
    pub scheme: Scheme,
    /// The filter value (0–7).
    pub filter: u8,
    /// The tag URI, e.g. `urn:epc:tag:sgtin-96:3.0614141.812345.6789`.
    pub tag_uri: String,
    /// The pure identity URN, e.g. `urn:epc:id:sgtin:0614141.812345.6789`.
    pub pure_uri: String,
}

/// Whether `input` looks like EPC hex a reader reports (24 to 52 hex digits with a known header).
pub fn looks_like_epc_hex(input: &str) -> bool {
    (24..=56).contains(&input.len())
        && input.bytes().all(|b| b.is_ascii_hexdigit())
        && u8::from_str_radix(&input[..2], 16)
            .ok()
            .and_then(Scheme::from_header)
            .is_some()
}

/// Decodes the EPC memory bank content a reader reports (hex; trailing padding words are ignored).
pub fn decode(hex: &str) -> Result<Tag, IdError> {
    let hex = hex.trim();
    if hex.len() < 2 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad(format!("'{hex}' is not hex")));
    }
    let mut bits = Vec::with_capacity(hex.len() * 4);
    for c in hex.chars() {
        let v = c.to_digit(16).unwrap_or(0);
        bits.extend((0..4).rev().map(|i| (v >> i) & 1 == 1));
    }
    let mut r = Reader {
        bits: &bits,
        pos: 0,
    };
    let header = r.take(8)? as u8;
    let scheme = Scheme::from_header(header).ok_or_else(|| {
        bad(format!(
            "header {header:02X} is not a supported GS1 EPC scheme"
        ))
    })?;
    let l = scheme.layout();
    if bits.len() < l.bits as usize {
        return Err(bad(format!(
            "{} needs {} bits, the tag holds {}",
            l.name,
            l.bits,
            bits.len()
        )));
    }
    let filter = r.take(3)? as u8;
    let p = r.take(3)? as usize;
    let &(cp_bits, cp_digits, ref_bits, ref_digits) = l
        .partitions
        .get(p)
        .ok_or_else(|| bad(format!("partition value {p} is not defined")))?;
    let cp = r.take(cp_bits)?;
    if cp >= 10u128.pow(cp_digits as u32) {
        return Err(bad(
            "company prefix has more digits than its partition allows",
        ));
    }
    let cp = format!("{cp:0cp_digits$}");
    let reference = match l.reference {
        RefKind::Digits => {
            let v = r.take(ref_bits)?;
            if ref_digits == 0 {
                if v != 0 {
                    return Err(bad("reference must be empty for this partition"));
                }
                String::new()
            } else {
                if v >= 10u128.pow(ref_digits as u32) {
                    return Err(bad("reference has more digits than its partition allows"));
                }
                format!("{v:0ref_digits$}")
            }
        }
        RefKind::Integer => r.take(ref_bits)?.to_string(),
        RefKind::String => r.string(ref_bits)?,
    };
    let mut parts = vec![cp, reference];
    match l.tail {
        Tail::Integer(n) => parts.push(r.take(n)?.to_string()),
        Tail::String(n) => parts.push(r.string(n)?),
        Tail::Reserved(n) => {
            r.take(n)?;
        }
        Tail::None => {}
    }
    let body = parts.join(".");
    Ok(Tag {
        scheme,
        filter,
        tag_uri: format!("urn:epc:tag:{}:{filter}.{body}", l.name),
        pure_uri: format!("urn:epc:id:{}:{body}", l.pure),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_data_standard_examples() {
        // TDS 2.x, section 14.5.1 and E.3: SGTIN-96 and SSCC-96 worked examples.
        let hex =
            encode("urn:epc:id:sgtin:0614141.812345.6789", Scheme::Sgtin96, 3).expect("sgtin");
        assert_eq!(hex, "3074257BF7194E4000001A85");
        let tag = decode(&hex).expect("decode");
        assert_eq!(tag.tag_uri, "urn:epc:tag:sgtin-96:3.0614141.812345.6789");
        assert_eq!(tag.pure_uri, "urn:epc:id:sgtin:0614141.812345.6789");
        let sscc = encode("urn:epc:id:sscc:0614141.1234567890", Scheme::Sscc96, 3).expect("sscc");
        assert_eq!(sscc, "3174257BF4499602D2000000");
    }

    #[test]
    fn alphanumeric_serials_and_errors() {
        let urn = "urn:epc:id:sgtin:0614141.712345.32a%2Fb";
        let hex = encode(urn, Scheme::Sgtin198, 1).expect("198");
        assert_eq!(hex.len(), 52);
        assert_eq!(decode(&hex).expect("decode").pure_uri, urn);
        let e =
            encode("urn:epc:id:sgtin:0614141.712345.0123", Scheme::Sgtin96, 1).expect_err("zero");
        assert!(e.to_string().contains("leading zero"), "{e}");
        let e = encode(
            "urn:epc:id:sgtin:0614141.712345.274877906944",
            Scheme::Sgtin96,
            1,
        )
        .expect_err("too big");
        assert!(e.to_string().contains("38 bits"), "{e}");
        assert!(decode("FF00").is_err());
        assert!(decode("3074257BF7194E40").is_err());
    }
}
