//! The countries an index covers: the 194 ITU member states, plus the
//! State of Palestine, which takes part in ITU's work under Plenipotentiary
//! Resolution 99 and is assessed by the GCI. Dropping it from an imported
//! edition would shift every dense rank below its score, so published ranks
//! could not be reproduced.

use rampart_core::country::{self, ItuRegion};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub alpha2: String,
    pub alpha3: String,
    pub name: String,
    pub region: ItuRegion,
}

const NON_MEMBERS: [(&str, &str, &str, ItuRegion); 1] = [("PS", "PSE", "State of Palestine", ItuRegion::ArabStates)];

/// Looks a participant up by alpha-2 or alpha-3 code, in any case.
pub fn find(code: &str) -> Option<Participant> {
    if let Some(c) = country::find(code) {
        return Some(Participant { alpha2: c.alpha2.clone(), alpha3: c.alpha3.clone(), name: c.name.clone(), region: c.region });
    }
    let wanted = code.trim().to_ascii_uppercase();
    NON_MEMBERS.iter().find(|(a2, a3, _, _)| *a2 == wanted || *a3 == wanted).map(|(a2, a3, name, region)| Participant {
        alpha2: (*a2).to_owned(),
        alpha3: (*a3).to_owned(),
        name: (*name).to_owned(),
        region: *region,
    })
}

/// Every participant, member states first.
pub fn all() -> Vec<Participant> {
    let mut list: Vec<Participant> = country::all()
        .iter()
        .map(|c| Participant { alpha2: c.alpha2.clone(), alpha3: c.alpha3.clone(), name: c.name.clone(), region: c.region })
        .collect();
    list.extend(NON_MEMBERS.iter().filter_map(|(a2, _, _, _)| find(a2)));
    list
}
