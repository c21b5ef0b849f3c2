//! The embedded pipeline's durable queue: an append-only journal of
//! checksummed records in segment files, and an acknowledgement ledger.
//!
//! A collector appends what it read and syncs before it lets go of its
//! source (moves the file, answers the push); the pipeline acknowledges a
//! record only once its events are committed to the store. After a crash
//! everything past the acknowledged sequence number is read again, and
//! the store's idempotent insert (events are keyed by a hash of their
//! content) turns that at-least-once delivery into exactly-once storage.
//!
//! Layout: `segment-<first seq>.log` files of records
//! `[len u32][crc32 u32][seq u64][payload]` (little endian, the CRC over
//! seq and payload), and `acked`, a ledger of `[seq u64][crc32 u32]`
//! entries whose last good one is the acknowledged sequence number. A
//! record cut short or failing its CRC at the very end of the newest
//! segment is the torn write of a crash and is cut off; damage anywhere
//! else is refused, because records after it would be lost silently.
//! A segment is deleted once every record in it is acknowledged.

use crate::FeedError;
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const HEADER: usize = 16;
/// A record larger than this is refused on write and treated as damage on
/// read (a length field of garbage must not allocate gigabytes).
pub const MAX_RECORD: usize = 16 << 20;

#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    segment_bytes: u64,
    /// (first seq, path) of every segment, oldest first.
    segments: Vec<(u64, PathBuf)>,
    writer: Option<BufWriter<File>>,
    written: u64,
    next_seq: u64,
    acked: u64,
    ledger: File,
    ledger_entries: u64,
}

fn journal_err(path: &Path, err: std::io::Error) -> FeedError {
    FeedError::io(path, err)
}

fn segment_name(first: u64) -> String {
    format!("segment-{first:020}.log")
}

