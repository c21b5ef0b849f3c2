use rampart_strategy::StrategyError;
use rampart_strategy::data::{self, SIM3_CATEGORIES};

#[test]
fn the_shipped_guide_covers_the_principles_and_seven_focus_areas() {
    let guide = data::guide().unwrap();
    let areas: Vec<&str> = guide.areas.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(areas, ["P", "FA1", "FA2", "FA3", "FA4", "FA5", "FA6", "FA7"]);
    assert_eq!(guide.elements.iter().filter(|e| e.area == "P").count(), 9, "nine overarching principles");
    for element in guide.elements.iter().filter(|e| e.area != "P") {
        assert!(!element.gci.is_empty(), "{} maps to no GCI indicator", element.id);
    }
    // Every GCI pillar is measured by some element.
    for prefix in ["L", "T", "O", "C", "K"] {
        assert!(guide.elements.iter().any(|e| e.gci.iter().any(|i| i.starts_with(prefix))), "no element for pillar {prefix}");
    }
}

#[test]
fn the_shipped_sim3_and_services_have_their_published_shape() {
    let sim3 = data::sim3().unwrap();
    let counts: Vec<usize> = SIM3_CATEGORIES.iter().map(|(c, _)| sim3.parameters.iter().filter(|p| p.category == *c).count()).collect();
    assert_eq!(counts, [10, 7, 10, 17], "SIM3 v1 has 44 parameters: 10 O, 7 H, 10 T, 17 P");
    assert!(sim3.parameter("O-6").is_none(), "O-6 is not in v1");
    let services = data::services().unwrap();
    assert_eq!(services.areas().count(), 5);
    assert_eq!(services.entries.len() - 5, 21);
    assert!(services.service("2.1").is_some_and(|s| s.area == "2"));
    assert!(services.service("2").is_none(), "an area is not a service");
}

const AREAS: &str = "id,title,summary\nP,Principles,x\nFA1,Governance,y\n";

#[test]
fn a_bad_data_file_is_named_by_line() {
    let indicators = vec!["O1".to_owned(), "O2".to_owned()];
    let good = "id,area,priority,source,gci,title,description\nP.1,P,high,published,O1,Vision,d\nFA1.1,FA1,high,published,O2,Support,d\n";
    assert_eq!(data::parse_guide(AREAS, good, &indicators).unwrap().elements.len(), 2);
    let cases = [
        ("FA1.1,FA1,urgent,published,O2,Support,d", "priority"),
        ("FA1.1,FA1,high,published,Z9,Support,d", "gci indicator"),
        ("FA1.1,FA9,high,published,O2,Support,d", "area"),
        ("P.1,FA1,high,published,O2,Support,d", "appears twice"),
        ("FA1.1,FA1,high,rumour,O2,Support,d", "source"),
        ("FA1.1,FA1,high,published,O2,,d", "title"),
    ];
    for (row, needle) in cases {
        let text = format!("id,area,priority,source,gci,title,description\nP.1,P,high,published,O1,Vision,d\n{row}\n");
        match data::parse_guide(AREAS, &text, &indicators) {
            Err(StrategyError::Data { file, line, message }) => {
                assert_eq!((file.as_str(), line), ("elements.csv", 3), "{row}: {message}");
                assert!(message.contains(needle), "{row}: {message}");
            }
            other => panic!("{row}: {other:?}"),
        }
    }
    let empty_area = "id,area,priority,source,gci,title,description\nP.1,P,high,published,O1,Vision,d\n";
    assert!(
        matches!(data::parse_guide(AREAS, empty_area, &indicators), Err(StrategyError::Data { message, .. }) if message.contains("FA1"))
    );
    let sim3 = "id,category,source,name,description\nO-1,O,published,Mandate,d\nX-2,X,published,Odd,d\n";
    assert!(matches!(data::parse_sim3(sim3), Err(StrategyError::Data { line: 3, .. })));
    let services = "id,area,source,name,description\n1.1,1,published,Monitoring,d\n";
    assert!(matches!(data::parse_services(services), Err(StrategyError::Data { line: 2, .. })));
}
