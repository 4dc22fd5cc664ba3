//! The index written to and read back from a byte stream, so a restart loads it in seconds instead of
//! re-reading every event. The format is the index's own arrays, little-endian, behind a header and followed
//! by a CRC-32 of everything before it; a snapshot that fails any check is rejected whole.

use crate::adjacency::Adjacency;
use crate::index::{ALL, CloseOp, EdgeRec, TraceIndex};
use crate::names::Names;
use crate::whereabouts::{NONE, States, Values};
use std::io::{self, Read, Write};

const MAGIC: &[u8; 8] = b"SYTRACE\0";
const VERSION: u32 = 2;

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
        put_strings(&mut w, &n.prefixes)?;
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
        // Whereabouts.
        let st = &self.states;
        put_strings(&mut w, &st.values.list)?;
        put(&mut w, &st.last_seq)?;
        put(&mut w, &st.location)?;
        put(&mut w, &st.disposition)?;
        put(&mut w, &st.party)?;
        put(&mut w, &st.container)?;
        let mut handed: Vec<u32> = st.handovers.keys().copied().collect();
        handed.sort_unstable();
        let counts: Vec<u32> = handed
            .iter()
            .map(|n| st.handovers[n].len() as u32)
            .collect();
        let seqs: Vec<u64> = handed
            .iter()
            .flat_map(|n| st.handovers[n].iter().copied())
            .collect();
        put(&mut w, &handed)?;
        put(&mut w, &counts)?;
        put(&mut w, &seqs)?;
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

        let prefixes = get_strings(&mut r, len)?;
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

        // The name table is rebuilt on the other core while the rest is read and checked.
        let names = Names::from_parts(prefixes, node_prefix, suffix_end, suffixes);
        let (names, unique, rest) = std::thread::scope(|scope| {
            let builder = scope.spawn(move || {
                let mut names = names;
                let unique = names.rebuild_lookup();
                (names, unique)
            });
            let rest = read_rest(&mut r, len, nodes, last_seq);
            match builder.join() {
                Ok((names, unique)) => Ok((names, unique, rest)),
                Err(_) => Err(invalid("rebuilding the name table failed")),
            }
        })?;
        check(unique, "node names unique")?;
        let mut index = rest?;
        index.names = names;
        Ok((index, SnapshotHeader { last_seq, tag }))
    }
}

/// Reads and checks everything after the names (the index is returned with empty names).
fn read_rest<R: Read>(
    r: &mut Crc<R>,
    len: u64,
    nodes: usize,
    last_seq: u64,
) -> Result<TraceIndex, SnapshotError> {
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
    let out = adjacency(r)?;
    let inn = adjacency(r)?;

    let parents: Vec<u32> = get(r, len)?;
    let counts: Vec<u32> = get(r, len)?;
    let seqs: Vec<u64> = get(r, len)?;
    let times: Vec<i64> = get(r, len)?;
    let children: Vec<u32> = get(r, len)?;
    let relations: Vec<u8> = get(r, len)?;
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
    let withdrawn: Vec<u64> = get(r, len)?;
    let values = get_strings(r, len)?;
    let last_seqs: Vec<u64> = get(r, len)?;
    let location: Vec<u32> = get(r, len)?;
    let disposition: Vec<u32> = get(r, len)?;
    let party: Vec<u32> = get(r, len)?;
    let container: Vec<u32> = get(r, len)?;
    let handed: Vec<u32> = get(r, len)?;
    let counts: Vec<u32> = get(r, len)?;
    let handover_seqs: Vec<u64> = get(r, len)?;
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
    check(
        handed.len() == counts.len()
            && handed.iter().all(|&n| (n as usize) < nodes)
            && counts.iter().map(|&c| c as usize).sum::<usize>() == handover_seqs.len(),
        "handovers consistent",
    )?;
    let mut handovers = hashbrown::HashMap::with_capacity(handed.len());
    let mut at = 0usize;
    for (n, c) in handed.into_iter().zip(counts) {
        handovers.insert(n, handover_seqs[at..at + c as usize].to_vec());
        at += c as usize;
    }
    let states = States {
        values: Values::from_list(values),
        last_seq: last_seqs,
        location,
        disposition,
        party,
        container,
        handovers,
    };

    let computed = r.crc.clone().finalize();
    let mut stored = [0u8; 4];
    r.inner.read_exact(&mut stored)?;
    if u32::from_le_bytes(stored) != computed {
        return Err(invalid("checksum mismatch: the file is damaged"));
    }

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
        states,
    })
}

fn check(ok: bool, what: &str) -> Result<(), SnapshotError> {
    if ok {
        Ok(())
    } else {
        Err(invalid(format!("structure check failed: {what}")))
    }
}
