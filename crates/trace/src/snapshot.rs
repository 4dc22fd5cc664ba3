//! The index written to and read back from a byte stream, so a restart loads it in seconds instead of
//! re-reading every event. The format is the index's own arrays, little-endian, behind a header and followed
//! by a CRC-32 of everything before it; a snapshot that fails any check is rejected whole.

use crate::adjacency::Adjacency;
use crate::index::{ALL, CloseOp, EdgeRec, TraceIndex};
use crate::names::Names;
use crate::whereabouts::{NONE, States, Values};
use hashbrown::HashMap;
use std::io::{self, Read, Seek, SeekFrom, Write};

const MAGIC: &[u8; 8] = b"SYTRACE\0";
const VERSION: u32 = 4;

/// Why a snapshot could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Reading or writing failed.
    #[error("trace snapshot I/O: {0}")]
    Io(#[from] io::Error),
    /// The bytes are not a snapshot of this version, or are damaged.
    #[error("trace snapshot invalid: {0}")]
    Invalid(String),
}

fn invalid(msg: impl Into<String>) -> SnapshotError {
    SnapshotError::Invalid(msg.into())
}

/// What a snapshot says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotHeader {
    /// The last ledger seq the index had applied.
    pub last_seq: u64,
    /// The caller's tag for that point of the ledger (e.g. the leaf hash at `last_seq`).
    pub tag: Vec<u8>,
}

/// Writes through a CRC-32.
struct Crc<W> {
    inner: W,
    crc: crc32fast::Hasher,
}

impl<W: Write> Write for Crc<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<R: Read> Read for Crc<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
}

fn put<W: Write, T: bytemuck::Pod>(w: &mut W, v: &[T]) -> io::Result<()> {
    w.write_all(&(v.len() as u64).to_le_bytes())?;
    w.write_all(bytemuck::cast_slice(v))
}

fn get<R: Read, T: bytemuck::Pod>(r: &mut R, limit: u64) -> Result<Vec<T>, SnapshotError> {
    let mut n = [0u8; 8];
    r.read_exact(&mut n)?;
    let n = u64::from_le_bytes(n);
    let bytes = n.saturating_mul(std::mem::size_of::<T>() as u64);
    if bytes > limit {
        return Err(invalid(format!(
            "a section claims {n} elements, more than the file holds"
        )));
    }
    let mut v = vec![T::zeroed(); n as usize];
    r.read_exact(bytemuck::cast_slice_mut(&mut v))?;
    Ok(v)
}

/// Writes lists keyed by node: the keys (ascending), the list lengths, then all elements.
fn put_groups<W: Write, T: bytemuck::Pod>(
    w: &mut W,
    groups: &HashMap<u32, Vec<T>>,
) -> io::Result<()> {
    let mut keys: Vec<u32> = groups.keys().copied().collect();
    keys.sort_unstable();
    let counts: Vec<u32> = keys.iter().map(|k| groups[k].len() as u32).collect();
    let items: Vec<T> = keys
        .iter()
        .flat_map(|k| groups[k].iter().copied())
        .collect();
    put(w, &keys)?;
    put(w, &counts)?;
    put(w, &items)
}

/// Reads what [`put_groups`] wrote, checking that keys are nodes and the lengths add up.
fn get_groups<R: Read, T: bytemuck::Pod>(
    r: &mut R,
    limit: u64,
    nodes: usize,
) -> Result<HashMap<u32, Vec<T>>, SnapshotError> {
    let keys: Vec<u32> = get(r, limit)?;
    let counts: Vec<u32> = get(r, limit)?;
    let items: Vec<T> = get(r, limit)?;
    check(
        keys.len() == counts.len()
            && keys.iter().all(|&k| (k as usize) < nodes)
            && counts.iter().map(|&c| c as usize).sum::<usize>() == items.len(),
        "grouped lists consistent",
    )?;
    let mut out = HashMap::with_capacity(keys.len());
    let mut at = 0usize;
    for (k, c) in keys.into_iter().zip(counts) {
        out.insert(k, items[at..at + c as usize].to_vec());
        at += c as usize;
    }
    Ok(out)
}

