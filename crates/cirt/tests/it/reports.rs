//! Incident reports: intake from constituents and the public, who sees a
//! report, and turning reports into incidents or rejecting them.

use crate::support::{Env, actor, assert_forbidden, assert_invalid, assert_not_found, each_backend, obs, report, sorted, t0};
use chrono::TimeZone;
use rampart_cirt::observables::{Kind, Observable};
use rampart_cirt::{Channel, Level, NewReport};
use rampart_core::{Tlp, time};
use rampart_store::PageRequest;
use rampart_store::cirt::ReportRow;

const SUBJECT: &str = "Phishing site imitating Harambee Bank";
const BODY: &str = "Our customers received SMS linking to hxxps://harambee-login[.]example[.]com/verify.\n\
                    The site is hosted at 203.0.113.45 on our network.";

async fn isp_report(env: &Env) -> ReportRow {
    env.desk.submit_report(Some(&actor(&env.w.isp_user)), Channel::Web, &report(SUBJECT, BODY)).await.unwrap()
}

fn public(country: Option<&str>) -> NewReport {
    NewReport {
        subject: "Fake lottery SMS".into(),
        body: "I got an SMS asking for my PIN.".into(),
        reporter_email: Some(" Citizen@Example.org ".into()),
        tlp: Tlp::Green,
        cirt_org_id: None,
        country: country.map(str::to_owned),
    }
}

async fn list_ids(env: &Env, principal: &rampart_auth::Principal) -> Vec<String> {
    let page = env.desk.reports(principal, None, &PageRequest::first(100)).await.unwrap();
    sorted(page.items.into_iter().map(|r| r.id).collect())
}

#[tokio::test]
async fn a_constituent_report_goes_to_its_parent_cirt_with_its_observables() {
    each_backend(|env| async move {
        let w = &env.w;
        let row = isp_report(&env).await;
        assert_eq!(row.reference, "REP-2026-000001");
        assert_eq!(row.owner_org_id, w.ke_cirt.id, "Savannah's parent CIRT receives it");
        assert_eq!(row.reporter_org_id.as_deref(), Some(w.isp.id.as_str()));
        assert_eq!(row.reporter_user_id.as_deref(), Some(w.isp_user.user_id.as_str()));
        assert_eq!(row.reporter_email, None);
        assert_eq!((row.channel.as_str(), row.status.as_str(), row.tlp.as_str()), ("web", "new", "AMBER"));
        assert_eq!(row.received_at, time::format(t0()));
        assert_eq!(row.incident_id, None);
        let found: Vec<Observable> = serde_json::from_str(&row.observables).unwrap();
        assert_eq!(
            found,
            [obs(Kind::Ipv4, "203.0.113.45"), obs(Kind::Url, "https://harambee-login.example.com/verify")],
            "the defanged URL is refanged"
        );
        assert_eq!(env.desk.report(&w.analyst, &row.reference).await.unwrap(), row, "found by reference too");

        let second = env.desk.submit_report(Some(&actor(&w.bank_user)), Channel::Api, &report("Login anomalies", "none")).await.unwrap();
        assert_eq!(second.reference, "REP-2026-000002");
        assert_eq!(second.owner_org_id, w.ke_cirt.id);
        assert_eq!(second.observables, "[]");
        // Numbering restarts each year.
        env.clock.set(chrono::Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 1).single().unwrap());
        let next_year = isp_report(&env).await;
        assert_eq!(next_year.reference, "REP-2027-000001");

        let received = env.audit("cirt.report.receive").await;
        assert_eq!(received.len(), 3);
        assert_eq!(received[0].actor_id.as_deref(), Some(w.isp_user.user_id.as_str()));
        assert_eq!(received[0].entity_id.as_deref(), Some(row.id.as_str()));
    })
    .await;
}

