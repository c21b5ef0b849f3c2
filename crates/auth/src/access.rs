//! The access layer: the one place that decides whether someone may do
//! something (permission × scope) and see something (TLP). See
//! `docs/design/access-control.md`.

use rampart_core::{Permission, Role, Tlp};
use serde::Serialize;

/// Where a role grant applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Scope {
    /// Everywhere; only platform administrators grant this.
    Global,
    Org(String),
    /// Every organisation of a country (ISO alpha-2).
    Country(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub role: Role,
    pub scope: Scope,
}

/// How the request was authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    Session,
    Token {
        token_id: String,
    },
    /// The command line, run by someone with access to the server.
    Cli,
}

/// Someone acting: who they are, where they belong and what they hold.
#[derive(Debug, Clone, Serialize)]
pub struct Principal {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub org_id: String,
    pub org_country: Option<String>,
    pub language: String,
    pub grants: Vec<Grant>,
    pub via: Via,
    pub totp_enabled: bool,
    /// The user's organisation requires two-factor authentication and the
    /// user has not set it up: only the set-up pages are open to them.
    pub must_set_up_mfa: bool,
}

/// What an action is aimed at.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// Platform-wide settings and lists.
    Platform,
    Org {
        id: &'a str,
        country: Option<&'a str>,
    },
    Country(&'a str),
}

impl Scope {
    fn covers(&self, target: Target<'_>) -> bool {
        match (self, target) {
            (Scope::Global, _) => true,
            (Scope::Org(scope_org), Target::Org { id, .. }) => scope_org == id,
            (Scope::Country(scope_cc), Target::Org { country: Some(cc), .. }) => scope_cc == cc,
            (Scope::Country(scope_cc), Target::Country(cc)) => scope_cc == cc,
            _ => false,
        }
    }
}

impl Grant {
    /// Does this grant give `permission` on `target`?
    pub fn allows(&self, permission: Permission, target: Target<'_>) -> bool {
        self.role.permissions().contains(&permission) && self.scope.covers(target)
    }
}

impl Principal {
    /// May this principal exercise `permission` on `target`?
    pub fn allows(&self, permission: Permission, target: Target<'_>) -> bool {
        if self.must_set_up_mfa {
            return false;
        }
        self.grants.iter().any(|grant| grant.allows(permission, target))
    }

    /// Holds `permission` somewhere; for list routes that then filter by scope.
    pub fn has(&self, permission: Permission) -> bool {
        !self.must_set_up_mfa && self.grants.iter().any(|grant| grant.role.permissions().contains(&permission))
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|grant| grant.role == role)
    }

    pub fn is_platform_admin(&self) -> bool {
        !self.must_set_up_mfa && self.grants.iter().any(|g| g.role == Role::PlatformAdmin && g.scope == Scope::Global)
    }

    /// Organisations whose records this principal may manage with
    /// `permission`; `None` means all of them.
    pub fn org_ids_for(&self, permission: Permission) -> Option<Vec<String>> {
        self.scopes_for(permission, |scope| match scope {
            Scope::Org(id) => Some(id.clone()),
            _ => None,
        })
    }

    /// Countries (alpha-2) where this principal holds `permission`, by a
    /// country grant; `None` means every country (a global grant).
    pub fn countries_for(&self, permission: Permission) -> Option<Vec<String>> {
        if self.must_set_up_mfa {
            return Some(Vec::new());
        }
        self.scopes_for(permission, |scope| match scope {
            Scope::Country(cc) => Some(cc.clone()),
            _ => None,
        })
    }

    /// What `pick` takes from the scopes of the grants that give
    /// `permission`; `None` when a global grant gives it everywhere.
    fn scopes_for(&self, permission: Permission, pick: impl Fn(&Scope) -> Option<String>) -> Option<Vec<String>> {
        let granting = || self.grants.iter().filter(|g| g.role.permissions().contains(&permission));
        if granting().any(|g| g.scope == Scope::Global) {
            return None;
        }
        Some(granting().filter_map(|g| pick(&g.scope)).collect())
    }
}

