//! Incidents: creation with priority and playbook, the status workflow,
//! assignment, notes, tasks, observables, links and merges.

use crate::support::{actor, assert_forbidden, assert_invalid, assert_not_found, at, each_backend, obs, sorted, t0};
use chrono::Duration;
use rampart_cirt::observables::Kind;
use rampart_cirt::sla::TimerKind;
use rampart_cirt::{CirtError, DeskError, Level, Status};
use rampart_core::{Tlp, time};
use rampart_store::cirt::EventRow;

const PHISHING_TASKS: [&str; 6] = [
    "Confirm the phishing site and capture evidence",
    "Identify the hosting provider and the registrar",
    "Request takedown from host and registrar",
    "Notify the impersonated organisation",
    "Submit the URL to browser block lists",
    "Verify the takedown",
];

fn status_changes(timeline: &[EventRow]) -> Vec<(String, String, String)> {
    timeline
        .iter()
        .filter(|e| e.kind == "status")
        .map(|e| {
            let detail: serde_json::Value = serde_json::from_str(&e.detail).unwrap();
            (detail["from"].as_str().unwrap().to_owned(), detail["to"].as_str().unwrap().to_owned(), e.at.clone())
        })
        .collect()
}

fn change(from: &str, to: &str, minutes: i64) -> (String, String, String) {
    (from.to_owned(), to.to_owned(), at(Duration::minutes(minutes)))
}

#[tokio::test]
async fn an_incident_gets_its_priority_from_the_matrix_and_its_tasks_from_the_playbook() {
    each_backend(|env| async move {
        let w = &env.w;
        let incident = env
            .create("Phishing kit on a bank lookalike", |i| {
                i.rsit_class = "Fraud".into();
                i.impact = Level::High;
                i.urgency = Level::Medium;
                i.pap = Tlp::Green;
                i.constituents = vec![w.bank.id.clone()];
                i.observables = vec![obs(Kind::Ipv4, "203.0.113.45")];
            })
            .await;
        assert_eq!(incident.reference, "INC-2026-000001");
        assert_eq!(incident.priority, "high");
        assert_eq!((incident.impact.as_str(), incident.urgency.as_str()), ("high", "medium"));
        assert_eq!((incident.rsit_class.as_str(), incident.rsit_type.as_str()), ("fraud", "phishing"));
        assert_eq!((incident.tlp.as_str(), incident.pap.as_str()), ("AMBER", "GREEN"));
        assert_eq!((incident.status.as_str(), incident.source.as_str()), ("new", "web"));
        assert_eq!((incident.assignee_id.as_ref(), incident.merged_into.as_ref(), incident.first_response_at.as_ref()), (None, None, None));
        assert_eq!(incident.created_at, time::format(t0()));

        let view = env.desk.view(&w.analyst, &incident.reference).await.unwrap();
        assert_eq!(view.incident, incident);
        let tasks: Vec<(i64, &str, bool)> = view.tasks.iter().map(|t| (t.position, t.title.as_str(), t.done_at.is_some())).collect();
        let expected: Vec<(i64, &str, bool)> = PHISHING_TASKS.iter().enumerate().map(|(i, t)| (i as i64, *t, false)).collect();
        assert_eq!(tasks, expected);
        assert_eq!(view.constituents.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), [w.bank.id.as_str()]);
        assert_eq!(view.observables.iter().map(|o| (o.kind.as_str(), o.value.as_str())).collect::<Vec<_>>(), [("ipv4", "203.0.113.45")]);
        assert_eq!(
            view.timeline.iter().map(|e| (e.kind.as_str(), e.body.as_str())).collect::<Vec<_>>(),
            [("created", "Phishing kit on a bank lookalike")]
        );
        assert_eq!(view.timeline[0].actor_id.as_deref(), Some(w.analyst.user_id.as_str()));

        // The rest of the matrix, and playbooks of other classes.
        for (impact, urgency, priority) in [
            (Level::High, Level::High, "critical"),
            (Level::Medium, Level::High, "high"),
            (Level::Medium, Level::Medium, "medium"),
            (Level::High, Level::Low, "medium"),
            (Level::Low, Level::Medium, "low"),
            (Level::Low, Level::Low, "low"),
        ] {
            let row = env
                .create("matrix", |i| {
                    i.impact = impact;
                    i.urgency = urgency;
                })
                .await;
            assert_eq!(row.priority, priority, "{impact:?} × {urgency:?}");
        }
        let botnet = env.create("Drones", |i| i.rsit_type = "botnet drone".into()).await;
        assert_eq!((botnet.rsit_class.as_str(), botnet.rsit_type.as_str()), ("malicious-code", "infected-system"));
        assert_eq!(botnet.reference, "INC-2026-000008");
        let tasks = env.store.incident_tasks(&botnet.id).await.unwrap();
        assert!(tasks.len() >= 3 && tasks.iter().all(|t| !PHISHING_TASKS.contains(&t.title.as_str())), "{tasks:?}");
        assert_eq!(env.audit("cirt.incident.create").await.len(), 8);
    })
    .await;
}

