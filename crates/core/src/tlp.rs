//! Traffic Light Protocol 2.0 (FIRST, 2022).
//!
//! The type only names the levels and their order; who may see what is
//! decided in one place, `rampart_auth::access`.

use crate::error::CoreError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Ordered from least to most restrictive, so `max` of two labels is the
/// label a combination of both records must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Tlp {
    #[serde(rename = "CLEAR")]
    Clear,
    #[serde(rename = "GREEN")]
    Green,
    #[serde(rename = "AMBER")]
    Amber,
    #[serde(rename = "AMBER+STRICT")]
    AmberStrict,
    #[serde(rename = "RED")]
    Red,
}

impl Tlp {
    pub const ALL: [Tlp; 5] = [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red];

    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "CLEAR",
            Tlp::Green => "GREEN",
            Tlp::Amber => "AMBER",
            Tlp::AmberStrict => "AMBER+STRICT",
            Tlp::Red => "RED",
        }
    }

    /// The TLP 1.0 label for formats that predate 2.0 (STIX 2.1, CSAF 2.0,
    /// IntelMQ). AMBER+STRICT has no 1.0 equivalent and exports as AMBER;
    /// the stricter handling is kept on the local record.
    pub fn as_tlp1(self) -> &'static str {
        match self {
            Tlp::Clear => "WHITE",
            Tlp::Green => "GREEN",
            Tlp::Amber | Tlp::AmberStrict => "AMBER",
            Tlp::Red => "RED",
        }
    }

    /// A CSS class name for the label colour in the UI.
    pub fn css_class(self) -> &'static str {
        match self {
            Tlp::Clear => "tlp-clear",
            Tlp::Green => "tlp-green",
            Tlp::Amber => "tlp-amber",
            Tlp::AmberStrict => "tlp-amber-strict",
            Tlp::Red => "tlp-red",
        }
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tlp {
    type Err = CoreError;

    /// Accepts 2.0 and 1.0 spellings, with or without the `TLP:` prefix and
    /// in any case, because feeds and peers write all of them.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let upper = text.trim().to_ascii_uppercase();
        let bare = upper.strip_prefix("TLP:").unwrap_or(&upper).trim();
        match bare {
            "CLEAR" | "WHITE" => Ok(Tlp::Clear),
            "GREEN" => Ok(Tlp::Green),
            "AMBER" => Ok(Tlp::Amber),
            "AMBER+STRICT" | "AMBER STRICT" | "AMBER_STRICT" => Ok(Tlp::AmberStrict),
            "RED" => Ok(Tlp::Red),
            _ => Err(CoreError::UnknownValue { field: "tlp", value: text.to_owned() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_versions_and_orders_by_restriction() {
        let cases = [
            ("CLEAR", Tlp::Clear),
            ("tlp:white", Tlp::Clear),
            ("TLP:GREEN", Tlp::Green),
            ("amber", Tlp::Amber),
            ("TLP:AMBER+STRICT", Tlp::AmberStrict),
            ("red", Tlp::Red),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<Tlp>(), Ok(expected), "{text}");
        }
        assert!("PURPLE".parse::<Tlp>().is_err());
        assert!(Tlp::Clear < Tlp::Green && Tlp::Amber < Tlp::AmberStrict && Tlp::AmberStrict < Tlp::Red);
        assert_eq!(Tlp::AmberStrict.as_tlp1(), "AMBER");
        assert_eq!(Tlp::Clear.as_tlp1(), "WHITE");
        for tlp in Tlp::ALL {
            assert_eq!(tlp.as_str().parse::<Tlp>(), Ok(tlp));
        }
    }
}
