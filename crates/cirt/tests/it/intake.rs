//! Reports by e-mail: a constituent's X-ARF report becomes a report of the
//! CIRT with the sender matched to its organisation; bad mail stores nothing.

use crate::support::{actor, assert_invalid, each_backend};
use rampart_cirt::desk::Channel;
use rampart_store::PageRequest;

const XARF: &str = "From: Abuse Desk <Abuse@isp.example>\r\nTo: cirt@ke-cirt.example\r\nSubject: [TLP:GREEN] abuse report about 192.0.2.44\r\n\
X-ARF: YES\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"xarf\"\r\n\r\n--xarf\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
Our SSH servers saw 4,000 failed logins from 192.0.2.44.\r\n--xarf\r\nContent-Type: text/plain; charset=utf-8; name=\"report.txt\"\r\n\r\n\
Reported-From: abuse@isp.example\r\nCategory: abuse\r\nReport-Type: login-attack\r\nService: ssh\r\nSource-Type: ipv4\r\nSource: 192.0.2.44\r\n\
--xarf--\r\n";

#[tokio::test]
async fn an_x_arf_mail_becomes_a_report_of_the_senders_organisation() {
    each_backend(|env| async move {
        let cli = rampart_auth::Principal::cli("test");
        env.auth.add_contact(&actor(&cli), &env.w.isp.id, "abuse", None, "abuse@isp.example", None).await.unwrap();
        let report = env.desk.receive_email(&env.w.ke_cirt.id, XARF.as_bytes()).await.expect("received");
        assert_eq!(report.channel, Channel::Email.as_str());
        assert_eq!(report.owner_org_id, env.w.ke_cirt.id);
        assert_eq!(report.reporter_org_id.as_deref(), Some(env.w.isp.id.as_str()), "matched through the contact, whatever the case");
        assert_eq!(report.reporter_email.as_deref(), Some("abuse@isp.example"));
        assert_eq!(report.tlp, "GREEN", "the label in the subject");
        assert!(
            report.body.starts_with("X-ARF report: login-attack from 192.0.2.44 on ssh (suggested RSIT: intrusion-attempts/brute-force)"),
            "{}",
            report.body
        );
        assert!(report.observables.contains("192.0.2.44"), "{}", report.observables);
        // The ISP sees the report it sent; the analyst sees it in the queue.
        assert_eq!(env.desk.report(&env.w.isp_user, &report.id).await.unwrap().id, report.id);
        let queue = env.desk.reports(&env.w.analyst, Some("new"), &PageRequest::first(10)).await.unwrap();
        assert_eq!(queue.items.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn mail_that_cannot_be_a_report_stores_nothing() {
    each_backend(|env| async move {
        assert_invalid(env.desk.receive_email(&env.w.ke_cirt.id, b"").await, "message");
        assert_invalid(env.desk.receive_email(&env.w.ke_cirt.id, b"Subject: who sent this?\r\n\r\nbody\r\n").await, "from");
        assert_invalid(env.desk.receive_email(&env.w.isp.id, XARF.as_bytes()).await, "cirt");
        let queue = env.desk.reports(&env.w.analyst, None, &PageRequest::first(10)).await.unwrap();
        assert!(queue.items.is_empty(), "nothing stored");
        // An unknown sender is still received, without an organisation.
        let plain = b"From: someone@elsewhere.example\r\nSubject: odd traffic\r\n\r\nScans from 203.0.113.9 all night.\r\n";
        let report = env.desk.receive_email(&env.w.ke_cirt.id, plain).await.unwrap();
        assert_eq!(report.reporter_org_id, None);
        assert_eq!(report.tlp, "AMBER", "the default label");
    })
    .await;
}

/// An abuse desk abroad reports a host on an ISP's network: promoting the
/// report makes the ISP (named by the registry, most specific entry) an
/// affected constituent; registry entries of another CIRT's constituency are
/// never drawn in.
#[tokio::test]
async fn a_promoted_mail_report_names_the_constituents_the_registry_finds() {
    each_backend(|env| async move {
        let w = &env.w;
        let manager = actor(&w.manager);
        env.desk.add_network(&manager, &w.isp.id, "198.51.100.0/24").await.unwrap();
        // A wider entry of the bank loses to the ISP's more specific one.
        env.desk.add_network(&manager, &w.bank.id, "198.51.0.0/16").await.unwrap();
        env.desk.add_domain(&manager, &w.bank.id, "harambee.example").await.unwrap();
        let mail = "From: abuse@hosting-abroad.example\r\nSubject: Phishing at 198.51.100.77\r\n\r\n\
            The kit at hxxps://login.harambee[.]example/verify posts to 198.51.100.77; also seen from 203.0.113.9.\r\n";
        let report = env.desk.receive_email(&w.ke_cirt.id, mail.as_bytes()).await.unwrap();
        assert_eq!(report.reporter_org_id, None, "an outside sender");
        let mut incident = env.incident("Phishing kit");
        incident.owner_org_id = String::new();
        incident.constituents = Vec::new();
        let promoted = env.desk.promote_report(&manager, &report.id, Some(incident), None).await.unwrap();
        let view = env.desk.view(&w.analyst, &promoted.id).await.unwrap();
        let mut names: Vec<String> = view.constituents.iter().map(|o| o.name.clone()).collect();
        names.sort();
        assert_eq!(names, ["Harambee Bank", "Savannah Telecom"], "the ISP by its /24, the bank by its domain");
        // The ISP, now a constituent of the incident, sees it; BR-CIRT's analyst does not.
        assert_eq!(env.desk.view(&w.isp_user, &promoted.id).await.unwrap().incident.id, promoted.id);
        assert!(env.desk.view(&w.br_analyst, &promoted.id).await.is_err());
    })
    .await;
}
