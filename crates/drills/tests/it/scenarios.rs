//! Scenarios: the demo validates, broken ones are refused with the field
//! named, MSEL spreadsheets import with line numbers in their errors, and
//! exports hold no flag in clear yet import again.

use crate::support::{Env, actor};
use rampart_drills::DrillsError;
use rampart_drills::scenario::{self, Scenario};
use rampart_testkit::stores::each_store;

fn field_of(err: DrillsError) -> String {
    match err {
        DrillsError::Invalid { field, .. } => field,
        other => panic!("expected a named field, got {other}"),
    }
}

fn demo_json() -> serde_json::Value {
    serde_json::to_value(scenario::demo().unwrap()).unwrap()
}

#[test]
fn the_demo_scenario_is_a_three_hour_drill_with_twenty_injects_and_five_challenges() {
    let demo = scenario::demo().unwrap();
    assert_eq!(demo.duration_minutes, 180);
    assert_eq!(demo.injects.len(), 20);
    assert_eq!(demo.challenges.len(), 5);
    assert!(demo.injects.iter().any(|i| !i.audiences.is_empty()), "some injects are for one audience");
    assert!(demo.injects.iter().any(|i| !i.depends_on.is_empty()), "some injects wait on others");
}

#[test]
fn broken_scenarios_name_the_field_to_fix() {
    type Breakage = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Breakage)> = vec![
        ("format", Box::new(|v| v["format"] = "rampart-scenario/9".into())),
        ("title", Box::new(|v| v["title"] = " ".into())),
        ("injects[2].channel", Box::new(|v| v["injects"][2]["channel"] = "pigeon".into())),
        ("injects[1].offset_minutes", Box::new(|v| v["injects"][1]["offset_minutes"] = 500.into())),
        ("injects[3].key", Box::new(|v| v["injects"][3]["key"] = "I01".into())),
        ("injects[0].expectations[0].objective", Box::new(|v| v["injects"][0]["expectations"][0]["objective"] = "O9".into())),
        ("injects[3].expectations[0].challenge", Box::new(|v| v["injects"][3]["expectations"][0]["challenge"] = "C9".into())),
        ("injects[8].depends_on[0].inject", Box::new(|v| v["injects"][8]["depends_on"][0]["inject"] = "I99".into())),
        ("challenges[1].flags[0]", Box::new(|v| v["challenges"][1]["flags"][0] = serde_json::json!({"kind": "static"}))),
        ("challenges[2].flags[0].value", Box::new(|v| v["challenges"][2]["flags"][0]["value"] = "RAMPART{(".into())),
        ("challenges[0].decay", Box::new(|v| v["challenges"][0]["decay"] = 0.into())),
        ("challenges[2].prerequisites[0]", Box::new(|v| v["challenges"][2]["prerequisites"][0] = "C3".into())),
        ("challenges[0].files[0].content_base64", Box::new(|v| v["challenges"][0]["files"][0]["content_base64"] = "%%%".into())),
        ("challenges[0].files[0].name", Box::new(|v| v["challenges"][0]["files"][0]["name"] = "../etc/passwd".into())),
        (
            "injects",
            Box::new(|v| {
                v["injects"][0]["depends_on"] = serde_json::json!([{"inject": "I02"}]);
                v["injects"][1]["depends_on"] = serde_json::json!([{"inject": "I01"}]);
            }),
        ),
    ];
    for (field, break_it) in cases {
        let mut value = demo_json();
        break_it(&mut value);
        let err = Scenario::from_json(&value.to_string()).expect_err(field);
        assert_eq!(field_of(err), field);
    }
    // JSON that is not even JSON, or has a property nobody knows, is placed by line and column.
    let err = Scenario::from_json("{\n  \"format\": \"rampart-scenario/1\",\n  \"title\": 5\n}").unwrap_err();
    assert_eq!(field_of(err), "line 3 column 12");
    let mut unknown = demo_json();
    unknown["injects"][0]["colour"] = "red".into();
    assert!(field_of(Scenario::from_json(&unknown.to_string()).unwrap_err()).starts_with("line "));
}

