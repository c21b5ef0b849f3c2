//! Who sees which incident, and what of it: handlers see everything, the
//! constituents an incident concerns see it as TLP allows but without the
//! CIRT's internal work, everyone else sees nothing. Queues and search.

use crate::support::{Env, actor, assert_not_found, each_backend, sorted};
use chrono::Duration;
use rampart_cirt::{Level, ListFilter, Queue, Status};
use rampart_core::Tlp;
use rampart_store::cirt::IncidentRow;

struct Cases {
    /// TLP:AMBER, concerning Savannah Telecom.
    amber: IncidentRow,
    /// TLP:RED, concerning Savannah Telecom.
    red: IncidentRow,
    /// TLP:GREEN, concerning nobody.
    green: IncidentRow,
    /// BR-CIRT's own, TLP:AMBER.
    brazil: IncidentRow,
}

async fn cases(env: &Env) -> Cases {
    let w = &env.w;
    let amber = env.create("Phishing against Savannah customers", |_| {}).await;
    let red = env
        .create("Insider at Savannah", |i| {
            i.tlp = Tlp::Red;
            i.rsit_type = "data-leak".into();
        })
        .await;
    let green = env
        .create("Scanning from abroad", |i| {
            i.tlp = Tlp::Green;
            i.constituents = Vec::new();
            i.rsit_type = "scanner".into();
            i.impact = Level::Low;
        })
        .await;
    let mut brazil = env.incident("Botnet in Brazil");
    brazil.owner_org_id = w.br_cirt.id.clone();
    brazil.constituents = Vec::new();
    let brazil = env.desk.create_incident(&actor(&w.br_analyst), &brazil).await.unwrap();
    Cases { amber, red, green, brazil }
}

fn ids(incidents: &[&IncidentRow]) -> Vec<String> {
    sorted(incidents.iter().map(|i| i.id.clone()).collect())
}

#[tokio::test]
async fn handlers_see_their_cirts_incidents_and_no_other() {
    each_backend(|env| async move {
        let w = &env.w;
        let c = cases(&env).await;
        let all = ListFilter::default();
        let ke = ids(&[&c.amber, &c.red, &c.green]);
        assert_eq!(env.queue(&w.analyst, Queue::Open, &all).await, ke);
        assert_eq!(env.queue(&w.manager, Queue::Open, &all).await, ke);
        assert_eq!(env.queue(&w.br_analyst, Queue::Open, &all).await, ids(&[&c.brazil]));
        for incident in [&c.amber, &c.red, &c.green] {
            assert_eq!(env.desk.view(&w.analyst, &incident.id).await.unwrap().incident.id, incident.id, "whatever the TLP");
            assert_not_found(env.desk.view(&w.br_analyst, &incident.id).await, "incident");
            assert_not_found(env.desk.view(&w.br_analyst, &incident.reference).await, "incident");
        }
        assert_not_found(env.desk.view(&w.analyst, &c.brazil.id).await, "incident");
        assert_not_found(env.desk.view(&w.analyst, "INC-2026-999999").await, "incident");
        // The platform administrator administers accounts, not cases.
        assert_eq!(env.queue(&w.admin, Queue::All, &all).await, Vec::<String>::new());
        assert_not_found(env.desk.view(&w.admin, &c.green.id).await, "incident");

        // Filters narrow a handler's queue.
        let filter = ListFilter { priority: Some("low".into()), ..Default::default() };
        assert_eq!(env.queue(&w.analyst, Queue::Open, &filter).await, ids(&[&c.green]));
        let filter = ListFilter { rsit_class: Some("information-content-security".into()), ..Default::default() };
        assert_eq!(env.queue(&w.analyst, Queue::Open, &filter).await, ids(&[&c.red]));
        let filter = ListFilter { constituent_org_id: Some(w.isp.id.clone()), ..Default::default() };
        assert_eq!(env.queue(&w.analyst, Queue::Open, &filter).await, ids(&[&c.amber, &c.red]));
        assert_eq!(env.queue(&w.br_analyst, Queue::Open, &filter).await, Vec::<String>::new());
        env.desk.change_status(&actor(&w.analyst), &c.green.id, Status::Triage, "").await.unwrap();
        let filter = ListFilter { status: Some("triage".into()), ..Default::default() };
        assert_eq!(env.queue(&w.analyst, Queue::Open, &filter).await, ids(&[&c.green]));
    })
    .await;
}