/// A record that carries a TLP label.
#[derive(Debug, Clone, Copy)]
pub struct Shareable<'a> {
    pub tlp: Tlp,
    pub owner_org: &'a str,
    /// Organisations the owner shared the record with.
    pub shared_with: &'a [String],
    /// Named people, for TLP:RED.
    pub recipients: &'a [String],
    pub author: Option<&'a str>,
}

/// The TLP 2.0 visibility rule, the only one in Rampart:
///
/// - CLEAR: anyone, signed in or not.
/// - GREEN: the community: any signed-in user who holds at least one role.
/// - AMBER and AMBER+STRICT: members of the owning organisation and of the
///   organisations it was shared with. (They differ in onward sharing, see
///   [`may_reshare`], not in who may read.)
/// - RED: the author and the named recipients only.
///
/// Administrators get no exception: administering accounts is not a need to
/// know. Country never widens visibility on its own.
pub fn can_see(viewer: Option<&Principal>, record: &Shareable<'_>) -> bool {
    if record.tlp == Tlp::Clear {
        return true;
    }
    let Some(viewer) = viewer else { return false };
    if viewer.must_set_up_mfa || viewer.grants.is_empty() {
        return false;
    }
    let member_of_owner_or_recipient = viewer.org_id == record.owner_org || record.shared_with.contains(&viewer.org_id);
    match record.tlp {
        Tlp::Clear => true,
        Tlp::Green => true,
        Tlp::Amber | Tlp::AmberStrict => member_of_owner_or_recipient,
        Tlp::Red => record.author == Some(viewer.user_id.as_str()) || record.recipients.contains(&viewer.user_id),
    }
}

/// Visibility of a case-like record (an incident, a report). Its handlers,
/// who hold `permission` over the owning organisation, see it whatever its
/// label: TLP governs disclosure beyond them. Anyone else sees it only if
/// their organisation is among those it concerns (`shared_with`) and TLP
/// lets them; the rest of the community never does, even for CLEAR, since
/// cases are not publications. A member without any role sees no case:
/// belonging to an organisation is not a need to know.
pub fn can_see_case(viewer: &Principal, permission: Permission, owner: Target<'_>, record: &Shareable<'_>) -> bool {
    if viewer.allows(permission, owner) {
        return true;
    }
    let holds_a_role = !viewer.must_set_up_mfa && !viewer.grants.is_empty();
    holds_a_role && record.shared_with.contains(&viewer.org_id) && can_see(Some(viewer), record)
}

/// May `viewer` share the record onward with `target_org`, whose parent
/// organisation is `target_parent` (a recipient's "clients" are the
/// organisations in its constituency)?
pub fn may_reshare(viewer: &Principal, record: &Shareable<'_>, target_org: &str, target_parent: Option<&str>) -> bool {
    if !can_see(Some(viewer), record) {
        return false;
    }
    let allowed = match record.tlp {
        Tlp::Clear | Tlp::Green => true,
        // AMBER: the owner may share with anyone who needs to know; a
        // recipient only with its own clients.
        Tlp::Amber => viewer.org_id == record.owner_org || target_parent == Some(viewer.org_id.as_str()),
        // AMBER+STRICT: only the owner decides who reads it.
        Tlp::AmberStrict => viewer.org_id == record.owner_org,
        Tlp::Red => false,
    };
    allowed && target_org != viewer.org_id
}

/// A person's part in one exercise, given by its organisers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExerciseRole {
    Director,
    Controller,
    Evaluator,
    Observer,
    Player,
}

impl ExerciseRole {
    pub const ALL: [ExerciseRole; 5] =
        [ExerciseRole::Director, ExerciseRole::Controller, ExerciseRole::Evaluator, ExerciseRole::Observer, ExerciseRole::Player];

    pub fn as_str(self) -> &'static str {
        match self {
            ExerciseRole::Director => "director",
            ExerciseRole::Controller => "controller",
            ExerciseRole::Evaluator => "evaluator",
            ExerciseRole::Observer => "observer",
            ExerciseRole::Player => "player",
        }
    }

    pub fn parse(text: &str) -> Option<ExerciseRole> {
        ExerciseRole::ALL.into_iter().find(|role| role.as_str() == text.trim())
    }
}

