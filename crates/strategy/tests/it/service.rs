use crate::support::{Env, actor};
use rampart_gci::campaigns::AnswerInput as GciAnswer;
use rampart_strategy::StrategyError;
use rampart_strategy::data;
use rampart_strategy::maturity::Profile;
use rampart_strategy::plan;
use rampart_strategy::service::{ActionInput, AnswerInput, KpiInput};
use rampart_testkit::stores::each_store;

fn answer(status: &str) -> AnswerInput {
    AnswerInput { status: status.into(), priority: String::new(), evidence: vec![], comment: String::new() }
}

fn kpi_input(name: &str, unit: &str, baseline: &str, target: &str) -> KpiInput {
    KpiInput { name: name.into(), unit: unit.into(), baseline: baseline.into(), target: target.into() }
}

fn field_of(err: StrategyError) -> String {
    match err {
        StrategyError::Invalid { field, .. } => field,
        other => panic!("expected an invalid field, got {other:?}"),
    }
}

#[tokio::test]
async fn a_strategy_owner_records_the_lifecycle_and_only_their_country() {
    each_store(|store| async move {
        let env = Env::new(store).await;
        let (owner, gh) = (actor(&env.owner), actor(&env.gh_owner));
        let s = &env.strategy;
        let record =
            s.save_record(&owner, "ke", "Kenya National Cybersecurity Strategy 2026", "stocktaking", "Second strategy.").await.unwrap();
        assert_eq!(record.country, "KE");
        assert!(matches!(s.save_record(&gh, "KE", "x", "production", "").await, Err(StrategyError::Forbidden)));
        assert!(matches!(s.overview(&env.gh_owner, "KE").await, Err(StrategyError::Forbidden)));
        assert!(
            matches!(s.overview(&env.manager, "KE").await, Err(StrategyError::Forbidden)),
            "a CIRT manager reads their CIRT, not the strategy"
        );
        assert_eq!(field_of(s.save_record(&owner, "KE", "x", "dreaming", "").await.unwrap_err()), "phase");
        assert!(matches!(s.save_record(&owner, "XX", "x", "production", "").await, Err(StrategyError::NotFound("country"))));
        // Moving to a new phase starts it on the timeline.
        env.clock.advance(chrono::Duration::days(40));
        s.save_record(&owner, "KE", "Kenya National Cybersecurity Strategy 2026", "production", "").await.unwrap();
        s.set_phase(&owner, "KE", "stocktaking", "2026-03-01", "2026-04-10", "Survey of 40 bodies").await.unwrap();
        assert_eq!(field_of(s.set_phase(&owner, "KE", "production", "2026-05-01", "2026-04-01", "").await.unwrap_err()), "ended_on");
        assert_eq!(field_of(s.add_document(&owner, "KE", "Draft", "strategy", "javascript:alert(1)", "").await.unwrap_err()), "url");
        s.add_document(&owner, "KE", "Draft strategy v0.3", "strategy", "https://ict.go.ke.example/ncs-draft.pdf", "2026-04-02")
            .await
            .unwrap();
        let regulator = s
            .add_stakeholder(&owner, "KE", "Communications Authority", "government", "Regulator; co-chairs the steering committee")
            .await
            .unwrap();
        s.add_stakeholder(&owner, "KE", "Strathmore University", "academia", "Skills survey").await.unwrap();
        assert_eq!(field_of(s.add_stakeholder(&owner, "KE", "X", "aliens", "y").await.unwrap_err()), "sector");
        s.remove_stakeholder(&owner, "KE", &regulator.id).await.unwrap();
        assert!(matches!(s.remove_stakeholder(&gh, "KE", &regulator.id).await, Err(StrategyError::Forbidden)));
        let overview = s.overview(&env.owner, "KE").await.unwrap();
        let phases: Vec<(&str, &str)> = overview.phases.iter().map(|p| (p.phase.as_str(), p.started_on.as_str())).collect();
        assert_eq!(phases, [("stocktaking", "2026-03-01"), ("production", "2026-04-10")]);
        assert_eq!(overview.documents.len(), 1);
        assert_eq!(overview.stakeholders.len(), 1);
        assert!(overview.may_edit);
        assert_eq!(env.audit("strategy.record.save").await.len(), 2);
        assert_eq!(env.audit("strategy.stakeholder.remove").await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn self_assessment_gaps_show_the_gci_effect_and_become_actions_with_kpis() {
    each_store(|store| async move {
        let env = Env::new(store).await;
        let owner = actor(&env.owner);
        let s = &env.strategy;
        // Kenya is in a GCI campaign and has answered one question.
        let editor = actor(&env.gci_editor);
        let campaign = env.gci.open_campaign(&editor, "gci-2024", "GCI 2026", "2026-06-30", &["KE".to_owned()]).await.unwrap();
        let focal = actor(&env.ke_focal);
        let gci_answer = GciAnswer { value: "in_place".into(), ..GciAnswer::default() };
        env.gci.save_answer(&focal, &campaign.id, "KE", "T1.1.a.q1", &gci_answer).await.unwrap();

        // Answers are versioned; bad input is named and nothing is stored.
        s.save_answer(&owner, "KE", "FA1.2", &answer("partial")).await.unwrap();
        let evidence = AnswerInput {
            evidence: vec!["https://ict.go.ke.example/gazette.pdf".into()],
            comment: "Gazetted".into(),
            ..answer("not_in_place")
        };
        s.save_answer(&owner, "KE", "FA1.2", &evidence).await.unwrap();
        s.save_answer(&owner, "KE", "FA3.1", &AnswerInput { priority: "low".into(), ..answer("not_in_place") }).await.unwrap();
        s.save_answer(&owner, "KE", "FA6.2", &answer("in_place")).await.unwrap();
        assert_eq!(field_of(s.save_answer(&owner, "KE", "FA6.3", &answer("maybe")).await.unwrap_err()), "status");
        let bad_link = AnswerInput { evidence: vec!["file:///etc/passwd".into()], ..answer("in_place") };
        assert_eq!(field_of(s.save_answer(&owner, "KE", "FA6.3", &bad_link).await.unwrap_err()), "evidence[0]");
        assert!(matches!(s.save_answer(&owner, "KE", "FA99.1", &answer("in_place")).await, Err(StrategyError::NotFound("element"))));
        assert!(matches!(s.save_answer(&actor(&env.gh_owner), "KE", "FA6.3", &answer("in_place")).await, Err(StrategyError::Forbidden)));
        let views = s.assessment(&env.owner, "KE").await.unwrap();
        let fa12 = views.iter().find(|v| v.element.id == "FA1.2").unwrap();
        assert_eq!(fa12.history.len(), 2);
        assert_eq!(fa12.current.as_ref().unwrap().status, "not_in_place");
        assert_eq!(fa12.evidence, vec!["https://ict.go.ke.example/gazette.pdf".to_owned()]);
        assert!(views.iter().find(|v| v.element.id == "FA6.3").unwrap().current.is_none());

        let report = s.gaps(&env.owner, "KE").await.unwrap();
        assert_eq!(report.baseline.campaign.as_ref().map(|c| c.0.as_str()), Some(campaign.id.as_str()));
        assert_eq!(report.baseline.answered, 1);
        assert!(report.baseline.estimated > 0, "questions under FA6.2's indicator are estimated from the self-assessment");
        let ids: Vec<&str> = report.gaps.iter().map(|g| g.element.id.as_str()).collect();
        assert_eq!(ids, ["FA1.2", "FA3.1"], "high priority before the low one the owner set");
        for gap in &report.gaps {
            assert!(gap.effect.overall_after > gap.effect.overall_before, "{} changes nothing", gap.element.id);
        }
        assert!(report.all_closed.overall_after >= report.gaps.iter().map(|g| g.effect.overall_after).fold(0.0, f64::max));

        // Gaps become actions in one step, once.
        let added = s.actions_from_gaps(&owner, "KE", &["FA1.2".into(), "FA3.1".into()]).await.unwrap();
        assert_eq!(added.len(), 2);
        assert!(s.actions_from_gaps(&owner, "KE", &["FA1.2".into()]).await.unwrap().is_empty());
        assert_eq!(field_of(s.actions_from_gaps(&owner, "KE", &["FA6.2".into()]).await.unwrap_err()), "elements");
        let plan_now = s.plan(&env.owner, "KE").await.unwrap();
        assert_eq!(plan_now.objectives.len(), 2, "one objective per focus area");
        let action = plan_now.actions().find(|(_, a)| a.action.origin == "gap:FA3.1").unwrap().1.action.clone();

        // Edit it: lead, budget, dates; bad input named.
        let input = ActionInput {
            objective_id: action.objective_id.clone(),
            title: "Stand up sectoral CIRTs for energy and finance".into(),
            lead_org: "KE-CIRT".into(),
            supporting: "Central Bank\nEnergy regulator".into(),
            budget: "250,000".into(),
            currency: "usd".into(),
            start_on: "2026-03-01".into(),
            end_on: "2026-09-30".into(),
            status: "in_progress".into(),
        };
        let saved = s.save_action(&owner, "KE", Some(&action.id), &input).await.unwrap();
        assert_eq!((saved.budget, saved.currency.as_str(), saved.origin.as_str()), (Some(250_000), "USD", "gap:FA3.1"));
        assert_eq!(
            field_of(s.save_action(&owner, "KE", None, &ActionInput { end_on: "2026-01-01".into(), ..input.clone() }).await.unwrap_err()),
            "end_on"
        );
        assert_eq!(
            field_of(s.save_action(&owner, "KE", None, &ActionInput { budget: "lots".into(), ..input.clone() }).await.unwrap_err()),
            "budget"
        );
        assert_eq!(
            field_of(s.save_action(&owner, "KE", None, &ActionInput { objective_id: "nope".into(), ..input.clone() }).await.unwrap_err()),
            "objective_id"
        );

        // A KPI whose target is below its baseline: days to notify victims.
        let kpi = s.add_kpi(&owner, "KE", &action.id, &kpi_input("Median days to notify", "days", "30", "5")).await.unwrap();
        assert_eq!(field_of(s.add_kpi(&owner, "KE", &action.id, &kpi_input("x", "", "NaN", "1")).await.unwrap_err()), "baseline");
        s.record_kpi(&owner, "KE", &kpi.id, "2026-02-15", "25", "").await.unwrap();
        s.record_kpi(&owner, "KE", &kpi.id, "2026-03-01", "17.5", "Q1 figure").await.unwrap();
        assert_eq!(field_of(s.record_kpi(&owner, "KE", &kpi.id, "2026-12-01", "1", "").await.unwrap_err()), "measured_on");
        let plan_now = s.plan(&env.owner, "KE").await.unwrap();
        let state = plan_now.actions().find(|(_, a)| a.action.id == action.id).unwrap().1;
        assert_eq!(state.kpis[0].latest, Some(17.5));
        assert_eq!(state.kpis[0].progress, Some(0.5));
        assert!(!state.overdue);
        assert_eq!(plan_now.summary.budget.get("USD"), Some(&250_000));

        // Time passes: the action is overdue until done.
        env.clock.advance(chrono::Duration::days(220));
        let later = s.plan(&env.owner, "KE").await.unwrap();
        assert_eq!(later.summary.overdue, 1);
        s.set_action_status(&owner, "KE", &action.id, "done").await.unwrap();
        assert_eq!(s.plan(&env.owner, "KE").await.unwrap().summary.overdue, 0);
        let csv = plan::to_csv(&s.plan(&env.owner, "KE").await.unwrap());
        assert!(csv.lines().next().unwrap().starts_with("objective,area,action,lead"));
        assert!(csv.contains("Stand up sectoral CIRTs for energy and finance,KE-CIRT,Central Bank; Energy regulator,250000,USD"), "{csv}");
        assert!(csv.contains("Median days to notify,days,30,5,17.5,50%"), "{csv}");
        assert_eq!(env.audit("strategy.plan.from_gaps").await.len(), 1);
        assert_eq!(env.audit("strategy.assessment.answer").await.len(), 4);
    })
    .await;
}

fn profile(level: u8) -> Profile {
    data::sim3().unwrap().parameters.iter().map(|p| (p.id.clone(), level)).collect()
}

#[tokio::test]
async fn a_cirt_manager_records_sim3_and_services_and_feeds_the_plan() {
    each_store(|store| async move {
        let env = Env::new(store).await;
        let manager = actor(&env.manager);
        let s = &env.strategy;
        let mut levels = profile(2);
        levels.insert("O-1".into(), 4);
        levels.insert("P-13".into(), 0);
        let mut targets = Profile::new();
        targets.insert("P-13".into(), 3);
        targets.insert("T-4".into(), 3);
        targets.insert("O-1".into(), 3);
        // Bad profiles are named by parameter.
        let mut missing = levels.clone();
        missing.remove("H-2");
        assert_eq!(
            field_of(s.record_maturity(&manager, &env.ke_cirt, "2026-02-20", &missing, &targets, "").await.unwrap_err()),
            "levels.H-2"
        );
        let mut too_high = levels.clone();
        too_high.insert("T-1".into(), 5);
        assert_eq!(
            field_of(s.record_maturity(&manager, &env.ke_cirt, "2026-02-20", &too_high, &targets, "").await.unwrap_err()),
            "levels.T-1"
        );
        let mut unknown = targets.clone();
        unknown.insert("O-6".into(), 2);
        assert_eq!(
            field_of(s.record_maturity(&manager, &env.ke_cirt, "2026-02-20", &levels, &unknown, "").await.unwrap_err()),
            "targets.O-6"
        );
        assert!(matches!(
            s.record_maturity(&manager, &env.gh_cirt, "2026-02-20", &levels, &targets, "").await,
            Err(StrategyError::Forbidden)
        ));
        s.record_maturity(&manager, &env.ke_cirt, "2026-02-20", &levels, &targets, "Self-assessed with the team").await.unwrap();

        let view = s.maturity(&env.owner, &env.ke_cirt).await.unwrap();
        assert!(view.may_assess, "a country strategy editor may assess its CIRTs");
        let gaps = rampart_strategy::maturity::gaps(data::sim3().unwrap(), &view.levels, &view.targets);
        let order: Vec<(&str, u8, u8)> = gaps.iter().map(|g| (g.parameter.as_str(), g.level, g.target)).collect();
        assert_eq!(order, [("P-13", 0, 3), ("T-4", 2, 3)], "largest shortfall first; O-1 is above its target");
        assert!(matches!(s.maturity(&env.gh_owner, &env.ke_cirt).await, Err(StrategyError::Forbidden)));

        // Maturity gaps become actions in Kenya's plan under the CIRT's objective.
        let added = s.maturity_actions(&manager, &env.ke_cirt, &["P-13".into(), "T-4".into()]).await.unwrap();
        assert_eq!(added.len(), 2);
        assert!(added[0].title.starts_with("P-13 ") && added[0].title.ends_with("level 0 to 3"), "{}", added[0].title);
        assert!(s.maturity_actions(&manager, &env.ke_cirt, &["P-13".into()]).await.unwrap().is_empty());
        assert_eq!(field_of(s.maturity_actions(&manager, &env.ke_cirt, &["O-1".into()]).await.unwrap_err()), "parameters");
        let plan_now = s.plan(&env.owner, "KE").await.unwrap();
        assert_eq!(plan_now.objectives.len(), 1);
        assert!(plan_now.objectives[0].title.contains("KE-CIRT"));

        // Service catalogue.
        s.set_service(&manager, &env.ke_cirt, "2.1", "advanced", "Government and critical infrastructure", "24/7").await.unwrap();
        assert_eq!(field_of(s.set_service(&manager, &env.ke_cirt, "2.1", "heroic", "", "").await.unwrap_err()), "level");
        assert!(matches!(s.set_service(&manager, &env.ke_cirt, "2", "basic", "", "").await, Err(StrategyError::NotFound("service"))));
        assert_eq!(s.maturity(&env.manager, &env.ke_cirt).await.unwrap().services.len(), 1);

        // The comparison: the coordinator sees every country with data; the
        // Kenyan owner sees Kenya only.
        s.save_record(&actor(&env.gh_owner), "GH", "Ghana strategy", "implementation", "").await.unwrap();
        let all = s.compare(&env.coordinator, Some(rampart_core::country::ItuRegion::Africa)).await.unwrap();
        let rows: Vec<(&str, Option<&str>)> = all.iter().map(|r| (r.country.as_str(), r.phase.as_deref())).collect();
        assert_eq!(rows, [("GH", Some("implementation")), ("KE", None)]);
        assert!(all[1].maturity.is_some_and(|m| m > 1.9 && m < 2.1));
        let mine = s.compare(&env.owner, None).await.unwrap();
        assert_eq!(mine.iter().map(|r| r.country.as_str()).collect::<Vec<_>>(), ["KE"]);
        let cirts: Vec<String> = s.cirts(&env.manager).await.unwrap().into_iter().map(|o| o.id).collect();
        assert_eq!(cirts, std::slice::from_ref(&env.ke_cirt));
        assert_eq!(env.audit("maturity.assessment.record").await.len(), 1);
    })
    .await;
}
