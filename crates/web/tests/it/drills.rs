//! Cyberdrills over HTTP: an organiser imports an MSEL spreadsheet and
//! runs an exercise, a player answers with a file and submits flags until
//! told to wait (429), an evaluator scores, the scoreboard streams as
//! server-sent events, and the report downloads; every route checks who
//! is asking.

use crate::support::{World, body_text, post_multipart};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use rampart_core::Role;
use rampart_web::WebConfig;

fn location(response: &axum::http::Response<Body>) -> String {
    response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

/// The id in a path like `/drills/exercises/{id}?done=…`.
fn id_in(path: &str, prefix: &str) -> String {
    path.trim_start_matches(prefix).split(['/', '?']).next().unwrap_or("").to_owned()
}

#[tokio::test]
async fn an_exercise_runs_over_http_with_live_scores_and_access_checks() {
    let config = WebConfig { login_attempts_per_minute: 1000, wrong_flags_per_minute: 2, ..Default::default() };
    let w = World::build(true, config).await;
    let itu = w.add_org("ITU drills", "international", "CH", None).await;
    w.add_user(&itu, "drills@itu.example", Role::DrillOrganiser).await;
    w.add_user(&itu, "evaluator@itu.example", Role::DrillEvaluator).await;
    w.add_user(&w.kenya_cirt, "player@ke.example", Role::DrillPlayer).await;
    w.add_user(&w.brazil_cirt, "player@br.example", Role::DrillPlayer).await;
    let organiser = w.sign_in("drills@itu.example").await;
    let player = w.sign_in("player@ke.example").await;
    let evaluator = w.sign_in("evaluator@itu.example").await;
    let outsider = w.sign_in("player@br.example").await;

    // The library: a broken MSEL is shown back with its line; a good one becomes a scenario.
    let bad = "time,inject\n0:00,Start\nsoon,Next\n";
    let (status, page) = post_multipart(
        &w,
        "/drills/scenarios/import",
        &organiser.cookie(),
        &[("csrf", &organiser.csrf), ("format", "msel"), ("title", "Broken"), ("text", bad)],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("line 3, column 1 (time)"), "{page}");
    let msel = "time,inject,to,channel,description,expected action,score\n0:00,STARTEX,all,message,Go.,Acknowledge,5\n0:10,Bank phishing,national_cirt,email,A bank reports phishing.,Open an incident,10\n";
    let (status, _) = post_multipart(
        &w,
        "/drills/scenarios/import",
        &organiser.cookie(),
        &[("csrf", &organiser.csrf), ("format", "msel"), ("title", "Bank phishing tabletop")],
        Some(("msel.csv", msel.as_bytes())),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let scenarios = w.store.drill_scenarios().await.unwrap();
    assert_eq!(scenarios.len(), 1, "the broken sheet stored nothing");
    let scenario = scenarios[0].id.clone();
    let (status, response) = w.get_with_cookie(&format!("/drills/scenarios/{scenario}"), &organiser.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body_text(response).await.contains("Bank phishing"));
    let (status, _) = w.get_with_cookie(&format!("/drills/scenarios/{scenario}"), &player.cookie()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "players do not read the library");

    // An exercise with a team, a player and an evaluator.
    let (status, response) = w
        .post_form(
            "/drills/exercises",
            &organiser.cookie(),
            &[("csrf", &organiser.csrf), ("scenario", &scenario), ("title", "Bank drill"), ("speed", "1")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let exercise = id_in(&location(&response), "/drills/exercises/");
    let base = format!("/drills/exercises/{exercise}");
    let (status, _) = w
        .post_form(&format!("{base}/teams"), &organiser.cookie(), &[("name", "Kenya"), ("country", "KE"), ("audience", "national_cirt")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "no CSRF token, nothing changes");
    let kenya = [("csrf", organiser.csrf.as_str()), ("name", "Kenya"), ("country", "KE"), ("audience", "national_cirt")];
    let (status, _) = w.post_form(&format!("{base}/teams"), &organiser.cookie(), &kenya).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, response) = w.post_form(&format!("{base}/teams"), &organiser.cookie(), &kenya).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a second team of the same name");
    assert!(body_text(response).await.contains("another team of this exercise has that name"));
    let team = w.store.drill_teams(&exercise).await.unwrap()[0].id.clone();
    for (email, role, team) in [("player@ke.example", "player", team.as_str()), ("evaluator@itu.example", "evaluator", "")] {
        let (status, _) = w
            .post_form(
                &format!("{base}/members"),
                &organiser.cookie(),
                &[("csrf", &organiser.csrf), ("email", email), ("role", role), ("team", team)],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{email}");
    }

    // Players are sent to their portal; outsiders are not told the exercise exists.
    let (status, response) = w.get_with_cookie(&base, &player.cookie()).await;
    assert_eq!((status, location(&response)), (StatusCode::SEE_OTHER, format!("{base}/play")));
    let (status, _) = w.get_with_cookie(&format!("{base}/play"), &outsider.cookie()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = w.get_with_cookie(&format!("{base}/scoreboard.json"), &outsider.cookie()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = w.post_form(&format!("{base}/clock"), &player.cookie(), &[("csrf", &player.csrf), ("action", "start")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "players do not run the clock");

    // STARTEX: the first inject reaches the player's inbox.
    let (status, _) = w.post_form(&format!("{base}/clock"), &organiser.cookie(), &[("csrf", &organiser.csrf), ("action", "start")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, response) = w.get_with_cookie(&format!("{base}/play"), &player.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    let page = body_text(response).await;
    assert!(page.contains("id=\"inbox-I01\"") && !page.contains("id=\"inbox-I02\""), "{page}");
    let (status, _) = w.post_form(&format!("{base}/injects/I02"), &organiser.cookie(), &[("csrf", &organiser.csrf), ("op", "fire")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = post_multipart(
        &w,
        &format!("{base}/play/respond/I02"),
        &player.cookie(),
        &[("csrf", &player.csrf), ("body", "Incident INC-7 opened; banks warned.")],
        Some(("warning.txt", b"Dear banks, beware of invoices.")),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let response_id = w.store.drill_responses(&exercise).await.unwrap()[0].id.clone();
    let (status, response) = w.get_with_cookie(&format!("{base}/responses/{response_id}/file"), &evaluator.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response.into_body().collect().await.unwrap().to_bytes().as_ref(), b"Dear banks, beware of invoices.");

    // The evaluator's queue shows the answer; a score above the expectation is refused on the form.
    let (status, response) = w.get_with_cookie(&format!("{base}/evaluate"), &evaluator.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body_text(response).await.contains("Incident INC-7 opened"));
    let score = |points: &'static str| {
        [("csrf", evaluator.csrf.as_str()), ("expectation", "I02.1"), ("team", team.as_str()), ("score", points), ("comment", "Good")]
    };
    let (status, response) = w.post_form(&format!("{base}/evaluate"), &evaluator.cookie(), &score("11")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body_text(response).await.contains("must be between 0 and 10"));
    let (status, _) = w.post_form(&format!("{base}/evaluate"), &evaluator.cookie(), &score("10")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = w.get_with_cookie(&format!("{base}/evaluate"), &player.cookie()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "players do not see other answers");

    // The scoreboard: JSON, and a server-sent event stream whose first event is the board itself.
    let (status, response) = w.get_with_cookie(&format!("{base}/scoreboard.json"), &player.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    let board: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(board["standings"][0]["score"], 10);
    let request = Request::get(format!("{base}/scoreboard/events")).header("cookie", player.cookie()).body(Body::empty()).unwrap();
    let (status, response) = w.call(request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response.headers().get("content-type").unwrap(), "text/event-stream");
    let mut body = response.into_body();
    let frame = tokio::time::timeout(std::time::Duration::from_secs(10), body.frame()).await.unwrap().unwrap().unwrap();
    let text = String::from_utf8(frame.into_data().unwrap().to_vec()).unwrap();
    assert!(text.starts_with("event: scoreboard\ndata: {"), "{text}");
    assert!(text.contains("\"team\":\"Kenya\""), "{text}");

    // The report downloads as CSV and JSON for staff, not for players.
    let (status, response) = w.get_with_cookie(&format!("{base}/report.csv"), &evaluator.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    let csv = body_text(response).await;
    assert!(csv.lines().any(|l| l.starts_with("team,Kenya,KE,")), "{csv}");
    let (status, _) = w.get_with_cookie(&format!("{base}/report.json"), &player.cookie()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn wrong_flags_past_the_limit_are_answered_429() {
    let config = WebConfig { login_attempts_per_minute: 1000, wrong_flags_per_minute: 2, ..Default::default() };
    let w = World::build(false, config).await;
    let itu = w.add_org("ITU drills", "international", "CH", None).await;
    w.add_user(&itu, "drills@itu.example", Role::DrillOrganiser).await;
    w.add_user(&w.kenya_cirt, "player@ke.example", Role::DrillPlayer).await;
    let organiser = w.sign_in("drills@itu.example").await;
    let player = w.sign_in("player@ke.example").await;
    let (status, _) = post_multipart(
        &w,
        "/drills/scenarios/import",
        &organiser.cookie(),
        &[("csrf", &organiser.csrf), ("format", "json"), ("text", include_str!("../../../drills/data/ransomware-telecom.json"))],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let scenario = w.store.drill_scenarios().await.unwrap()[0].id.clone();
    let (_, response) = w
        .post_form(
            "/drills/exercises",
            &organiser.cookie(),
            &[("csrf", &organiser.csrf), ("scenario", &scenario), ("title", ""), ("speed", "1")],
        )
        .await;
    let base = location(&response).split('?').next().unwrap().to_owned();
    let fields = [("csrf", organiser.csrf.as_str()), ("name", "Kenya"), ("country", "KE"), ("audience", "national_cirt")];
    w.post_form(&format!("{base}/teams"), &organiser.cookie(), &fields).await;
    let exercise = id_in(&base, "/drills/exercises/");
    let team = w.store.drill_teams(&exercise).await.unwrap()[0].id.clone();
    let member = [("csrf", organiser.csrf.as_str()), ("email", "player@ke.example"), ("role", "player"), ("team", team.as_str())];
    w.post_form(&format!("{base}/members"), &organiser.cookie(), &member).await;
    w.post_form(&format!("{base}/clock"), &organiser.cookie(), &[("csrf", &organiser.csrf), ("action", "start")]).await;

    let flag = |text: &'static str| [("csrf", player.csrf.as_str()), ("flag", text)];
    for _ in 0..2 {
        let (status, response) = w.post_form(&format!("{base}/play/flag/C4"), &player.cookie(), &flag("RAMPART{nope}")).await;
        assert_eq!((status, location(&response)), (StatusCode::SEE_OTHER, format!("{base}/play?done=drills.play.flag_wrong")));
    }
    let (status, response) = w.post_form(&format!("{base}/play/flag/C4"), &player.cookie(), &flag("RAMPART{nope}")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers().get("retry-after").unwrap(), "60");
    let (status, response) = w.post_form(&format!("{base}/play/flag/C4"), &player.cookie(), &flag("RAMPART{203.0.113.66:443}")).await;
    assert_eq!((status, location(&response)), (StatusCode::SEE_OTHER, format!("{base}/play?done=drills.play.flag_first")));
    let (_, response) = w.get_with_cookie(&format!("{base}/play"), &player.cookie()).await;
    let page = body_text(response).await;
    assert!(page.contains("id=\"team-score\">500<"), "the first solve of C4 is worth 500");
}