#[tokio::test]
async fn bad_incidents_are_refused_and_leave_nothing_behind() {
    each_backend(|env| async move {
        let w = &env.w;
        let analyst = actor(&w.analyst);
        let before = env.audit_ok().await;
        let bad_type = rampart_cirt::NewIncident { rsit_type: "lunch".into(), ..env.incident("x") };
        assert_invalid(env.desk.create_incident(&analyst, &bad_type).await, "type");
        let wrong_class = rampart_cirt::NewIncident { rsit_class: "vulnerable".into(), ..env.incident("x") };
        assert_invalid(env.desk.create_incident(&analyst, &wrong_class).await, "type");
        let bad_class = rampart_cirt::NewIncident { rsit_class: "malware".into(), ..env.incident("x") };
        assert_invalid(env.desk.create_incident(&analyst, &bad_class).await, "class");
        assert_invalid(env.desk.create_incident(&analyst, &env.incident("  ")).await, "title");
        let stranger = rampart_cirt::NewIncident { constituents: vec!["no-such-org".into()], ..env.incident("x") };
        assert_invalid(env.desk.create_incident(&analyst, &stranger).await, "constituents");
        assert_forbidden(env.desk.create_incident(&actor(&w.isp_user), &env.incident("x")).await);
        assert_forbidden(env.desk.create_incident(&actor(&w.br_analyst), &env.incident("x")).await);
        assert_forbidden(env.desk.create_incident(&actor(&w.admin), &env.incident("x")).await);
        let elsewhere = rampart_cirt::NewIncident { owner_org_id: w.br_cirt.id.clone(), ..env.incident("x") };
        assert_forbidden(env.desk.create_incident(&analyst, &elsewhere).await);
        assert_eq!(env.audit_ok().await, before);
        // No number was used up.
        assert_eq!(env.create("First", |_| {}).await.reference, "INC-2026-000001");
    })
    .await;
}

