//! `rampart drill`: the scenario library and after-action reports from
//! the command line, acting as a named user through the same access rules
//! as the browser.

use crate::DrillCommand;
use crate::commands::find_user;
use crate::error::CliError;
use rampart_auth::AuthService;
use rampart_auth::service::Actor;
use rampart_drills::{Drills, DrillsError};

impl From<DrillsError> for CliError {
    fn from(err: DrillsError) -> Self {
        match err {
            DrillsError::NotFound(_) => CliError::NotFound(err.to_string()),
            DrillsError::Store(err) => err.into(),
            DrillsError::Forbidden | DrillsError::State(_) | DrillsError::RateLimited { .. } => CliError::Other(err.to_string()),
            DrillsError::Invalid { .. } => CliError::Invalid(err.to_string()),
        }
    }
}

fn read(path: &std::path::Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|err| CliError::Invalid(format!("{}: {err}", path.display())))
}

pub async fn run(auth: &AuthService, command: DrillCommand) -> Result<(), CliError> {
    let drills = Drills::new(auth.store().clone(), auth.clock());
    let principal = |acting: String| async move {
        let user = find_user(auth.store(), &acting).await?;
        Ok::<_, CliError>(auth.principal_for(&user, rampart_auth::Via::Cli, None).await?)
    };
    match command {
        DrillCommand::Import { acting, file, msel_title } => {
            let principal = principal(acting).await?;
            let actor = Actor { principal: &principal, ip: None };
            let text = read(&file)?;
            let org = principal.org_id.clone();
            let id = match msel_title {
                Some(title) => drills.import_msel(&actor, &org, &title, &text).await,
                None => drills.import_scenario_json(&actor, &org, &text).await,
            }
            .map_err(|err| CliError::from(err).within(&file.display().to_string()))?;
            println!("{id}");
        }
        DrillCommand::Export { acting, scenario } => {
            let principal = principal(acting).await?;
            println!("{}", drills.export_scenario(&principal, &scenario).await?);
        }
        DrillCommand::Report { acting, exercise, csv } => {
            let principal = principal(acting).await?;
            let report = drills.report(&principal, &exercise).await?;
            if csv {
                print!("{}", report.to_csv());
            } else {
                println!("{}", serde_json::to_string_pretty(&report).map_err(|err| CliError::Other(err.to_string()))?);
            }
        }
    }
    Ok(())
}
