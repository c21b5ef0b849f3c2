//! Text bound for spreadsheets.

/// A CSV cell that a spreadsheet will not run: text starting with a formula
/// character is prefixed with a quote (CSV injection).
pub fn defuse(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formulas_are_quoted_and_text_is_kept() {
        assert_eq!(super::defuse("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(super::defuse("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(super::defuse("plain"), "plain");
    }
}
