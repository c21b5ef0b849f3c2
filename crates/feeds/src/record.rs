//! What the collectors write to the journal (and, distributed, to the
//! first JetStream stream): a source's description, its rows, and its end.
//! A compact binary form: a kind byte, then fields with length prefixes.

use crate::FeedError;
use serde::{Deserialize, Serialize};

/// Where rows come from: one file, one push, one poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// The run's id: stable for one input, so a resumed ingest continues
    /// the same run.
    pub run_id: String,
    pub feed: String,
    /// The file name (or `stdin`, or the push's label) shown to analysts.
    pub name: String,
    /// The CSV header, when the input has one.
    pub header: Vec<String>,
    /// The last line whose row is in the journal (for resuming).
    #[serde(default)]
    pub journaled_through: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Source(SourceInfo),
    /// A row of the source whose `Source` record has sequence number `source`.
    Row {
        source: u64,
        line: u64,
        fields: Vec<String>,
    },
    End {
        source: u64,
    },
    /// A stretch of the input the reader could not make a row of (bad
    /// UTF-8, a quote never closed): it goes to quarantine with `reason`.
    Unreadable {
        source: u64,
        line: u64,
        reason: String,
    },
}

const SOURCE: u8 = 1;
const ROW: u8 = 2;
const END: u8 = 3;
const UNREADABLE: u8 = 4;

fn put(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(&u32::try_from(text.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], FeedError> {
        let end = self.at.checked_add(n).filter(|end| *end <= self.bytes.len());
        let end = end.ok_or_else(|| FeedError::Journal("a record ends early".into()))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u64(&mut self) -> Result<u64, FeedError> {
        let mut buf = [0u8; 8];
        buf.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(buf))
    }

    fn u32(&mut self) -> Result<u32, FeedError> {
        let mut buf = [0u8; 4];
        buf.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(buf))
    }

    fn text(&mut self) -> Result<String, FeedError> {
        let len = self.u32()? as usize;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| FeedError::Journal("a record holds text that is not UTF-8".into()))
    }
}

impl Record {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        match self {
            Record::Source(info) => {
                out.push(SOURCE);
                let json = serde_json::to_string(info).unwrap_or_default();
                put(&mut out, &json);
            }
            Record::Row { source, line, fields } => {
                out.push(ROW);
                out.extend_from_slice(&source.to_le_bytes());
                out.extend_from_slice(&line.to_le_bytes());
                out.extend_from_slice(&u32::try_from(fields.len()).unwrap_or(u32::MAX).to_le_bytes());
                for field in fields {
                    put(&mut out, field);
                }
            }
            Record::End { source } => {
                out.push(END);
                out.extend_from_slice(&source.to_le_bytes());
            }
            Record::Unreadable { source, line, reason } => {
                out.push(UNREADABLE);
                out.extend_from_slice(&source.to_le_bytes());
                out.extend_from_slice(&line.to_le_bytes());
                put(&mut out, reason);
            }
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Record, FeedError> {
        let mut reader = Reader { bytes, at: 1 };
        match bytes.first() {
            Some(&SOURCE) => {
                let json = reader.text()?;
                let info = serde_json::from_str(&json).map_err(|err| FeedError::Journal(format!("a source record: {err}")))?;
                Ok(Record::Source(info))
            }
            Some(&ROW) => {
                let source = reader.u64()?;
                let line = reader.u64()?;
                let count = reader.u32()? as usize;
                // Bounded by the record's own length: each field takes at least 4 bytes.
                if count > bytes.len() / 4 {
                    return Err(FeedError::Journal("a row record claims more fields than it holds".into()));
                }
                let fields = (0..count).map(|_| reader.text()).collect::<Result<Vec<_>, _>>()?;
                Ok(Record::Row { source, line, fields })
            }
            Some(&END) => Ok(Record::End { source: reader.u64()? }),
            Some(&UNREADABLE) => Ok(Record::Unreadable { source: reader.u64()?, line: reader.u64()?, reason: reader.text()? }),
            _ => Err(FeedError::Journal("a record of unknown kind".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_garbage_is_refused() {
        let records = vec![
            Record::Source(SourceInfo {
                run_id: "r".into(),
                feed: "f".into(),
                name: "a.csv".into(),
                header: vec!["ip".into()],
                journaled_through: 0,
            }),
            Record::Row { source: 1, line: 2, fields: vec!["192.0.2.1".into(), String::new(), "é".into()] },
            Record::End { source: 1 },
            Record::Unreadable { source: 1, line: 7, reason: "invalid UTF-8".into() },
        ];
        for record in records {
            assert_eq!(Record::decode(&record.encode()).unwrap(), record);
        }
        assert!(Record::decode(&[]).is_err());
        assert!(Record::decode(&[9, 1, 2]).is_err());
        let mut row = Record::Row { source: 1, line: 2, fields: vec!["abc".into()] }.encode();
        row.truncate(row.len() - 1);
        assert!(Record::decode(&row).is_err());
        let mut huge = vec![ROW];
        huge.extend_from_slice(&[0; 16]);
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(Record::decode(&huge).is_err());
    }
}
