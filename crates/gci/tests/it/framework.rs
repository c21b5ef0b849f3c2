use rampart_gci::GciError;
use rampart_gci::framework::{self, AnswerType, Framework, Level};
use rampart_gci::score::score_answers;
use std::collections::HashMap;

const EDITION: &str = "code = \"t\"\nname = \"Test\"\nyear = 2030\npillar_max = 20\nprecision = 2\n";
const HEADER: &str = "id,parent,level,weight,answer,source,name\n";

fn line_of(result: Result<Framework, GciError>) -> (usize, String) {
    match result {
        Err(GciError::Framework { line, message, .. }) => (line, message),
        other => panic!("expected a framework error, got {other:?}"),
    }
}

#[test]
fn shipped_editions_have_the_published_shape() {
    let gci2020 = framework::shipped("gci-2020").unwrap();
    assert_eq!(gci2020.count(Level::Pillar), 5);
    assert_eq!(gci2020.count(Level::Indicator), 20);
    assert_eq!(gci2020.count(Level::Question), 82);
    assert!(gci2020.questions().all(|q| q.answer == Some(AnswerType::YesNo)));
    assert_eq!(gci2020.max_overall(), 100.0);
    let gci2024 = framework::shipped("gci-2024").unwrap();
    assert_eq!(gci2024.count(Level::Indicator), 20);
    assert_eq!(gci2024.count(Level::SubIndicator), 64);
    assert_eq!(gci2024.count(Level::MicroIndicator), 28);
    assert_eq!(gci2024.count(Level::Question), 83);
    assert!(gci2024.questions().all(|q| q.answer == Some(AnswerType::ThreeLevel)));
    let tiers: Vec<(u8, f64)> = gci2024.tiers.iter().map(|t| (t.number, t.min)).collect();
    assert_eq!(tiers, vec![(1, 95.0), (2, 85.0), (3, 55.0), (4, 20.0), (5, 0.0)]);
    assert_eq!(gci2024.tier_of(95.0).unwrap().number, 1);
    assert_eq!(gci2024.tier_of(94.99).unwrap().number, 2);
    assert_eq!(gci2024.tier_of(19.99).unwrap().number, 5);
    // The CSV round-trips.
    let again = gci2024.with_nodes(&gci2024.nodes_csv(), None).unwrap();
    assert_eq!(again, gci2024);
}

#[test]
fn bad_framework_rows_are_named_by_line() {
    let ok = format!("{HEADER}p,,pillar,20,,published,P\ni,p,indicator,1,,published,I\nq,i,question,1,yes_no,placeholder,Q?\n");
    let framework = Framework::parse(EDITION, &ok).unwrap();
    assert_eq!(framework.shape().get("question"), Some(&1));

    let cases = [
        (format!("{HEADER}p,,pillar,20,,published,P\ni,x,indicator,1,,published,I\n"), 3, "parent x is not defined above this line"),
        (format!("{HEADER}p,,pillar,20,,published,P\ni,p,indicator,-1,,published,I\n"), 3, "weight must be positive"),
        (
            format!("{HEADER}p,,pillar,20,,published,P\ni,p,indicator,1,yes_no,published,I\n"),
            3,
            "questions, and only questions, have an answer type",
        ),
        (format!("{HEADER}p,,pillar,20,,published,P\nq,p,question,1,maybe,published,Q\n"), 3, "is not yes_no"),
        (format!("{HEADER}p,,pillar,20,,published,P\np,,pillar,20,,published,P\n"), 3, "id p is used twice"),
        (format!("{HEADER}p,,pillar,20,,published,P\ni,p,indicator,1,,guess,I\n"), 3, "source \"guess\""),
        (format!("{HEADER}p,,pillar,20,,published,P\ni,p,indicator,x,,published,I\n"), 3, "weight \"x\" is not a number"),
        ("id,level\n".to_owned(), 1, "the header must be"),
    ];
    for (csv, line, needle) in cases {
        let (got_line, message) = line_of(Framework::parse(EDITION, &csv));
        assert_eq!(got_line, line, "{csv}");
        assert!(message.contains(needle), "{message} should contain {needle}");
    }
    // An indicator without questions is caught on the whole file.
    let (_, message) = line_of(Framework::parse(EDITION, &format!("{HEADER}p,,pillar,20,,published,P\ni,p,indicator,1,,published,I\n")));
    assert!(message.contains("needs at least one child"), "{message}");
    let (line, message) = line_of(Framework::parse("code = \"t\"\nname = 3\n", &ok));
    assert_eq!(line, 2, "{message}");
}

#[test]
fn answers_score_up_the_tree() {
    let csv = format!(
        "{HEADER}a,,pillar,20,,published,A\nb,,pillar,20,,published,B\n\
         a1,a,indicator,3,,published,A1\na2,a,indicator,1,,published,A2\nb1,b,indicator,1,,published,B1\n\
         q1,a1,question,1,three_level,placeholder,Q1?\nq2,a1,question,1,three_level,placeholder,Q2?\n\
         q3,a2,question,1,yes_no,placeholder,Q3?\nq4,b1,question,1,number:10,placeholder,Q4?\n"
    );
    let framework = Framework::parse(EDITION, &csv).unwrap();
    let answers: HashMap<String, String> =
        [("q1", "in_place"), ("q2", "partial"), ("q3", "no"), ("q4", "25")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let score = score_answers(&framework, "KE", &answers).unwrap();
    // a1 = (1 + 0.5)/2 = 0.75; a = 3/4 × 0.75 + 1/4 × 0 = 0.5625 → 11.25 points; b = min(25/10, 1) = 1 → 20.
    assert!((score.indicators["a1"] - 0.75).abs() < 1e-12);
    assert!((score.pillars["a"] - 11.25).abs() < 1e-12);
    assert!((score.pillars["b"] - 20.0).abs() < 1e-12);
    assert!((score.overall - 31.25).abs() < 1e-12);
    // Unanswered questions score 0; an unknown answer is named.
    let partial = score_answers(&framework, "KE", &HashMap::new()).unwrap();
    assert_eq!(partial.overall, 0.0);
    let bad: HashMap<String, String> = [("q3".to_owned(), "maybe".to_owned())].into();
    let err = score_answers(&framework, "KE", &bad).unwrap_err();
    assert_eq!(err.question, "q3");
}

#[test]
fn tiers_typed_by_an_editor_are_checked_line_by_line() {
    use rampart_gci::framework::parse_tiers;
    let tiers = parse_tiers("1, Role-modelling, 95\n2,Advancing,85\n\n3,Establishing,55\n").unwrap();
    assert_eq!(tiers.iter().map(|t| (t.number, t.min)).collect::<Vec<_>>(), [(1, 95.0), (2, 85.0), (3, 55.0)]);
    assert_eq!(tiers[0].name, "Role-modelling");
    assert!(parse_tiers("").unwrap().is_empty());
    for (text, line, needle) in [
        ("1,A,90\n2,B,95", 2, "below tier 1"),
        ("2,A,90", 1, "out of order"),
        ("1,A", 1, "number,name,min"),
        ("1,A,high", 1, "not a score"),
        ("1,,90", 1, "needs a name"),
        ("1,A,-5", 1, "not a score"),
    ] {
        match parse_tiers(text) {
            Err(rampart_gci::GciError::Framework { file, line: at, message }) => {
                assert_eq!((file.as_str(), at), ("tiers", line), "{text}: {message}");
                assert!(message.contains(needle), "{text}: {message}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
}
