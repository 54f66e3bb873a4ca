//! Who may see what: the one privacy rule.
//!
//! Every read path in core takes a [`Role`] and applies [`Role::may_see`]
//! (search's `index::search::matching_slots`, matching's admission of
//! candidates, the view's record reads and `View::need_as_seen`), so that a
//! portal never learns of a restricted company through any surface. The
//! rule lives here, apart from the index and matching that apply it, so
//! that there is one place to read it and one to change it.

use serde::{Deserialize, Serialize};

use crate::model::Visibility;

/// Who is asking. Every read path takes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A portal: public records only.
    Public,
    /// A coordinator: everything, including restricted companies.
    Coordinator,
    /// An administrator: everything, and writes.
    Admin,
}

impl Role {
    /// Whether this role may see a company of visibility `v`: the one privacy
    /// rule, applied by every read path in core.
    pub fn may_see(self, v: Visibility) -> bool {
        v == Visibility::Public || self != Role::Public
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_staff_see_restricted_companies() {
        for role in [Role::Public, Role::Coordinator, Role::Admin] {
            assert!(role.may_see(Visibility::Public));
        }
        assert!(!Role::Public.may_see(Visibility::Restricted));
        assert!(Role::Coordinator.may_see(Visibility::Restricted));
        assert!(Role::Admin.may_see(Visibility::Restricted));
    }
}