fn put_strings<W: Write>(w: &mut W, list: &[Box<str>]) -> io::Result<()> {
    let lens: Vec<u32> = list.iter().map(|p| p.len() as u32).collect();
    let bytes: Vec<u8> = list.iter().flat_map(|p| p.bytes()).collect();
    put(w, &lens)?;
    put(w, &bytes)
}

fn get_strings<R: Read>(r: &mut R, limit: u64) -> Result<Vec<Box<str>>, SnapshotError> {
    let lens: Vec<u32> = get(r, limit)?;
    let bytes: Vec<u8> = get(r, limit)?;
    let mut out = Vec::with_capacity(lens.len());
    let mut at = 0usize;
    for l in lens {
        let end = at.saturating_add(l as usize);
        let b = bytes
            .get(at..end)
            .ok_or_else(|| invalid("string lengths exceed their bytes"))?;
        let s = std::str::from_utf8(b).map_err(|_| invalid("a string is not UTF-8"))?;
        out.push(Box::<str>::from(s));
        at = end;
    }
    Ok(out)
}

/// Counts bytes and keeps none.
struct Count(u64);

impl Write for Count {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Bytes of the fixed header before the tag: magic, version, last seq, node count, stream B offset.
const HEADER: u64 = 8 + 4 + 8 + 8 + 8;

impl TraceIndex {
    /// Writes the index with a caller's tag for the ledger point it covers. The index must be compacted
    /// ([`TraceIndex::compact`]) first. The file holds two streams, each with its own CRC-32, so that a
    /// reader can load them on two cores: A (names) and B (everything else).
    pub fn write_snapshot<W: Write>(&self, mut w: W, tag: &[u8]) -> Result<(), SnapshotError> {
        if self.out.recent_len() > 0 || self.inn.recent_len() > 0 {
            return Err(invalid("the index has uncompacted edges; compact it first"));
        }
        let mut count = Count(0);
        self.write_a(&mut count)?;
        let b_offset = HEADER + 8 + tag.len() as u64 + count.0 + 4;
        // The header is covered by stream A's checksum.
        let mut a = Crc {
            inner: &mut w,
            crc: crc32fast::Hasher::new(),
        };
        a.write_all(MAGIC)?;
        a.write_all(&VERSION.to_le_bytes())?;
        a.write_all(&self.last_seq.to_le_bytes())?;
        a.write_all(&(self.names.len() as u64).to_le_bytes())?;
        a.write_all(&b_offset.to_le_bytes())?;
        put(&mut a, tag)?;
        self.write_a(&mut a)?;
        let crc = a.crc.finalize();
        w.write_all(&crc.to_le_bytes())?;
        let mut b = Crc {
            inner: &mut w,
            crc: crc32fast::Hasher::new(),
        };
        self.write_b(&mut b)?;
        let crc = b.crc.finalize();
        w.write_all(&crc.to_le_bytes())?;
        w.flush()?;
        Ok(())
    }

    /// Stream A: names (the reader rebuilds their hash table after them, so this stream is the short one).
    fn write_a<W: Write>(&self, w: &mut W) -> io::Result<()> {
        let n = &self.names;
        put_strings(w, &n.prefixes)?;
        put(w, &n.node_prefix)?;
        put(w, &n.suffix_end)?;
        put(w, &n.suffixes)
    }

    /// Stream B: edges, adjacency, unpacks, withdrawn events and whereabouts.
    fn write_b<W: Write>(&self, w: &mut W) -> io::Result<()> {
        put(w, &self.edges)?;
        put(w, &self.kinds)?;
        put(w, &self.run_first)?;
        put(w, &self.run_seq)?;
        let mut ends: Vec<(u32, u64)> = self.end_seqs.iter().map(|(k, v)| (*k, *v)).collect();
        ends.sort_unstable();
        let (end_edges, end_seqs): (Vec<u32>, Vec<u64>) = ends.into_iter().unzip();
        put(w, &end_edges)?;
        put(w, &end_seqs)?;
        put(w, &self.out.offsets)?;
        put(w, &self.out.targets)?;
        put(w, &self.inn.offsets)?;
        put(w, &self.inn.targets)?;
        put_groups(w, &self.closes)?;
        let mut withdrawn: Vec<u64> = self.withdrawn.iter().copied().collect();
        withdrawn.sort_unstable();
        put(w, &withdrawn)?;
        let st = &self.states;
        put_strings(w, &st.values.list)?;
        put(w, &st.last_seq)?;
        put(w, &st.location)?;
        put(w, &st.disposition)?;
        put(w, &st.party)?;
        put(w, &st.container)?;
        put_groups(w, &st.handovers)
    }

