//! Priority from impact and urgency through a matrix, as ITIL-trained
//! service desks expect. The matrix is data, so a CIRT can change it.

use crate::CirtError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    High,
    Medium,
    Low,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::High, Level::Medium, Level::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::High => "high",
            Level::Medium => "medium",
            Level::Low => "low",
        }
    }

    pub fn parse(field: &'static str, text: &str) -> Result<Level, CirtError> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == text.trim().to_ascii_lowercase())
            .ok_or_else(|| CirtError::Invalid { field, message: format!("`{text}` is not high, medium or low") })
    }

    fn index(self) -> usize {
        match self {
            Level::High => 0,
            Level::Medium => 1,
            Level::Low => 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Critical,
    High,
    Medium,
    Low,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::Critical, Priority::High, Priority::Medium, Priority::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Critical => "critical",
            Priority::High => "high",
            Priority::Medium => "medium",
            Priority::Low => "low",
        }
    }

    pub fn parse(text: &str) -> Option<Priority> {
        Priority::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

/// `cells[impact][urgency]`, rows and columns ordered high, medium, low.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorityMatrix {
    pub cells: [[Priority; 3]; 3],
}

impl Default for PriorityMatrix {
    /// The usual 3×3 service-desk matrix folded onto four levels.
    fn default() -> Self {
        use Priority::*;
        PriorityMatrix { cells: [[Critical, High, Medium], [High, Medium, Low], [Medium, Low, Low]] }
    }
}

impl PriorityMatrix {
    pub fn priority(&self, impact: Level, urgency: Level) -> Priority {
        self.cells[impact.index()][urgency.index()]
    }

    /// A matrix must not rank a worse situation lower than a better one.
    pub fn validate(&self) -> Result<(), CirtError> {
        for row in 0..3 {
            for column in 0..3 {
                let here = self.cells[row][column];
                let monotone = (row == 2 || self.cells[row + 1][column] >= here) && (column == 2 || self.cells[row][column + 1] >= here);
                if !monotone {
                    return Err(CirtError::Invalid {
                        field: "priority_matrix",
                        message: "lower impact or urgency must never give a higher priority".into(),
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_matrix() {
        let matrix = PriorityMatrix::default();
        assert!(matrix.validate().is_ok());
        assert_eq!(matrix.priority(Level::High, Level::High), Priority::Critical);
        assert_eq!(matrix.priority(Level::High, Level::Medium), Priority::High);
        assert_eq!(matrix.priority(Level::Medium, Level::High), Priority::High);
        assert_eq!(matrix.priority(Level::Medium, Level::Medium), Priority::Medium);
        assert_eq!(matrix.priority(Level::Low, Level::Low), Priority::Low);
        assert!(Level::parse("impact", "severe").is_err());
    }

    #[test]
    fn every_monotone_matrix_is_accepted_and_an_inverted_one_refused() {
        let mut inverted = PriorityMatrix::default();
        inverted.cells[2][2] = Priority::Critical;
        assert!(inverted.validate().is_err());
        let flat = PriorityMatrix { cells: [[Priority::Medium; 3]; 3] };
        assert!(flat.validate().is_ok());
    }
}