impl Journal {
    /// Opens (or creates) the journal in `dir`, repairing a torn tail.
    pub fn open(dir: &Path, segment_bytes: u64) -> Result<Journal, FeedError> {
        fs::create_dir_all(dir).map_err(|e| journal_err(dir, e))?;
        let mut segments = Vec::new();
        for entry in fs::read_dir(dir).map_err(|e| journal_err(dir, e))? {
            let entry = entry.map_err(|e| journal_err(dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(first) = name.strip_prefix("segment-").and_then(|n| n.strip_suffix(".log")).and_then(|n| n.parse::<u64>().ok()) {
                segments.push((first, entry.path()));
            }
        }
        segments.sort();
        let ledger_path = dir.join("acked");
        let acked = read_ledger(&ledger_path)?;
        let ledger = OpenOptions::new().create(true).append(true).open(&ledger_path).map_err(|e| journal_err(&ledger_path, e))?;
        let ledger_entries = ledger.metadata().map(|m| m.len() / 12).unwrap_or(0);
        let mut journal = Journal {
            dir: dir.to_path_buf(),
            segment_bytes: segment_bytes.max(4096),
            segments,
            writer: None,
            written: 0,
            next_seq: acked + 1,
            acked,
            ledger,
            ledger_entries,
        };
        // Every segment but the newest must be whole; the newest may end in
        // a torn record, which is cut off.
        let count = journal.segments.len();
        for index in 0..count {
            let (first, path) = journal.segments[index].clone();
            let last_segment = index + 1 == count;
            let (last_seq, good_len, end) = scan(&path, first)?;
            if end == End::Damaged || (end == End::Torn && !last_segment) {
                return Err(FeedError::Journal(format!(
                    "{} is damaged at byte {good_len}, before its end; records after it would be lost",
                    path.display()
                )));
            }
            if end == End::Torn {
                let file = OpenOptions::new().write(true).open(&path).map_err(|e| journal_err(&path, e))?;
                file.set_len(good_len).map_err(|e| journal_err(&path, e))?;
                file.sync_all().map_err(|e| journal_err(&path, e))?;
            }
            if let Some(last) = last_seq {
                journal.next_seq = journal.next_seq.max(last + 1);
            }
            journal.next_seq = journal.next_seq.max(first);
        }
        journal.prune()?;
        Ok(journal)
    }

    pub fn acked(&self) -> u64 {
        self.acked
    }

    /// The sequence number the next append will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Records appended and not yet acknowledged.
    pub fn pending(&self) -> u64 {
        self.next_seq.saturating_sub(self.acked + 1)
    }

    /// Appends a record; it is durable only after `sync`.
    pub fn append(&mut self, payload: &[u8]) -> Result<u64, FeedError> {
        if payload.len() > MAX_RECORD {
            return Err(FeedError::Journal(format!("a record of {} bytes is over the {} byte limit", payload.len(), MAX_RECORD)));
        }
        if self.writer.is_none() || self.written >= self.segment_bytes {
            self.roll()?;
        }
        let seq = self.next_seq;
        let mut header = [0u8; HEADER];
        header[..4].copy_from_slice(&u32::try_from(payload.len()).unwrap_or(u32::MAX).to_le_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(&seq.to_le_bytes());
        crc.update(payload);
        header[4..8].copy_from_slice(&crc.finalize().to_le_bytes());
        header[8..16].copy_from_slice(&seq.to_le_bytes());
        let path = self.current_path();
        let writer = self.writer.as_mut().ok_or_else(|| FeedError::Journal("no open segment".into()))?;
        writer.write_all(&header).map_err(|e| journal_err(&path, e))?;
        writer.write_all(payload).map_err(|e| journal_err(&path, e))?;
        self.written += (HEADER + payload.len()) as u64;
        self.next_seq += 1;
        Ok(seq)
    }

    /// Makes every appended record durable.
    pub fn sync(&mut self) -> Result<(), FeedError> {
        let path = self.current_path();
        if let Some(writer) = self.writer.as_mut() {
            writer.flush().map_err(|e| journal_err(&path, e))?;
            writer.get_ref().sync_data().map_err(|e| journal_err(&path, e))?;
        }
        Ok(())
    }

    fn current_path(&self) -> PathBuf {
        self.segments.last().map(|(_, p)| p.clone()).unwrap_or_else(|| self.dir.clone())
    }

    fn roll(&mut self) -> Result<(), FeedError> {
        self.sync()?;
        // Reopen the newest segment for appending if it has room (after a
        // restart), otherwise start a new one at the next sequence number.
        if self.writer.is_none()
            && let Some((_, path)) = self.segments.last()
        {
            let size = fs::metadata(path).map(|m| m.len()).unwrap_or(u64::MAX);
            if size < self.segment_bytes {
                let file = OpenOptions::new().append(true).open(path).map_err(|e| journal_err(path, e))?;
                self.writer = Some(BufWriter::with_capacity(1 << 16, file));
                self.written = size;
                return Ok(());
            }
        }
        let path = self.dir.join(segment_name(self.next_seq));
        let file = OpenOptions::new().create(true).append(true).open(&path).map_err(|e| journal_err(&path, e))?;
        // The directory entry must survive a crash too.
        if let Ok(dir) = File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        self.segments.push((self.next_seq, path));
        self.writer = Some(BufWriter::with_capacity(1 << 16, file));
        self.written = 0;
        self.prune()?;
        Ok(())
    }

    /// Acknowledges every record up to and including `seq`, durably, and
    /// deletes segments that hold nothing else.
    pub fn ack(&mut self, seq: u64) -> Result<(), FeedError> {
        if seq <= self.acked {
            return Ok(());
        }
        if seq >= self.next_seq {
            return Err(FeedError::Journal(format!("acknowledging {seq}, which was never appended")));
        }
        let path = self.dir.join("acked");
        if self.ledger_entries >= 1 << 16 {
            // Compact: one entry, written beside and renamed over.
            let temporary = self.dir.join("acked.new");
            let mut file = File::create(&temporary).map_err(|e| journal_err(&temporary, e))?;
            file.write_all(&ledger_entry(seq)).map_err(|e| journal_err(&temporary, e))?;
            file.sync_all().map_err(|e| journal_err(&temporary, e))?;
            fs::rename(&temporary, &path).map_err(|e| journal_err(&path, e))?;
            self.ledger = OpenOptions::new().append(true).open(&path).map_err(|e| journal_err(&path, e))?;
            self.ledger_entries = 1;
        } else {
            self.ledger.write_all(&ledger_entry(seq)).map_err(|e| journal_err(&path, e))?;
            self.ledger.sync_data().map_err(|e| journal_err(&path, e))?;
            self.ledger_entries += 1;
        }
        self.acked = seq;
        self.prune()
    }

    fn prune(&mut self) -> Result<(), FeedError> {
        // A segment is finished when a newer one exists; it is fully
        // acknowledged when the newer one starts at or before acked + 1.
        while self.segments.len() >= 2 && self.segments[1].0 <= self.acked + 1 {
            let (_, path) = self.segments.remove(0);
            fs::remove_file(&path).map_err(|e| journal_err(&path, e))?;
        }
        Ok(())
    }

    /// Every record after the acknowledged one, in order, for replay.
    pub fn unacked(&self) -> Result<Vec<(u64, Vec<u8>)>, FeedError> {
        let mut records = Vec::new();
        self.read_all(|seq, payload| {
            if seq > self.acked {
                records.push((seq, payload.to_vec()));
            }
        })?;
        Ok(records)
    }

    /// Calls `visit` for every record still on disk, acknowledged or not.
    pub fn read_all(&self, mut visit: impl FnMut(u64, &[u8])) -> Result<(), FeedError> {
        for (first, path) in &self.segments {
            read_segment(path, *first, &mut visit)?;
        }
        Ok(())
    }

    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }
}

fn ledger_entry(seq: u64) -> [u8; 12] {
    let mut entry = [0u8; 12];
    entry[..8].copy_from_slice(&seq.to_le_bytes());
    entry[8..].copy_from_slice(&crc32fast::hash(&seq.to_le_bytes()).to_le_bytes());
    entry
}

fn read_ledger(path: &Path) -> Result<u64, FeedError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(err) => return Err(journal_err(path, err)),
    };
    // The last whole entry with a good checksum: a torn final entry means
    // the acknowledgement before it is the one that held.
    let mut acked = 0;
    for entry in bytes.chunks_exact(12) {
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&entry[..8]);
        let mut crc = [0u8; 4];
        crc.copy_from_slice(&entry[8..]);
        if crc32fast::hash(&seq) == u32::from_le_bytes(crc) {
            acked = acked.max(u64::from_le_bytes(seq));
        }
    }
    Ok(acked)
}

