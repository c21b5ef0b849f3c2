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

    // Editing in the browser: an inject added by form (a broken one is named), another removed.
    let inject = |offset: &'static str| {
        vec![
            ("csrf", organiser.csrf.clone()),
            ("title", "Press enquiry".to_owned()),
            ("offset", offset.to_owned()),
            ("channel", "news".to_owned()),
            ("audiences", "".to_owned()),
            ("content", "A journalist calls.".to_owned()),
            ("expectation", "Agree a holding statement".to_owned()),
            ("kind", "text".to_owned()),
            ("score", "10".to_owned()),
            ("deadline", "15".to_owned()),
        ]
    };
    let as_pairs = |fields: &Vec<(&'static str, String)>| fields.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
    let fields = as_pairs(&inject("9999"));
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, response) = w.post_form(&format!("/drills/scenarios/{scenario}/injects"), &organiser.cookie(), &borrowed).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body_text(response).await.contains("offset_minutes"), "the broken field is named");
    let fields = as_pairs(&inject("5"));
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _) = w.post_form(&format!("/drills/scenarios/{scenario}/injects"), &organiser.cookie(), &borrowed).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) =
        w.post_form(&format!("/drills/scenarios/{scenario}/injects/I02/remove"), &organiser.cookie(), &[("csrf", &organiser.csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, edited, _) = w
        .state
        .drills()
        .scenario(
            &w.state
                .auth()
                .principal_for(&w.store.user_by_email("drills@itu.example").await.unwrap().unwrap(), rampart_auth::Via::Session, None)
                .await
                .unwrap(),
            &scenario,
        )
        .await
        .unwrap();
    let keys: Vec<(&str, &str)> = edited.injects.iter().map(|i| (i.key.as_str(), i.title.as_str())).collect();
    assert_eq!(keys, vec![("I01", "STARTEX"), ("I03", "Press enquiry")], "kept in time order, with the next free key");
    assert_eq!(edited.injects[1].expectations[0].deadline_minutes, Some(15));
    // Put the removed inject back so the exercise below has it.
    let (status, _) = post_multipart(
        &w,
        "/drills/scenarios/import",
        &organiser.cookie(),
        &[("csrf", &organiser.csrf), ("format", "msel"), ("title", "Bank phishing tabletop"), ("text", msel)],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let scenario = w.store.drill_scenarios().await.unwrap().into_iter().find(|s| s.id != scenario).unwrap().id;

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
    let (status, response) = w.get_with_cookie(&format!("{base}/evaluate?team={team}"), &evaluator.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body_text(response).await.contains("Incident INC-7 opened"), "the team's scored answer is in its queue");
    let (status, response) = w.get_with_cookie(&format!("{base}/evaluate?team={team}&open=1"), &evaluator.cookie()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body_text(response).await.contains("Incident INC-7 opened"), "scored answers leave the list of what is still to score");
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
    assert!(text.contains(",\"Kenya\",\"KE\",10,"), "a compact row for Kenya: {text}");

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

/// The text of an element the page's script may replace at any moment,
/// waited for until it reads `want` (for up to ten seconds).
async fn live_text(client: &fantoccini::Client, css: &str, want: &str) -> String {
    let mut seen = String::new();
    for _ in 0..100 {
        // A row found a moment ago may be gone: the script redraws the table on each event.
        if let Ok(element) = client.find(fantoccini::Locator::Css(css)).await {
            seen = element.text().await.unwrap_or_default();
        }
        if seen == want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    seen
}

/// In Chromium: an organiser sets up and starts the demo drill, a player
/// confirms the communication check, answers an inject and solves a
/// challenge, an evaluator scores the answer and watches the scoreboard
/// update live when another flag comes in, and the organiser ends the
/// exercise and reads the after-action report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organiser_a_player_and_an_evaluator_run_a_drill_in_chromium() {
    use crate::support::PASSWORD;
    use rampart_testkit::browser::{browser, click, fill, select, sign_in, snap, start_driver, text_of};

    let w = World::new().await;
    let itu = w.add_org("ITU drills", "international", "CH", None).await;
    w.add_user(&itu, "drills@itu.example", Role::DrillOrganiser).await;
    w.add_user(&itu, "evaluator@itu.example", Role::DrillEvaluator).await;
    w.add_user(&w.kenya_cirt, "player@ke.example", Role::DrillPlayer).await;
    w.add_user(&w.kenya_cirt, "second@ke.example", Role::DrillPlayer).await;
    // The scenario library already holds the demo scenario.
    let organiser_row = w.store.user_by_email("drills@itu.example").await.unwrap().unwrap();
    let organiser = w.state.auth().principal_for(&organiser_row, rampart_auth::Via::Session, None).await.unwrap();
    let actor = rampart_auth::service::Actor { principal: &organiser, ip: None };
    let scenario = w.state.drills().save_scenario(&actor, None, &itu, rampart_drills::scenario::demo().unwrap()).await.unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let server = tokio::spawn(rampart_web::serve(w.state.clone(), listener, None, std::future::pending()));
    let driver = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, profile.path()).await;

    // The organiser makes an exercise of the scenario at 10× and sets it up.
    sign_in(&client, &base, "drills@itu.example", PASSWORD).await;
    client.goto(&format!("{base}/drills")).await.unwrap();
    click(&client, &format!("#scenario-{scenario} a")).await;
    assert!(text_of(&client, "h1").await.contains("Operation Dark Relay"));
    snap(&client, "drills-scenario").await;
    fill(&client, "#ex-title", "Regional drill").await;
    fill(&client, "#ex-speed", "10").await;
    click(&client, "#exercise-submit").await;
    assert!(text_of(&client, ".flash").await.contains("Exercise created"));
    fill(&client, "#team-name", "Kenya").await;
    fill(&client, "#team-country", "KE").await;
    click(&client, "#team-submit").await;
    for (email, role, team) in
        [("player@ke.example", "player", true), ("second@ke.example", "player", true), ("evaluator@itu.example", "evaluator", false)]
    {
        fill(&client, "#member-email", email).await;
        select(&client, "#member-role", role).await;
        if team {
            let value = w.store.drill_teams(&w.store.drill_exercises().await.unwrap()[0].id).await.unwrap()[0].id.clone();
            select(&client, "#member-team", &value).await;
        }
        click(&client, "#member-submit").await;
    }
    click(&client, "#comm-check").await;
    assert!(text_of(&client, "#teams .comm").await.contains("waiting"));
    click(&client, "#clock-start").await;
    assert_eq!(text_of(&client, "#exercise-state").await, "Running");
    snap(&client, "drills-console").await;
    click(&client, "#sign-out").await;

    // The player: comm check, the first inject, an answer, a challenge.
    sign_in(&client, &base, "player@ke.example", PASSWORD).await;
    client.goto(&format!("{base}/drills")).await.unwrap();
    click(&client, "#exercises a").await;
    click(&client, "#comm-confirm").await;
    assert!(text_of(&client, ".flash").await.contains("confirmed"));
    assert!(text_of(&client, "#inbox-I01 h3").await.contains("STARTEX"));
    fill(&client, "#body-I01", "Wanjiku on duty; case opened.").await;
    click(&client, "#send-I01").await;
    assert!(text_of(&client, ".flash").await.contains("Response sent"));
    fill(&client, "#flag-C2", "rampart{KOBALT}").await;
    click(&client, "#submit-C2").await;
    assert!(text_of(&client, ".flash").await.contains("solved it first"));
    assert_eq!(text_of(&client, "#team-score").await, "100");
    snap(&client, "drills-player").await;
    click(&client, "#sign-out").await;

    // The evaluator scores the answer, then watches the scoreboard.
    sign_in(&client, &base, "evaluator@itu.example", PASSWORD).await;
    let exercise = w.store.drill_exercises().await.unwrap()[0].id.clone();
    client.goto(&format!("{base}/drills/exercises/{exercise}/evaluate")).await.unwrap();
    assert!(text_of(&client, "#eval-1").await.contains("Wanjiku on duty"));
    fill(&client, "#score-1", "5").await;
    fill(&client, "#comment-1", "Named the handler at once").await;
    client.find(fantoccini::Locator::Css("#eval-1 button")).await.unwrap().click().await.unwrap();
    assert!(text_of(&client, ".flash").await.contains("Evaluation saved"));
    snap(&client, "drills-evaluate").await;
    client.goto(&format!("{base}/drills/exercises/{exercise}/scoreboard?projector=1")).await.unwrap();
    assert_eq!(live_text(&client, "#standings td.score", "105").await, "105");
    // Another player of the team solves C5 (through HTTP); the open scoreboard updates by itself.
    let second = w.sign_in("second@ke.example").await;
    let (status, _) = w
        .post_form(
            &format!("/drills/exercises/{exercise}/play/flag/C5"),
            &second.cookie(),
            &[("csrf", &second.csrf), ("flag", "RAMPART{pattern}")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(live_text(&client, "#standings td.score", "255").await, "255", "the scoreboard took the new solve without a reload");
    assert!(text_of(&client, "#solves").await.contains("Read a STIX bundle"));
    snap(&client, "drills-scoreboard").await;
    client.goto(&format!("{base}/drills/exercises/{exercise}")).await.unwrap();
    assert!(client.find(fantoccini::Locator::Css("#clock-finish")).await.is_err(), "evaluators do not run the clock");
    click(&client, "#sign-out").await;

    // The organiser ends the exercise and reads the report.
    sign_in(&client, &base, "drills@itu.example", PASSWORD).await;
    client.goto(&format!("{base}/drills/exercises/{exercise}")).await.unwrap();
    click(&client, "#clock-finish").await;
    assert_eq!(text_of(&client, "#exercise-state").await, "Finished");
    client.goto(&format!("{base}/drills/exercises/{exercise}/report")).await.unwrap();
    assert!(text_of(&client, "#objective-O1").await.contains("Detect and triage"));
    assert!(text_of(&client, "#report-teams").await.contains("Kenya"));
    fill(&client, "#imp-observation", "Peer sharing started late").await;
    fill(&client, "#imp-action", "Agree a regional sharing channel").await;
    fill(&client, "#imp-owner", "Regional coordinator").await;
    // A date field is typed in the browser's locale; set its value as a date picker would.
    client.execute("document.getElementById('imp-due').value = '2026-06-30';", vec![]).await.unwrap();
    click(&client, "#improvement-submit").await;
    assert!(text_of(&client, "#improvement-plan").await.contains("Agree a regional sharing channel"));
    snap(&client, "drills-report").await;

    client.close().await.unwrap();
    server.abort();
}
