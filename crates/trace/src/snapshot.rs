//! The index written to and read back from a byte stream, so a restart loads it in seconds instead of
//! re-reading every event. The format is the index's own arrays, little-endian, behind a header and followed
//! by a CRC-32 of everything before it; a snapshot that fails any check is rejected whole.

use crate::adjacency::Adjacency;
use crate::index::{ALL, CloseOp, EdgeRec, TraceIndex};
use crate::names::Names;
use std::io::{self, Read, Write};

const MAGIC: &[u8; 8] = b"SYTRACE\0";
const VERSION: u32 = 1;

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

impl TraceIndex {
    /// Writes the index with a caller's tag for the ledger point it covers. The index must be compacted
    /// ([`TraceIndex::compact`]) first.
    pub fn write_snapshot<W: Write>(&self, w: W, tag: &[u8]) -> Result<(), SnapshotError> {
        if self.out.recent_len() > 0 || self.inn.recent_len() > 0 {
            return Err(invalid("the index has uncompacted edges; compact it first"));
        }
        let mut w = Crc {
            inner: w,
            crc: crc32fast::Hasher::new(),
        };
        w.write_all(MAGIC)?;
        w.write_all(&VERSION.to_le_bytes())?;
        w.write_all(&self.last_seq.to_le_bytes())?;
        put(&mut w, tag)?;
        // Names.
        let n = &self.names;
        let prefix_lens: Vec<u32> = n.prefixes.iter().map(|p| p.len() as u32).collect();
        let prefix_bytes: Vec<u8> = n.prefixes.iter().flat_map(|p| p.bytes()).collect();
        put(&mut w, &prefix_lens)?;
        put(&mut w, &prefix_bytes)?;
        put(&mut w, &n.node_prefix)?;
        put(&mut w, &n.suffix_end)?;
        put(&mut w, &n.suffixes)?;
        // Edges.
        put(&mut w, &self.edges)?;
        put(&mut w, &self.kinds)?;
        put(&mut w, &self.run_first)?;
        put(&mut w, &self.run_seq)?;
        let mut ends: Vec<(u32, u64)> = self.end_seqs.iter().map(|(k, v)| (*k, *v)).collect();
        ends.sort_unstable();
        let (end_edges, end_seqs): (Vec<u32>, Vec<u64>) = ends.into_iter().unzip();
        put(&mut w, &end_edges)?;
        put(&mut w, &end_seqs)?;
        put(&mut w, &self.out.offsets)?;
        put(&mut w, &self.out.targets)?;
        put(&mut w, &self.inn.offsets)?;
        put(&mut w, &self.inn.targets)?;
        // Unpacks and withdrawn events.
        let mut parents: Vec<u32> = self.closes.keys().copied().collect();
        parents.sort_unstable();
        let mut counts = Vec::with_capacity(parents.len());
        let (mut seqs, mut times, mut children, mut relations) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for p in &parents {
            let ops = &self.closes[p];
            counts.push(ops.len() as u32);
            for op in ops {
                seqs.push(op.seq);
                times.push(op.time_ms);
                children.push(op.child);
                relations.push(op.relation);
            }
        }
        put(&mut w, &parents)?;
        put(&mut w, &counts)?;
        put(&mut w, &seqs)?;
        put(&mut w, &times)?;
        put(&mut w, &children)?;
        put(&mut w, &relations)?;
        let mut withdrawn: Vec<u64> = self.withdrawn.iter().copied().collect();
        withdrawn.sort_unstable();
        put(&mut w, &withdrawn)?;
        let crc = w.crc.clone().finalize();
        w.inner.write_all(&crc.to_le_bytes())?;
        w.flush()?;
        Ok(())
    }

