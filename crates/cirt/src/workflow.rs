//! The incident status workflow: new → triage → in progress → waiting for
//! constituent → resolved → closed, with reopening.

use crate::CirtError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    New,
    Triage,
    InProgress,
    WaitingForConstituent,
    Resolved,
    Closed,
}

impl Status {
    pub const ALL: [Status; 6] =
        [Status::New, Status::Triage, Status::InProgress, Status::WaitingForConstituent, Status::Resolved, Status::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Triage => "triage",
            Status::InProgress => "in_progress",
            Status::WaitingForConstituent => "waiting_for_constituent",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Result<Status, CirtError> {
        Status::ALL
            .into_iter()
            .find(|s| s.as_str() == text.trim())
            .ok_or_else(|| CirtError::Invalid { field: "status", message: format!("`{text}` is not a status") })
    }

    pub fn is_open(self) -> bool {
        !matches!(self, Status::Resolved | Status::Closed)
    }

    /// Where an incident may go from here.
    pub fn next(self) -> &'static [Status] {
        use Status::*;
        match self {
            New => &[Triage, InProgress, Closed],
            Triage => &[InProgress, Resolved, Closed],
            InProgress => &[WaitingForConstituent, Resolved],
            WaitingForConstituent => &[InProgress, Resolved],
            // Reopening goes back to work.
            Resolved => &[Closed, InProgress],
            Closed => &[InProgress],
        }
    }

    pub fn check_transition(self, to: Status) -> Result<(), CirtError> {
        if self.next().contains(&to) { Ok(()) } else { Err(CirtError::Transition { from: self.as_str(), to: to.as_str() }) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workflow_allows_the_usual_path_and_reopening_only() {
        let path = [
            Status::New,
            Status::Triage,
            Status::InProgress,
            Status::WaitingForConstituent,
            Status::InProgress,
            Status::Resolved,
            Status::Closed,
            Status::InProgress,
        ];
        for pair in path.windows(2) {
            assert!(pair[0].check_transition(pair[1]).is_ok(), "{:?} -> {:?}", pair[0], pair[1]);
        }
        assert_eq!(Status::New.check_transition(Status::Resolved), Err(CirtError::Transition { from: "new", to: "resolved" }));
        assert!(Status::Closed.check_transition(Status::Closed).is_err());
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Ok(status));
            assert!(!status.next().contains(&status), "no self-loops");
        }
    }
}
