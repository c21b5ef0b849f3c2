//! Notices to constituents, delivered over a real SMTP conversation with a
//! server on loopback: composition, batching per recipient and interval,
//! retries, delivery status and the first-response timer.

use crate::support::{Env, actor, assert_invalid, each_backend};
use chrono::Duration;
use rampart_cirt::notify::{Notifier, SmtpMailer, TlsMode};
use rampart_core::{Clock, Tlp};
use rampart_testkit::smtp::{SmtpServer, part_body};
use std::sync::Arc;

async fn contact(env: &Env, org_id: &str, email: &str) {
    let cli = rampart_auth::Principal::cli("test");
    env.auth.add_contact(&actor(&cli), org_id, "incident reports", Some("SOC"), email, None).await.expect("contact");
}

fn notifier(env: &Env, server: &SmtpServer) -> Notifier {
    let mailer = SmtpMailer::new("127.0.0.1", server.port, TlsMode::Opportunistic, None).expect("mailer");
    let clock: Arc<dyn Clock> = Arc::new(env.clock.clone());
    Notifier::new(env.store.clone(), clock, Arc::new(mailer), "KE-CIRT <cirt@ke-cirt.example>").expect("notifier")
}

#[tokio::test]
async fn a_notice_arrives_with_the_affected_observables_attached() {
    each_backend(|env| async move {
        let server = SmtpServer::start().await;
        contact(&env, &env.w.isp.id, "soc@isp.example").await;
        let incident = env
            .create("Phishing kit on a customer host", |i| {
                i.observables = rampart_cirt::observables::extract("served from 198.51.100.77 and hxxp://kit[.]example/login");
            })
            .await;
        let queued = env.desk.notify(&actor(&env.w.analyst), &incident.id).await.expect("notify");
        assert_eq!(queued.iter().map(|n| n.recipient.as_str()).collect::<Vec<_>>(), ["soc@isp.example"]);
        assert_eq!(queued[0].status, "queued");

        let report = notifier(&env, &server).flush().await.expect("flush");
        assert_eq!((report.mails_sent, report.notices_sent), (1, 1));
        let mail = &server.messages()[0];
        assert_eq!(mail.from, "cirt@ke-cirt.example");
        assert_eq!(mail.to, ["soc@isp.example"]);
        assert!(
            mail.data.contains(&format!("Subject: [TLP:AMBER] {}: Phishing kit on a customer host", incident.reference)),
            "{}",
            mail.data
        );
        let csv = part_body(&mail.data, "filename=\"events.csv\"").expect("CSV attachment");
        assert!(csv.starts_with("incident,classification,kind,value,tlp\n"), "{csv}");
        assert!(csv.contains(&format!("{},fraud/phishing,ipv4,198.51.100.77,AMBER", incident.reference)), "{csv}");
        assert!(csv.contains("url,http://kit.example/login"), "{csv}");

        let notices = env.store.notices_of_incident(&incident.id).await.unwrap();
        assert_eq!(notices[0].status, "sent");
        assert_eq!(notices[0].attempts, 1);
        let after = env.store.incident_get(&incident.id).await.unwrap();
        assert!(after.first_response_at.is_some(), "the notice is the first response");
        // Nothing is due any more: a second flush sends nothing.
        assert_eq!(notifier(&env, &server).flush().await.unwrap().mails_sent, 0);
        assert_eq!(server.messages().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn notices_are_batched_per_recipient_and_interval_in_their_language() {
    each_backend(|env| async move {
        let server = SmtpServer::start().await;
        contact(&env, &env.w.isp.id, "soc@isp.example").await;
        let cli = rampart_auth::Principal::cli("test");
        env.desk.set_notification_preferences(&actor(&cli), &env.w.isp.id, "json", "fr", 60).await.expect("preferences");
        let first = env.create("Hôte infecté 1", |_| {}).await;
        let second = env.create("Hôte infecté 2", |_| {}).await;
        env.desk.notify(&actor(&env.w.analyst), &first.id).await.unwrap();
        env.desk.notify(&actor(&env.w.analyst), &second.id).await.unwrap();

        let notifier = notifier(&env, &server);
        assert_eq!(notifier.flush().await.unwrap().mails_sent, 0, "nothing before the interval");
        env.clock.advance(Duration::minutes(61));
        let report = notifier.flush().await.unwrap();
        assert_eq!((report.mails_sent, report.notices_sent), (1, 2), "one mail for both incidents");
        let mail = &server.messages()[0];
        assert!(mail.data.contains("Subject: [TLP:AMBER] 2 incidents concernent votre organisation"), "{}", mail.data);
        let json = part_body(&mail.data, "filename=\"events.json\"").expect("JSON attachment");
        assert!(json.trim_start().starts_with('['), "{json}");

        let bad = env.desk.set_notification_preferences(&actor(&cli), &env.w.isp.id, "xml", "fr", 60).await;
        assert_invalid(bad, "format");
    })
    .await;
}

#[tokio::test]
async fn a_refused_delivery_is_retried_with_backoff() {
    each_backend(|env| async move {
        let server = SmtpServer::start().await;
        contact(&env, &env.w.isp.id, "soc@isp.example").await;
        let incident = env.create("Retry me", |_| {}).await;
        env.desk.notify(&actor(&env.w.analyst), &incident.id).await.unwrap();
        server.refuse_next(1);
        let notifier = notifier(&env, &server);
        let report = notifier.flush().await.unwrap();
        assert_eq!((report.mails_sent, report.notices_retrying), (0, 1));
        let notice = &env.store.notices_of_incident(&incident.id).await.unwrap()[0];
        assert_eq!((notice.status.as_str(), notice.attempts), ("queued", 1));
        assert!(notice.last_error.as_deref().is_some_and(|e| e.contains("451")), "{notice:?}");
        assert_eq!(notifier.flush().await.unwrap().mails_sent, 0, "not again before the back-off");
        env.clock.advance(Duration::minutes(1));
        assert_eq!(notifier.flush().await.unwrap().mails_sent, 1);
        let notice = &env.store.notices_of_incident(&incident.id).await.unwrap()[0];
        assert_eq!((notice.status.as_str(), notice.attempts), ("sent", 2));
    })
    .await;
}

#[tokio::test]
async fn notices_need_a_contact_and_a_label_that_allows_e_mail() {
    each_backend(|env| async move {
        let incident = env.create("No contact yet", |_| {}).await;
        assert_invalid(env.desk.notify(&actor(&env.w.analyst), &incident.id).await, "constituents");
        contact(&env, &env.w.isp.id, "soc@isp.example").await;
        let red = env.create("Named recipients only", |i| i.tlp = Tlp::Red).await;
        assert_invalid(env.desk.notify(&actor(&env.w.analyst), &red.id).await, "tlp");
        let alone = env.create("Nobody affected", |i| i.constituents.clear()).await;
        assert_invalid(env.desk.notify(&actor(&env.w.analyst), &alone.id).await, "constituents");
        assert!(env.desk.notify(&actor(&env.w.isp_user), &incident.id).await.is_err(), "constituents do not send notices");
    })
    .await;
}