    /// Reads a snapshot of `len` bytes written by [`TraceIndex::write_snapshot`], checking its structure and
    /// checksum; returns the index and the header for the caller to check against its ledger.
    pub fn read_snapshot<R: Read>(
        r: R,
        len: u64,
    ) -> Result<(TraceIndex, SnapshotHeader), SnapshotError> {
        let mut r = Crc {
            inner: r,
            crc: crc32fast::Hasher::new(),
        };
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
        let mut long = [0u8; 8];
        r.read_exact(&mut long)?;
        let last_seq = u64::from_le_bytes(long);
        let tag: Vec<u8> = get(&mut r, len)?;

        let prefix_lens: Vec<u32> = get(&mut r, len)?;
        let prefix_bytes: Vec<u8> = get(&mut r, len)?;
        let mut prefixes = Vec::with_capacity(prefix_lens.len());
        let mut at = 0usize;
        for l in prefix_lens {
            let end = at.saturating_add(l as usize);
            let bytes = prefix_bytes
                .get(at..end)
                .ok_or_else(|| invalid("prefix lengths exceed the prefix bytes"))?;
            let s = std::str::from_utf8(bytes).map_err(|_| invalid("a prefix is not UTF-8"))?;
            prefixes.push(Box::<str>::from(s));
            at = end;
        }
        let node_prefix: Vec<u32> = get(&mut r, len)?;
        let suffix_end: Vec<u64> = get(&mut r, len)?;
        let suffixes: Vec<u8> = get(&mut r, len)?;
        let nodes = node_prefix.len();
        check(suffix_end.len() == nodes, "one suffix end per node")?;
        check(
            node_prefix.iter().all(|&p| (p as usize) < prefixes.len()),
            "prefix ids in range",
        )?;
        check(
            suffix_end.windows(2).all(|w| w[0] <= w[1])
                && suffix_end.last().copied().unwrap_or(0) == suffixes.len() as u64,
            "suffix ends ascending and covering the suffix bytes",
        )?;

        let edges: Vec<EdgeRec> = get(&mut r, len)?;
        let kinds: Vec<u8> = get(&mut r, len)?;
        let run_first: Vec<u32> = get(&mut r, len)?;
        let run_seq: Vec<u64> = get(&mut r, len)?;
        let end_edges: Vec<u32> = get(&mut r, len)?;
        let end_seqs: Vec<u64> = get(&mut r, len)?;
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
        let adjacency = |r: &mut Crc<R>| -> Result<Adjacency, SnapshotError> {
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
        let out = adjacency(&mut r)?;
        let inn = adjacency(&mut r)?;

        let parents: Vec<u32> = get(&mut r, len)?;
        let counts: Vec<u32> = get(&mut r, len)?;
        let seqs: Vec<u64> = get(&mut r, len)?;
        let times: Vec<i64> = get(&mut r, len)?;
        let children: Vec<u32> = get(&mut r, len)?;
        let relations: Vec<u8> = get(&mut r, len)?;
        let ops = seqs.len();
        check(
            parents.len() == counts.len()
                && parents.iter().all(|&p| (p as usize) < nodes)
                && counts.iter().map(|&c| c as usize).sum::<usize>() == ops
                && times.len() == ops
                && children.len() == ops
                && relations.len() == ops
                && children.iter().all(|&c| c == ALL || (c as usize) < nodes),
            "unpack log consistent",
        )?;
        let mut closes = hashbrown::HashMap::with_capacity(parents.len());
        let mut at = 0usize;
        for (p, c) in parents.into_iter().zip(counts) {
            let list: Vec<CloseOp> = (at..at + c as usize)
                .map(|i| CloseOp {
                    seq: seqs[i],
                    time_ms: times[i],
                    child: children[i],
                    relation: relations[i],
                })
                .collect();
            at += c as usize;
            closes.insert(p, list);
        }
        let withdrawn: Vec<u64> = get(&mut r, len)?;

        let computed = r.crc.clone().finalize();
        let mut stored = [0u8; 4];
        r.inner.read_exact(&mut stored)?;
        if u32::from_le_bytes(stored) != computed {
            return Err(invalid("checksum mismatch: the file is damaged"));
        }

        let mut names = Names::from_parts(prefixes, node_prefix, suffix_end, suffixes);
        check(names.rebuild_lookup(), "node names unique")?;
        let index = TraceIndex {
            names,
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
        };
        Ok((index, SnapshotHeader { last_seq, tag }))
    }
}

fn check(ok: bool, what: &str) -> Result<(), SnapshotError> {
    if ok {
        Ok(())
    } else {
        Err(invalid(format!("structure check failed: {what}")))
    }
}
