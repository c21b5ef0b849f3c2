use crate::support::{each_backend, entry, t0};
use chrono::Duration;
use rampart_store::{AuditFilter, ChainProblem, PageRequest, Store};

async fn append(store: &Store, count: i64) {
    for i in 1..=count {
        let mut tx = store.begin().await.unwrap();
        tx.audit(
            entry(&format!("test.thing.{}", if i % 2 == 0 { "update" } else { "create" }), &i.to_string()),
            t0() + Duration::seconds(i),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
}

async fn problem(store: &Store) -> Option<ChainProblem> {
    store.audit_verify().await.unwrap().problem
}

#[tokio::test]
async fn an_untouched_chain_verifies() {
    each_backend(|store| async move {
        assert_eq!(problem(&store).await, None, "empty log");
        append(&store, 5).await;
        let report = store.audit_verify().await.unwrap();
        assert_eq!(report.entries, 5);
        assert_eq!(report.problem, None);
        let page = store.audit_list(&AuditFilter::default(), &PageRequest::first(3)).await.unwrap();
        let seqs: Vec<i64> = page.items.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, [5, 4, 3], "newest first");
        let rest =
            store.audit_list(&AuditFilter::default(), &PageRequest::with_cursor(3, page.next_cursor.as_deref()).unwrap()).await.unwrap();
        assert_eq!(rest.items.iter().map(|r| r.seq).collect::<Vec<_>>(), [2, 1]);
        let updates = store
            .audit_list(&AuditFilter { action_prefix: Some("test.thing.update".into()), ..Default::default() }, &PageRequest::first(10))
            .await
            .unwrap();
        assert_eq!(updates.items.len(), 2);
    })
    .await;
}

#[tokio::test]
async fn an_edited_entry_is_caught() {
    each_backend(|store| async move {
        append(&store, 5).await;
        store.execute_raw_for_tests("UPDATE audit_log SET actor_label = 'someone else' WHERE seq = 3").await.unwrap();
        assert_eq!(problem(&store).await, Some(ChainProblem::Edited { seq: 3 }));
    })
    .await;
}

#[tokio::test]
async fn a_deleted_entry_is_caught() {
    each_backend(|store| async move {
        append(&store, 5).await;
        store.execute_raw_for_tests("DELETE FROM audit_log WHERE seq = 2").await.unwrap();
        assert_eq!(problem(&store).await, Some(ChainProblem::Deleted { seq: 2 }));
    })
    .await;
}

#[tokio::test]
async fn a_truncated_tail_is_caught() {
    each_backend(|store| async move {
        append(&store, 5).await;
        store.execute_raw_for_tests("DELETE FROM audit_log WHERE seq >= 4").await.unwrap();
        assert_eq!(problem(&store).await, Some(ChainProblem::Truncated { expected_last: 5, found_last: 3 }));
    })
    .await;
}

#[tokio::test]
async fn reordered_entries_are_caught() {
    each_backend(|store| async move {
        append(&store, 5).await;
        // Swap entries 2 and 3 by renumbering them.
        store.execute_raw_for_tests("UPDATE audit_log SET seq = 100 WHERE seq = 2").await.unwrap();
        store.execute_raw_for_tests("UPDATE audit_log SET seq = 2 WHERE seq = 3").await.unwrap();
        store.execute_raw_for_tests("UPDATE audit_log SET seq = 3 WHERE seq = 100").await.unwrap();
        assert_eq!(problem(&store).await, Some(ChainProblem::Broken { seq: 2 }));
    })
    .await;
}

#[tokio::test]
async fn an_inserted_entry_is_caught() {
    each_backend(|store| async move {
        append(&store, 3).await;
        // Make room after entry 1 and forge an entry that claims to follow it.
        store.execute_raw_for_tests("UPDATE audit_log SET seq = seq + 10 WHERE seq >= 2").await.unwrap();
        store.execute_raw_for_tests("UPDATE audit_log SET seq = seq - 9 WHERE seq >= 12").await.unwrap();
        let first_hash =
            store.audit_list(&AuditFilter::default(), &PageRequest::first(10)).await.unwrap().items.last().unwrap().hash.clone();
        store
            .execute_raw_for_tests(&format!(
                "INSERT INTO audit_log (seq, at, actor_label, action, entity_type, summary, prev_hash, hash) \
                 VALUES (2, '2026-03-01T08:00:01.500Z', 'forger', 'x', 'x', '{{}}', '{first_hash}', 'forged')"
            ))
            .await
            .unwrap();
        assert_eq!(problem(&store).await, Some(ChainProblem::Edited { seq: 2 }));
    })
    .await;
}

#[tokio::test]
async fn concurrent_writers_keep_one_chain() {
    each_backend(|store| async move {
        let mut tasks = Vec::new();
        for worker in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..5 {
                    let mut tx = store.begin().await.unwrap();
                    tx.audit(entry("test.concurrent", &format!("{worker}-{i}")), t0()).await.unwrap();
                    tx.commit().await.unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let report = store.audit_verify().await.unwrap();
        assert_eq!(report.entries, 40);
        assert_eq!(report.problem, None);
    })
    .await;
}