#[test]
fn msel_spreadsheets_become_scenarios_and_bad_rows_are_named_by_line() {
    let scenario = scenario::from_msel("Bank phishing tabletop", include_str!("../../data/sample-msel.csv")).unwrap();
    assert_eq!(scenario.injects.len(), 4);
    let second = &scenario.injects[1];
    assert_eq!((second.key.as_str(), second.offset_minutes, second.channel.as_str()), ("I02", 10, "email"));
    assert_eq!(second.audiences, vec!["national_cirt"]);
    assert_eq!(second.expectations[0].title, "Open an incident and warn other banks");
    assert_eq!(second.expectations[0].deadline_minutes, Some(30));
    assert_eq!(second.expectations[0].objective.as_deref(), Some("coordinate"));
    assert!(scenario.injects[3].expectations.is_empty(), "no expected action, no expectation");
    assert_eq!(scenario.objectives.len(), 3);

    let bad_time = "Time,Inject\n0:00,Start\nlater,Next\n";
    let err = scenario::from_msel("x", bad_time).unwrap_err();
    assert_eq!(field_of(err), "line 3, column 1 (time)");
    let bad_channel = "time,inject,channel\n5,Start,carrier pigeon\n";
    assert_eq!(field_of(scenario::from_msel("x", bad_channel).unwrap_err()), "line 2, column 3 (channel)");
    let bad_score = "time,inject,expected action,score\n5,Start,Answer,lots\n";
    assert_eq!(field_of(scenario::from_msel("x", bad_score).unwrap_err()), "line 2, column 4 (score)");
    assert_eq!(field_of(scenario::from_msel("x", "when,what\n1,2\n").unwrap_err()), "line 1");
    let ragged = "time,inject\n5,Start,extra\n";
    assert_eq!(field_of(scenario::from_msel("x", ragged).unwrap_err()), "line 2");
    let empty_title = "time,inject\n5,\n";
    assert!(field_of(scenario::from_msel("x", empty_title).unwrap_err()).starts_with("line 2"));
}

#[tokio::test]
async fn saved_scenarios_hold_no_flag_in_clear_and_exports_import_again() {
    each_store(|store| async move {
        let env = Env::new(store).await;
        let org = actor(&env.organiser);
        let id = env.drills.save_scenario(&org, None, &env.itu, scenario::demo().unwrap()).await.unwrap();
        let row = env.store.drill_scenario(&id).await.unwrap().unwrap();
        assert!(!row.body.contains("RAMPART{svc-backup}") && !row.body.contains("RAMPART{kobalt}"), "static flags are hashed");
        assert!(row.body.contains("update-telecom-cdn"), "regular expressions are kept as written");
        let exported = env.drills.export_scenario(&env.organiser, &id).await.unwrap();
        assert!(!exported.contains("RAMPART{svc-backup}"));
        let again = env.drills.import_scenario_json(&org, &env.itu, &exported).await.unwrap();
        let (_, copy, may_edit) = env.drills.scenario(&env.organiser, &again).await.unwrap();
        assert!(may_edit);
        assert_eq!(copy.injects.len(), 20);
        let sealed = &copy.challenges[0].flags[0];
        assert!(sealed.matches("rampart{SVC-BACKUP}"), "the sealed flag still checks, case-insensitively");

        // Only organisers read the library, and only the owner's edit it.
        assert!(matches!(env.drills.scenarios(&env.ke1).await, Err(DrillsError::Forbidden)));
        let (_, _, outsider_edits) = env.drills.scenario(&env.outsider, &id).await.unwrap();
        assert!(!outsider_edits);
        let outsider = actor(&env.outsider);
        let refused = env.drills.save_scenario(&outsider, Some(&id), "", scenario::demo().unwrap()).await;
        assert!(matches!(refused, Err(DrillsError::Forbidden)));
        // A refused import stores nothing.
        let before = env.store.drill_scenarios().await.unwrap().len();
        assert!(env.drills.import_msel(&org, &env.itu, "Broken", "time,inject\nlater,x\n").await.is_err());
        assert_eq!(env.store.drill_scenarios().await.unwrap().len(), before);
        let msel = env.drills.import_msel(&org, &env.itu, "Bank phishing", include_str!("../../data/sample-msel.csv")).await.unwrap();
        assert_eq!(env.drills.scenario(&env.organiser, &msel).await.unwrap().1.injects.len(), 4);
        assert_eq!(env.audit("drills.scenario.create").await.len(), 3);
    })
    .await;
}