#[tokio::test]
async fn the_status_workflow_is_enforced_and_recorded() {
    each_backend(|env| async move {
        let w = &env.w;
        let a = actor(&w.analyst);
        let incident = env.create("Workflow", |_| {}).await;
        let id = incident.id.as_str();

        match env.desk.change_status(&a, id, Status::Resolved, "").await {
            Err(DeskError::Rule(CirtError::Transition { from: "new", to: "resolved" })) => {}
            other => panic!("expected a refused transition, got {other:?}"),
        }
        assert_forbidden(env.desk.change_status(&actor(&w.isp_user), id, Status::Triage, "").await);
        assert_not_found(env.desk.change_status(&actor(&w.br_analyst), id, Status::Triage, "").await, "incident");

        let path = [Status::Triage, Status::InProgress, Status::WaitingForConstituent, Status::InProgress, Status::Resolved];
        for (minute, to) in (1..).zip(path) {
            env.advance(Duration::minutes(1));
            let row = env.desk.change_status(&a, id, to, "").await.unwrap();
            assert_eq!(row.status, to.as_str());
            assert_eq!(row.updated_at, at(Duration::minutes(minute)));
        }
        // Waiting for the constituent means the constituent was told something.
        let row = env.desk.incident(&w.analyst, id).await.unwrap();
        assert_eq!(row.first_response_at, Some(at(Duration::minutes(3))));

        // Closing with open tasks needs a reason.
        env.advance(Duration::minutes(1));
        assert_invalid(env.desk.change_status(&a, id, Status::Closed, "").await, "comment");
        assert_invalid(env.desk.change_status(&a, id, Status::Closed, "   ").await, "comment");
        assert_eq!(env.desk.incident(&w.analyst, id).await.unwrap().status, "resolved");
        env.desk.change_status(&a, id, Status::Closed, "Takedown confirmed by the registrar").await.unwrap();
        match env.desk.change_status(&a, id, Status::Closed, "again").await {
            Err(DeskError::Rule(CirtError::Transition { from: "closed", to: "closed" })) => {}
            other => panic!("expected a refused transition, got {other:?}"),
        }

        let view = env.desk.view(&w.analyst, id).await.unwrap();
        assert_eq!(
            status_changes(&view.timeline),
            [
                change("new", "triage", 1),
                change("triage", "in_progress", 2),
                change("in_progress", "waiting_for_constituent", 3),
                change("waiting_for_constituent", "in_progress", 4),
                change("in_progress", "resolved", 5),
                change("resolved", "closed", 6),
            ]
        );
        let closing = view.timeline.last().unwrap();
        assert_eq!((closing.body.as_str(), closing.actor_label.as_str()), ("Takedown confirmed by the registrar", "analyst@ke-cirt.go.ke"));
        assert_eq!(env.audit("cirt.incident.status").await.len(), 6);

        // A closed incident reopens to work.
        env.desk.change_status(&a, id, Status::InProgress, "New evidence").await.unwrap();
        assert_eq!(env.desk.incident(&w.analyst, id).await.unwrap().status, "in_progress");
    })
    .await;
}