    /// Reads a snapshot written by [`TraceIndex::write_snapshot`] through two readers that `open` gives
    /// (one per stream, read on two cores), checking its structure and checksums; returns the index and the
    /// header for the caller to check against its ledger.
    pub fn read_snapshot<R, F>(open: F) -> Result<(TraceIndex, SnapshotHeader), SnapshotError>
    where
        R: Read + Seek + Send,
        F: Fn() -> io::Result<R> + Sync,
    {
        let mut r = open()?;
        let len = r.seek(SeekFrom::End(0))?;
        r.seek(SeekFrom::Start(0))?;
        let mut magic = [0u8; 8];
        r.read_exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(invalid("not a Suyuan trace snapshot"));
        }
        let mut word = [0u8; 4];
        r.read_exact(&mut word)?;
        let version = u32::from_le_bytes(word);
        if version != VERSION {
            return Err(invalid(format!(
                "format version {version}, this build reads {VERSION}"
            )));
        }
        let mut long = || -> io::Result<u64> {
            let mut b = [0u8; 8];
            r.read_exact(&mut b)?;
            Ok(u64::from_le_bytes(b))
        };
        let last_seq = long()?;
        let nodes = long()?;
        let b_offset = long()?;
        let tag: Vec<u8> = get(&mut r, len)?;
        let a_offset = HEADER + 8 + tag.len() as u64;
        if nodes > len || b_offset > len || b_offset < a_offset {
            return Err(invalid("header sizes exceed the file"));
        }
        let nodes = nodes as usize;
        // Stream A (names, then their hash table) on another core; stream B here.
        let (a, b) = std::thread::scope(|scope| {
            let a = scope.spawn(|| -> Result<Names, SnapshotError> {
                read_a(open()?, a_offset, len, nodes)
            });
            let b = open().map_err(SnapshotError::from).and_then(|mut r| {
                r.seek(SeekFrom::Start(b_offset))?;
                read_b(r, len, nodes, last_seq)
            });
            match a.join() {
                Ok(a) => Ok((a, b)),
                Err(_) => Err(invalid("reading the names failed")),
            }
        })?;
        let names = a?;
        let mut index = b?;
        index.names = names;
        Ok((index, SnapshotHeader { last_seq, tag }))
    }
}

/// Checks the CRC-32 that follows a stream.
fn check_crc<R: Read>(r: &mut Crc<R>) -> Result<(), SnapshotError> {
    let computed = r.crc.clone().finalize();
    let mut stored = [0u8; 4];
    r.inner.read_exact(&mut stored)?;
    if u32::from_le_bytes(stored) != computed {
        return Err(invalid("checksum mismatch: the file is damaged"));
    }
    Ok(())
}

/// Reads and checks stream A (which starts at `a_offset`, after the header its checksum also covers) and
/// rebuilds the name table.
fn read_a<R: Read>(r: R, a_offset: u64, len: u64, nodes: usize) -> Result<Names, SnapshotError> {
    let mut r = Crc {
        inner: r,
        crc: crc32fast::Hasher::new(),
    };
    let r = &mut r;
    io::copy(&mut r.by_ref().take(a_offset), &mut io::sink())?;
    let prefixes = get_strings(r, len)?;
    let node_prefix: Vec<u32> = get(r, len)?;
    let suffix_end: Vec<u64> = get(r, len)?;
    let suffixes: Vec<u8> = get(r, len)?;
    check(
        node_prefix.len() == nodes && suffix_end.len() == nodes,
        "one prefix and one suffix per node",
    )?;
    check(
        node_prefix.iter().all(|&p| (p as usize) < prefixes.len()),
        "prefix ids in range",
    )?;
    check(
        suffix_end.windows(2).all(|w| w[0] <= w[1])
            && suffix_end.last().copied().unwrap_or(0) == suffixes.len() as u64,
        "suffix ends ascending and covering the suffix bytes",
    )?;
    check_crc(r)?;
    let mut names = Names::from_parts(prefixes, node_prefix, suffix_end, suffixes);
    check(names.rebuild_lookup(), "node names unique")?;
    Ok(names)
}

