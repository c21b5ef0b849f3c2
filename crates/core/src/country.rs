//! ITU member states with their ISO 3166-1 codes and ITU-D region. The data
//! lives in `data/countries.csv` (see `data/countries.README.md`), compiled in.

use crate::error::CoreError;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItuRegion {
    Africa,
    Americas,
    ArabStates,
    AsiaPacific,
    Cis,
    Europe,
}

impl ItuRegion {
    pub const ALL: [ItuRegion; 6] =
        [ItuRegion::Africa, ItuRegion::Americas, ItuRegion::ArabStates, ItuRegion::AsiaPacific, ItuRegion::Cis, ItuRegion::Europe];

    pub fn as_str(self) -> &'static str {
        match self {
            ItuRegion::Africa => "africa",
            ItuRegion::Americas => "americas",
            ItuRegion::ArabStates => "arab_states",
            ItuRegion::AsiaPacific => "asia_pacific",
            ItuRegion::Cis => "cis",
            ItuRegion::Europe => "europe",
        }
    }

    pub fn parse(text: &str) -> Result<Self, CoreError> {
        ItuRegion::ALL
            .into_iter()
            .find(|region| region.as_str() == text.trim())
            .ok_or_else(|| CoreError::UnknownValue { field: "region", value: text.to_owned() })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Country {
    pub alpha2: String,
    pub alpha3: String,
    pub numeric: String,
    pub name: String,
    pub region: ItuRegion,
}

const COUNTRIES_CSV: &str = include_str!("../data/countries.csv");

/// Parses the countries table. Public so the data file's own test, and any
/// future importer of an updated list, use the same checks.
pub fn parse_countries(text: &str) -> Result<Vec<Country>, CoreError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let mut countries = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = record.map_err(|err| CoreError::CountryData { line, message: err.to_string() })?;
        let field = |position: usize, name: &str| -> Result<String, CoreError> {
            record
                .get(position)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
                .ok_or_else(|| CoreError::CountryData { line, message: format!("missing {name}") })
        };
        let alpha2 = field(0, "alpha2")?;
        let alpha3 = field(1, "alpha3")?;
        let numeric = field(2, "numeric")?;
        let name = field(3, "name")?;
        let region_text = field(4, "region")?;
        let upper = |code: &str, len: usize| code.len() == len && code.bytes().all(|b| b.is_ascii_uppercase());
        if !upper(&alpha2, 2) {
            return Err(CoreError::CountryData { line, message: format!("alpha2 `{alpha2}` is not two capital letters") });
        }
        if !upper(&alpha3, 3) {
            return Err(CoreError::CountryData { line, message: format!("alpha3 `{alpha3}` is not three capital letters") });
        }
        if numeric.len() != 3 || !numeric.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CoreError::CountryData { line, message: format!("numeric `{numeric}` is not three digits") });
        }
        let region = ItuRegion::parse(&region_text)
            .map_err(|_| CoreError::CountryData { line, message: format!("unknown region `{region_text}`") })?;
        countries.push(Country { alpha2, alpha3, numeric, name, region });
    }
    Ok(countries)
}

/// All ITU member states, sorted by alpha-2 code.
pub fn all() -> &'static [Country] {
    static COUNTRIES: OnceLock<Vec<Country>> = OnceLock::new();
    // The compiled-in table is checked by this crate's tests; should it ever
    // fail to parse, an empty list is safer than a panic in a server.
    COUNTRIES.get_or_init(|| parse_countries(COUNTRIES_CSV).unwrap_or_default())
}

/// Looks a country up by alpha-2, alpha-3 or numeric code, in any case.
pub fn find(code: &str) -> Option<&'static Country> {
    let wanted = code.trim().to_ascii_uppercase();
    all().iter().find(|c| c.alpha2 == wanted || c.alpha3 == wanted || c.numeric == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashSet};

    #[test]
    fn all_194_member_states_with_unique_codes() {
        let countries = parse_countries(COUNTRIES_CSV).unwrap();
        assert_eq!(countries.len(), 194);
        for (name, key) in [("alpha2", 0), ("alpha3", 1), ("numeric", 2)] {
            let codes: HashSet<&str> = countries
                .iter()
                .map(|c| match key {
                    0 => c.alpha2.as_str(),
                    1 => c.alpha3.as_str(),
                    _ => c.numeric.as_str(),
                })
                .collect();
            assert_eq!(codes.len(), 194, "{name} codes are not unique");
        }
        let mut per_region: BTreeMap<&str, usize> = BTreeMap::new();
        for country in &countries {
            *per_region.entry(country.region.as_str()).or_default() += 1;
        }
        assert_eq!(per_region.len(), 6, "every ITU region has members: {per_region:?}");
        assert_eq!(per_region["arab_states"], 21);
        assert_eq!(per_region["cis"], 9);
        assert_eq!(all().len(), 194);
    }

    #[test]
    fn lookup_by_any_code() {
        assert_eq!(find("ke").map(|c| c.alpha3.as_str()), Some("KEN"));
        assert_eq!(find("BRA").map(|c| c.alpha2.as_str()), Some("BR"));
        assert_eq!(find("724").map(|c| c.alpha2.as_str()), Some("ES"));
        assert_eq!(find("ZZ"), None);
        assert_eq!(find("VA").map(|c| c.region), Some(ItuRegion::Europe));
    }

    #[test]
    fn bad_rows_are_named_by_line() {
        let bad = "alpha2,alpha3,numeric,name,region\nKE,KEN,404,Kenya,africa\nfr,FRA,250,France,europe\n";
        assert_eq!(parse_countries(bad), Err(CoreError::CountryData { line: 3, message: "alpha2 `fr` is not two capital letters".into() }));
        let bad_region = "alpha2,alpha3,numeric,name,region\nKE,KEN,404,Kenya,mars\n";
        assert!(matches!(parse_countries(bad_region), Err(CoreError::CountryData { line: 2, .. })));
    }
}
