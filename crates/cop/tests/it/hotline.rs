//! The hotline end to end on both databases: intake, duplicates,
//! visibility and audited views, assessment, tracing with the MaxMind test
//! databases, referral and takedown, statistics and the retention purge.

use crate::support::{Env, actor, each_backend, public_report};
use chrono::Duration;
use rampart_cop::CopError;
use rampart_cop::hotline::NewHotlineReport;
use rampart_store::PageRequest;
use rampart_store::hotline::HotlineItemRow;

#[track_caller]
fn assert_invalid<T: std::fmt::Debug>(result: Result<T, CopError>, field: &str) {
    match result {
        Err(CopError::Invalid { field: found, .. }) if found == field => {}
        other => panic!("expected Invalid {{ field: {field:?} }}, got {other:?}"),
    }
}

async fn new_items(env: &Env) -> Vec<HotlineItemRow> {
    env.hotline.queue(&env.w.ke_analyst, Some("new"), &PageRequest::first(100)).await.expect("queue").items
}

#[tokio::test]
async fn a_public_report_in_arabic_gets_a_receipt_and_one_item_per_address() {
    each_backend(|env| async move {
        let report =
            public_report("hxxps://bad[.]example/a/1\nhttp://www.bad.example/a/1/ https://other.example/x", "child_sexual_abuse", "ar-EG");
        let receipt = env.hotline.submit(None, &report).await.expect("submit");
        assert!(receipt.receipt.starts_with("HL-") && receipt.receipt.len() == 17, "{}", receipt.receipt);
        assert_eq!(receipt.urls, 2, "the two spellings of one address collapse");
        assert_eq!(receipt.hotline, "Child Safety Hotline Kenya");

        let items = new_items(&env).await;
        assert_eq!(items.len(), 2);
        let urls: Vec<&str> = items.iter().map(|i| i.url.as_str()).collect();
        assert!(urls.contains(&"https://bad.example/a/1") && urls.contains(&"https://other.example/x"), "{urls:?}");
        let stored = env.store.hotline_report_get(&items[0].report_id).await.expect("report");
        assert_eq!((stored.language.as_str(), stored.channel.as_str()), ("ar", "public"));

        let status = env.hotline.public_status(&receipt.receipt.to_lowercase().replace('-', " ")).await.expect("status");
        assert_eq!((status.state, status.urls, status.removed), ("received", 2, 0));
        assert!(matches!(env.hotline.public_status("HL-0000-0000-0000").await, Err(CopError::NotFound(_))));
        let entries = env.audit("cop.report.receive").await;
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].actor_label, "public");
    })
    .await;
}

#[tokio::test]
async fn bad_reports_name_the_field_and_store_nothing() {
    each_backend(|env| async move {
        let cases: Vec<(NewHotlineReport, &str)> = vec![
            (public_report("", "grooming", "en"), "urls"),
            (public_report("ftp://files.example/x", "grooming", "en"), "urls"),
            (public_report("http://ok.example/\nhttp://[::1/", "grooming", "en"), "urls"),
            (public_report("http://ok.example/", "spam", "en"), "category"),
            (
                NewHotlineReport { reporter_email: Some("not an address".into()), ..public_report("http://ok.example/", "grooming", "en") },
                "reporter_email",
            ),
            (NewHotlineReport { country: Some("BR".into()), ..public_report("http://ok.example/", "grooming", "en") }, "country"),
            (NewHotlineReport { country: Some("Atlantis".into()), ..public_report("http://ok.example/", "grooming", "en") }, "country"),
            (NewHotlineReport { country: None, ..public_report("http://ok.example/", "grooming", "en") }, "country"),
            (NewHotlineReport { description: "x".repeat(5001), ..public_report("http://ok.example/", "grooming", "en") }, "description"),
        ];
        for (report, field) in cases {
            assert_invalid(env.hotline.submit(None, &report).await, field);
        }
        let many: Vec<String> = (0..51).map(|i| format!("http://host{i}.example/")).collect();
        assert_invalid(env.hotline.submit(None, &public_report(&many.join("\n"), "grooming", "en")).await, "urls");
        assert_eq!(env.report_count().await, 0);
        assert!(new_items(&env).await.is_empty());
        // A CIRT analyst is no hotline partner.
        let partner = NewHotlineReport { country: Some("KE".into()), ..public_report("http://ok.example/", "grooming", "en") };
        assert!(matches!(env.hotline.submit(Some(&actor(&env.w.cirt_analyst)), &partner).await, Err(CopError::Forbidden)));
    })
    .await;
}

