//! The drill load test: `bench drill-load` makes an exercise of T teams of
//! P players with five dynamically scored challenges; `bench drill-drive`
//! signs every player in to a running server over loopback, holds one
//! scoreboard event stream open per player, submits flags at a fixed rate
//! (open loop: a slow answer does not slow the offered load), and checks
//! afterwards that every solve a player was told about is on the
//! scoreboard exactly once, with the score CTFd's formulas give.
//!
//! Plain HTTP/1.1 over `TcpStream`, one connection per submission, as
//! browsers behind many NATs would arrive; bounded in rate, duration and
//! requests in flight, and refused for anything but loopback.

use crate::error::CliError;
use rampart_auth::service::{Actor, NewUserRequest};
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CHALLENGES: usize = 5;
const BENCH_PASSWORD: &str = "bench drill password 2026";
const MAX_IN_FLIGHT: usize = 4_000;

/// The scoring of bench challenge `index`: linear and parabolic in turn.
fn bench_scoring(index: usize) -> (&'static str, i64) {
    if index.is_multiple_of(2) { ("linear", 2) } else { ("logarithmic", 100) }
}

fn challenge_flag(index: usize) -> String {
    format!("RAMPART{{bench-{index}}}")
}

/// Creates the organiser, T×P players, an exercise of a five-challenge
/// scenario with T teams, and starts it; prints what the driver needs.
pub async fn drill_load(auth: &rampart_auth::AuthService, teams: usize, players: usize) -> Result<(), CliError> {
    use rampart_core::Role;
    if teams == 0 || players == 0 || teams * players > 20_000 {
        return Err(CliError::Invalid("teams × players must be between 1 and 20000".into()));
    }
    let started = Instant::now();
    let operator = rampart_auth::Principal::cli("bench");
    let actor = Actor { principal: &operator, ip: None };
    let run = crate::bench::uuid_like();
    let org = |name: String| rampart_store::NewOrg {
        name,
        short_name: None,
        kind: "international".into(),
        sector: None,
        country: None,
        parent_id: None,
        website: None,
        mfa_required: false,
    };
    let home = auth.create_org(&actor, &org(format!("Bench drills {run}"))).await?;
    let user = async |email: String, role: Role| -> Result<String, CliError> {
        let request = NewUserRequest {
            org_id: home.id.clone(),
            email,
            display_name: "bench".into(),
            password: BENCH_PASSWORD.into(),
            language: "en".into(),
            must_change_password: false,
        };
        let id = auth.create_user(&actor, &request).await?;
        auth.grant_role(&actor, &id, role, rampart_auth::Scope::Org(home.id.clone())).await?;
        Ok(id)
    };
    let organiser_id = user(format!("organiser-{run}@bench.rampart.test"), Role::DrillOrganiser).await?;
    let organiser = auth.principal_for(&auth.store().user_get(&organiser_id).await?, rampart_auth::Via::Cli, None).await?;
    let organiser = Actor { principal: &organiser, ip: None };
    let challenges: Vec<serde_json::Value> = (0..CHALLENGES)
        .map(|i| {
            let (scoring, decay) = bench_scoring(i);
            json!({"key": format!("B{i}"), "title": format!("Bench challenge {i}"), "scoring": scoring,
                   "value": 500, "minimum": 100, "decay": decay,
                   "flags": [{"kind": "static", "value": challenge_flag(i)}]})
        })
        .collect();
    let scenario = json!({"format": "rampart-scenario/1", "title": format!("Bench drill {run}"), "duration_minutes": 600,
        "injects": [{"key": "I01", "title": "STARTEX", "offset_minutes": 0, "channel": "message"}], "challenges": challenges});
    let drills = rampart_drills::Drills::new(auth.store().clone(), auth.clock());
    let err = |e: rampart_drills::DrillsError| CliError::Other(e.to_string());
    let scenario_id = drills.import_scenario_json(&organiser, &home.id, &scenario.to_string()).await.map_err(err)?;
    let exercise = drills.create_exercise(&organiser, &scenario_id, "", 1.0, None).await.map_err(err)?;
    let mut emails = Vec::new();
    for t in 0..teams {
        let team = drills.add_team(&organiser, &exercise, &format!("Team {t:04}"), None, "national_cirt").await.map_err(err)?;
        let mut members = Vec::new();
        for p in 0..players {
            let email = format!("player-{t}-{p}-{run}@bench.rampart.test");
            user(email.clone(), Role::DrillPlayer).await?;
            drills.set_member(&organiser, &exercise, &email, "player", Some(&team)).await.map_err(err)?;
            members.push(email);
        }
        emails.push(json!({"team": format!("Team {t:04}"), "players": members}));
    }
    drills.transition(&organiser, &exercise, "start", "").await.map_err(err)?;
    println!(
        "{}",
        json!({"exercise": exercise, "password": BENCH_PASSWORD, "teams": emails, "challenges": CHALLENGES,
               "load_seconds": started.elapsed().as_secs_f64()})
    );
    Ok(())
}