#[tokio::test]
async fn public_reports_go_to_the_national_cirt_of_their_country() {
    each_backend(|env| async move {
        let w = &env.w;
        let before = env.audit_ok().await;
        assert_invalid(env.desk.submit_report(None, Channel::Public, &public(Some("FR"))).await, "country");
        assert_invalid(env.desk.submit_report(None, Channel::Public, &public(Some("XX"))).await, "country");
        assert_invalid(env.desk.submit_report(None, Channel::Public, &public(None)).await, "country");
        let blank = NewReport { subject: "   ".into(), ..public(Some("KE")) };
        assert_invalid(env.desk.submit_report(None, Channel::Public, &blank).await, "subject");
        let long = NewReport { subject: "x".repeat(301), ..public(Some("KE")) };
        assert_invalid(env.desk.submit_report(None, Channel::Public, &long).await, "subject");
        let empty_body = NewReport { body: "\n".into(), ..public(Some("KE")) };
        assert_invalid(env.desk.submit_report(None, Channel::Public, &empty_body).await, "body");
        let bad_email = NewReport { reporter_email: Some("not-an-address".into()), ..public(Some("KE")) };
        assert_invalid(env.desk.submit_report(None, Channel::Public, &bad_email).await, "reporter_email");
        let empty = NewReport { subject: String::new(), ..report(SUBJECT, BODY) };
        assert_invalid(env.desk.submit_report(Some(&actor(&w.isp_user)), Channel::Web, &empty).await, "subject");
        assert_eq!(env.audit_ok().await, before, "refused reports are not stored");

        let row = env.desk.submit_report(None, Channel::Public, &public(Some("KE"))).await.unwrap();
        assert_eq!(row.reference, "REP-2026-000001", "refused reports used no number");
        assert_eq!(row.owner_org_id, w.ke_cirt.id);
        assert_eq!((row.reporter_org_id.as_ref(), row.reporter_user_id.as_ref()), (None, None));
        assert_eq!(row.reporter_email.as_deref(), Some("citizen@example.org"));
        assert_eq!((row.channel.as_str(), row.tlp.as_str()), ("public", "GREEN"));
        let by_alpha3 = env.desk.submit_report(None, Channel::Public, &public(Some("bra"))).await.unwrap();
        assert_eq!(by_alpha3.owner_org_id, w.br_cirt.id);
        assert_eq!(by_alpha3.reference, "REP-2026-000002");

        let received = env.audit("cirt.report.receive").await;
        assert_eq!(
            received.iter().map(|r| (r.actor_id.clone(), r.actor_label.as_str())).collect::<Vec<_>>(),
            [(None, "public"), (None, "public")]
        );

        // The public report is the KE desk's, not Brazil's.
        assert_eq!(env.desk.report(&w.analyst, &row.id).await.unwrap().id, row.id);
        assert_not_found(env.desk.report(&w.br_analyst, &row.id).await, "report");
        assert_not_found(env.desk.report(&w.isp_user, &row.id).await, "report");
    })
    .await;
}

