//! Session lifetime: idle and absolute expiry, logout.

use crate::support::{IP, each_backend};
use chrono::Duration;
use rampart_auth::secret::sha256_hex;
use rampart_core::time;

const EMAIL: &str = "alice@example.org";

#[tokio::test]
async fn an_idle_session_expires() {
    each_backend(|env| async move {
        let org = env.org("KE-CIRT", "KE").await;
        env.user(&org.id, EMAIL).await;
        let token = env.sign_in(EMAIL).await;

        // session_idle = 2h: exactly two idle hours is still alive, and that
        // use restarts the idle timer.
        env.advance(Duration::hours(2));
        assert_eq!(env.session(&token).await, Some(true));
        let row = env.store.session_get(&sha256_hex(&token)).await.unwrap().expect("session row");
        assert_eq!(row.last_seen_at, time::format(env.now()), "use touched the session");
        env.advance(Duration::hours(2));
        assert_eq!(env.session(&token).await, Some(true));

        env.advance(Duration::hours(2) + Duration::seconds(1));
        assert_eq!(env.session(&token).await, None);
        // The refused lookup did not refresh it.
        let row = env.store.session_get(&sha256_hex(&token)).await.unwrap().expect("session row");
        assert_eq!(row.last_seen_at, time::format(env.now() - Duration::hours(2) - Duration::seconds(1)));
    })
    .await;
}

#[tokio::test]
async fn a_session_in_constant_use_still_ends_after_the_absolute_limit() {
    each_backend(|env| async move {
        let org = env.org("KE-CIRT", "KE").await;
        env.user(&org.id, EMAIL).await;
        let token = env.sign_in(EMAIL).await;

        // session_absolute = 12h: used every hour, alive up to and at 12h.
        for hour in 1..=12 {
            env.advance(Duration::hours(1));
            assert_eq!(env.session(&token).await, Some(true), "after {hour}h");
        }
        env.advance(Duration::seconds(1));
        assert_eq!(env.session(&token).await, None, "12h and a second after sign-in, idle for one second");

        // A new sign-in gets a new twelve hours.
        let fresh = env.sign_in(EMAIL).await;
        env.advance(Duration::hours(1));
        assert_eq!(env.session(&fresh).await, Some(true));
    })
    .await;
}

#[tokio::test]
async fn logout_ends_the_session() {
    each_backend(|env| async move {
        let org = env.org("KE-CIRT", "KE").await;
        let id = env.user(&org.id, EMAIL).await;
        let token = env.sign_in(EMAIL).await;
        let other = env.sign_in(EMAIL).await;

        env.auth.logout(&token, Some(IP)).await.unwrap();
        assert_eq!(env.session(&token).await, None);
        assert_eq!(env.session(&other).await, Some(true), "only that session ends");
        // Logging out twice, or with a made-up token, is harmless and unaudited.
        env.auth.logout(&token, Some(IP)).await.unwrap();
        env.auth.logout("made-up", Some(IP)).await.unwrap();

        let logouts = env.audit("platform.auth.logout").await;
        assert_eq!(logouts.len(), 1);
        assert_eq!(logouts[0].actor_id.as_deref(), Some(id.as_str()));
    })
    .await;
}