/// A load run against a running server.
pub struct DrillDrive {
    pub base: SocketAddr,
    /// The JSON `drill-load` printed.
    pub load: serde_json::Value,
    pub rate: usize,
    pub seconds: f64,
    /// Every N-th submission carries the right flag.
    pub correct_every: usize,
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| v.split(';').next()?.trim().strip_prefix(&format!("{name}=")).map(str::to_owned))
            .next()
    }
}

/// One request on a fresh connection, read to its end.
async fn request(addr: SocketAddr, method: &str, path: &str, cookie: &str, form: Option<&str>) -> Result<Response, String> {
    let mut stream = TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
    let body = form.unwrap_or("");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n{}Content-Length: {}\r\n\r\n",
        if form.is_some() { "Content-Type: application/x-www-form-urlencoded\r\n" } else { "" },
        body.len()
    );
    stream.write_all(head.as_bytes()).await.map_err(|e| format!("write: {e}"))?;
    stream.write_all(body.as_bytes()).await.map_err(|e| format!("write: {e}"))?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.map_err(|e| format!("read: {e}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no response head")?;
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|s| s.parse().ok()).ok_or("no status")?;
    let headers = lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())).collect::<Vec<_>>();
    Ok(Response { status, headers, body: body.to_owned() })
}

fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()))
        .collect::<Vec<_>>()
        .join("&")
}

/// A signed-in player: (team index, cookie header, CSRF token).
type Player = (usize, String, String);

async fn sign_in(addr: SocketAddr, email: &str, password: &str) -> Result<(String, String), String> {
    let login = request(addr, "GET", "/login", "", None).await?;
    let csrf = login.cookie("rampart_csrf").ok_or("no CSRF cookie")?;
    let answer = request(
        addr,
        "POST",
        "/login",
        &format!("rampart_csrf={csrf}"),
        Some(&form(&[("email", email), ("password", password), ("csrf", &csrf)])),
    )
    .await?;
    let session = answer.cookie("rampart_session").ok_or_else(|| format!("sign-in of {email} answered {}", answer.status))?;
    Ok((format!("rampart_session={session}; rampart_csrf={csrf}"), csrf))
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[index.min(sorted.len() - 1)]) / 1000.0
}

