use rampart_gci::framework::shipped;
use rampart_strategy::data::{self, Priority};
use rampart_strategy::gaps::{self, Answer, Status};
use std::collections::HashMap;

/// A guide of our own so the expected figures follow from the GCI 2024
/// methodology alone: five pillars of 20 points, four equally weighted
/// indicators in each.
fn guide() -> data::Guide {
    let areas = "id,title,summary\nFA1,Governance,x\nFA3,Preparedness,y\n";
    let elements = "id,area,priority,source,gci,title,description\n\
        FA1.1,FA1,high,published,O2,Competent authority,d\n\
        FA1.2,FA1,low,published,O1;O4,Implementation plan,d\n\
        FA3.1,FA3,high,published,T1;T2,Incident response,d\n\
        FA3.2,FA3,medium,published,T1,Exercises,d\n";
    let gci = shipped("gci-2024").unwrap();
    let indicators: Vec<String> = gci.nodes.iter().filter(|n| n.level.as_str() == "indicator").map(|n| n.id.clone()).collect();
    data::parse_guide(areas, elements, &indicators).unwrap()
}

fn answer(status: Status, priority: Priority) -> Answer {
    Answer { status, priority }
}

#[test]
fn closing_a_gap_moves_the_pillar_it_measures_by_the_methodology() {
    let guide = guide();
    let framework = shipped("gci-2024").unwrap();
    let answers: HashMap<String, Answer> = [
        ("FA1.1", answer(Status::NotInPlace, Priority::High)),
        ("FA1.2", answer(Status::NotInPlace, Priority::Low)),
        ("FA3.1", answer(Status::Partial, Priority::High)),
    ]
    .into_iter()
    .map(|(id, a)| (id.to_owned(), a))
    .collect();
    let report = gaps::report(&guide, &answers, &framework, None, &HashMap::new());
    // Baseline: T1 and T2 estimated "partial" from FA3.1 (0.5 each), so the
    // technical pillar is 20 × (0.5 + 0.5) / 4 = 5; everything else 0.
    assert_eq!(report.current.pillars["technical"].0, 5.0);
    assert_eq!(report.current.overall_before, 5.0);
    assert_eq!(report.current.tier_before, Some(5));
    assert_eq!(report.unanswered, vec!["FA3.2".to_owned()]);
    // High priority first; among them the larger effect: FA3.1 lifts T1 and
    // T2 from 0.5 to 1 (+5), FA1.1 lifts O2 from 0 to 1 (+5); equal, so
    // "not in place" before "partial".
    let order: Vec<&str> = report.gaps.iter().map(|g| g.element.id.as_str()).collect();
    assert_eq!(order, ["FA1.1", "FA3.1", "FA1.2"]);
    let fa11 = &report.gaps[0].effect;
    assert_eq!(fa11.pillars["organizational"], (0.0, 5.0));
    assert_eq!(fa11.pillars["technical"], (5.0, 5.0));
    assert_eq!(fa11.overall_after, 10.0);
    // FA1.2 measures two organizational indicators: +10.
    assert_eq!(report.gaps[2].effect.pillars["organizational"], (0.0, 10.0));
    // All closed: organizational 3 of 4 indicators (15), technical 2 of 4 (10).
    assert_eq!(report.all_closed.overall_after, 25.0);
    assert_eq!((report.all_closed.tier_before, report.all_closed.tier_after), (Some(5), Some(4)));
}

#[test]
fn campaign_answers_win_over_estimates_and_tiers_move() {
    let guide = guide();
    let framework = shipped("gci-2024").unwrap();
    let answers: HashMap<String, Answer> =
        [("FA3.1", answer(Status::NotInPlace, Priority::High))].into_iter().map(|(id, a)| (id.to_owned(), a)).collect();
    // Every question answered "in place" in the campaign except the T1 and T2 ones.
    let mut gci: HashMap<String, String> = HashMap::new();
    for question in framework.questions() {
        let indicator = framework.ancestor(&question.id, rampart_gci::framework::Level::Indicator).unwrap();
        if indicator.id != "T1" && indicator.id != "T2" {
            gci.insert(question.id.clone(), "in_place".into());
        }
    }
    gci.insert("nonsense".into(), "maybe".into());
    let campaign = Some(("c1".to_owned(), "GCI 2026".to_owned()));
    let report = gaps::report(&guide, &answers, &framework, campaign, &gci);
    assert_eq!(report.baseline.campaign.as_ref().map(|c| c.1.as_str()), Some("GCI 2026"));
    assert_eq!(report.baseline.estimated, framework.questions().count() - (gci.len() - 1));
    // 90 points: T1 and T2 missing from the technical pillar (20 × 2/4 = 10).
    assert_eq!(report.current.overall_before, 90.0);
    assert_eq!(report.current.tier_before, Some(2));
    let gap = &report.gaps[0];
    assert_eq!(gap.effect.overall_after, 100.0);
    assert_eq!((gap.effect.tier_before, gap.effect.tier_after), (Some(2), Some(1)));
    assert!(gap.effect.moves_tier());
}

#[test]
fn area_shares_count_partial_as_half_and_skip_not_applicable() {
    let guide = guide();
    let answers: HashMap<String, Answer> = [
        ("FA1.1", answer(Status::InPlace, Priority::High)),
        ("FA1.2", answer(Status::Partial, Priority::Low)),
        ("FA3.1", answer(Status::NotApplicable, Priority::High)),
        ("FA3.2", answer(Status::NotInPlace, Priority::Medium)),
    ]
    .into_iter()
    .map(|(id, a)| (id.to_owned(), a))
    .collect();
    let (areas, share) = gaps::summarise(&guide, &answers);
    assert_eq!(areas[0].share(), Some(0.75));
    assert_eq!(areas[1].share(), Some(0.0));
    assert_eq!(share, Some(0.5));
}

#[test]
fn nearest_answers_round_to_the_edition_scale() {
    use rampart_gci::framework::AnswerType;
    assert_eq!(AnswerType::ThreeLevel.nearest(0.5), "partial");
    assert_eq!(AnswerType::ThreeLevel.nearest(0.8), "in_place");
    assert_eq!(AnswerType::ThreeLevel.nearest(0.2), "not_in_place");
    assert_eq!(AnswerType::YesNo.nearest(0.5), "yes");
    assert_eq!(AnswerType::YesNo.nearest(0.4), "no");
    let choice = AnswerType::Choice { options: vec![("none".into(), 0.0), ("some".into(), 0.4), ("all".into(), 1.0)] };
    assert_eq!(choice.nearest(0.7), "all");
    assert_eq!(choice.nearest(0.3), "some");
    assert_eq!(AnswerType::Number { target: 10.0 }.nearest(1.0), "10");
}
