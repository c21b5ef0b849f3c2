//! Service-level timers on the manual clock: at risk, breached, met late,
//! and the queue of incidents whose timers need attention.

use crate::support::{Env, actor, each_backend, t0};
use chrono::Duration;
use rampart_cirt::sla::{TimerKind, TimerState};
use rampart_cirt::{Level, ListFilter, Queue, Status};

async fn states(env: &Env, id: &str) -> Vec<(TimerKind, TimerState)> {
    env.desk.view(&env.w.analyst, id).await.unwrap().timers.iter().map(|t| (t.kind, t.state)).collect()
}

fn timers(triage: TimerState, response: TimerState, resolution: TimerState) -> Vec<(TimerKind, TimerState)> {
    vec![(TimerKind::Triage, triage), (TimerKind::FirstResponse, response), (TimerKind::Resolution, resolution)]
}

async fn at_risk(env: &Env) -> Vec<String> {
    env.queue(&env.w.analyst, Queue::SlaAtRisk, &ListFilter::default()).await
}

#[tokio::test]
async fn a_critical_incident_goes_at_risk_then_breaches_its_triage_target() {
    use TimerState::{AtRisk, Breached, MetLate, Running};
    each_backend(|env| async move {
        let w = &env.w;
        let critical = env
            .create("Ransomware at the bank", |i| {
                i.impact = Level::High;
                i.urgency = Level::High;
            })
            .await;
        let low = env
            .create("Spam complaint", |i| {
                i.impact = Level::Low;
                i.urgency = Level::Low;
            })
            .await;
        assert_eq!((critical.priority.as_str(), low.priority.as_str()), ("critical", "low"));

        let view = env.desk.view(&w.analyst, &critical.id).await.unwrap();
        let targets: Vec<(i64, chrono::DateTime<chrono::Utc>)> = view.timers.iter().map(|t| (t.target_minutes, t.due_at)).collect();
        assert_eq!(
            targets,
            [(15, t0() + Duration::minutes(15)), (60, t0() + Duration::minutes(60)), (24 * 60, t0() + Duration::hours(24))]
        );
        assert_eq!(states(&env, &critical.id).await, timers(Running, Running, Running));
        assert_eq!(at_risk(&env).await, Vec::<String>::new());

        // The queue narrowed to one constituent is still the at-risk queue.
        let of_isp = ListFilter { constituent_org_id: Some(w.isp.id.clone()), ..Default::default() };
        // 11 minutes is 73 % of the 15-minute triage target: still running.
        env.advance(Duration::minutes(11));
        assert_eq!(states(&env, &critical.id).await, timers(Running, Running, Running));
        assert_eq!(at_risk(&env).await, Vec::<String>::new());
        assert_eq!(env.queue(&w.analyst, Queue::SlaAtRisk, &of_isp).await, Vec::<String>::new());
        // 12 minutes is 80 %: at risk, and in the queue.
        env.advance(Duration::minutes(1));
        assert_eq!(states(&env, &critical.id).await, timers(AtRisk, Running, Running));
        assert_eq!(at_risk(&env).await, [critical.id.as_str()]);
        assert_eq!(env.queue(&w.analyst, Queue::SlaAtRisk, &of_isp).await, [critical.id.as_str()]);
        assert_eq!(states(&env, &low.id).await, timers(Running, Running, Running));
        // Exactly at the due time it is not yet breached; a second later it is.
        env.advance(Duration::minutes(3));
        assert_eq!(states(&env, &critical.id).await, timers(AtRisk, Running, Running));
        env.advance(Duration::seconds(1));
        assert_eq!(states(&env, &critical.id).await, timers(Breached, Running, Running));
        assert_eq!(at_risk(&env).await, [critical.id.as_str()], "a breached incident stays in the queue");

        // Triage now meets the timer late; nothing else is at risk yet.
        env.desk.change_status(&actor(&w.analyst), &critical.id, Status::Triage, "").await.unwrap();
        assert_eq!(states(&env, &critical.id).await, timers(MetLate, Running, Running));
        let view = env.desk.view(&w.analyst, &critical.id).await.unwrap();
        assert_eq!(view.timers[0].met_at, Some(t0() + Duration::seconds(15 * 60 + 1)));
        assert_eq!(at_risk(&env).await, Vec::<String>::new());

        // First response at risk after 45 minutes, met by a response note.
        env.advance(Duration::minutes(30));
        assert_eq!(states(&env, &critical.id).await, timers(MetLate, AtRisk, Running));
        assert_eq!(at_risk(&env).await, [critical.id.as_str()]);
        env.desk.add_note(&actor(&w.analyst), &critical.id, "We are on it.", true).await.unwrap();
        assert_eq!(states(&env, &critical.id).await, timers(MetLate, TimerState::Met, Running));
        assert_eq!(at_risk(&env).await, Vec::<String>::new());

        // The low-priority incident's triage target is a day.
        assert_eq!(states(&env, &low.id).await, timers(Running, Running, Running));
        env.advance(Duration::hours(19));
        assert_eq!(states(&env, &low.id).await[0], (TimerKind::Triage, AtRisk));
        assert!(at_risk(&env).await.contains(&low.id));
    })
    .await;
}

#[tokio::test]
async fn waiting_for_the_constituent_pauses_the_resolution_timer() {
    use TimerState::{Met, Running};
    each_backend(|env| async move {
        let w = &env.w;
        let a = actor(&w.analyst);
        let critical = env
            .create("Defacement", |i| {
                i.impact = Level::High;
                i.urgency = Level::High;
            })
            .await;
        env.advance(Duration::minutes(5));
        env.desk.change_status(&a, &critical.id, Status::InProgress, "").await.unwrap();
        env.advance(Duration::minutes(5));
        env.desk.change_status(&a, &critical.id, Status::WaitingForConstituent, "Please send the web server logs").await.unwrap();
        env.advance(Duration::hours(10));
        env.desk.change_status(&a, &critical.id, Status::InProgress, "Logs received").await.unwrap();

        let view = env.desk.view(&w.analyst, &critical.id).await.unwrap();
        assert_eq!(view.timers[2].due_at, t0() + Duration::hours(34), "ten hours of waiting added to the 24-hour target");
        assert_eq!(view.timers[1].met_at, Some(t0() + Duration::minutes(10)), "asking the constituent was the first response");
        assert_eq!(states(&env, &critical.id).await, timers(Met, Met, Running));

        // Resolved after 30 hours in all: within the paused target.
        env.advance(Duration::hours(20));
        env.desk.change_status(&a, &critical.id, Status::Resolved, "").await.unwrap();
        assert_eq!(states(&env, &critical.id).await, timers(Met, Met, Met));
        // Resolved incidents leave the at-risk queue even much later.
        env.advance(Duration::days(10));
        assert_eq!(at_risk(&env).await, Vec::<String>::new());
    })
    .await;
}