/// Walks a segment: (last good seq, length of the good prefix, whether
/// anything after it was damaged or torn).
fn scan(path: &Path, first: u64) -> Result<(Option<u64>, u64, End), FeedError> {
    let mut last = None;
    let (good, end) = walk(path, first, &mut |seq, _| last = Some(seq))?;
    Ok((last, good, end))
}

fn read_segment(path: &Path, first: u64, visit: &mut dyn FnMut(u64, &[u8])) -> Result<(), FeedError> {
    let (_, end) = walk(path, first, visit)?;
    if end != End::Clean {
        return Err(FeedError::Journal(format!("{} is damaged", path.display())));
    }
    Ok(())
}

/// How a segment ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Clean,
    /// The last record is cut short or fails its check: a crash's torn write.
    Torn,
    /// A bad record with more after it.
    Damaged,
}

fn walk(path: &Path, first: u64, visit: &mut dyn FnMut(u64, &[u8])) -> Result<(u64, End), FeedError> {
    let mut file = File::open(path).map_err(|e| journal_err(path, e))?;
    let size = file.seek(SeekFrom::End(0)).map_err(|e| journal_err(path, e))?;
    file.seek(SeekFrom::Start(0)).map_err(|e| journal_err(path, e))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let mut offset = 0u64;
    let mut expected = first;
    let mut payload = Vec::new();
    while offset < size {
        let mut header = [0u8; HEADER];
        if size - offset < HEADER as u64 || reader.read_exact(&mut header).is_err() {
            return Ok((offset, End::Torn));
        }
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let mut seq_bytes = [0u8; 8];
        seq_bytes.copy_from_slice(&header[8..16]);
        let seq = u64::from_le_bytes(seq_bytes);
        let remaining = size - offset - HEADER as u64;
        if len > MAX_RECORD || remaining < len as u64 {
            return Ok((offset, End::Torn));
        }
        let last = remaining == len as u64;
        let bad = if last { End::Torn } else { End::Damaged };
        if seq != expected {
            return Ok((offset, bad));
        }
        payload.resize(len, 0);
        if reader.read_exact(&mut payload).is_err() {
            return Ok((offset, End::Torn));
        }
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&seq_bytes);
        hasher.update(&payload);
        if hasher.finalize() != crc {
            return Ok((offset, bad));
        }
        visit(seq, &payload);
        offset += (HEADER + len) as u64;
        expected += 1;
    }
    Ok((offset, End::Clean))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_reopening_and_acknowledged_ones_are_not_replayed() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(dir.path(), 4096).unwrap();
        for i in 0..100u32 {
            journal.append(format!("record {i}").as_bytes()).unwrap();
        }
        journal.sync().unwrap();
        journal.ack(40).unwrap();
        drop(journal);
        let journal = Journal::open(dir.path(), 4096).unwrap();
        let unacked = journal.unacked().unwrap();
        assert_eq!(unacked.len(), 60);
        assert_eq!(unacked[0], (41, b"record 40".to_vec()));
        assert_eq!(journal.next_seq(), 101);
    }

    #[test]
    fn fully_acknowledged_segments_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(dir.path(), 4096).unwrap();
        let payload = vec![7u8; 1000];
        for _ in 0..20 {
            journal.append(&payload).unwrap();
        }
        journal.sync().unwrap();
        let before = journal.segment_count();
        assert!(before >= 4, "{before}");
        journal.ack(10).unwrap();
        assert!(journal.segment_count() < before);
        assert_eq!(journal.unacked().unwrap().len(), 10);
        journal.ack(20).unwrap();
        assert_eq!(journal.segment_count(), 1, "the segment being written stays");
        assert!(journal.ack(21).is_err(), "never appended");
    }

    #[test]
    fn a_torn_tail_is_cut_off_and_damage_in_the_middle_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(dir.path(), 1 << 20).unwrap();
        for i in 0..10u32 {
            journal.append(&i.to_le_bytes()).unwrap();
        }
        journal.sync().unwrap();
        drop(journal);
        let segment =
            fs::read_dir(dir.path()).unwrap().flatten().find(|e| e.file_name().to_string_lossy().starts_with("segment-")).unwrap();
        let path = segment.path();
        // A crash in the middle of the last write.
        let len = fs::metadata(&path).unwrap().len();
        OpenOptions::new().write(true).open(&path).unwrap().set_len(len - 3).unwrap();
        let mut journal = Journal::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(journal.unacked().unwrap().len(), 9);
        assert_eq!(journal.append(b"after").unwrap(), 10, "the torn record's number is reused");
        journal.sync().unwrap();
        drop(journal);
        // Flip a byte inside the third record: the records after it would be
        // lost, so opening refuses rather than truncating.
        let mut bytes = fs::read(&path).unwrap();
        bytes[(HEADER + 4) * 2 + HEADER + 1] ^= 0xff;
        fs::write(&path, &bytes).unwrap();
        let err = Journal::open(dir.path(), 1 << 20).unwrap_err();
        assert!(err.to_string().contains("damaged at byte 40"), "{err}");
    }

    #[test]
    fn a_torn_acknowledgement_falls_back_to_the_one_before() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(dir.path(), 1 << 20).unwrap();
        for _ in 0..5 {
            journal.append(b"x").unwrap();
        }
        journal.sync().unwrap();
        journal.ack(2).unwrap();
        journal.ack(4).unwrap();
        drop(journal);
        let ledger = dir.path().join("acked");
        let len = fs::metadata(&ledger).unwrap().len();
        OpenOptions::new().write(true).open(&ledger).unwrap().set_len(len - 5).unwrap();
        let journal = Journal::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(journal.acked(), 2);
        assert_eq!(journal.unacked().unwrap().len(), 3);
    }
}