#[tokio::test]
async fn a_report_is_seen_by_its_reporter_and_the_receiving_cirt_only() {
    each_backend(|env| async move {
        let w = &env.w;
        let row = isp_report(&env).await;
        let public_row = env.desk.submit_report(None, Channel::Public, &public(Some("KE"))).await.unwrap();

        assert_eq!(env.desk.report(&w.isp_user, &row.id).await.unwrap().id, row.id);
        assert_eq!(env.desk.report(&w.analyst, &row.id).await.unwrap().id, row.id);
        assert_eq!(env.desk.report(&w.manager, &row.id).await.unwrap().id, row.id);
        assert_not_found(env.desk.report(&w.bank_user, &row.id).await, "report");
        assert_not_found(env.desk.report(&w.br_analyst, &row.id).await, "report");
        assert_not_found(env.desk.report(&w.admin, &row.id).await, "report");
        assert_not_found(env.desk.report(&w.analyst, "REP-2026-999999").await, "report");

        // Lists: the CIRT sees what it received, a constituent what its
        // organisation sent.
        assert_eq!(list_ids(&env, &w.analyst).await, sorted(vec![row.id.clone(), public_row.id.clone()]));
        assert_eq!(list_ids(&env, &w.isp_user).await, [row.id.as_str()]);
        assert_eq!(list_ids(&env, &w.bank_user).await, Vec::<String>::new());
        assert_eq!(list_ids(&env, &w.br_analyst).await, Vec::<String>::new());
        assert_forbidden(env.desk.reports(&w.admin, None, &PageRequest::first(10)).await);
        let rejected = env.desk.reports(&w.analyst, Some("rejected"), &PageRequest::first(10)).await.unwrap();
        assert!(rejected.items.is_empty());

        // A TLP:RED report stays with its author and the CIRT.
        let red = NewReport { tlp: Tlp::Red, ..report("Insider", "An insider leaks customer data.") };
        let red = env.desk.submit_report(Some(&actor(&w.isp_user)), Channel::Web, &red).await.unwrap();
        let colleague = env.extra_user(&w.isp, "noc@savannah.co.ke", rampart_core::Role::Constituent).await;
        assert_eq!(env.desk.report(&w.isp_user, &red.id).await.unwrap().id, red.id);
        assert_eq!(env.desk.report(&w.analyst, &red.id).await.unwrap().id, red.id);
        assert_not_found(env.desk.report(&colleague, &red.id).await, "report");
        // An AMBER report is shared with the reporting organisation.
        assert_eq!(env.desk.report(&colleague, &row.id).await.unwrap().id, row.id);
    })
    .await;
}

