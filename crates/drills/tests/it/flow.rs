//! The demo drill from start to after-action report at 10× speed: injects
//! arrive on time for the right teams, players acknowledge and answer,
//! evaluators score, challenges score with CTFd's decay, the clock pauses
//! and resumes, controllers fire and delay injects, and the report comes
//! out complete.

use crate::support::{Env, actor};
use chrono::Duration;
use rampart_drills::DrillsError;
use rampart_drills::play::FlagOutcome;
use rampart_drills::report::{HotwashInput, ImprovementInput};
use rampart_drills::service::InjectEdit;
use rampart_testkit::stores::each_store;

fn inbox_keys(view: &rampart_drills::play::PlayerView) -> Vec<String> {
    let mut keys: Vec<String> = view.inbox.iter().map(|i| i.inject.key.clone()).collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn a_drill_runs_from_comm_check_to_after_action_report() {
    each_store(|store| async move {
        let env = Env::new(store).await;
        let id = env.exercise(10.0).await;
        let org = actor(&env.organiser);
        let (ke1, ke2, gh1, telco) = (actor(&env.ke1), actor(&env.ke2), actor(&env.gh1), actor(&env.telco1));

        // Before the start: a communication check reaches every team.
        env.drills.comm_check(&org, &id).await.unwrap();
        assert!(env.drills.player_view(&env.ke1, &id).await.unwrap().comm_check_pending);
        env.drills.confirm_comm_check(&ke2, &id).await.unwrap();
        assert!(!env.drills.player_view(&env.ke1, &id).await.unwrap().comm_check_pending, "one player confirms for the team");
        assert!(env.drills.confirm_comm_check(&ke1, &id).await.is_err(), "nothing left to confirm");
        let console = env.drills.console(&env.organiser, &id).await.unwrap();
        let confirmed: Vec<bool> = console.teams.iter().map(|t| t.team.comm_check_confirmed_at.is_some()).collect();
        assert_eq!(confirmed, vec![false, true, false], "Ghana, Kenya, TelcoNet by name");
        assert!(matches!(env.drills.submit_flag(&ke1, &id, "C2", "x").await, Err(DrillsError::State(_))), "no play before the start");

        // STARTEX: I01 goes to everyone at once.
        env.drills.transition(&org, &id, "start", "").await.unwrap();
        assert_eq!(inbox_keys(&env.drills.player_view(&env.ke1, &id).await.unwrap()), vec!["I01"]);
        // 10× speed: 30 real seconds are five exercise minutes, when I02 falls due.
        env.advance(Duration::seconds(29));
        assert_eq!(env.drills.tick().await.unwrap(), 0);
        env.advance(Duration::seconds(1));
        assert_eq!(env.drills.tick().await.unwrap(), 3, "I02 to the three teams");
        assert_eq!(env.drills.tick().await.unwrap(), 0, "nothing is delivered twice");

        // Players acknowledge and answer; answering acknowledges too.
        assert!(env.drills.acknowledge(&ke1, &id, "I01").await.unwrap());
        assert!(!env.drills.acknowledge(&ke2, &id, "I01").await.unwrap(), "the first acknowledgement counts");
        env.drills.respond(&ke1, &id, "I01", "Amina Odhiambo is handling.", None).await.unwrap();
        env.drills
            .respond(&gh1, &id, "I02", "Isolate billing VLANs, image the servers.", Some(("plan.txt", b"1. isolate\n2. image")))
            .await
            .unwrap();
        assert!(
            matches!(env.drills.respond(&ke1, &id, "I05", "early", None).await, Err(DrillsError::NotFound("inject"))),
            "not yet delivered"
        );
        env.drills.add_log(&ke1, &id, "02:05 called TelcoNet SOC").await.unwrap();

        // An inject's attachment is not readable before the inject reaches the team.
        let i06 = env.store.drill_injects(&id).await.unwrap().into_iter().find(|i| i.key == "I06").unwrap();
        let brief = serde_json::from_str::<serde_json::Value>(&i06.files).unwrap()[0]["sha256"].as_str().unwrap().to_owned();
        assert!(matches!(env.drills.challenge_file(&env.ke1, &id, &brief).await, Err(DrillsError::NotFound("file"))));
        assert!(env.drills.challenge_file(&env.observer, &id, &brief).await.is_ok(), "staff read every file");

        // At 45 exercise minutes: I08 is for national CIRTs only, never for the operator.
        env.advance(Duration::seconds(240));
        env.drills.tick().await.unwrap();
        let kenya = env.drills.player_view(&env.ke1, &id).await.unwrap();
        let operator = env.drills.player_view(&env.telco1, &id).await.unwrap();
        assert!(inbox_keys(&kenya).contains(&"I08".to_owned()));
        assert!(!inbox_keys(&operator).contains(&"I08".to_owned()));
        assert_eq!(kenya.log.len(), 1);
        let with_brief = kenya.inbox.iter().find(|i| i.inject.key == "I06").unwrap();
        assert_eq!(with_brief.files[0].name, "regulator-briefing-template.txt");
        let (_, text) = env.drills.challenge_file(&env.ke1, &id, &brief).await.unwrap();
        assert!(String::from_utf8(text).unwrap().starts_with("BRIEFING NOTE"));
        assert!(operator.log.is_empty(), "a team's log is its own");
        assert_eq!(kenya.inbox[0].inject.key, "I08", "newest first");

        // Challenges: C3 waits on C1; wrong flags count, a solve scores, CTFd decay applies to every solver.
        let c3 = kenya.challenges.iter().find(|c| c.key == "C3").unwrap();
        assert_eq!(c3.locked_by, vec!["C1"]);
        assert!(c3.description.is_empty(), "a locked challenge shows its title only");
        assert!(matches!(env.drills.submit_flag(&ke1, &id, "C3", "RAMPART{update-telecom-cdn.example}").await, Err(DrillsError::State(_))));
        assert_eq!(env.drills.submit_flag(&ke1, &id, "C1", "RAMPART{admin}").await.unwrap(), FlagOutcome::Wrong { attempts_left: Some(4) });
        assert_eq!(
            env.drills.submit_flag(&ke2, &id, "C1", " rampart{SVC-BACKUP} ").await.unwrap(),
            FlagOutcome::Correct { points: 300, first: true }
        );
        assert_eq!(env.drills.submit_flag(&ke1, &id, "C1", "RAMPART{svc-backup}").await.unwrap(), FlagOutcome::AlreadySolved);
        env.advance(Duration::seconds(1));
        assert_eq!(
            env.drills.submit_flag(&gh1, &id, "C1", "RAMPART{svc-backup}").await.unwrap(),
            FlagOutcome::Correct { points: 280, first: false }
        );
        assert_eq!(
            env.drills.submit_flag(&ke1, &id, "C3", "rampart{exfil.update-telecom-cdn.example}").await.unwrap(),
            FlagOutcome::Correct { points: 400, first: true },
            "the regular expression matches the whole answer, case-insensitively"
        );
        // A hint costs its points once, whoever of the team opens it again.
        assert_eq!(env.drills.unlock_hint(&gh1, &id, "C4", 0).await.unwrap(), "Decode it as base64.");
        env.drills.unlock_hint(&gh1, &id, "C4", 0).await.unwrap();
        let board = env.drills.scoreboard(&env.gh1, &id).await.unwrap();
        let score = |team: &str| board.standings.iter().find(|s| s.team == team).unwrap().score;
        assert_eq!(score("Kenya"), 280 + 400, "Kenya's C1 lost value when Ghana solved it too");
        assert_eq!(score("Ghana"), 280 - 100);
        assert_eq!(score("TelcoNet"), 0);
        assert_eq!(board.standings[0].team, "Kenya");
        assert!(board.solves.iter().any(|s| s.first && s.team == "Kenya" && s.challenge.contains("VPN")), "first solve marked");
        let files = &env.drills.player_view(&env.gh1, &id).await.unwrap().challenges[0].files;
        let (name, bytes) = env.drills.challenge_file(&env.gh1, &id, &files[0].sha256).await.unwrap();
        assert_eq!(name, "vpn-gw01.log");
        assert!(String::from_utf8(bytes).unwrap().contains("svc-backup"));

        // Pause: the clock stops and nothing falls due; resume carries on where it stopped.
        env.drills.transition(&org, &id, "pause", "fire alarm at the venue").await.unwrap();
        let paused_at = env.drills.console(&env.organiser, &id).await.unwrap().exercise.elapsed;
        env.advance(Duration::minutes(30));
        assert_eq!(env.drills.tick().await.unwrap(), 0);
        assert_eq!(env.drills.console(&env.organiser, &id).await.unwrap().exercise.elapsed, paused_at);
        assert!(matches!(env.drills.submit_flag(&ke1, &id, "C2", "RAMPART{kobalt}").await, Err(DrillsError::State(_))));
        env.drills.transition(&org, &id, "resume", "").await.unwrap();
        assert!(env.drills.transition(&org, &id, "resume", "").await.is_err(), "resuming twice is refused");

        // Controllers delay one inject and fire another ahead of time.
        env.drills.edit_inject(&org, &id, "I11", InjectEdit::Delay { minutes: 60 }).await.unwrap();
        assert_eq!(env.drills.fire_now(&org, &id, "I15").await.unwrap(), 1, "I15 is for the operator alone");
        assert!(inbox_keys(&env.drills.player_view(&env.telco1, &id).await.unwrap()).contains(&"I15".to_owned()));
        env.drills.respond(&telco, &id, "I15", "Incident plan activated.", None).await.unwrap();
        // I09 waits on I05; at 80 exercise minutes everything up to I10 is out, I11 (now at 135) is not.
        env.advance(Duration::seconds(210));
        env.drills.tick().await.unwrap();
        let kenya = inbox_keys(&env.drills.player_view(&env.ke1, &id).await.unwrap());
        assert!(kenya.contains(&"I10".to_owned()) && kenya.contains(&"I09".to_owned()));
        assert!(!kenya.contains(&"I11".to_owned()), "delayed by an hour");
        // I19 waits until the team answered I12: run to 170 minutes and only the team that answered gets it.
        env.advance(Duration::seconds(60));
        env.drills.tick().await.unwrap();
        env.drills.respond(&ke1, &id, "I12", "Beware of calls claiming to be TelcoNet support.", None).await.unwrap();
        env.advance(Duration::seconds(480));
        env.drills.tick().await.unwrap();
        assert!(inbox_keys(&env.drills.player_view(&env.ke1, &id).await.unwrap()).contains(&"I19".to_owned()));
        assert!(!inbox_keys(&env.drills.player_view(&env.gh1, &id).await.unwrap()).contains(&"I19".to_owned()));

        // Evaluation: the queue lists what is ready, evaluators score within the expected score.
        let queue = env.drills.evaluation_queue(&env.evaluator, &id).await.unwrap();
        assert!(queue.pending > 0);
        let first = queue.items.iter().find(|i| i.expectation.key == "I01.1" && i.team.name == "Kenya").unwrap();
        assert!(!first.waiting && first.evaluation.is_none());
        let ghana_i01 = queue.items.iter().find(|i| i.expectation.key == "I01.1" && i.team.name == "Ghana").unwrap();
        assert!(ghana_i01.waiting && ghana_i01.late, "no answer, and the ten-minute deadline passed");
        let kenya_team = first.team.id.clone();
        let ghana_team = ghana_i01.team.id.clone();
        let ev = actor(&env.evaluator);
        assert!(
            matches!(env.drills.evaluate(&ev, &id, "I01.1", &kenya_team, 6, "").await, Err(DrillsError::Invalid { .. })),
            "above the expected score"
        );
        assert!(
            matches!(env.drills.evaluate(&ev, &id, "I01.1", &ghana_team, 3, "").await, Err(DrillsError::State(_))),
            "nothing to score yet"
        );
        env.drills.evaluate(&ev, &id, "I01.1", &kenya_team, 5, "Named the handler at once").await.unwrap();
        env.drills.evaluate(&ev, &id, "I02.1", &ghana_team, 8, "Good isolation advice").await.unwrap();
        env.drills.evaluate(&ev, &id, "I07.1", &kenya_team, 10, "Held the press line").await.unwrap();
        assert!(
            matches!(env.drills.evaluate(&ev, &id, "I05.1", &kenya_team, 20, "").await, Err(DrillsError::Invalid { .. })),
            "challenges score themselves"
        );
        let board = env.drills.scoreboard(&env.ke1, &id).await.unwrap();
        let kenya = board.standings.iter().find(|s| s.team == "Kenya").unwrap();
        assert_eq!((kenya.challenge_points, kenya.expectation_points), (680, 15));

        // Players may not run, evaluate or observe.
        assert!(matches!(env.drills.transition(&ke1, &id, "finish", "").await, Err(DrillsError::Forbidden)));
        assert!(matches!(env.drills.evaluation_queue(&env.ke1, &id).await, Err(DrillsError::Forbidden)));
        assert!(matches!(env.drills.report(&env.ke1, &id).await, Err(DrillsError::Forbidden)));
        assert!(matches!(env.drills.player_view(&env.stranger, &id).await, Err(DrillsError::NotFound("exercise"))), "no part, not told");
        assert!(matches!(env.drills.console(&env.outsider, &id).await, Err(DrillsError::Forbidden)));
        let ghana_file = env.drills.console(&env.organiser, &id).await.unwrap();
        assert_eq!(ghana_file.pauses.len(), 1);
        let responses = env.store.drill_responses(&id).await.unwrap();
        let with_file = responses.iter().find(|r| r.file_name.is_some()).unwrap();
        assert!(env.drills.response_file(&env.gh1, &id, &with_file.id).await.is_ok());
        assert!(
            matches!(env.drills.response_file(&env.ke1, &id, &with_file.id).await, Err(DrillsError::NotFound(_))),
            "another team's file"
        );
        assert!(env.drills.response_file(&env.evaluator, &id, &with_file.id).await.is_ok());

        // ENDEX, hot wash and improvement plan.
        assert!(env.drills.hotwash(&ke1, &id, &HotwashInput { rating: 4, ..Default::default() }).await.is_err(), "opens at the end");
        env.drills.transition(&org, &id, "finish", "").await.unwrap();
        assert!(matches!(env.drills.submit_flag(&ke1, &id, "C2", "RAMPART{kobalt}").await, Err(DrillsError::State(_))));
        let anonymous =
            HotwashInput { rating: 4, went_well: "Injects were realistic".into(), to_improve: "More time for C3".into(), anonymous: true };
        env.drills.hotwash(&ke1, &id, &anonymous).await.unwrap();
        assert!(env.drills.hotwash(&ke1, &id, &anonymous).await.is_err(), "one answer each");
        env.drills
            .hotwash(&gh1, &id, &HotwashInput { rating: 2, went_well: String::new(), to_improve: "Too fast".into(), anonymous: false })
            .await
            .unwrap();
        let stored = env.store.drill_hotwash(&id).await.unwrap();
        let anon = stored.iter().find(|h| h.rating == 4).unwrap();
        assert!(anon.user_id.is_none() && anon.team_id.is_none() && anon.at.ends_with("T00:00:00.000Z"), "no trace back to the person");
        assert!(!env.audit("drills.hotwash.answer").await.iter().any(|r| r.summary.contains("realistic")));
        let plan = ImprovementInput {
            objective: "O2".into(),
            kind: "improvement".into(),
            observation: "Peer sharing started late".into(),
            action: "Agree a regional TLP:AMBER sharing channel".into(),
            owner: "AfricaCERT".into(),
            due_on: "2026-06-30".into(),
        };
        env.drills.add_improvement(&ev, &id, &plan).await.unwrap();
        let no_date = ImprovementInput { due_on: String::new(), ..plan.clone() };
        assert!(
            matches!(env.drills.add_improvement(&ev, &id, &no_date).await, Err(DrillsError::Invalid { field, .. }) if field == "due_on")
        );
        let strength = ImprovementInput {
            kind: "strength".into(),
            observation: "Fast triage".into(),
            action: String::new(),
            owner: String::new(),
            due_on: String::new(),
            objective: "O1".into(),
        };
        env.drills.add_improvement(&ev, &id, &strength).await.unwrap();

        let report = env.drills.report(&env.observer, &id).await.unwrap();
        assert_eq!(report.state, "finished");
        assert_eq!(report.teams, 3);
        assert_eq!(report.pauses, 1);
        let o1 = report.objectives.iter().find(|o| o.key == "O1").unwrap();
        assert!(o1.expected > 0 && o1.obtained >= 5);
        let o3 = report.objectives.iter().find(|o| o.key == "O3").unwrap();
        assert!(o3.obtained >= 40, "C1 and C3 solved in time count for analysis: {o3:?}");
        assert_eq!(report.overall.obtained, 5 + 8 + 10 + 20 * 3, "three evaluations and three challenge expectations met in time");
        assert!(report.overall.expected > report.overall.obtained);
        let kenya = report.team_figures.iter().find(|t| t.team == "Kenya").unwrap();
        assert!(kenya.minutes_to_acknowledge.is_some_and(|m| m > 0.0), "STARTEX was acknowledged five exercise minutes in");
        assert!(kenya.minutes_to_respond.is_some());
        assert_eq!(kenya.rank, 1);
        assert!(kenya.expectations_met >= 3);
        assert!(report.timeline.iter().any(|e| e.kind == "pause" && e.text.contains("fire alarm")));
        assert!(report.timeline.windows(2).all(|w| w[0].elapsed <= w[1].elapsed), "in time order");
        assert_eq!((report.strengths.len(), report.improvements.len()), (1, 1));
        assert_eq!(report.hotwash.answers, 2);
        assert_eq!(report.hotwash.mean_rating, Some(3.0));
        let csv = report.to_csv();
        assert!(csv.contains("plan,improvement,O2,Peer sharing started late"));
        assert!(csv.lines().any(|l| l.starts_with("objective,overall,,")));
        assert!(csv.lines().any(|l| l.starts_with("team,Kenya,KE,")));
        assert!(csv.contains("timeline,0:00:00,inject,,I01 STARTEX"));

        // Everything was audited, with a system entry per delivery round.
        assert!(!env.audit("drills.inject.deliver").await.is_empty());
        assert_eq!(
            env.audit("drills.flag.submit").await.len(),
            4,
            "the two wrong-state refusals and the already-solved answer are not attempts"
        );
        assert_eq!(env.audit("drills.exercise.pause").await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn attempt_limits_rate_limits_and_speed_changes() {
    each_store(|store| async move {
        let env = Env::with_limit(store, 3).await;
        let id = env.exercise(1.0).await;
        let org = actor(&env.organiser);
        let ke1 = actor(&env.ke1);
        env.drills.transition(&org, &id, "start", "").await.unwrap();
        // C2 allows three attempts; the fourth is refused whatever it says.
        for left in [2, 1, 0] {
            assert_eq!(
                env.drills.submit_flag(&ke1, &id, "C2", "RAMPART{lockbit}").await.unwrap(),
                FlagOutcome::Wrong { attempts_left: Some(left) }
            );
        }
        env.advance(Duration::minutes(2));
        assert_eq!(
            env.drills.submit_flag(&ke1, &id, "C2", "RAMPART{kobalt}").await.unwrap(),
            FlagOutcome::Wrong { attempts_left: Some(0) }
        );
        // Three wrong flags a minute: the fourth within the minute is answered with a wait.
        for _ in 0..3 {
            env.drills.submit_flag(&ke1, &id, "C4", "RAMPART{nope}").await.unwrap();
        }
        assert!(matches!(
            env.drills.submit_flag(&ke1, &id, "C4", "RAMPART{nope}").await,
            Err(DrillsError::RateLimited { retry_after: 60 })
        ));
        // A right answer is never rate-limited.
        assert!(matches!(env.drills.submit_flag(&ke1, &id, "C4", "RAMPART{203.0.113.66:443}").await.unwrap(), FlagOutcome::Correct { .. }));
        env.advance(Duration::seconds(61));
        assert!(matches!(env.drills.submit_flag(&ke1, &id, "C5", "RAMPART{nope}").await.unwrap(), FlagOutcome::Wrong { .. }));

        // Doubling the speed keeps the exercise time reached so far.
        let before = env.drills.console(&env.organiser, &id).await.unwrap().exercise.elapsed;
        env.drills.set_speed(&org, &id, 2.0).await.unwrap();
        env.advance(Duration::seconds(10));
        let after = env.drills.console(&env.organiser, &id).await.unwrap().exercise.elapsed;
        assert!((after - before - 20.0).abs() < 0.01, "{before} then {after}");
        assert!(matches!(env.drills.set_speed(&org, &id, 1000.0).await, Err(DrillsError::Invalid { .. })));
        // A cancelled inject never goes out, and cannot be fired.
        env.drills.edit_inject(&org, &id, "I20", InjectEdit::Cancel).await.unwrap();
        assert!(env.drills.fire_now(&org, &id, "I20").await.is_err());
        env.advance(Duration::hours(4));
        env.drills.tick().await.unwrap();
        let delivered: Vec<String> = env.store.drill_deliveries(&id).await.unwrap().into_iter().map(|d| d.inject_key).collect();
        assert!(!delivered.contains(&"I20".to_owned()));
        assert!(delivered.contains(&"I18".to_owned()));
    })
    .await;
}