#[tokio::test]
async fn content_already_assessed_is_not_assessed_again() {
    each_backend(|env| async move {
        env.hotline
            .submit(None, &public_report("http://bad.example/gallery?id=7&utm_source=x", "child_sexual_abuse", "en"))
            .await
            .expect("first");
        env.hotline
            .submit(None, &public_report("https://www.bad.example/gallery/?id=7", "child_sexual_abuse", "en"))
            .await
            .expect("second");
        let items = new_items(&env).await;
        assert_eq!(items.len(), 2, "not yet assessed: both wait, the second marked");
        let (first, second) = if items[0].duplicate_of.is_none() { (&items[0], &items[1]) } else { (&items[1], &items[0]) };
        assert_eq!(second.duplicate_of.as_deref(), Some(first.id.as_str()));
        env.hotline.assess(&actor(&env.w.ke_analyst), &first.id, "illegal_interpol", "").await.expect("assess");

        let receipt = env
            .hotline
            .submit(None, &public_report("http://bad.example/gallery?id=7#top", "child_sexual_abuse", "en"))
            .await
            .expect("third");
        let third = new_items(&env).await;
        assert_eq!(third.len(), 1, "the third report never reaches the queue");
        let all = env.hotline.queue(&env.w.ke_analyst, Some("closed"), &PageRequest::first(10)).await.expect("closed").items;
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].outcome.as_deref(), Some("duplicate"));
        assert_eq!(all[0].duplicate_of.as_deref(), Some(first.id.as_str()));
        assert_eq!(env.hotline.public_status(&receipt.receipt).await.expect("status").state, "assessed");
    })
    .await;
}

#[tokio::test]
async fn only_hotline_roles_see_reports_and_every_view_is_audited() {
    each_backend(|env| async move {
        env.hotline.submit(None, &public_report("http://bad.example/1", "sextortion", "en")).await.expect("submit");
        let item = new_items(&env).await.remove(0);
        let ke = actor(&env.w.ke_analyst);
        let view = env.hotline.view(&ke, &item.id).await.expect("view");
        assert!(view.handler);
        assert_eq!(view.report.reporter_email.as_deref(), Some("parent@example.org"));
        env.hotline.view(&ke, &item.id).await.expect("again");
        assert_eq!(env.audit("cop.item.view").await.len(), 2, "each view is audited");

        for outsider in [&env.w.se_analyst, &env.w.admin, &env.w.cirt_analyst, &env.w.matcher] {
            assert!(matches!(env.hotline.view(&actor(outsider), &item.id).await, Err(CopError::NotFound(_))), "{}", outsider.email);
        }
        assert!(matches!(env.hotline.queue(&env.w.cirt_analyst, None, &PageRequest::first(10)).await, Err(CopError::Forbidden)));
        assert!(matches!(env.hotline.queue(&env.w.admin, None, &PageRequest::first(10)).await, Err(CopError::Forbidden)));
        let se_queue = env.hotline.queue(&env.w.se_analyst, None, &PageRequest::first(10)).await.expect("own queue");
        assert!(se_queue.items.is_empty(), "another hotline's items are not in Sweden's queue");
        assert!(matches!(env.hotline.assess(&actor(&env.w.se_analyst), &item.id, "not_illegal", "").await, Err(CopError::NotFound(_))));
    })
    .await;
}

