//! Kinds of organisation and critical-infrastructure sectors.

use crate::error::CoreError;
use serde::{Deserialize, Serialize};

macro_rules! slug_enum {
    ($name:ident, $field:literal, { $($variant:ident => $slug:literal),+ $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $slug),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = CoreError;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                let wanted = text.trim().to_ascii_lowercase().replace('-', "_");
                $name::ALL
                    .iter()
                    .copied()
                    .find(|value| value.as_str() == wanted)
                    .ok_or_else(|| CoreError::UnknownValue { field: $field, value: text.to_owned() })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

slug_enum!(OrgKind, "kind", {
    NationalCirt => "national_cirt",
    SectorCirt => "sector_cirt",
    Ministry => "ministry",
    Regulator => "regulator",
    Isp => "isp",
    CriticalInfrastructure => "critical_infrastructure",
    Academia => "academia",
    Hotline => "hotline",
    LawEnforcement => "law_enforcement",
    International => "international",
    Other => "other",
});

// Sectors follow the EU NIS2 annexes, which most national CIRT constituency
// registries have adopted, plus public administration.
slug_enum!(Sector, "sector", {
    Energy => "energy",
    Transport => "transport",
    Banking => "banking",
    FinancialMarketInfrastructure => "financial_market_infrastructure",
    Health => "health",
    DrinkingWater => "drinking_water",
    WasteWater => "waste_water",
    DigitalInfrastructure => "digital_infrastructure",
    IctServiceManagement => "ict_service_management",
    PublicAdministration => "public_administration",
    Space => "space",
    Postal => "postal",
    WasteManagement => "waste_management",
    Chemicals => "chemicals",
    Food => "food",
    Manufacturing => "manufacturing",
    DigitalProviders => "digital_providers",
    Research => "research",
    Education => "education",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_round_trip() {
        for kind in OrgKind::ALL {
            assert_eq!(kind.as_str().parse::<OrgKind>(), Ok(*kind));
        }
        for sector in Sector::ALL {
            assert_eq!(sector.as_str().parse::<Sector>(), Ok(*sector));
        }
        assert_eq!("bakery".parse::<OrgKind>(), Err(CoreError::UnknownValue { field: "kind", value: "bakery".into() }));
    }
}
