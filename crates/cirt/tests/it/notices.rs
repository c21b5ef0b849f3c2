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

/// A GnuPG keyring in a throw-away home: an independent OpenPGP
/// implementation makes the contact's key and later decrypts the notice.
struct Gpg {
    home: tempfile::TempDir,
}

impl Gpg {
    fn new() -> Gpg {
        Gpg { home: tempfile::tempdir().expect("gpg home") }
    }

    fn run(&self, args: &[&str], input: Option<&str>) -> (bool, String) {
        use std::io::Write;
        let mut child = std::process::Command::new("gpg")
            .arg("--homedir")
            .arg(self.home.path())
            .args(["--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""])
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("gpg runs (install gnupg)");
        if let Some(input) = input {
            child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write to gpg");
        }
        drop(child.stdin.take());
        let output = child.wait_with_output().expect("gpg output");
        (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

#[tokio::test]
async fn notices_to_a_contact_with_a_key_are_encrypted_pgp_mime() {
    let gpg = Gpg::new();
    let (made, _) = gpg.run(&["--quick-gen-key", "ISP SOC <soc@isp.example>", "default", "default", "never"], None);
    assert!(made, "gpg made a key");
    let (_, public_key) = gpg.run(&["--armor", "--export", "soc@isp.example"], None);
    assert!(public_key.contains("BEGIN PGP PUBLIC KEY BLOCK"), "{public_key}");
    each_backend(|env| {
        let public_key = public_key.clone();
        let gpg = &gpg;
        async move {
            let server = SmtpServer::start().await;
            contact(&env, &env.w.isp.id, "soc@isp.example").await;
            let contact_id = env.store.contacts_of(&env.w.isp.id).await.unwrap()[0].id.clone();
            // Keys are checked: garbage and a key without an encryption subkey are refused.
            let refused = |result: Result<_, rampart_cirt::DeskError>| {
                matches!(result, Err(rampart_cirt::DeskError::Rule(rampart_cirt::CirtError::Field { ref path, .. })) if path == "openpgp_key")
            };
            assert!(refused(env.desk.set_contact_key(&actor(&env.w.manager), &env.w.isp.id, &contact_id, Some("not a key")).await));
            let signing_only = rampart_cirt::signing::Signer::generate("x <x@example>").unwrap();
            let no_subkey = env.desk.set_contact_key(&actor(&env.w.manager), &env.w.isp.id, &contact_id, Some(signing_only.public_armored())).await;
            assert!(refused(no_subkey), "a key that cannot encrypt");
            // Another CIRT may not touch the ISP's contacts.
            assert!(env.desk.set_contact_key(&actor(&env.w.br_analyst), &env.w.isp.id, &contact_id, Some(&public_key)).await.is_err());
            let info = env.desk.set_contact_key(&actor(&env.w.manager), &env.w.isp.id, &contact_id, Some(&public_key)).await.unwrap();
            assert_eq!(info.expect("key info").user_ids, ["ISP SOC <soc@isp.example>"]);

            let incident = env
                .create("Phishing kit on a customer host", |i| {
                    i.observables = rampart_cirt::observables::extract("served from 198.51.100.77");
                })
                .await;
            env.desk.notify(&actor(&env.w.analyst), &incident.id).await.expect("notify");
            assert_eq!(notifier(&env, &server).flush().await.unwrap().mails_sent, 1);
            let mail = &server.messages()[0];
            assert!(mail.data.contains("multipart/encrypted"), "{}", mail.data);
            assert!(mail.data.contains("application/pgp-encrypted"), "{}", mail.data);
            assert!(!mail.data.contains("198.51.100.77"), "nothing readable on the wire: {}", mail.data);
            let start = mail.data.find("-----BEGIN PGP MESSAGE-----").expect("armoured message");
            let end = mail.data.find("-----END PGP MESSAGE-----").expect("end") + "-----END PGP MESSAGE-----".len();
            let armored = mail.data[start..end].replace("\r\n", "\n");
            let (decrypted, clear) = gpg.run(&["--decrypt"], Some(&armored));
            assert!(decrypted, "GnuPG decrypts the notice");
            assert!(clear.contains("198.51.100.77") && clear.contains("events.csv"), "the notice and its CSV inside: {clear}");

            // Without the key, notices go in clear again.
            env.desk.set_contact_key(&actor(&env.w.manager), &env.w.isp.id, &contact_id, None).await.unwrap();
            let second = env.create("Another", |i| i.observables = rampart_cirt::observables::extract("203.0.113.5")).await;
            env.desk.notify(&actor(&env.w.analyst), &second.id).await.unwrap();
            notifier(&env, &server).flush().await.unwrap();
            assert!(server.messages()[1].data.contains("203.0.113.5"));
        }
    })
    .await;
}