#[tokio::test]
async fn an_item_is_traced_referred_and_taken_down_with_times_measured() {
    each_backend(|env| async move {
        let receipt =
            env.hotline.submit(None, &public_report("http://host.example.se/p/9", "child_sexual_abuse", "ar")).await.expect("submit");
        let item = new_items(&env).await.remove(0);
        let ke = actor(&env.w.ke_analyst);
        let se = actor(&env.w.se_analyst);

        // Nothing is referred before it is assessed illegal and traced.
        assert_invalid(env.hotline.refer(&ke, &item.id, &env.w.se_hotline.id, "").await, "outcome");
        assert_invalid(env.hotline.assess(&ke, &item.id, "probably_bad", "").await, "outcome");
        env.clock.advance(Duration::hours(2));
        env.hotline.assess(&ke, &item.id, "illegal_national", "Clear case.").await.expect("assess");
        assert_invalid(env.hotline.refer(&ke, &item.id, &env.w.se_hotline.id, "").await, "ip");
        assert_invalid(env.hotline.trace(&ke, &item.id, "not-an-ip", None).await, "ip");

        let traced = env.hotline.trace(&ke, &item.id, "89.160.20.112", None).await.expect("trace");
        assert_eq!(traced.hosting_country.as_deref(), Some("SE"), "from GeoIP2-Country-Test");
        assert_eq!(traced.asn, Some(29518), "from GeoLite2-ASN-Test");
        assert_eq!(traced.as_org.as_deref(), Some("Bredband2 AB"));
        assert!(traced.network.as_deref().is_some_and(|n| n.starts_with("89.160.")), "{:?}", traced.network);
        // An address the databases do not place needs the analyst's word.
        assert_invalid(env.hotline.trace(&ke, &item.id, "10.1.2.3", None).await, "country");

        let targets: Vec<String> = env.hotline.referral_targets(&traced).await.expect("targets").into_iter().map(|o| o.id).collect();
        assert_eq!(targets, vec![env.w.se_hotline.id.clone(), env.w.se_police.id.clone()]);
        assert_invalid(env.hotline.refer(&ke, &item.id, &env.w.ke_cirt.id, "").await, "to_org_id");
        assert_invalid(env.hotline.refer(&ke, &item.id, &env.w.ke_hotline.id, "").await, "to_org_id");
        let referral = env.hotline.refer(&ke, &item.id, &env.w.se_hotline.id, "Please act.").await.expect("refer");
        assert_invalid(env.hotline.refer(&ke, &item.id, &env.w.se_hotline.id, "").await, "to_org_id");
        assert_eq!(env.hotline.public_status(&receipt.receipt).await.expect("status").state, "referred");

        // Sweden now sees the address and the assessment, not the reporter.
        let seen = env.hotline.view(&se, &item.id).await.expect("referred hotline sees it");
        assert!(!seen.handler);
        assert_eq!(seen.report.reporter_email, None);
        assert_eq!(seen.report.description, "");
        assert_eq!(seen.report.receipt, "");
        assert!(matches!(env.hotline.assess(&se, &item.id, "not_illegal", "").await, Err(CopError::Forbidden)));
        let received = env.hotline.referrals_received(&env.w.se_analyst).await.expect("received");
        assert_eq!(received.len(), 1);

        // The receiver records notice and removal; the sender confirms.
        assert_invalid(env.hotline.record_takedown(&ke, &referral.id, "removed", "").await, "step");
        env.clock.advance(Duration::hours(4));
        env.hotline.record_takedown(&se, &referral.id, "notice_sent", "Sent to the host.").await.expect("notice");
        assert_invalid(env.hotline.record_takedown(&se, &referral.id, "notice_sent", "").await, "step");
        env.clock.advance(Duration::hours(20));
        env.hotline.record_takedown(&se, &referral.id, "removed", "Gone.").await.expect("removed");
        assert_eq!(env.hotline.public_status(&receipt.receipt).await.expect("status").state, "removed");
        env.hotline.record_takedown(&ke, &referral.id, "confirmed", "Checked: 404.").await.expect("confirmed");
        assert!(matches!(
            env.hotline.record_takedown(&actor(&env.w.cirt_analyst), &referral.id, "confirmed", "").await,
            Err(CopError::NotFound(_))
        ));

        let item = env.store.hotline_item_get(&item.id).await.expect("item");
        assert_eq!(item.status, "confirmed");
        let following = env
            .hotline
            .queue(&env.w.ke_analyst, Some("referred,notice_sent,removed,confirmed"), &PageRequest::first(5))
            .await
            .expect("queue");
        assert_eq!(following.items.len(), 1);
        assert!(env.hotline.queue(&env.w.ke_analyst, Some("referred"), &PageRequest::first(5)).await.expect("queue").items.is_empty());
        assert_invalid(env.hotline.queue(&env.w.ke_analyst, Some("new,bogus"), &PageRequest::first(5)).await, "status");
        let events: Vec<String> = env.store.hotline_events(&item.id).await.expect("events").into_iter().map(|e| e.kind).collect();
        assert_eq!(events, ["received", "assessed", "traced", "referred", "notice_sent", "removed", "confirmed"]);

        let figures = env.hotline.figures(&env.w.ke_analyst).await.expect("figures");
        assert_eq!(figures.overall.referrals, 1);
        assert_eq!(figures.overall.median_hours_to_removal, Some(26.0), "2 h to assess, 24 h after referral");
        assert_eq!(figures.overall.median_hours_after_referral, Some(24.0));
        assert_eq!(figures.by_country[0].label, "SE");
        assert_eq!(figures.by_host[0].label, "host.example.se");
        assert_eq!(figures.hosting_countries, vec![("SE".to_owned(), 1)]);
        assert_eq!(figures.reports_by_category, vec![("child_sexual_abuse".to_owned(), 1)]);
        let sweden = env.hotline.figures(&env.w.se_analyst).await.expect("figures");
        assert_eq!(sweden.overall.removed, 1, "the receiving hotline counts its removals too");
        assert!(matches!(env.hotline.figures(&env.w.cirt_analyst).await, Err(CopError::Forbidden)));
    })
    .await;
}

#[tokio::test]
async fn personal_data_is_purged_after_the_retention_period() {
    each_backend(|env| async move {
        env.hotline.submit(None, &public_report("http://old.example/1", "grooming", "en")).await.expect("old");
        env.clock.advance(Duration::days(60));
        env.hotline.submit(None, &public_report("http://new.example/1", "grooming", "en")).await.expect("new");
        assert_eq!(env.hotline.purge().await.expect("purge"), 0, "nothing is 90 days old yet");
        env.clock.advance(Duration::days(31));
        assert_eq!(env.hotline.purge().await.expect("purge"), 1);
        assert_eq!(env.hotline.purge().await.expect("again"), 0);
        let items = new_items(&env).await;
        for item in items {
            let report = env.store.hotline_report_get(&item.report_id).await.expect("report");
            if item.host == "old.example" {
                assert_eq!((report.reporter_name, report.reporter_email, report.description.as_str()), (None, None, ""));
                assert!(report.purged_at.is_some());
                assert_eq!(item.url, "http://old.example/1", "the address and its handling stay");
            } else {
                assert_eq!(report.reporter_email.as_deref(), Some("parent@example.org"));
            }
        }
        let entries = env.audit("cop.report.purge").await;
        assert_eq!(entries.len(), 1);
        assert!(entries[0].summary.contains("\"reports\":1"), "{}", entries[0].summary);
    })
    .await;
}