/// Reads and checks stream B (the index is returned with empty names).
fn read_b<R: Read>(
    r: R,
    len: u64,
    nodes: usize,
    last_seq: u64,
) -> Result<TraceIndex, SnapshotError> {
    let mut r = Crc {
        inner: r,
        crc: crc32fast::Hasher::new(),
    };
    let r = &mut r;
    let edges: Vec<EdgeRec> = get(r, len)?;
    let kinds: Vec<u8> = get(r, len)?;
    let run_first: Vec<u32> = get(r, len)?;
    let run_seq: Vec<u64> = get(r, len)?;
    let end_edges: Vec<u32> = get(r, len)?;
    let end_seqs: Vec<u64> = get(r, len)?;
    let e = edges.len();
    check(kinds.len() == e, "one kind per edge")?;
    check(
        edges
            .iter()
            .all(|x| (x.from as usize) < nodes && (x.to as usize) < nodes),
        "edge ends are nodes",
    )?;
    check(
        run_first.len() == run_seq.len()
            && run_first.windows(2).all(|w| w[0] < w[1])
            && run_seq.windows(2).all(|w| w[0] < w[1])
            && run_first.last().is_none_or(|&f| (f as usize) < e),
        "edge runs ascending",
    )?;
    check(
        end_edges.len() == end_seqs.len() && end_edges.iter().all(|&x| (x as usize) < e),
        "containment ends name edges",
    )?;
    let mut adjacency = || -> Result<Adjacency, SnapshotError> {
        let offsets: Vec<u32> = get(r, len)?;
        let targets: Vec<u32> = get(r, len)?;
        check(
            offsets.len() == nodes + 1
                && offsets.first() == Some(&0)
                && offsets.windows(2).all(|w| w[0] <= w[1])
                && offsets.last().copied() == Some(targets.len() as u32)
                && targets.iter().all(|&t| (t as usize) < e),
            "adjacency offsets and edge ids in range",
        )?;
        Ok(Adjacency::from_parts(offsets, targets))
    };
    let out = adjacency()?;
    let inn = adjacency()?;
    let closes: HashMap<u32, Vec<CloseOp>> = get_groups(r, len, nodes)?;
    check(
        closes.values().flatten().all(|op| {
            (op.child == ALL || (op.child as usize) < nodes) && op.relation < 4 && op.pad == [0; 3]
        }),
        "unpack log consistent",
    )?;
    let withdrawn: Vec<u64> = get(r, len)?;
    let values = get_strings(r, len)?;
    let last_seqs: Vec<u64> = get(r, len)?;
    let location: Vec<u32> = get(r, len)?;
    let disposition: Vec<u32> = get(r, len)?;
    let party: Vec<u32> = get(r, len)?;
    let container: Vec<u32> = get(r, len)?;
    let handovers: HashMap<u32, Vec<u64>> = get_groups(r, len, nodes)?;
    let states_len = last_seqs.len();
    let value_ok = |v: &Vec<u32>| {
        v.len() == states_len && v.iter().all(|&x| x == NONE || (x as usize) < values.len())
    };
    check(
        states_len <= nodes
            && value_ok(&location)
            && value_ok(&disposition)
            && value_ok(&party)
            && container.len() == states_len
            && container.iter().all(|&c| c == NONE || (c as usize) < nodes),
        "object states consistent",
    )?;
    check_crc(r)?;
    Ok(TraceIndex {
        names: Names::default(),
        edges,
        kinds,
        run_first,
        run_seq,
        end_seqs: end_edges.into_iter().zip(end_seqs).collect(),
        out,
        inn,
        closes,
        withdrawn: withdrawn.into_iter().collect(),
        last_seq,
        states: States {
            values: Values::from_list(values),
            last_seq: last_seqs,
            location,
            disposition,
            party,
            container,
            handovers,
        },
    })
}

fn check(ok: bool, what: &str) -> Result<(), SnapshotError> {
    if ok {
        Ok(())
    } else {
        Err(invalid(format!("structure check failed: {what}")))
    }
}
