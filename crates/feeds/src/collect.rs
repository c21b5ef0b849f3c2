//! Reading an input (a file, standard input, a pushed body) into rows with
//! their line numbers, the same way for the embedded journal and for the
//! distributed mode's first stream; and naming the run an input belongs to.

use crate::FeedError;
use rampart_core::{Clock, time};
use rampart_store::Store;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What the reader made of the next stretch of input.
#[derive(Debug)]
pub(crate) enum Item {
    Row {
        line: u64,
        fields: Vec<String>,
    },
    /// The CSV itself is broken here (bad UTF-8, a quote never closed).
    Unreadable {
        line: u64,
        reason: String,
    },
}

/// An input's rows. A CSV source is read with its header; a JSON-lines
/// source is read a whole line a row (no delimiter, no quoting).
pub(crate) struct Rows {
    reader: csv::Reader<CountingReader>,
    record: csv::StringRecord,
    has_header: bool,
    last_line: u64,
    read: Arc<AtomicU64>,
    pub header: Vec<String>,
}

impl Rows {
    pub fn open(input: Box<dyn Read + Send>, has_header: bool, name: &str) -> Result<Rows, FeedError> {
        let read = Arc::new(AtomicU64::new(0));
        let counting = CountingReader { inner: input, read: read.clone() };
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(if has_header { b',' } else { b'\x1f' })
            .quoting(has_header)
            .from_reader(counting);
        let mut rows = Rows { reader, record: csv::StringRecord::new(), has_header, last_line: 0, read, header: Vec::new() };
        if has_header {
            match rows.reader.read_record(&mut rows.record) {
                Ok(true) => {
                    rows.header = rows.record.iter().map(|h| h.trim_start_matches('\u{feff}').trim().to_owned()).collect();
                    rows.last_line = 1;
                }
                Ok(false) => {}
                Err(err) => return Err(FeedError::line(name, 1, format!("the header cannot be read: {err}"))),
            }
        }
        Ok(rows)
    }

    /// Bytes taken from the input so far, for a progress bar.
    pub fn bytes_read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }

    /// The next row or unreadable stretch; blank lines are skipped.
    pub fn next_item(&mut self) -> Option<Item> {
        loop {
            match self.reader.read_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {}
                Err(err) => {
                    let line = err.position().map_or(self.last_line + 1, |p| p.line());
                    self.last_line = line;
                    return Some(Item::Unreadable { line, reason: err.to_string() });
                }
            }
            let line = self.record.position().map_or(self.last_line + 1, |p| p.line());
            self.last_line = line;
            if self.has_header && self.record.len() == 1 && self.record.get(0).is_some_and(|f| f.trim().is_empty()) {
                continue;
            }
            let fields: Vec<String> = self.record.iter().map(str::to_owned).collect();
            if !self.has_header && fields.first().is_none_or(|f| f.trim().is_empty()) {
                continue;
            }
            return Some(Item::Row { line, fields });
        }
    }
}

struct CountingReader {
    inner: Box<dyn Read + Send>,
    read: Arc<AtomicU64>,
}

impl Read for CountingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A file's run id before any earlier run is considered: the same file
/// (path, size, modification time) gives the same id, so an ingest cut
/// short resumes its run.
pub(crate) fn file_run_id(feed: &str, path: &Path, metadata: &std::fs::Metadata) -> String {
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let modified = metadata.modified().ok().and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
    let mut hasher = Sha256::new();
    hasher.update(format!("{feed}\u{1f}{}\u{1f}{}\u{1f}{modified}", canonical.display(), metadata.len()).as_bytes());
    data_encoding::HEXLOWER.encode(&hasher.finalize()[..16])
}

/// The id under which to read a file now: its own, unless a run of that
/// id has finished, in which case the same file read again is a new run.
pub(crate) async fn fresh_run_id(store: &Store, clock: &Arc<dyn Clock>, run_id: String) -> Result<String, FeedError> {
    let mut run_id = run_id;
    let mut generation = 0u32;
    while store.feed_run_get(&run_id).await?.is_some_and(|run| run.finished_at.is_some()) {
        generation += 1;
        let mut hasher = Sha256::new();
        hasher.update(format!("{run_id}\u{1f}{}\u{1f}{generation}", time::format(clock.now())).as_bytes());
        run_id = data_encoding::HEXLOWER.encode(&hasher.finalize()[..16]);
    }
    Ok(run_id)
}

/// The name analysts see for a file's run.
pub(crate) fn display_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

/// The files waiting in every folder collector, each with its feed, in
/// name order.
pub(crate) fn waiting_files(config: &crate::config::PipelineConfig) -> Result<Vec<(String, std::path::PathBuf)>, FeedError> {
    let mut waiting = Vec::new();
    for feed in &config.feeds {
        let Some(crate::config::CollectorKind::Folder { path, pattern, .. }) = &feed.collector else {
            continue;
        };
        let entries = std::fs::read_dir(path).map_err(|err| FeedError::io(path, err))?;
        let mut files: Vec<std::path::PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.file_name().is_some_and(|n| glob_match(pattern, &n.to_string_lossy())))
            .collect();
        files.sort();
        waiting.extend(files.into_iter().map(|file| (feed.name.clone(), file)));
    }
    Ok(waiting)
}

/// The messages waiting in a maildir's `new/`, in name order (maildir
/// names start with the delivery time).
pub(crate) fn maildir_messages(maildir: &Path) -> Result<Vec<std::path::PathBuf>, FeedError> {
    let new = maildir.join("new");
    let entries = std::fs::read_dir(&new).map_err(|err| FeedError::io(&new, err))?;
    let mut messages: Vec<std::path::PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
    messages.sort();
    Ok(messages)
}

/// Marks a message seen the maildir way: moved to `cur/` with the `S` flag.
pub(crate) fn mark_seen(message: &Path) -> Result<(), FeedError> {
    let (Some(new), Some(name)) = (message.parent(), message.file_name()) else { return Ok(()) };
    let Some(maildir) = new.parent() else { return Ok(()) };
    let cur = maildir.join("cur");
    std::fs::create_dir_all(&cur).map_err(|e| FeedError::io(&cur, e))?;
    let name = name.to_string_lossy();
    let seen = if name.contains(":2,") { name.into_owned() } else { format!("{name}:2,S") };
    std::fs::rename(message, cur.join(seen)).map_err(|e| FeedError::io(message, e))
}

/// Moves a file whose rows are safe (committed, or acknowledged by the
/// JetStream server) to `done/` beside it.
pub(crate) fn move_to_done(file: &Path) -> Result<(), FeedError> {
    let Some(folder) = file.parent() else { return Ok(()) };
    let done_dir = folder.join("done");
    std::fs::create_dir_all(&done_dir).map_err(|e| FeedError::io(&done_dir, e))?;
    if let Some(name) = file.file_name() {
        std::fs::rename(file, done_dir.join(name)).map_err(|e| FeedError::io(file, e))?;
    }
    Ok(())
}

/// `*` matches any run of characters, `?` one; nothing else is special.
fn glob_match(pattern: &str, name: &str) -> bool {
    fn inner(p: &[char], n: &[char]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some('*'), _) => inner(&p[1..], n) || (!n.is_empty() && inner(p, &n[1..])),
            (Some('?'), Some(_)) => inner(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => inner(&p[1..], &n[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    inner(&p, &n)
}
