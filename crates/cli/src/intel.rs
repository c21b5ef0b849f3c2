//! `rampart intel`: TAXII collections from the command line and federation
//! with peer TAXII servers; `serve` runs each peer on its interval.

use crate::IntelCommand;
use crate::commands::{find_org, find_user, print_json};
use crate::config::Config;
use crate::error::CliError;
use rampart_auth::AuthService;
use rampart_auth::service::Actor;
use rampart_intel::IntelError;
use rampart_intel::federation::{Federation, Peer};
use rampart_intel::taxii::Taxii;
use serde_json::json;

impl From<IntelError> for CliError {
    fn from(err: IntelError) -> Self {
        match err {
            IntelError::NotFound(_) => CliError::NotFound(err.to_string()),
            IntelError::Store(err) => err.into(),
            IntelError::Peer { .. } => CliError::Other(err.to_string()),
            _ => CliError::Invalid(err.to_string()),
        }
    }
}

pub async fn run(auth: &AuthService, config: &Config, command: IntelCommand) -> Result<(), CliError> {
    match command {
        IntelCommand::CollectionCreate { acting, title, description, readers, writers, json } => {
            let user = find_user(auth.store(), &acting).await?;
            let principal = auth.principal_for(&user, rampart_auth::Via::Cli, None).await?;
            let mut ids = [Vec::new(), Vec::new()];
            for (list, given) in ids.iter_mut().zip([&readers, &writers]) {
                for org in given {
                    list.push(if org == "*" { "*".to_owned() } else { find_org(auth.store(), org).await?.id });
                }
            }
            let taxii = Taxii::new(auth.store().clone(), auth.clock());
            let row = taxii.create_collection(&Actor { principal: &principal, ip: None }, &title, &description, &ids[0], &ids[1]).await?;
            if json.json {
                print_json(&json!(row));
            } else {
                println!("{}", row.id);
            }
            Ok(())
        }
        IntelCommand::MispImport { acting, collection, files, json } => {
            let user = find_user(auth.store(), &acting).await?;
            let principal = auth.principal_for(&user, rampart_auth::Via::Cli, None).await?;
            let taxii = Taxii::new(auth.store().clone(), auth.clock());
            let mut results = Vec::new();
            for file in &files {
                let text = std::fs::read_to_string(file).map_err(|err| CliError::Invalid(format!("{}: {err}", file.display())))?;
                let (status, warnings) = taxii
                    .import_misp(&Actor { principal: &principal, ip: None }, &collection, &text)
                    .await
                    .map_err(|err| CliError::from(err).within(&file.display().to_string()))?;
                if !json.json {
                    println!("{}: {} objects added, {} refused", file.display(), status["success_count"], status["failure_count"]);
                    for warning in &warnings {
                        println!("  {warning}");
                    }
                }
                results.push(json!({"file": file, "status": status, "warnings": warnings}));
            }
            if json.json {
                print_json(&json!(results));
            }
            Ok(())
        }
        IntelCommand::MispFeed { acting, collection, max_tlp, out } => {
            let user = find_user(auth.store(), &acting).await?;
            let principal = auth.principal_for(&user, rampart_auth::Via::Cli, None).await?;
            let max_tlp: rampart_core::Tlp =
                max_tlp.parse().map_err(|_| CliError::Invalid(format!("--max-tlp: `{max_tlp}` is not a TLP label")))?;
            if max_tlp == rampart_core::Tlp::Red {
                return Err(CliError::Invalid("--max-tlp: TLP:RED is never published in a feed".into()));
            }
            let taxii = Taxii::new(auth.store().clone(), auth.clock());
            let events = taxii.misp_events(&principal, &collection, max_tlp).await?;
            let write = |name: &str, text: String| {
                std::fs::write(out.join(name), text).map_err(|err| CliError::Other(format!("{}: {err}", out.join(name).display())))
            };
            std::fs::create_dir_all(&out).map_err(|err| CliError::Other(format!("{}: {err}", out.display())))?;
            for event in &events {
                write(&format!("{}.json", event["Event"]["uuid"].as_str().unwrap_or("event")), event.to_string())?;
            }
            write("manifest.json", rampart_intel::misp_export::manifest(&events).to_string())?;
            write("hashes.csv", rampart_intel::misp_export::hashes_csv(&events))?;
            println!("{} event(s) written to {}", events.len(), out.display());
            Ok(())
        }
        IntelCommand::Sync { peer, json } => {
            let chosen: Vec<&Peer> = config.peers.iter().filter(|p| peer.as_ref().is_none_or(|name| &p.name == name)).collect();
            if let Some(name) = &peer
                && chosen.is_empty()
            {
                return Err(CliError::NotFound(format!("no peer {name} in [[intel.peers]]")));
            }
            let federation = Federation::new(auth.clone());
            let mut reports = Vec::new();
            let mut failed = Vec::new();
            for peer in chosen {
                match federation.sync(peer).await {
                    Ok(report) => {
                        if !json.json {
                            println!(
                                "{}: pulled {}, pushed {}, refused {}",
                                peer.name,
                                report.pulled,
                                report.pushed,
                                report.failures.len()
                            );
                            for failure in &report.failures {
                                println!("  {failure}");
                            }
                        }
                        reports.push(json!(report));
                    }
                    Err(err) => {
                        eprintln!("{}: {err}", peer.name);
                        failed.push(peer.name.clone());
                        reports.push(json!({"peer": peer.name, "error": err.to_string()}));
                    }
                }
            }
            if json.json {
                print_json(&json!(reports));
            }
            if failed.is_empty() { Ok(()) } else { Err(CliError::Other(format!("exchange failed with {}", failed.join(", ")))) }
        }
        IntelCommand::Peers { json } => {
            let federation = Federation::new(auth.clone());
            let states = federation.states().await?;
            let rows: Vec<_> = config
                .peers
                .iter()
                .map(|peer| {
                    let state = states.iter().find(|s| s.peer == peer.name);
                    json!({
                        "name": peer.name, "api_root": peer.api_root, "remote_collection": peer.remote_collection,
                        "local_collection": peer.local_collection, "pull": peer.pull, "push": peer.push,
                        "max_tlp": peer.max_tlp, "interval_seconds": peer.interval_seconds, "state": state,
                    })
                })
                .collect();
            if json.json {
                print_json(&json!(rows));
            } else {
                for (peer, row) in config.peers.iter().zip(&rows) {
                    let state = &row["state"];
                    println!(
                        "{}  {}  pulled {} pushed {}  last run {}  {}",
                        peer.name,
                        peer.api_root,
                        state["pulled_total"].as_i64().unwrap_or(0),
                        state["pushed_total"].as_i64().unwrap_or(0),
                        state["last_run_at"].as_str().unwrap_or("never"),
                        state["last_error"].as_str().unwrap_or(""),
                    );
                }
            }
            Ok(())
        }
    }
}

/// Runs each peer's exchange on its own interval for as long as the server runs.
pub fn spawn_federation(auth: AuthService, peers: Vec<Peer>) {
    for peer in peers {
        let federation = Federation::new(auth.clone());
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(std::time::Duration::from_secs(peer.interval_seconds));
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                match federation.sync(&peer).await {
                    Ok(report) if report.pulled + report.pushed > 0 || !report.failures.is_empty() => {
                        tracing::info!(peer = %peer.name, pulled = report.pulled, pushed = report.pushed, refused = report.failures.len(), "TAXII exchange");
                    }
                    Ok(_) => {}
                    Err(err) => tracing::warn!(peer = %peer.name, error = %err, "TAXII exchange failed"),
                }
            }
        });
    }
}
