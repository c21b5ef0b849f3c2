//! Roles and what each permits. Whether a permission applies to a given
//! record (its organisation, country, TLP) is decided by
//! `rampart_auth::access`; this file only says which role grants which
//! permission.

use crate::error::CoreError;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    PlatformAdmin,
    OrgAdmin,
    CirtManager,
    CirtAnalyst,
    Constituent,
    GciFocalPoint,
    GciReviewer,
    GciEditor,
    DrillOrganiser,
    DrillEvaluator,
    DrillPlayer,
    HotlineAnalyst,
    StrategyEditor,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 14] = [
        Role::PlatformAdmin,
        Role::OrgAdmin,
        Role::CirtManager,
        Role::CirtAnalyst,
        Role::Constituent,
        Role::GciFocalPoint,
        Role::GciReviewer,
        Role::GciEditor,
        Role::DrillOrganiser,
        Role::DrillEvaluator,
        Role::DrillPlayer,
        Role::HotlineAnalyst,
        Role::StrategyEditor,
        Role::Viewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::PlatformAdmin => "platform_admin",
            Role::OrgAdmin => "org_admin",
            Role::CirtManager => "cirt_manager",
            Role::CirtAnalyst => "cirt_analyst",
            Role::Constituent => "constituent",
            Role::GciFocalPoint => "gci_focal_point",
            Role::GciReviewer => "gci_reviewer",
            Role::GciEditor => "gci_editor",
            Role::DrillOrganiser => "drill_organiser",
            Role::DrillEvaluator => "drill_evaluator",
            Role::DrillPlayer => "drill_player",
            Role::HotlineAnalyst => "hotline_analyst",
            Role::StrategyEditor => "strategy_editor",
            Role::Viewer => "viewer",
        }
    }

    /// Platform administration is only meaningful platform-wide; every other
    /// role is granted for an organisation or a country.
    pub fn is_global_only(self) -> bool {
        matches!(self, Role::PlatformAdmin)
    }

    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::PlatformAdmin => {
                &[DirectoryRead, OrgCreate, OrgManage, UserRead, UserManage, RoleGrant, AuditRead, SettingsManage, GuidanceEdit]
            }
            Role::OrgAdmin => &[DirectoryRead, OrgManage, UserRead, UserManage, RoleGrant, AuditRead],
            Role::CirtManager => &[
                DirectoryRead,
                MaturityAssess,
                IntelRead,
                IntelWrite,
                IntelManage,
                IncidentRead,
                IncidentWrite,
                IncidentAssign,
                ReportRead,
                ConstituencyRead,
                ConstituencyManage,
                AdvisoryWrite,
                AdvisoryPublish,
            ],
            Role::CirtAnalyst => {
                &[DirectoryRead, IncidentRead, IncidentWrite, ReportRead, ConstituencyRead, AdvisoryWrite, IntelRead, IntelWrite]
            }
            Role::Constituent => &[DirectoryRead, ReportSubmit],
            Role::Viewer => &[DirectoryRead, IncidentRead, ReportRead, ConstituencyRead, StrategyRead, IntelRead],
            Role::GciFocalPoint => &[DirectoryRead, GciAnswer],
            Role::GciReviewer => &[DirectoryRead, GciReview],
            Role::GciEditor => &[DirectoryRead, GciEdit, GciReview],
            Role::DrillOrganiser => &[DirectoryRead, DrillOrganise],
            Role::DrillEvaluator | Role::DrillPlayer => &[DirectoryRead],
            Role::StrategyEditor => &[DirectoryRead, StrategyRead, StrategyEdit, MaturityAssess],
            Role::HotlineAnalyst => &[DirectoryRead, HotlineRead, HotlineAssess, HashListManage, HashMatch],
        }
    }
}

impl FromStr for Role {
    type Err = CoreError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().to_ascii_lowercase().replace('-', "_");
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == wanted)
            .ok_or_else(|| CoreError::UnknownValue { field: "role", value: text.to_owned() })
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a route or export may require. Module issues add their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read countries and the organisation directory.
    DirectoryRead,
    OrgCreate,
    /// Edit an organisation's details and contacts.
    OrgManage,
    UserRead,
    /// Create, disable and reset users.
    UserManage,
    RoleGrant,
    AuditRead,
    SettingsManage,
    /// CIRT desk: read the incidents and reports an organisation handles.
    IncidentRead,
    /// Create and work incidents: classify, note, tasks, status.
    IncidentWrite,
    /// Assign incidents to analysts.
    IncidentAssign,
    /// Read the incident reports received.
    ReportRead,
    /// Report an incident to one's CIRT as a constituent.
    ReportSubmit,
    ConstituencyRead,
    /// Edit the constituency registry: networks, AS numbers, domains.
    ConstituencyManage,
    /// Write and edit a CIRT's advisories (drafts, imports).
    AdvisoryWrite,
    /// Publish a CIRT's advisories.
    AdvisoryPublish,
    /// Hotline: read the reports a hotline received (every view audited).
    HotlineRead,
    /// Hotline: assess, trace, refer and record takedowns.
    HotlineAssess,
    /// Create hash lists, import, share and add to them.
    HashListManage,
    /// Look up images and hashes in the hash lists one may read.
    HashMatch,
    /// Edit the public guidance pages.
    GuidanceEdit,
    /// GCI: answer a country's questionnaire, with evidence, and submit it.
    GciAnswer,
    /// GCI: review a country's answers (accept, ask, change) and validate.
    GciReview,
    /// GCI: draft and freeze editions, run campaigns, import and publish results.
    GciEdit,
    /// Strategy: read a country's strategy record, self-assessment, action
    /// plan and its CIRTs' maturity.
    StrategyRead,
    /// Strategy: edit the record, answer the self-assessment, run the action plan.
    StrategyEdit,
    /// Record a CIRT's SIM3 maturity assessment and service catalogue, and
    /// add its maturity gaps to the national action plan.
    MaturityAssess,
    /// Threat intelligence: read the TAXII collections shared with one's organisation.
    IntelRead,
    /// Threat intelligence: add objects to the collections one may write.
    IntelWrite,
    /// Threat intelligence: create an organisation's collections and say who reads and writes them.
    IntelManage,
    /// Cyberdrills: write an organisation's scenarios, run its exercises and
    /// say who takes part in them (as director, controller, evaluator,
    /// observer or player; those parts are decided per exercise).
    DrillOrganise,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_and_grants_directory_reading() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert!(role.permissions().contains(&Permission::DirectoryRead), "{role}");
        }
        assert_eq!("CIRT-analyst".parse::<Role>(), Ok(Role::CirtAnalyst));
        assert!("wizard".parse::<Role>().is_err());
    }

    #[test]
    fn only_admins_manage_users() {
        let managers: Vec<Role> = Role::ALL.into_iter().filter(|role| role.permissions().contains(&Permission::UserManage)).collect();
        assert_eq!(managers, vec![Role::PlatformAdmin, Role::OrgAdmin]);
    }
}
