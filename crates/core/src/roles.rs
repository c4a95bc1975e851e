//! Staff roles and what each may do. Handlers ask [`Role::may`]; nothing else decides access.

use serde::{Deserialize, Serialize};

/// A staff member's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Clinic or pharmacy reception (受付).
    Reception,
    /// Pharmacist (薬剤師): reception rights plus proxy pickup.
    Pharmacist,
    /// Municipal counter clerk (市町村窓口).
    MunicipalClerk,
    /// Operator of the central service: readers, audit, revocation.
    Admin,
}

/// An action guarded by role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Eligibility checks, visits, results, visual mode, declarations.
    Reception,
    /// Medical information views (with consent).
    ViewMedicalInformation,
    /// Proxy pickup at a pharmacy.
    ProxyPickup,
    /// Issue, switch, register, PIN reset.
    CounterOperations,
    /// Register readers, read and verify the audit log, revoke certificates.
    Administer,
}

impl Role {
    /// Code name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reception => "reception",
            Role::Pharmacist => "pharmacist",
            Role::MunicipalClerk => "municipal_clerk",
            Role::Admin => "admin",
        }
    }

    /// Parses the code name.
    pub fn parse(s: &str) -> Option<Role> {
        [
            Role::Reception,
            Role::Pharmacist,
            Role::MunicipalClerk,
            Role::Admin,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// Whether this role may do `p`.
    pub fn may(self, p: Permission) -> bool {
        use Permission::*;
        matches!(
            (self, p),
            (
                Role::Reception | Role::Pharmacist,
                Reception | ViewMedicalInformation
            ) | (Role::Pharmacist, ProxyPickup)
                | (Role::MunicipalClerk, CounterOperations)
                | (Role::Admin, Administer)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_matrix() {
        use Permission::*;
        let all = [
            Reception,
            ViewMedicalInformation,
            ProxyPickup,
            CounterOperations,
            Administer,
        ];
        let table = [
            (Role::Reception, vec![Reception, ViewMedicalInformation]),
            (
                Role::Pharmacist,
                vec![Reception, ViewMedicalInformation, ProxyPickup],
            ),
            (Role::MunicipalClerk, vec![CounterOperations]),
            (Role::Admin, vec![Administer]),
        ];
        for (role, allowed) in table {
            for p in all {
                assert_eq!(role.may(p), allowed.contains(&p), "{role:?} {p:?}");
            }
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }
}