#[tokio::test]
async fn tasks_are_ticked_added_and_closing_without_open_tasks_needs_no_reason() {
    each_backend(|env| async move {
        let w = &env.w;
        let a = actor(&w.analyst);
        let incident = env.create("Tasks", |_| {}).await;
        let tasks = env.store.incident_tasks(&incident.id).await.unwrap();
        env.advance(Duration::minutes(2));
        for task in &tasks {
            env.desk.set_task(&a, &incident.id, &task.id, true).await.unwrap();
        }
        let done = env.store.incident_tasks(&incident.id).await.unwrap();
        assert!(done.iter().all(|t| t.done_at == Some(at(Duration::minutes(2))) && t.done_by.as_deref() == Some("analyst@ke-cirt.go.ke")));
        env.desk.set_task(&a, &incident.id, &tasks[0].id, false).await.unwrap();
        assert_eq!(env.store.incident_tasks(&incident.id).await.unwrap()[0].done_at, None);
        assert_invalid(env.desk.change_status(&a, &incident.id, Status::Closed, "").await, "comment");
        env.desk.set_task(&a, &incident.id, &tasks[0].id, true).await.unwrap();
        assert_not_found(env.desk.set_task(&a, &incident.id, "no-such-task", true).await, "task");
        let other = env.create("Other", |_| {}).await;
        assert_not_found(env.desk.set_task(&a, &other.id, &tasks[1].id, true).await, "task");

        env.desk.add_task(&a, &incident.id, "Brief the bank's CISO").await.unwrap();
        assert_invalid(env.desk.add_task(&a, &incident.id, " ").await, "title");
        let tasks = env.store.incident_tasks(&incident.id).await.unwrap();
        assert_eq!((tasks.len(), tasks[6].position, tasks[6].title.as_str()), (7, 6, "Brief the bank's CISO"));
        assert_invalid(env.desk.change_status(&a, &incident.id, Status::Closed, "").await, "comment");
        env.desk.set_task(&a, &incident.id, &tasks[6].id, true).await.unwrap();
        // New → closed directly, every task done: no reason needed.
        let closed = env.desk.change_status(&a, &incident.id, Status::Closed, "").await.unwrap();
        assert_eq!(closed.status, "closed");
        assert_eq!(env.audit("cirt.incident.task").await.len(), 9);
        assert_eq!(env.audit("cirt.incident.task_add").await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn managers_assign_analysts_and_analysts_only_take_incidents_themselves() {
    each_backend(|env| async move {
        let w = &env.w;
        let incident = env.create("Assign", |_| {}).await;
        let id = incident.id.as_str();

        let row = env.desk.assign(&actor(&w.manager), id, Some(&w.analyst.user_id)).await.unwrap();
        assert_eq!(row.assignee_id.as_deref(), Some(w.analyst.user_id.as_str()));
        assert_forbidden(env.desk.assign(&actor(&w.analyst), id, Some(&w.manager.user_id)).await);
        assert_forbidden(env.desk.assign(&actor(&w.analyst), id, None).await);
        // Events of the same instant have no defined order: move the clock.
        env.advance(Duration::minutes(1));
        env.desk.assign(&actor(&w.manager), id, None).await.unwrap();
        assert_eq!(env.desk.incident(&w.analyst, id).await.unwrap().assignee_id, None);
        env.advance(Duration::minutes(1));
        let row = env.desk.assign(&actor(&w.analyst), id, Some(&w.analyst.user_id)).await.unwrap();
        assert_eq!(row.assignee_id.as_deref(), Some(w.analyst.user_id.as_str()), "an analyst takes it himself");

        // Only people who can work the owner's incidents are assignable.
        assert_invalid(env.desk.assign(&actor(&w.manager), id, Some(&w.bank_user.user_id)).await, "assignee_id");
        assert_invalid(env.desk.assign(&actor(&w.manager), id, Some(&w.br_analyst.user_id)).await, "assignee_id");
        assert_invalid(env.desk.assign(&actor(&w.manager), id, Some(&w.admin.user_id)).await, "assignee_id");
        assert_invalid(env.desk.assign(&actor(&w.manager), id, Some("no-such-user")).await, "assignee_id");
        assert_not_found(env.desk.assign(&actor(&w.br_analyst), id, Some(&w.br_analyst.user_id)).await, "incident");
        assert_forbidden(env.desk.assign(&actor(&w.isp_user), id, Some(&w.analyst.user_id)).await);
        assert_invalid(env.desk.assign(&actor(&w.isp_user), id, Some(&w.isp_user.user_id)).await, "assignee_id");
        assert_eq!(env.desk.incident(&w.analyst, id).await.unwrap().assignee_id.as_deref(), Some(w.analyst.user_id.as_str()));

        let timeline = env.store.incident_events(id).await.unwrap();
        let assigned: Vec<&str> = timeline.iter().filter(|e| e.kind == "assigned").map(|e| e.body.as_str()).collect();
        assert_eq!(assigned, ["analyst@ke-cirt.go.ke", "unassigned", "analyst@ke-cirt.go.ke"]);
        assert_eq!(env.audit("cirt.incident.assign").await.len(), 3);
    })
    .await;
}

#[tokio::test]
async fn notes_record_the_first_response_and_bring_their_observables() {
    each_backend(|env| async move {
        let w = &env.w;
        let a = actor(&w.analyst);
        let incident = env.create("Notes", |_| {}).await;
        let id = incident.id.as_str();

        env.advance(Duration::minutes(3));
        let row = env.desk.add_note(&a, id, "Internal: C2 at evil-c2[.]example[.]org and 192.0.2.66.", false).await.unwrap();
        assert_eq!(row.first_response_at, None, "an internal note is no response");
        env.advance(Duration::minutes(4));
        let row = env.desk.add_note(&a, id, "We have asked the registrar to suspend the domain.", true).await.unwrap();
        assert_eq!(row.first_response_at, Some(at(Duration::minutes(7))));
        env.advance(Duration::minutes(4));
        let row = env.desk.add_note(&a, id, "Second reply.", true).await.unwrap();
        assert_eq!(row.first_response_at, Some(at(Duration::minutes(7))), "the first response stays the first");
        assert_invalid(env.desk.add_note(&a, id, "  \n ", false).await, "text");
        assert_invalid(env.desk.add_note(&a, id, &"x".repeat(20_001), false).await, "text");
        assert_forbidden(env.desk.add_note(&actor(&w.isp_user), id, "Any news?", true).await);

        let view = env.desk.view(&w.analyst, id).await.unwrap();
        let observables: Vec<(&str, &str)> = view.observables.iter().map(|o| (o.kind.as_str(), o.value.as_str())).collect();
        assert_eq!(observables, [("domain", "evil-c2.example.org"), ("ipv4", "192.0.2.66")]);
        let notes: Vec<(&str, &str)> =
            view.timeline.iter().filter(|e| e.kind == "note").map(|e| (e.body.as_str(), e.detail.as_str())).collect();
        assert_eq!(
            notes,
            [
                ("Internal: C2 at evil-c2[.]example[.]org and 192.0.2.66.", r#"{"response":false}"#),
                ("We have asked the registrar to suspend the domain.", r#"{"response":true}"#),
                ("Second reply.", r#"{"response":true}"#),
            ]
        );
        let first_response = view.timers.iter().find(|t| t.kind == TimerKind::FirstResponse).unwrap();
        assert_eq!(first_response.met_at, Some(t0() + Duration::minutes(7)));
    })
    .await;
}

#[tokio::test]
async fn observables_shared_between_incidents_are_counted() {
    each_backend(|env| async move {
        let w = &env.w;
        let a = actor(&w.analyst);
        let first = env.create("First", |i| i.observables = vec![obs(Kind::Ipv4, "203.0.113.45"), obs(Kind::Domain, "a.example")]).await;
        let second = env.create("Second", |i| i.observables = vec![obs(Kind::Domain, "b.example")]).await;
        let seen = |id: String| {
            let desk = env.desk.clone();
            let analyst = w.analyst.clone();
            async move {
                let view = desk.view(&analyst, &id).await.unwrap();
                view.observables.into_iter().map(|o| (o.kind, o.value, o.seen_elsewhere)).collect::<Vec<_>>()
            }
        };
        let triple = |k: &str, v: &str, n: i64| (k.to_owned(), v.to_owned(), n);
        assert_eq!(seen(first.id.clone()).await, [triple("domain", "a.example", 0), triple("ipv4", "203.0.113.45", 0)]);

        env.desk.add_observable(&a, &second.id, "ipv4", " 203.0.113[.]45 ").await.unwrap();
        assert_eq!(seen(second.id.clone()).await, [triple("domain", "b.example", 0), triple("ipv4", "203.0.113.45", 1)]);
        assert_eq!(seen(first.id.clone()).await, [triple("domain", "a.example", 0), triple("ipv4", "203.0.113.45", 1)]);
        // Adding it again changes nothing.
        env.desk.add_observable(&a, &second.id, "ipv4", "203.0.113.45").await.unwrap();
        assert_eq!(seen(first.id.clone()).await[1], triple("ipv4", "203.0.113.45", 1));
        // A third incident mentioning it in a note.
        let third = env.create("Third", |_| {}).await;
        env.desk.add_note(&a, &third.id, "Same host 203.0.113.45 again", false).await.unwrap();
        assert_eq!(seen(first.id.clone()).await[1], triple("ipv4", "203.0.113.45", 2));
        assert_eq!(
            sorted(env.store.incidents_with_observable("ipv4", "203.0.113.45").await.unwrap()),
            sorted(vec![first.id.clone(), second.id.clone(), third.id.clone()])
        );

        assert_invalid(env.desk.add_observable(&a, &second.id, "ipv4", "300.1.1.1").await, "value");
        assert_invalid(env.desk.add_observable(&a, &second.id, "phone", "+254 700 000000").await, "kind");
        assert_eq!(env.audit("cirt.incident.observable").await.len(), 2);
    })
    .await;
}

#[tokio::test]
async fn links_are_mutual_and_a_merge_closes_one_incident_into_the_other() {
    each_backend(|env| async move {
        let w = &env.w;
        let a = actor(&w.analyst);
        let from = env.create("Duplicate", |i| i.observables = vec![obs(Kind::Ipv4, "192.0.2.1")]).await;
        let into = env
            .create("Original", |i| {
                i.constituents = vec![w.bank.id.clone()];
                i.observables = vec![obs(Kind::Domain, "phish.example")];
            })
            .await;
        let third = env.create("Related", |_| {}).await;

        env.advance(Duration::minutes(1));
        env.desk.link(&a, &into.id, &third.id).await.unwrap();
        assert_eq!(env.desk.view(&w.analyst, &into.id).await.unwrap().links, [third.id.as_str()]);
        assert_eq!(env.desk.view(&w.analyst, &third.id).await.unwrap().links, [into.id.as_str()]);
        assert_invalid(env.desk.link(&a, &into.id, &into.id).await, "other");
        assert_invalid(env.desk.link(&a, &into.id, "INC-2026-999999").await, "other");

        env.advance(Duration::minutes(1));
        env.desk.add_note(&a, &from.id, "Seen first by the ISP", false).await.unwrap();
        env.advance(Duration::minutes(1));
        env.desk.change_status(&a, &from.id, Status::Triage, "").await.unwrap();
        let from_events = env.store.incident_events(&from.id).await.unwrap();
        assert_eq!(from_events.len(), 3);

        assert_invalid(env.desk.merge(&a, &into.id, &into.id).await, "into");
        assert_not_found(env.desk.merge(&actor(&w.br_analyst), &from.id, &into.id).await, "incident");
        // The ISP sees both incidents that concern it, but does not work them.
        assert_forbidden(env.desk.merge(&actor(&w.isp_user), &from.id, &third.id).await);
        assert_invalid(env.desk.merge(&actor(&w.isp_user), &from.id, &into.id).await, "into");

        env.advance(Duration::minutes(1));
        let survivor = env.desk.merge(&a, &from.reference, &into.reference).await.unwrap();
        assert_eq!(survivor.id, into.id);
        assert_eq!(survivor.status, "new");
        let merged = env.desk.incident(&w.analyst, &from.id).await.unwrap();
        assert_eq!((merged.status.as_str(), merged.merged_into.as_deref()), ("closed", Some(into.id.as_str())));
        assert_eq!(merged.updated_at, at(Duration::minutes(4)));

        let view = env.desk.view(&w.analyst, &into.id).await.unwrap();
        // Every event of the merged incident is on the survivor's timeline, in time order.
        let key = |e: &EventRow| (e.at.clone(), e.kind.clone(), e.body.clone(), e.detail.clone());
        for event in &from_events {
            assert!(view.timeline.iter().any(|e| key(e) == key(event)), "{event:?} missing from {:#?}", view.timeline);
        }
        let ats: Vec<&str> = view.timeline.iter().map(|e| e.at.as_str()).collect();
        assert!(ats.windows(2).all(|p| p[0] <= p[1]), "{ats:?}");
        let merged_events: Vec<(&str, &str)> =
            view.timeline.iter().filter(|e| e.kind == "merged").map(|e| (e.body.as_str(), e.at.as_str())).collect();
        assert!(merged_events.contains(&(from.reference.as_str(), at(Duration::minutes(4)).as_str())), "{merged_events:?}");
        assert_eq!(sorted(view.constituents.iter().map(|o| o.id.clone()).collect()), sorted(vec![w.isp.id.clone(), w.bank.id.clone()]));
        let observables: Vec<&str> = view.observables.iter().map(|o| o.value.as_str()).collect();
        assert_eq!(observables, ["phish.example", "192.0.2.1"]);
        assert_eq!(view.links, sorted(vec![from.id.clone(), third.id.clone()]));
        // The merged incident keeps its own timeline, ending with the merge.
        let own = env.store.incident_events(&from.id).await.unwrap();
        assert_eq!(own.len(), 4);
        assert_eq!((own[3].kind.as_str(), own[3].body.as_str()), ("merged", into.reference.as_str()));
        assert_eq!(env.audit("cirt.incident.merge").await.len(), 1);
        assert_eq!(env.audit("cirt.incident.link").await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn the_survivor_of_a_merge_keeps_its_own_sla_history() {
    each_backend(|env| async move {
        let w = &env.w;
        let a = actor(&w.analyst);
        let from = env.create("Handled", |_| {}).await;
        let into = env.create("Untouched", |_| {}).await;
        env.advance(Duration::minutes(5));
        env.desk.change_status(&a, &from.id, Status::InProgress, "").await.unwrap();
        env.advance(Duration::minutes(5));
        env.desk.change_status(&a, &from.id, Status::Resolved, "").await.unwrap();
        env.advance(Duration::minutes(5));
        env.desk.merge(&a, &from.id, &into.id).await.unwrap();

        // The survivor was never triaged nor resolved: the merged
        // incident's status changes are its history, not the survivor's.
        let view = env.desk.view(&w.analyst, &into.id).await.unwrap();
        assert_eq!(view.incident.status, "new");
        let met: Vec<(TimerKind, Option<chrono::DateTime<chrono::Utc>>)> = view.timers.iter().map(|t| (t.kind, t.met_at)).collect();
        assert_eq!(met, [(TimerKind::Triage, None), (TimerKind::FirstResponse, None), (TimerKind::Resolution, None)]);
    })
    .await;
}

#[tokio::test]
async fn reclassifying_changes_priority_and_is_recorded() {
    each_backend(|env| async move {
        let w = &env.w;
        let a = actor(&w.analyst);
        let incident = env.create("Reclassify", |_| {}).await;
        assert_eq!(incident.priority, "medium");
        env.advance(Duration::minutes(1));
        let row = env.desk.reclassify(&a, &incident.id, "", "ddos", Level::High, Level::High, Tlp::Red, Tlp::Red).await.unwrap();
        assert_eq!(
            (row.rsit_class.as_str(), row.rsit_type.as_str(), row.priority.as_str(), row.tlp.as_str()),
            ("availability", "ddos", "critical", "RED")
        );
        assert_invalid(env.desk.reclassify(&a, &incident.id, "", "lunch", Level::Low, Level::Low, Tlp::Red, Tlp::Red).await, "type");
        let event = env.store.incident_events(&incident.id).await.unwrap().pop().unwrap();
        assert_eq!((event.kind.as_str(), event.body.as_str()), ("classified", "availability/ddos · critical"));
        let detail: serde_json::Value = serde_json::from_str(&event.detail).unwrap();
        assert_eq!(detail["before"]["priority"], "medium");
        assert_eq!(detail["after"]["rsit"], "availability/ddos");
        // Tasks stay as they were: the playbook applies at creation.
        assert_eq!(env.store.incident_tasks(&incident.id).await.unwrap().len(), 6);
    })
    .await;
}
