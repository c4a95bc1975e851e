//! 医療扶助 (medical assistance under the Public Assistance Act), online since 2024-03 (SPEC
//! §14): the welfare office (福祉事務所) issues a 医療券 (medical ticket) or 調剤券 (dispensing
//! ticket) per month, naming the designated institution (指定医療機関) and the recipient's own
//! payment (本人支払額). An online check answers the month's ticket to the institution it
//! designates; before the office registers the month it answers 「未委託」 (not yet entrusted),
//! and an institution the ticket does not designate gets no ticket data (the office decides
//! who treats the recipient).
//!
//! The clinic-software interface carries it as `PublicExpenseResultList/MedicalTicketInfo` in
//! the result (`TicketType`, `MedicalTicketValidDate`, `MedicalTicketExpirationDate`,
//! `IssueNumber`, `MedicalTreatmentMonth`, `DesignatedMedicalInstitutionCode`,
//! `DesignatedMedicalInstitutionName`, `SelfPayAmount`; field names as open clinic software
//! reads them).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// 医療券・調剤券別.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketKind {
    /// 医療券 (a clinic or hospital).
    Medical,
    /// 調剤券 (a pharmacy).
    Dispensing,
}

impl TicketKind {
    /// `TicketType` of the clinic-software interface.
    pub fn code(self) -> u8 {
        match self {
            TicketKind::Medical => 1,
            TicketKind::Dispensing => 2,
        }
    }
}

/// One month's ticket as the welfare office registered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MedicalTicket {
    /// 医療券 or 調剤券.
    pub kind: TicketKind,
    /// 交付番号.
    pub issue_number: String,
    /// The month of treatment (its first day).
    pub month: NaiveDate,
    /// 有効開始年月日.
    pub valid_from: NaiveDate,
    /// 有効終了年月日.
    pub valid_to: NaiveDate,
    /// 指定医療機関コード.
    pub designated_institution: String,
    /// 指定医療機関名.
    pub designated_name: String,
    /// 本人支払額 (yen per month; 0 for most recipients).
    pub self_pay_amount: i64,
}

/// What a check tells an institution about a recipient's medical assistance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum MedicalAssistance {
    /// This month's ticket, designating the asking institution.
    Ticket {
        /// The ticket.
        ticket: MedicalTicket,
    },
    /// 未委託: the welfare office has not registered this month's ticket yet; ask the recipient
    /// to contact it (or the institution calls it), and treat as the office says.
    NotEntrusted,
    /// This month's ticket designates another institution: its data is not given here; the
    /// welfare office decides (a new ticket, or the designated institution).
    OtherInstitution,
}

impl MedicalAssistance {
    /// The status alone, as the audit records it (never the ticket itself).
    pub fn status(&self) -> &'static str {
        match self {
            MedicalAssistance::Ticket { .. } => "ticket",
            MedicalAssistance::NotEntrusted => "not_entrusted",
            MedicalAssistance::OtherInstitution => "other_institution",
        }
    }
}

/// Whether a record's insurer is a welfare office: its 8-digit number is a 公費負担者番号 of law
/// 12 (生活保護法), so the record is a public-assistance recipient's.
pub fn is_recipient(insurer_number: &str) -> bool {
    insurer_number.len() == 8 && insurer_number.starts_with("12")
}

/// What `institution` is told on `day` about a recipient whose tickets are `tickets`.
pub fn for_institution(
    tickets: &[MedicalTicket],
    institution: &str,
    day: NaiveDate,
) -> MedicalAssistance {
    let this_month: Vec<&MedicalTicket> = tickets
        .iter()
        .filter(|t| {
            t.month.year() == day.year()
                && t.month.month() == day.month()
                && t.valid_from <= day
                && day <= t.valid_to
        })
        .collect();
    if this_month.is_empty() {
        return MedicalAssistance::NotEntrusted;
    }
    match this_month
        .into_iter()
        .find(|t| t.designated_institution == institution)
    {
        Some(t) => MedicalAssistance::Ticket { ticket: t.clone() },
        None => MedicalAssistance::OtherInstitution,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn ticket(month: u32, institution: &str) -> MedicalTicket {
        MedicalTicket {
            kind: TicketKind::Medical,
            issue_number: format!("2026{month:02}0001"),
            month: d(2026, month, 1),
            valid_from: d(2026, month, 1),
            valid_to: d(2026, month, 28),
            designated_institution: institution.into(),
            designated_name: "かくにん内科クリニック".into(),
            self_pay_amount: 0,
        }
    }

    #[test]
    fn this_months_ticket_goes_to_the_institution_it_designates() {
        let tickets = [ticket(11, "1310123452"), ticket(12, "1310123452")];
        assert_eq!(
            for_institution(&tickets, "1310123452", d(2026, 12, 1)),
            MedicalAssistance::Ticket {
                ticket: tickets[1].clone()
            }
        );
        assert_eq!(
            for_institution(&tickets, "2710000018", d(2026, 12, 1)),
            MedicalAssistance::OtherInstitution,
            "another institution gets no ticket data"
        );
    }

    #[test]
    fn before_the_office_registers_the_month_the_answer_is_not_entrusted() {
        let tickets = [ticket(11, "1310123452")];
        assert_eq!(
            for_institution(&tickets, "1310123452", d(2026, 12, 1)),
            MedicalAssistance::NotEntrusted
        );
        assert_eq!(
            for_institution(&[], "1310123452", d(2026, 12, 1)),
            MedicalAssistance::NotEntrusted
        );
        // Past the ticket's last valid day within its month, the month is not covered either.
        assert_eq!(
            for_institution(&tickets, "1310123452", d(2026, 11, 29)),
            MedicalAssistance::NotEntrusted
        );
        assert_eq!(
            (TicketKind::Medical.code(), TicketKind::Dispensing.code()),
            (1, 2)
        );
        assert!(is_recipient("12130019") && !is_recipient("01130012") && !is_recipient("123456"));
    }
}
