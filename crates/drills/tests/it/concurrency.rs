//! Flags under racing submissions, on both databases: many players of one
//! team sending the right flag at once score it once, and many wrong
//! answers at once never use more attempts than the limit allows.

use crate::support::{Env, actor};
use rampart_drills::play::FlagOutcome;
use rampart_testkit::stores::each_store;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_submissions_score_once_and_respect_the_attempt_limit() {
    each_store(|store| async move {
        let env = Env::with_limit(store, 1_000).await;
        let id = env.exercise(1.0).await;
        let org = actor(&env.organiser);
        env.drills.transition(&org, &id, "start", "").await.unwrap();
        let players = Arc::new(vec![env.ke1.clone(), env.ke2.clone()]);

        // 24 correct submissions of C5 by Kenya's two players at once.
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..24 {
            let (drills, players, id) = (env.drills.clone(), players.clone(), id.clone());
            tasks.spawn(async move {
                let who = &players[n % 2];
                drills.submit_flag(&actor(who), &id, "C5", "RAMPART{pattern}").await.unwrap()
            });
        }
        let outcomes: Vec<FlagOutcome> = tasks.join_all().await;
        let correct = outcomes.iter().filter(|o| matches!(o, FlagOutcome::Correct { .. })).count();
        assert_eq!(correct, 1, "{outcomes:?}");
        assert!(outcomes.iter().all(|o| matches!(o, FlagOutcome::Correct { .. } | FlagOutcome::AlreadySolved)));
        let solves = env.store.drill_solves(&id).await.unwrap();
        assert_eq!(solves.iter().filter(|s| s.challenge_key == "C5").count(), 1);

        // 30 wrong answers to C1 (five attempts) at once: exactly five are counted.
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..30 {
            let (drills, players, id) = (env.drills.clone(), players.clone(), id.clone());
            tasks.spawn(async move {
                let who = &players[n % 2];
                drills.submit_flag(&actor(who), &id, "C1", &format!("RAMPART{{guess-{n}}}")).await.unwrap()
            });
        }
        tasks.join_all().await;
        let attempts = env.store.drill_attempts(&id).await.unwrap();
        assert_eq!(attempts.iter().filter(|a| a.challenge_key == "C1").count(), 5);
        let counts = env.store.drill_attempt_counts(&id).await.unwrap();
        assert!(counts.iter().any(|(c, _, n)| c == "C1" && *n == 5));
        // With the attempts gone, even the right flag is refused.
        let last = env.drills.submit_flag(&actor(&env.ke1), &id, "C1", "RAMPART{svc-backup}").await.unwrap();
        assert_eq!(last, FlagOutcome::Wrong { attempts_left: Some(0) });

        let board = env.drills.scoreboard(&env.ke1, &id).await.unwrap();
        assert_eq!(board.standings.iter().find(|s| s.team == "Kenya").unwrap().score, 150, "C5 once, nothing for C1");
    })
    .await;
}