/// What someone does in an exercise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExerciseAct {
    /// Change who takes part, and the scenario behind it.
    Organise,
    /// Start, pause, resume and end it; fire, delay and edit injects; comm checks.
    Run,
    /// Score responses against expectations; write the improvement plan.
    Evaluate,
    /// Read everything: timeline, every team's responses, the report.
    Observe,
    /// Read one's team's injects, respond, keep the team log, submit flags.
    Play,
    /// See the scoreboard and answer the hot wash.
    Attend,
}

/// May `viewer`, whose part in the exercise is `part` (None when they have
/// none), do `act` in an exercise owned by `owner`? The owner's drill
/// organisers may do anything but play; otherwise the part decides:
/// a director runs, evaluates and observes; a controller runs and
/// observes; an evaluator evaluates and observes; an observer observes;
/// a player plays. Everyone with a part attends. Players never observe:
/// other teams' answers are not theirs to read.
pub fn may_in_exercise(viewer: &Principal, owner: Target<'_>, part: Option<ExerciseRole>, act: ExerciseAct) -> bool {
    if viewer.must_set_up_mfa {
        return false;
    }
    let organiser = viewer.allows(Permission::DrillOrganise, owner);
    if organiser && act != ExerciseAct::Play {
        return true;
    }
    let Some(part) = part else { return false };
    use ExerciseAct as A;
    use ExerciseRole as R;
    match act {
        A::Organise => false,
        A::Run => matches!(part, R::Director | R::Controller),
        A::Evaluate => matches!(part, R::Director | R::Evaluator),
        A::Observe => !matches!(part, R::Player),
        A::Play => part == R::Player,
        A::Attend => true,
    }
}

/// Which feed events a viewer may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEventScope {
    pub tlps: Vec<Tlp>,
    /// Only events attributed to these organisations; `None` for all.
    pub orgs: Option<Vec<String>>,
}

/// Which feed events `viewer` may read. Feed events are the CIRT's working
/// data about its constituency: its handlers (who hold `IncidentRead`)
/// read every label but RED, which names recipients that an automated
/// feed cannot have. A constituent (`ReportSubmit` for its organisation)
/// reads the events attributed to its own organisations, AMBER and
/// AMBER+STRICT included: they are about its own networks, and it is the
/// party the CIRT must tell. Anyone else reads none (`None`). Pages and
/// exports filter by this in the query itself.
pub fn feed_event_scope(viewer: &Principal) -> Option<FeedEventScope> {
    let readable = vec![Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict];
    if viewer.has(Permission::IncidentRead) {
        return Some(FeedEventScope { tlps: readable, orgs: None });
    }
    if !viewer.has(Permission::ReportSubmit) {
        return None;
    }
    // A constituent's own organisations; a global grant still reads only
    // its own, never the whole constituency's.
    let orgs = viewer.org_ids_for(Permission::ReportSubmit).unwrap_or_else(|| vec![viewer.org_id.clone()]);
    if orgs.is_empty() { None } else { Some(FeedEventScope { tlps: readable, orgs: Some(orgs) }) }
}