#[tokio::test]
async fn a_constituent_sees_its_incidents_without_the_cirts_internal_work() {
    each_backend(|env| async move {
        let w = &env.w;
        let c = cases(&env).await;
        let a = actor(&w.analyst);
        env.advance(Duration::minutes(1));
        env.desk.add_note(&a, &c.amber.id, "Internal: the kit matches the one of INC-2025-000042", false).await.unwrap();
        env.advance(Duration::minutes(1));
        env.desk.add_note(&a, &c.amber.id, "We have asked the host to take the site down.", true).await.unwrap();
        env.desk.link(&a, &c.amber.id, &c.green.id).await.unwrap();

        let all = ListFilter::default();
        assert_eq!(env.queue(&w.isp_user, Queue::Open, &all).await, ids(&[&c.amber]), "AMBER yes, RED no");
        assert_eq!(env.queue(&w.isp_user, Queue::All, &all).await, ids(&[&c.amber]));
        let view = env.desk.view(&w.isp_user, &c.amber.id).await.unwrap();
        assert_eq!(view.incident.id, c.amber.id);
        assert!(view.tasks.is_empty(), "no tasks: {:?}", view.tasks);
        assert!(view.links.is_empty(), "no links: {:?}", view.links);
        let notes: Vec<&str> = view.timeline.iter().filter(|e| e.kind == "note").map(|e| e.body.as_str()).collect();
        assert_eq!(notes, ["We have asked the host to take the site down."]);
        assert_eq!(view.timers.len(), 3);
        assert_eq!(view.constituents.iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), [w.isp.id.as_str()]);
        // The handler's view of the same incident has it all.
        let full = env.desk.view(&w.analyst, &c.amber.id).await.unwrap();
        assert_eq!(full.tasks.len(), 6);
        assert_eq!(full.links, [c.green.id.as_str()]);
        assert_eq!(full.timeline.iter().filter(|e| e.kind == "note").count(), 2);

        assert_not_found(env.desk.view(&w.isp_user, &c.red.id).await, "incident");
        assert_not_found(env.desk.view(&w.isp_user, &c.green.id).await, "incident");
        assert_not_found(env.desk.view(&w.isp_user, &c.brazil.id).await, "incident");
        // The bank is concerned by none of them.
        assert_eq!(env.queue(&w.bank_user, Queue::All, &all).await, Vec::<String>::new());
        for incident in [&c.amber, &c.red, &c.green, &c.brazil] {
            assert_not_found(env.desk.view(&w.bank_user, &incident.id).await, "incident");
        }

        // Raising the TLP to RED hides it from the constituent; lowering it
        // to GREEN shows it again.
        let reclassify = |tlp: Tlp| {
            let desk = env.desk.clone();
            let analyst = w.analyst.clone();
            let id = c.amber.id.clone();
            async move { desk.reclassify(&actor(&analyst), &id, "", "phishing", Level::Medium, Level::Medium, tlp, Tlp::Amber).await.unwrap() }
        };
        reclassify(Tlp::Red).await;
        assert_not_found(env.desk.view(&w.isp_user, &c.amber.id).await, "incident");
        assert_eq!(env.queue(&w.isp_user, Queue::All, &all).await, Vec::<String>::new());
        reclassify(Tlp::Green).await;
        assert_eq!(env.queue(&w.isp_user, Queue::All, &all).await, ids(&[&c.amber]));
        assert_not_found(env.desk.view(&w.bank_user, &c.amber.id).await, "incident");

        // Adding the bank as a constituent lets it see the incident.
        env.desk.add_constituent(&a, &c.amber.id, &w.bank.id).await.unwrap();
        assert_eq!(env.queue(&w.bank_user, Queue::All, &all).await, ids(&[&c.amber]));
        assert_eq!(env.desk.view(&w.bank_user, &c.amber.id).await.unwrap().incident.id, c.amber.id);
    })
    .await;
}

