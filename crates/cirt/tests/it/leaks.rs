//! What must not reach a constituent or another CIRT indirectly.

use crate::support::{actor, each_backend};

#[tokio::test]
async fn observables_from_internal_notes_stay_with_the_cirt() {
    each_backend(|env| async move {
        let incident = env
            .create("Phishing against the ISP's customers", |i| {
                i.description = "Kit served from 198.51.100.77.".into();
                i.observables = rampart_cirt::observables::extract(&i.description);
            })
            .await;
        env.desk.add_note(&actor(&env.w.analyst), &incident.id, "Internal: the operator also uses 203.0.113.66.", false).await.unwrap();
        let values = |view: rampart_cirt::IncidentView| view.observables.into_iter().map(|o| o.value).collect::<Vec<_>>();
        let handler = values(env.desk.view(&env.w.analyst, &incident.id).await.unwrap());
        assert!(handler.contains(&"203.0.113.66".to_owned()) && handler.contains(&"198.51.100.77".to_owned()), "{handler:?}");
        let constituent = values(env.desk.view(&env.w.isp_user, &incident.id).await.unwrap());
        assert_eq!(constituent, ["198.51.100.77"], "only what the constituent can read");
    })
    .await;
}

#[tokio::test]
async fn the_registry_export_holds_only_the_readers_constituency() {
    each_backend(|env| async move {
        env.desk.add_network(&actor(&env.w.manager), &env.w.isp.id, "198.51.100.0/24").await.unwrap();
        let kenya = env.desk.export_registry(&env.w.analyst).await.unwrap();
        assert!(kenya.contains("198.51.100.0/24"), "{kenya}");
        let brazil = env.desk.export_registry(&env.w.br_analyst).await.unwrap();
        assert!(!brazil.contains("198.51.100.0/24"), "another country's CIRT does not get it: {brazil}");
        assert_eq!(brazil.lines().count(), 1, "header only");
    })
    .await;
}