/// Whether `viewer` may push rows into the feed pipeline whose incidents
/// `cirt` owns: pushed rows become that CIRT's events and incidents, so it
/// takes the right to write that CIRT's incidents (or a global grant).
/// A pipeline that names no CIRT takes a global grant.
pub fn may_push_feed(viewer: &Principal, cirt: Option<&str>) -> bool {
    if !viewer.has(Permission::IncidentWrite) {
        return false;
    }
    match viewer.org_ids_for(Permission::IncidentWrite) {
        None => true,
        Some(orgs) => cirt.is_some_and(|cirt| orgs.iter().any(|org| org == cirt)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(org: &str, country: &str, roles: &[(Role, Scope)]) -> Principal {
        Principal {
            user_id: format!("user-of-{org}"),
            email: format!("someone@{org}.example"),
            display_name: "Someone".into(),
            org_id: org.into(),
            org_country: Some(country.into()),
            language: "en".into(),
            grants: roles.iter().map(|(role, scope)| Grant { role: *role, scope: scope.clone() }).collect(),
            via: Via::Session,
            totp_enabled: false,
            must_set_up_mfa: false,
        }
    }

    /// Role × organisation × country × TLP → may the viewer read a record
    /// owned by org `owner` (country KE), shared with org `partner` (BR),
    /// with RED recipient `user-of-named`?
    #[test]
    fn tlp_visibility_table() {
        #[derive(Clone, Copy, Debug)]
        enum Who {
            Anonymous,
            NoRoles,
            Viewer,
            Analyst,
            PlatformAdmin,
            CountryReviewer,
        }
        let owner_shared = ["partner".to_owned()];
        let red_recipients = ["user-of-named".to_owned()];
        let record = |tlp| Shareable {
            tlp,
            owner_org: "owner",
            shared_with: &owner_shared,
            recipients: &red_recipients,
            author: Some("the-author"),
        };
        let make = |who: Who, org: &str, country: &str| -> Option<Principal> {
            let scope = Scope::Org(org.to_owned());
            match who {
                Who::Anonymous => None,
                Who::NoRoles => Some(principal(org, country, &[])),
                Who::Viewer => Some(principal(org, country, &[(Role::Viewer, scope)])),
                Who::Analyst => Some(principal(org, country, &[(Role::CirtAnalyst, scope)])),
                Who::PlatformAdmin => Some(principal(org, country, &[(Role::PlatformAdmin, Scope::Global)])),
                Who::CountryReviewer => Some(principal(org, country, &[(Role::GciReviewer, Scope::Country("KE".into()))])),
            }
        };
        // (who, org, country, [CLEAR, GREEN, AMBER, AMBER+STRICT, RED])
        let table: &[(Who, &str, &str, [bool; 5])] = &[
            (Who::Anonymous, "-", "-", [true, false, false, false, false]),
            (Who::NoRoles, "owner", "KE", [true, false, false, false, false]),
            (Who::Viewer, "owner", "KE", [true, true, true, true, false]),
            (Who::Analyst, "owner", "KE", [true, true, true, true, false]),
            (Who::Analyst, "partner", "BR", [true, true, true, true, false]),
            (Who::Analyst, "neighbour", "KE", [true, true, false, false, false]),
            (Who::Analyst, "stranger", "FR", [true, true, false, false, false]),
            (Who::CountryReviewer, "ministry", "KE", [true, true, false, false, false]),
            (Who::PlatformAdmin, "itu", "CH", [true, true, false, false, false]),
            (Who::PlatformAdmin, "owner", "KE", [true, true, true, true, false]),
            (Who::Analyst, "named", "FR", [true, true, false, false, true]),
        ];
        for (who, org, country, expected) in table {
            let viewer = make(*who, org, country);
            for (tlp, want) in Tlp::ALL.into_iter().zip(expected) {
                assert_eq!(can_see(viewer.as_ref(), &record(tlp)), *want, "{who:?} of {org} ({country}) reading TLP:{tlp}");
            }
        }
        // The author always reads their own RED record.
        let author = principal("owner", "KE", &[(Role::CirtAnalyst, Scope::Org("owner".into()))]);
        let author = Principal { user_id: "the-author".into(), ..author };
        assert!(can_see(Some(&author), &record(Tlp::Red)));
        // A user who must still set up MFA sees only CLEAR.
        let pending = Principal { must_set_up_mfa: true, ..author };
        assert!(!can_see(Some(&pending), &record(Tlp::Green)));
    }

    #[test]
    fn cases_are_seen_by_their_handlers_and_the_constituents_they_concern() {
        let affected = ["isp".to_owned()];
        let case = |tlp| Shareable { tlp, owner_org: "cirt", shared_with: &affected, recipients: &[], author: None };
        let owner = Target::Org { id: "cirt", country: Some("KE") };
        let analyst = principal("cirt", "KE", &[(Role::CirtAnalyst, Scope::Org("cirt".into()))]);
        let isp = principal("isp", "KE", &[(Role::Constituent, Scope::Org("isp".into()))]);
        let bank = principal("bank", "KE", &[(Role::Constituent, Scope::Org("bank".into()))]);
        let other_cirt = principal("br-cirt", "BR", &[(Role::CirtAnalyst, Scope::Org("br-cirt".into()))]);
        let roleless_member = principal("isp", "KE", &[]);
        for tlp in Tlp::ALL {
            assert!(!can_see_case(&roleless_member, Permission::IncidentRead, owner, &case(tlp)), "a member without a role, {tlp}");
            assert!(can_see_case(&analyst, Permission::IncidentRead, owner, &case(tlp)), "handler, {tlp}");
            assert_eq!(can_see_case(&isp, Permission::IncidentRead, owner, &case(tlp)), tlp != Tlp::Red, "affected constituent, {tlp}");
            assert!(!can_see_case(&bank, Permission::IncidentRead, owner, &case(tlp)), "unaffected constituent, {tlp}");
            assert!(!can_see_case(&other_cirt, Permission::IncidentRead, owner, &case(tlp)), "another CIRT, {tlp}");
        }
    }

    #[test]
    fn onward_sharing_follows_amber_and_strict() {
        let shared = ["partner".to_owned()];
        let record = |tlp| Shareable { tlp, owner_org: "owner", shared_with: &shared, recipients: &[], author: None };
        let partner = principal("partner", "BR", &[(Role::CirtAnalyst, Scope::Org("partner".into()))]);
        let owner = principal("owner", "KE", &[(Role::CirtAnalyst, Scope::Org("owner".into()))]);
        // A recipient may pass AMBER to its own constituent, not to a stranger.
        assert!(may_reshare(&partner, &record(Tlp::Amber), "partner-client", Some("partner")));
        assert!(!may_reshare(&partner, &record(Tlp::Amber), "stranger", None));
        // AMBER+STRICT stays where the owner put it.
        assert!(!may_reshare(&partner, &record(Tlp::AmberStrict), "partner-client", Some("partner")));
        assert!(may_reshare(&owner, &record(Tlp::AmberStrict), "another", None));
        assert!(!may_reshare(&owner, &record(Tlp::Red), "another", None));
        assert!(may_reshare(&partner, &record(Tlp::Green), "anyone", None));
    }

    #[test]
    fn exercise_parts_decide_what_people_do_in_a_drill() {
        use ExerciseAct as A;
        use ExerciseRole as R;
        let owner = Target::Org { id: "itu", country: Some("CH") };
        let organiser = principal("itu", "CH", &[(Role::DrillOrganiser, Scope::Org("itu".into()))]);
        let other_organiser = principal("afr", "KE", &[(Role::DrillOrganiser, Scope::Org("afr".into()))]);
        let person = principal("ke-cirt", "KE", &[(Role::DrillPlayer, Scope::Org("ke-cirt".into()))]);
        let acts = [A::Organise, A::Run, A::Evaluate, A::Observe, A::Play, A::Attend];
        // (part, [Organise, Run, Evaluate, Observe, Play, Attend])
        let table: &[(Option<R>, [bool; 6])] = &[
            (None, [false; 6]),
            (Some(R::Director), [false, true, true, true, false, true]),
            (Some(R::Controller), [false, true, false, true, false, true]),
            (Some(R::Evaluator), [false, false, true, true, false, true]),
            (Some(R::Observer), [false, false, false, true, false, true]),
            (Some(R::Player), [false, false, false, false, true, true]),
        ];
        for (part, expected) in table {
            for (act, want) in acts.into_iter().zip(expected) {
                assert_eq!(may_in_exercise(&person, owner, *part, act), *want, "{part:?} doing {act:?}");
            }
        }
        for act in acts {
            assert_eq!(may_in_exercise(&organiser, owner, None, act), act != A::Play, "the owner's organiser, {act:?}");
            assert!(!may_in_exercise(&other_organiser, owner, None, act), "another organisation's organiser, {act:?}");
        }
        let pending = Principal { must_set_up_mfa: true, ..organiser };
        assert!(!may_in_exercise(&pending, owner, Some(R::Director), A::Run));
    }

    #[test]
    fn scopes_cover_their_targets_only() {
        let org_admin = principal("acme", "KE", &[(Role::OrgAdmin, Scope::Org("acme".into()))]);
        assert!(org_admin.allows(Permission::UserManage, Target::Org { id: "acme", country: Some("KE") }));
        assert!(!org_admin.allows(Permission::UserManage, Target::Org { id: "other", country: Some("KE") }));
        assert!(!org_admin.allows(Permission::OrgCreate, Target::Platform));
        assert_eq!(org_admin.org_ids_for(Permission::UserManage), Some(vec!["acme".to_owned()]));

        let reviewer = principal("itu", "CH", &[(Role::GciReviewer, Scope::Country("KE".into()))]);
        assert!(reviewer.allows(Permission::DirectoryRead, Target::Country("KE")));
        assert!(reviewer.allows(Permission::DirectoryRead, Target::Org { id: "x", country: Some("KE") }));
        assert!(!reviewer.allows(Permission::DirectoryRead, Target::Country("BR")));
        assert!(!reviewer.allows(Permission::UserManage, Target::Country("KE")));

        let admin = principal("itu", "CH", &[(Role::PlatformAdmin, Scope::Global)]);
        assert!(admin.allows(Permission::OrgCreate, Target::Platform));
        assert_eq!(admin.org_ids_for(Permission::UserManage), None);
        let nobody = principal("itu", "CH", &[]);
        assert!(!nobody.has(Permission::DirectoryRead));
    }

    #[test]
    fn feed_events_are_for_incident_handlers_and_constituents_own_and_never_red() {
        let analyst =
            Principal { grants: vec![Grant { role: Role::CirtAnalyst, scope: Scope::Org("ke-cirt".into()) }], ..Principal::cli("analyst") };
        let scope = feed_event_scope(&analyst).unwrap();
        assert!(scope.tlps.contains(&Tlp::Amber) && !scope.tlps.contains(&Tlp::Red));
        assert_eq!(scope.orgs, None, "handlers read the whole constituency's events");
        let constituent =
            Principal { grants: vec![Grant { role: Role::Constituent, scope: Scope::Org("bank".into()) }], ..Principal::cli("bank") };
        let own = feed_event_scope(&constituent).unwrap();
        assert_eq!(own.orgs, Some(vec!["bank".to_owned()]), "a constituent reads its own events only");
        assert!(own.tlps.contains(&Tlp::AmberStrict) && !own.tlps.contains(&Tlp::Red));
        let admin =
            Principal { grants: vec![Grant { role: Role::OrgAdmin, scope: Scope::Org("ke-cirt".into()) }], ..Principal::cli("admin") };
        assert_eq!(feed_event_scope(&admin), None);
    }

    #[test]
    fn only_the_pipelines_own_cirt_may_push_rows_into_it() {
        let grant = |role, scope| Principal { grants: vec![Grant { role, scope }], ..Principal::cli("someone") };
        let analyst = grant(Role::CirtAnalyst, Scope::Org("ke-cirt".into()));
        assert!(may_push_feed(&analyst, Some("ke-cirt")));
        assert!(!may_push_feed(&analyst, Some("br-cirt")), "another CIRT's pipeline");
        assert!(!may_push_feed(&analyst, None), "a pipeline without a CIRT takes a global grant");
        assert!(!may_push_feed(&grant(Role::Constituent, Scope::Org("ke-cirt".into())), Some("ke-cirt")));
        assert!(!may_push_feed(&grant(Role::OrgAdmin, Scope::Org("ke-cirt".into())), Some("ke-cirt")));
        let global = grant(Role::CirtManager, Scope::Global);
        assert!(may_push_feed(&global, Some("ke-cirt")) && may_push_feed(&global, None));
        let unfinished = Principal { must_set_up_mfa: true, ..analyst.clone() };
        assert!(!may_push_feed(&unfinished, Some("ke-cirt")), "MFA set-up first");
    }
}