#[tokio::test]
async fn mine_and_unassigned_queues_follow_assignment_and_status() {
    each_backend(|env| async move {
        let w = &env.w;
        let c = cases(&env).await;
        let all = ListFilter::default();
        env.desk.assign(&actor(&w.manager), &c.amber.id, Some(&w.analyst.user_id)).await.unwrap();
        env.desk.assign(&actor(&w.manager), &c.red.id, Some(&w.manager.user_id)).await.unwrap();

        assert_eq!(env.queue(&w.analyst, Queue::Mine, &all).await, ids(&[&c.amber]));
        assert_eq!(env.queue(&w.manager, Queue::Mine, &all).await, ids(&[&c.red]));
        assert_eq!(env.queue(&w.analyst, Queue::Unassigned, &all).await, ids(&[&c.green]));
        assert_eq!(env.queue(&w.br_analyst, Queue::Unassigned, &all).await, ids(&[&c.brazil]));
        assert_eq!(env.queue(&w.br_analyst, Queue::Mine, &all).await, Vec::<String>::new());

        // Closed work leaves the open queues but stays in All.
        let a = actor(&w.analyst);
        env.desk.change_status(&a, &c.amber.id, Status::Closed, "False positive").await.unwrap();
        assert_eq!(env.queue(&w.analyst, Queue::Mine, &all).await, Vec::<String>::new());
        assert_eq!(env.queue(&w.analyst, Queue::Open, &all).await, ids(&[&c.red, &c.green]));
        assert_eq!(env.queue(&w.analyst, Queue::All, &all).await, ids(&[&c.amber, &c.red, &c.green]));
        env.desk.assign(&a, &c.green.id, Some(&w.analyst.user_id)).await.unwrap();
        assert_eq!(env.queue(&w.analyst, Queue::Mine, &all).await, ids(&[&c.green]));
        assert_eq!(env.queue(&w.analyst, Queue::Unassigned, &all).await, Vec::<String>::new());

        assert_eq!(Queue::parse("").unwrap(), Queue::Open);
        assert_eq!(Queue::parse("sla_at_risk").unwrap(), Queue::SlaAtRisk);
        crate::support::assert_invalid(Queue::parse("everything"), "queue");
    })
    .await;
}

#[tokio::test]
async fn text_search_finds_words_in_titles_references_and_notes() {
    each_backend(|env| async move {
        let w = &env.w;
        let c = cases(&env).await;
        env.desk.add_note(&actor(&w.analyst), &c.red.id, "The leaked file was signed with the key Zanzibar-42.", false).await.unwrap();
        let search = |text: &str| ListFilter { text: Some(text.into()), ..Default::default() };

        assert_eq!(env.queue(&w.analyst, Queue::All, &search("zanzibar")).await, ids(&[&c.red]), "a word only in a note");
        assert_eq!(env.queue(&w.analyst, Queue::All, &search("ZANZIBAR-4")).await, ids(&[&c.red]));
        assert_eq!(env.queue(&w.analyst, Queue::All, &search("savannah")).await, ids(&[&c.amber, &c.red]), "titles");
        assert_eq!(env.queue(&w.analyst, Queue::All, &search(&c.green.reference)).await, ids(&[&c.green]), "references");
        assert_eq!(env.queue(&w.analyst, Queue::All, &search("kilimanjaro")).await, Vec::<String>::new());
        assert_eq!(env.queue(&w.analyst, Queue::All, &search("%")).await, Vec::<String>::new(), "LIKE wildcards are literal");
        assert_eq!(env.queue(&w.analyst, Queue::All, &search("  ")).await.len(), 3, "a blank search is no search");
        assert_eq!(env.queue(&w.br_analyst, Queue::All, &search("zanzibar")).await, Vec::<String>::new());
    })
    .await;
}

#[tokio::test]
async fn a_constituents_search_does_not_reach_internal_notes() {
    each_backend(|env| async move {
        let w = &env.w;
        let c = cases(&env).await;
        let a = actor(&w.analyst);
        env.desk.add_note(&a, &c.amber.id, "Internal: suspect the reseller Kilimanjaro Hosting.", false).await.unwrap();
        env.desk.add_note(&a, &c.amber.id, "We contacted Serengeti Hosting.", true).await.unwrap();
        let search = |text: &str| ListFilter { text: Some(text.into()), ..Default::default() };
        assert_eq!(env.queue(&w.analyst, Queue::All, &search("kilimanjaro")).await, ids(&[&c.amber]));
        assert_eq!(env.queue(&w.isp_user, Queue::All, &search("serengeti")).await, ids(&[&c.amber]), "a response note");
        assert_eq!(
            env.queue(&w.isp_user, Queue::All, &search("kilimanjaro")).await,
            Vec::<String>::new(),
            "an internal note must not be probed by searching"
        );
    })
    .await;
}