#[tokio::test]
async fn promoting_a_report_creates_an_incident_carrying_its_observables_and_reporter() {
    each_backend(|env| async move {
        let w = &env.w;
        let row = isp_report(&env).await;
        let mut new_incident = env.incident("Harambee phishing site");
        new_incident.owner_org_id = String::new();
        new_incident.constituents = vec![w.bank.id.clone()];
        new_incident.impact = Level::High;

        // Only the receiving CIRT's staff promote.
        assert_forbidden(env.desk.promote_report(&actor(&w.isp_user), &row.id, Some(new_incident.clone()), None).await);
        assert_not_found(env.desk.promote_report(&actor(&w.br_analyst), &row.id, Some(new_incident.clone()), None).await, "report");
        assert_invalid(env.desk.promote_report(&actor(&w.analyst), &row.id, None, None).await, "incident");
        let bad = rampart_cirt::NewIncident { rsit_type: "lunch".into(), ..new_incident.clone() };
        assert_invalid(env.desk.promote_report(&actor(&w.analyst), &row.id, Some(bad), None).await, "type");
        assert_eq!(env.desk.report(&w.analyst, &row.id).await.unwrap().status, "new", "a refused promotion changes nothing");

        let incident = env.desk.promote_report(&actor(&w.analyst), &row.id, Some(new_incident.clone()), None).await.unwrap();
        assert_eq!(incident.reference, "INC-2026-000001");
        assert_eq!(incident.owner_org_id, w.ke_cirt.id, "the report's CIRT owns the incident");
        assert_eq!((incident.rsit_class.as_str(), incident.rsit_type.as_str()), ("fraud", "phishing"));
        assert_eq!((incident.priority.as_str(), incident.source.as_str(), incident.status.as_str()), ("high", "report", "new"));

        let view = env.desk.view(&w.analyst, &incident.id).await.unwrap();
        let observables: Vec<(&str, &str, i64)> =
            view.observables.iter().map(|o| (o.kind.as_str(), o.value.as_str(), o.seen_elsewhere)).collect();
        assert_eq!(observables, [("ipv4", "203.0.113.45", 0), ("url", "https://harambee-login.example.com/verify", 0)]);
        let constituents: Vec<String> = view.constituents.iter().map(|o| o.id.clone()).collect();
        assert_eq!(sorted(constituents), sorted(vec![w.isp.id.clone(), w.bank.id.clone()]), "the reporter joins the constituents");
        assert_eq!(view.tasks.len(), 6);
        assert_eq!(view.timeline.len(), 1);
        let created: serde_json::Value = serde_json::from_str(&view.timeline[0].detail).unwrap();
        assert_eq!(view.timeline[0].kind, "created");
        assert_eq!(created["report"], "REP-2026-000001");

        let promoted = env.desk.report(&w.analyst, &row.id).await.unwrap();
        assert_eq!(promoted.status, "promoted");
        assert_eq!(promoted.incident_id.as_deref(), Some(incident.id.as_str()));
        assert_invalid(env.desk.promote_report(&actor(&w.analyst), &row.id, Some(new_incident.clone()), None).await, "report");
        assert_invalid(env.desk.reject_report(&actor(&w.analyst), &row.id, "duplicate").await, "report");
        assert_eq!(env.audit("cirt.incident.create").await.len(), 1, "promoting twice made one incident");

        // The reporter, a constituent of the incident, now sees it.
        assert_eq!(env.desk.view(&w.isp_user, &incident.id).await.unwrap().incident.id, incident.id);

        // A second report, from the bank, is attached to the same incident.
        let follow_up = env
            .desk
            .submit_report(Some(&actor(&w.bank_user)), Channel::Web, &report("Same site again", "Now at 192.0.2.80."))
            .await
            .unwrap();
        env.advance(chrono::Duration::minutes(5));
        let attached = env.desk.promote_report(&actor(&w.manager), &follow_up.id, None, Some(&incident.id)).await.unwrap();
        assert_eq!(attached.id, incident.id);
        let follow_up = env.desk.report(&w.bank_user, &follow_up.id).await.unwrap();
        assert_eq!((follow_up.status.as_str(), follow_up.incident_id.as_deref()), ("attached", Some(incident.id.as_str())));
        let view = env.desk.view(&w.analyst, &incident.id).await.unwrap();
        assert!(view.observables.iter().any(|o| o.kind == "ipv4" && o.value == "192.0.2.80"), "{:?}", view.observables);
        let last = view.timeline.last().unwrap();
        assert_eq!((last.kind.as_str(), last.body.as_str()), ("report", "Same site again"));
        assert_eq!(env.audit("cirt.report.attach").await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn rejecting_a_report_closes_it_without_an_incident() {
    each_backend(|env| async move {
        let w = &env.w;
        let row = env.desk.submit_report(None, Channel::Public, &public(Some("KE"))).await.unwrap();
        let own = isp_report(&env).await;
        assert_forbidden(env.desk.reject_report(&actor(&w.isp_user), &own.id, "never mind").await);
        assert_not_found(env.desk.reject_report(&actor(&w.br_analyst), &row.id, "not ours").await, "report");

        env.desk.reject_report(&actor(&w.analyst), &row.id, "spam").await.unwrap();
        let rejected = env.desk.report(&w.analyst, &row.id).await.unwrap();
        assert_eq!((rejected.status.as_str(), rejected.incident_id.as_deref()), ("rejected", None));
        assert_invalid(env.desk.reject_report(&actor(&w.analyst), &row.id, "spam").await, "report");
        let new_incident = env.incident("Too late");
        assert_invalid(env.desk.promote_report(&actor(&w.analyst), &row.id, Some(new_incident), None).await, "report");

        let listed = env.desk.reports(&w.analyst, Some("rejected"), &PageRequest::first(10)).await.unwrap();
        assert_eq!(listed.items.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [row.id.as_str()]);
        let audit = env.audit("cirt.report.reject").await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].entity_id.as_deref(), Some(row.id.as_str()));
        assert_eq!(serde_json::from_str::<serde_json::Value>(&audit[0].summary).unwrap(), serde_json::json!({"reason": "spam"}));
        assert!(env.audit("cirt.incident.create").await.is_empty());
    })
    .await;
}