pub async fn drill_drive(drive: &DrillDrive) -> Result<(), CliError> {
    if !drive.base.ip().is_loopback() {
        return Err(CliError::Invalid("the drill load test only runs against loopback".into()));
    }
    if !(1..=5_000).contains(&drive.rate) || !(1.0..=600.0).contains(&drive.seconds) {
        return Err(CliError::Invalid("--rate must be 1..=5000 and --seconds 1..=600".into()));
    }
    let addr = drive.base;
    let exercise = drive.load["exercise"].as_str().unwrap_or_default().to_owned();
    let password = drive.load["password"].as_str().unwrap_or_default().to_owned();
    let mut emails: Vec<(usize, String)> = Vec::new();
    for (t, team) in drive.load["teams"].as_array().into_iter().flatten().enumerate() {
        for email in team["players"].as_array().into_iter().flatten() {
            emails.push((t, email.as_str().unwrap_or_default().to_owned()));
        }
    }
    let team_names: Vec<String> =
        drive.load["teams"].as_array().into_iter().flatten().map(|t| t["team"].as_str().unwrap_or_default().to_owned()).collect();

    // 1. Everyone signs in (the server's password hashing sets the pace).
    let started = Instant::now();
    let mut players: Vec<Player> = Vec::new();
    for chunk in emails.chunks(32) {
        let mut tasks = Vec::new();
        for (team, email) in chunk.iter().cloned() {
            let password = password.clone();
            tasks.push(tokio::spawn(async move { sign_in(addr, &email, &password).await.map(|(cookie, csrf)| (team, cookie, csrf)) }));
        }
        for task in tasks {
            players.push(task.await.map_err(|e| CliError::Other(e.to_string()))?.map_err(CliError::Other)?);
        }
    }
    let sign_in_seconds = started.elapsed().as_secs_f64();

    // 2. One scoreboard stream per player, held open for the whole run.
    let events = Arc::new(AtomicUsize::new(0));
    let streams_open = Arc::new(AtomicUsize::new(0));
    let stream_errors = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(tokio::sync::Notify::new());
    let mut readers = Vec::new();
    for (_, cookie, _) in &players {
        let (events, open, errors, stop) = (events.clone(), streams_open.clone(), stream_errors.clone(), stop.clone());
        let head = format!(
            "GET /drills/exercises/{exercise}/scoreboard/events HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n"
        );
        readers.push(tokio::spawn(async move {
            let Ok(mut stream) = TcpStream::connect(addr).await else {
                errors.fetch_add(1, Ordering::Relaxed);
                return;
            };
            if stream.write_all(head.as_bytes()).await.is_err() {
                errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
            open.fetch_add(1, Ordering::Relaxed);
            let mut buffer = vec![0u8; 64 * 1024];
            let mut first = true;
            loop {
                tokio::select! {
                    read = stream.read(&mut buffer) => match read {
                        Ok(0) | Err(_) => { errors.fetch_add(1, Ordering::Relaxed); return; }
                        Ok(n) => {
                            let chunk = &buffer[..n];
                            if first && !chunk.starts_with(b"HTTP/1.1 200") {
                                errors.fetch_add(1, Ordering::Relaxed);
                                return;
                            }
                            first = false;
                            // Count events without decoding them (a browser would parse; this client only counts).
                            const MARK: &[u8] = b"event: scoreboard";
                            let found = chunk.windows(MARK.len()).filter(|w| w[0] == b'e' && *w == MARK).count();
                            events.fetch_add(found, Ordering::Relaxed);
                        }
                    },
                    () = stop.notified() => return,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    // 3. Flags at a fixed rate, open loop, bounded in flight.
    let in_flight = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let players = Arc::new(players);
    let total = (drive.rate as f64 * drive.seconds) as usize;
    let tick = Duration::from_millis(10);
    let per_tick = drive.rate as f64 / 100.0;
    let mut submissions = Vec::with_capacity(total);
    let run_started = Instant::now();
    let mut sent = 0usize;
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut overloaded = 0usize;
    while sent < total {
        interval.tick().await;
        let due = ((run_started.elapsed().as_secs_f64() * 100.0 + 1.0) * per_tick) as usize;
        while sent < due.min(total) {
            let k = sent;
            sent += 1;
            let Ok(permit) = in_flight.clone().try_acquire_owned() else {
                overloaded += 1;
                continue;
            };
            let players = players.clone();
            let exercise = exercise.clone();
            let correct = drive.correct_every > 0 && k.is_multiple_of(drive.correct_every);
            submissions.push(tokio::spawn(async move {
                let _permit = permit;
                let (team, cookie, csrf) = &players[k % players.len()];
                let challenge = (k / players.len()) % CHALLENGES;
                let flag = if correct { challenge_flag(challenge) } else { format!("RAMPART{{wrong-{k}}}") };
                let began = Instant::now();
                let answer = request(
                    addr,
                    "POST",
                    &format!("/drills/exercises/{exercise}/play/flag/B{challenge}"),
                    cookie,
                    Some(&form(&[("csrf", csrf), ("flag", &flag)])),
                )
                .await;
                let micros = u32::try_from(began.elapsed().as_micros()).unwrap_or(u32::MAX);
                let outcome = match &answer {
                    Ok(r) if r.status == 303 => r.header("location").and_then(|l| l.split("done=").nth(1)).unwrap_or("").to_owned(),
                    Ok(r) => format!("status {}: {}", r.status, r.body.chars().take(120).collect::<String>()),
                    Err(e) => e.clone(),
                };
                (*team, challenge, micros, outcome)
            }));
        }
    }
    let mut latencies = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    let mut told_solved: HashMap<(usize, usize), usize> = HashMap::new();
    for task in submissions {
        let (team, challenge, micros, outcome) = task.await.map_err(|e| CliError::Other(e.to_string()))?;
        match outcome.as_str() {
            "drills.play.flag_first" | "drills.play.flag_correct" => {
                *told_solved.entry((team, challenge)).or_insert(0) += 1;
                latencies.push(micros);
            }
            "drills.play.flag_wrong" | "drills.play.flag_already" => latencies.push(micros),
            _ => errors.push(outcome),
        }
    }
    let run_seconds = run_started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.notify_waiters();
    for reader in readers {
        let _ = reader.await;
    }
    latencies.sort_unstable();

    // 4. Nothing lost, nothing doubled: the scoreboard against what players were told.
    let (_, cookie, _) = &players[0];
    let board =
        request(addr, "GET", &format!("/drills/exercises/{exercise}/scoreboard.json"), cookie, None).await.map_err(CliError::Other)?;
    let board: serde_json::Value = serde_json::from_str(&board.body).map_err(|e| CliError::Other(format!("scoreboard: {e}")))?;
    let mut problems = Vec::new();
    for ((team, challenge), times) in &told_solved {
        if *times > 1 {
            problems.push(format!("{} was told {times} times it solved B{challenge}", team_names[*team]));
        }
    }
    let mut solves_per_challenge = [0i64; CHALLENGES];
    for (_, challenge) in told_solved.keys() {
        solves_per_challenge[*challenge] += 1;
    }
    let value = |c: usize| {
        let (scoring, decay) = bench_scoring(c);
        rampart_drills::scoring::challenge_value(scoring, 500, 100, decay, solves_per_challenge[c])
    };
    for standing in board["standings"].as_array().into_iter().flatten() {
        let name = standing["team"].as_str().unwrap_or_default();
        let Some(team) = team_names.iter().position(|t| t == name) else { continue };
        let mine: Vec<usize> = told_solved.keys().filter(|(t, _)| *t == team).map(|(_, c)| *c).collect();
        let expected: i64 = mine.iter().map(|c| value(*c)).sum();
        if standing["solves"].as_u64() != Some(mine.len() as u64) || standing["score"].as_i64() != Some(expected) {
            problems.push(format!(
                "{name}: scoreboard {} points, {} solves; players were told {} solves worth {expected}",
                standing["score"],
                standing["solves"],
                mine.len()
            ));
        }
    }
    let mut sample: Vec<String> = errors.iter().take(3).cloned().collect();
    sample.dedup();
    println!(
        "{}",
        json!({
            "teams": team_names.len(), "players": players.len(), "sign_in_seconds": sign_in_seconds,
            "streams_open": streams_open.load(Ordering::Relaxed), "stream_errors": stream_errors.load(Ordering::Relaxed),
            "scoreboard_events": events.load(Ordering::Relaxed),
            "offered_rate": drive.rate, "submissions": latencies.len() + errors.len(), "not_sent_over_limit": overloaded,
            "achieved_rate": (latencies.len() + errors.len()) as f64 / run_seconds,
            "p50_ms": percentile(&latencies, 0.50), "p99_ms": percentile(&latencies, 0.99), "max_ms": percentile(&latencies, 1.0),
            "errors": errors.len(), "error_sample": sample,
            "solves": told_solved.len(), "score_problems": problems.len(), "problem_sample": problems.iter().take(3).collect::<Vec<_>>(),
        })
    );
    Ok(())
}
