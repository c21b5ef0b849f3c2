use crate::support::{actor, corpus_2020, each_backend};
use rampart_core::Clock;
use rampart_gci::GciError;
use rampart_gci::campaigns::{AnswerInput, Decision, Evidence, ReviewInput};

fn link(url: &str) -> Evidence {
    Evidence { kind: "link".into(), target: url.into(), name: "Act".into(), checked_on: "2026-02-20".into() }
}

fn yes() -> AnswerInput {
    AnswerInput { value: "yes".into(), comment: String::new(), evidence: vec![link("https://example.go.ke/act.pdf")] }
}

#[tokio::test]
async fn a_campaign_from_answers_to_published_ranks() {
    each_backend(|env| async move {
        let (editor, reviewer) = (actor(&env.editor), actor(&env.reviewer));
        let (ke, deputy, gh) = (actor(&env.ke_focal), actor(&env.ke_deputy), actor(&env.gh_focal));
        // Only editors open campaigns, only on frozen editions.
        let countries = vec!["KE".to_owned(), "GHA".to_owned()];
        assert!(matches!(env.gci.open_campaign(&ke, "gci-2020", "GCI 2026", "2026-06-30", &countries).await, Err(GciError::Forbidden)));
        let draft = env.gci.copy_edition(&editor, "gci-2020", "gci-2026", "GCI 2026 draft", 2026).await.unwrap();
        assert!(!draft.frozen);
        let err = env.gci.open_campaign(&editor, "gci-2026", "GCI 2026", "2026-06-30", &countries).await.unwrap_err();
        assert!(matches!(err, GciError::State(_)), "{err:?}");
        let past = env.gci.open_campaign(&editor, "gci-2020", "GCI 2026", "2020-06-30", &countries).await.unwrap_err();
        assert!(matches!(past, GciError::Invalid { ref field, .. } if field == "deadline"), "{past:?}");
        let campaign = env.gci.open_campaign(&editor, "gci-2020", "GCI 2026", "2026-06-30", &countries).await.unwrap();

        // Kenya's focal point and deputy share the work; Ghana's cannot touch Kenya.
        env.gci.save_answer(&ke, &campaign.id, "KE", "L1.1", &yes()).await.unwrap();
        env.gci.save_answer(&deputy, &campaign.id, "KE", "L1.2", &yes()).await.unwrap();
        let no = AnswerInput { value: "no".into(), ..AnswerInput::default() };
        env.gci.save_answer(&ke, &campaign.id, "KE", "T1.1", &no).await.unwrap();
        assert!(matches!(env.gci.save_answer(&gh, &campaign.id, "KE", "L1.3", &yes()).await, Err(GciError::Forbidden)));
        // Bad input is named and nothing is stored.
        let bad = AnswerInput { value: "perhaps".into(), ..AnswerInput::default() };
        assert!(matches!(env.gci.save_answer(&ke, &campaign.id, "KE", "L1.3", &bad).await, Err(GciError::Invalid { ref field, .. }) if field == "value"));
        let bad_link = AnswerInput { evidence: vec![link("javascript:alert(1)")], ..yes() };
        let err = env.gci.save_answer(&ke, &campaign.id, "KE", "L1.3", &bad_link).await.unwrap_err();
        assert!(matches!(err, GciError::Invalid { ref field, .. } if field == "evidence[0].target"), "{err:?}");
        // An uploaded file is evidence too; its hash is kept.
        let file = env.gci.upload_evidence(&ke, &campaign.id, "KE", "strategy.pdf", b"%PDF-1.7 national strategy").await.unwrap();
        let with_file = AnswerInput {
            evidence: vec![Evidence { kind: "file".into(), target: file.id.clone(), name: "strategy.pdf".into(), checked_on: "2026-02-28".into() }],
            ..yes()
        };
        env.gci.save_answer(&ke, &campaign.id, "KE", "O1.1", &with_file).await.unwrap();
        assert!(env.gci.evidence_file(&env.gh_focal, &file.id).await.is_err(), "Ghana cannot read Kenya's evidence");
        assert_eq!(env.gci.evidence_file(&env.reviewer, &file.id).await.unwrap().1, b"%PDF-1.7 national strategy");

        // Saving again keeps the earlier version.
        env.gci.save_answer(&ke, &campaign.id, "KE", "T1.1", &yes()).await.unwrap();
        let (q, _) = env.gci.questionnaire(&env.ke_focal, &campaign.id, "KE").await.unwrap();
        let t11 = q.questions.iter().find(|s| s.question_id == "T1.1").unwrap();
        assert_eq!(t11.history.iter().map(|a| a.value.as_str()).collect::<Vec<_>>(), vec!["no", "yes"]);
        assert_eq!(q.participant.status, "in_progress");
        assert!(env.gci.questionnaire(&env.gh_focal, &campaign.id, "KE").await.is_err());

        // The board: Ghana's focal point sees only Ghana.
        let board = env.gci.board(&env.editor, &campaign.id).await.unwrap();
        assert_eq!(board.len(), 2);
        let ke_row = board.iter().find(|r| r.participant.country == "KE").unwrap();
        assert_eq!((ke_row.answered, ke_row.questions, ke_row.due_in_days), (4, 82, Some(121)));
        assert_eq!(env.gci.board(&env.gh_focal, &campaign.id).await.unwrap().len(), 1);

        // Reviewers cannot review before submission; then submit.
        assert!(matches!(env.gci.review(&reviewer, &campaign.id, "KE", &ReviewInput::new("L1.1", Decision::Accept, "", None)).await, Err(GciError::State(_))));
        env.gci.submit(&ke, &campaign.id, "KE").await.unwrap();
        assert!(matches!(env.gci.save_answer(&ke, &campaign.id, "KE", "L1.1", &no).await, Err(GciError::State(_))));
        // A Ghana-only reviewer may not review Kenya.
        assert!(matches!(
            env.gci.review(&actor(&env.gh_reviewer), &campaign.id, "KE", &ReviewInput::new("L1.1", Decision::Accept, "", None)).await,
            Err(GciError::Forbidden)
        ));
        // Send one back, change one with a reason, accept the rest.
        assert!(env.gci.review(&reviewer, &campaign.id, "KE", &ReviewInput::new("L1.2", Decision::Clarify, "", None)).await.is_err(), "a request needs a comment");
        env.gci.review(&reviewer, &campaign.id, "KE", &ReviewInput::new("L1.2", Decision::Clarify, "The act linked is a draft; is it in force?", None)).await.unwrap();
        env.gci.review(&reviewer, &campaign.id, "KE", &ReviewInput::new("T1.1", Decision::Change, "No national CIRT yet: the team is being set up", Some("no"))).await.unwrap();
        env.gci.review(&reviewer, &campaign.id, "KE", &ReviewInput::new("L1.1", Decision::Accept, "", None)).await.unwrap();
        env.gci.review(&reviewer, &campaign.id, "KE", &ReviewInput::new("O1.1", Decision::Accept, "", None)).await.unwrap();
        let err = env.gci.validate(&reviewer, &campaign.id, "KE").await.unwrap_err();
        assert!(err.to_string().contains("L1.2"), "{err}");
        // The country answers the request; it goes back to review.
        let (q, _) = env.gci.questionnaire(&env.ke_focal, &campaign.id, "KE").await.unwrap();
        assert_eq!(q.participant.status, "in_review");
        assert!(matches!(env.gci.save_answer(&ke, &campaign.id, "KE", "L1.1", &no).await, Err(GciError::State(_))), "accepted answers are closed");
        let reply = AnswerInput { comment: "In force since 2018; gazette linked.".into(), evidence: vec![link("https://example.go.ke/gazette")], ..yes() };
        let replied = env.gci.save_answer(&ke, &campaign.id, "KE", "L1.2", &reply).await.unwrap();
        assert_eq!(replied.state, "submitted");
        env.gci.review(&reviewer, &campaign.id, "KE", &ReviewInput::new("L1.2", Decision::Accept, "", None)).await.unwrap();
        env.gci.validate(&reviewer, &campaign.id, "KE").await.unwrap();

        // Nothing is public before publication.
        assert!(env.gci.result_sets(None).await.unwrap().is_empty());
        assert!(matches!(env.gci.publish(&reviewer, &campaign.id).await, Err(GciError::Forbidden)));
        let set = env.gci.publish(&editor, &campaign.id).await.unwrap();
        let results = env.gci.results(None, &set.id, None).await.unwrap();
        assert_eq!(results.rows.len(), 1, "only validated countries are scored");
        let kenya = &results.rows[0];
        assert_eq!(kenya.alpha3, "KEN");
        // Legal: L1 has 2 of its questions yes; T1.1 changed to no; O1.1 yes.
        assert!(kenya.overall > 0.0 && kenya.pillars["technical"] == 0.0, "{kenya:?}");
        assert!(matches!(env.gci.publish(&editor, &campaign.id).await, Err(GciError::State(_))));

        // Every step is audited.
        assert_eq!(env.audit("gci.answer.save").await.len(), 6);
        assert_eq!(env.audit("gci.answer.review").await.len(), 5);
        assert_eq!(env.audit("gci.results.publish").await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn editions_are_drafted_then_frozen_and_past_results_imported() {
    each_backend(|env| async move {
        let editor = actor(&env.editor);
        let draft = env.gci.copy_edition(&editor, "gci-2024", "gci-2026", "GCI 2026", 2026).await.unwrap();
        let (_, framework) = env.gci.edition(&draft.code).await.unwrap();
        // Reweight one pillar and drop a question; a broken CSV names its line and changes nothing.
        let csv = framework.nodes_csv().replacen("legal,,pillar,20", "legal,,pillar,30", 1);
        let edited = env.gci.edit_edition(&editor, "gci-2026", &csv, None).await.unwrap();
        assert_eq!(edited.node("legal").unwrap().weight, 30.0);
        let broken = format!("{csv}orphan,nowhere,question,1,yes_no,placeholder,Orphan?\n");
        let err = env.gci.edit_edition(&editor, "gci-2026", &broken, None).await.unwrap_err();
        assert!(err.to_string().contains(&format!("line {}", broken.lines().count())), "{err}");
        assert_eq!(env.gci.edition("gci-2026").await.unwrap().1.node("legal").unwrap().weight, 30.0);
        env.gci.freeze_edition(&editor, "gci-2026").await.unwrap();
        assert!(matches!(env.gci.edit_edition(&editor, "gci-2026", &csv, None).await, Err(GciError::State(_))));
        assert!(
            matches!(env.gci.edit_edition(&editor, "gci-2020", &csv, None).await, Err(GciError::State(_))),
            "shipped editions are frozen"
        );
        assert!(matches!(env.gci.copy_edition(&actor(&env.reviewer), "gci-2024", "x", "x", 2026).await, Err(GciError::Forbidden)));

        let (set, warnings) = env.gci.import_published(&editor, "gci-2020", "GCI 2020 as published", &corpus_2020()).await.unwrap();
        assert_eq!(warnings.len(), 4);
        let results = env.gci.results(None, &set.id, None).await.unwrap();
        assert_eq!(results.rows.len(), 191);
        assert_eq!(results.rows[0].alpha3, "USA");
        // A refused import stores nothing.
        let before = env.gci.result_sets(None).await.unwrap().len();
        assert!(env.gci.import_published(&editor, "gci-2020", "bad", "country,overall\nXX,120\n").await.is_err());
        assert_eq!(env.gci.result_sets(None).await.unwrap().len(), before);
    })
    .await;
}

#[tokio::test]
async fn deadline_reminders_follow_the_stages_once_each() {
    use rampart_gci::reminders::stage;
    assert_eq!([20, 14, 10, 7, 2, 1, 0, -1].map(stage), [None, Some(14), Some(14), Some(7), Some(7), Some(1), Some(1), Some(0)]);
    each_backend(|env| async move {
        let editor = actor(&env.editor);
        let countries = vec!["KE".to_owned(), "GH".to_owned()];
        // Deadline 20 days after t0.
        let campaign = env.gci.open_campaign(&editor, "gci-2020", "GCI 2026", "2026-03-21", &countries).await.unwrap();
        assert!(env.gci.due_reminders(env.clock.now()).await.unwrap().is_empty(), "20 days out: nothing yet");
        env.clock.advance(chrono::Duration::days(10));
        let due = env.gci.due_reminders(env.clock.now()).await.unwrap();
        let mut who: Vec<(&str, i64, usize)> = due.iter().map(|r| (r.country.as_str(), r.stage, r.recipients.len())).collect();
        who.sort();
        assert_eq!(who, [("GH", 14, 1), ("KE", 14, 2)], "Kenya has two focal points");
        let (subject, body) = due.iter().find(|r| r.country == "KE").unwrap().compose("https://gci.example/");
        assert_eq!(subject, "Reminder: GCI 2026 questionnaire for Kenya due in 10 days");
        assert!(body.contains(&format!("https://gci.example/gci/campaigns/{}/countries/KE", campaign.id)), "{body}");
        for reminder in &due {
            assert!(env.gci.mark_reminded(reminder, env.clock.now()).await.unwrap());
            assert!(!env.gci.mark_reminded(reminder, env.clock.now()).await.unwrap(), "recorded once");
        }
        assert!(env.gci.due_reminders(env.clock.now()).await.unwrap().is_empty(), "each stage once");
        // Kenya answers everything and submits: only Ghana is reminded later.
        let (_, framework) = env.gci.edition("gci-2020").await.unwrap();
        let ke = actor(&env.ke_focal);
        for question in framework.questions() {
            env.gci.save_answer(&ke, &campaign.id, "KE", &question.id, &yes()).await.unwrap();
        }
        env.gci.submit(&ke, &campaign.id, "KE").await.unwrap();
        env.clock.advance(chrono::Duration::days(11));
        let late = env.gci.due_reminders(env.clock.now()).await.unwrap();
        assert_eq!(
            late.iter().map(|r| (r.country.as_str(), r.stage)).collect::<Vec<_>>(),
            [("GH", 0)],
            "overdue, skipping the stages missed"
        );
        assert!(late[0].compose("https://gci.example").0.starts_with("Overdue: "));
        assert_eq!(env.audit("gci.reminder.sent").await.len(), 2);
    })
    .await;
}
