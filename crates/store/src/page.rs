//! Cursor pagination shared by every list: the cursor is the last key of the
//! previous page, opaque to clients.

use data_encoding::BASE64URL_NOPAD;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<String>,
}

impl PageRequest {
    pub const MAX_LIMIT: u32 = 500;

    pub fn first(limit: u32) -> Self {
        PageRequest { limit, after: None }
    }

    /// Decodes a client-supplied cursor; `None` when it is not one of ours.
    pub fn with_cursor(limit: u32, cursor: Option<&str>) -> Option<Self> {
        let after = match cursor {
            None | Some("") => None,
            Some(text) => {
                let bytes = BASE64URL_NOPAD.decode(text.as_bytes()).ok()?;
                Some(String::from_utf8(bytes).ok()?)
            }
        };
        Some(PageRequest { limit, after })
    }

    pub(crate) fn fetch_limit(&self) -> i64 {
        i64::from(self.limit.clamp(1, Self::MAX_LIMIT)) + 1
    }

    /// Trims the extra row fetched to learn whether another page exists.
    pub(crate) fn finish<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> String) -> Page<T> {
        let limit = usize::try_from(self.limit.clamp(1, Self::MAX_LIMIT)).unwrap_or(50);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|row| BASE64URL_NOPAD.encode(key(row).as_bytes()))
        } else {
            None
        };
        Page { items: rows, next_cursor }
    }
}
