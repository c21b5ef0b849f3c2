use crate::support::corpus_2020;
use rampart_gci::GciError;
use rampart_gci::framework::{self, RankMethod};
use rampart_gci::published;
use rampart_gci::table::{self, Entry};
use std::collections::BTreeMap;

fn entries(import: &published::PublishedImport) -> Vec<Entry> {
    import
        .rows
        .iter()
        .map(|r| Entry { country: r.country.clone(), overall: r.overall, pillars: r.pillars.clone(), indicators: BTreeMap::new() })
        .collect()
}

#[test]
fn the_published_2020_ranks_are_reproduced() {
    let framework = framework::shipped("gci-2020").unwrap();
    let import = published::parse(&corpus_2020(), &framework).unwrap();
    assert_eq!(import.rows.len(), 191);
    // The source's known faults are named by row, and imported.
    let warned: Vec<&str> = import.warnings.iter().map(String::as_str).collect();
    assert_eq!(warned.len(), 4, "{warned:?}");
    assert!(warned.contains(&"line 710: MOZ lacks cooperation"));
    assert!(warned.contains(&"line 710: MOZ pillars add up to 16.73 but the overall score is 7.46"));
    assert!(warned.iter().any(|w| w.contains("SVK lacks")));
    assert!(warned.iter().any(|w| w.contains("SVN lacks")));
    assert!(warned.iter().all(|w| w.starts_with("line ")));

    let rows = table::build(&framework, &entries(&import), RankMethod::Dense);
    let rank = |code: &str| rows.iter().find(|r| r.alpha3 == code).map(|r| (r.rank, r.regional_rank)).unwrap();
    // Global ranks as the GCI 2020 report prints them: dense, ties shared.
    for (code, global) in [
        ("USA", 1.0),
        ("GBR", 2.0),
        ("SAU", 2.0),
        ("EST", 3.0),
        ("KOR", 4.0),
        ("SGP", 4.0),
        ("ESP", 4.0),
        ("RUS", 5.0),
        ("ARE", 5.0),
        ("MYS", 5.0),
        ("LTU", 6.0),
        ("JPN", 7.0),
        ("CAN", 8.0),
        ("FRA", 9.0),
    ] {
        assert_eq!(rank(code).0, global, "{code}");
    }
    // Regional ranks within ITU regions.
    assert_eq!(rank("USA").1, 1.0);
    assert_eq!(rank("CAN").1, 2.0);
    assert_eq!(rank("MUS").1, 1.0, "Mauritius leads Africa");
    assert_eq!(rank("TZA").1, 2.0);
    assert_eq!(rank("RUS").1, 1.0, "Russia leads the CIS");
    assert_eq!(rank("SAU").1, 1.0);
    assert_eq!(rank("GBR").1, 1.0);
    assert_eq!(rank("KOR").1, 1.0);
    assert_eq!(rank("SGP").1, 1.0);
    // Standard and fractional ranking are options.
    let standard = table::build(&framework, &entries(&import), RankMethod::Standard);
    assert_eq!(standard.iter().find(|r| r.alpha3 == "EST").unwrap().rank, 4.0);
    let fractional = table::build(&framework, &entries(&import), RankMethod::Fractional);
    assert_eq!(fractional.iter().find(|r| r.alpha3 == "GBR").unwrap().rank, 2.5);
    // The State of Palestine is assessed and keeps everyone's rank right.
    assert!(rows.iter().any(|r| r.alpha3 == "PSE"));
    let csv = table::to_csv(&framework, &rows);
    assert!(csv.lines().nth(1).unwrap().starts_with("USA,US,United States"), "{}", csv.lines().nth(1).unwrap());
}

#[test]
fn impossible_rows_refuse_the_whole_file_and_are_named() {
    let framework = framework::shipped("gci-2020").unwrap();
    let text = "\u{feff}\"cc_iso3c\",\"ref_year\",\"variable\",\"value\"\n\
        \"KEN\",2020,\"gci_overall\",81.7\n\
        \"KEN\",2020,\"gci_legal_measures\",20.5\n\
        \"XXX\",2020,\"gci_overall\",50\n\
        \"KEN\",2020,\"gci_overall\",81.7\n\
        \"GHA\",2020,\"gci_colour\",1\n\
        \"GHA\",2020,\"gci_overall\",abc\n\
        \"GHA\",2019,\"gci_overall\",80\n";
    let Err(GciError::Rows(rows)) = published::parse(text, &framework) else { panic!("must refuse") };
    assert_eq!(
        rows,
        vec![
            "line 3: KEN legal = 20.5 is outside 0–20".to_owned(),
            "line 4: country \"XXX\" is not a known ISO 3166 code".into(),
            "line 5: KEN overall is already given on line 2".into(),
            "line 6: variable \"gci_colour\" is neither the overall score nor a pillar of gci-2020".into(),
            "line 7: GHA overall value \"abc\" is not a number".into(),
            "line 8: year 2019 is not the edition's year 2020".into(),
        ]
    );
    // Wide files work too.
    let wide = "country,overall,legal,technical,organizational,capacity,cooperation\nKE,81.7,18,16,15,16,16.7\n";
    let import = published::parse(wide, &framework).unwrap();
    assert_eq!(import.rows[0].country, "KEN");
    assert!(import.warnings.is_empty(), "{:?}", import.warnings);
    assert!(matches!(published::parse("name\nx\n", &framework), Err(GciError::Rows(_))));
    assert!(matches!(published::parse("country,overall\n", &framework), Err(GciError::Rows(_))));
}
