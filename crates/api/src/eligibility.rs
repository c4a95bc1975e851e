//! Eligibility results: of a completed visit, by certificate numbers, for a proxy pickup; and
//! the medical information a consent lets an institution view.

use chrono::NaiveDate;
use kakunin_core::consent::{ConsentSelection, InfoCategory};
use kakunin_core::eligibility::EligibilityResult;
use kakunin_core::visit::ProxyDocument;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A visit's result as reception sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VisitResult {
    /// The visit.
    pub visit_id: String,
    /// The eligibility result, limited to what was consented.
    pub result: EligibilityResult,
    /// The consent selection.
    pub consent: ConsentSelection,
    /// The categories of medical information this institution may view for this visit.
    pub viewable: Vec<InfoCategory>,
    /// A helper operated the screen for the patient.
    pub consent_assisted: bool,
    /// When the consent was given (the visit's completion).
    pub consented_at: chrono::DateTime<chrono::Utc>,
    /// Electronic or paper prescription, as the patient chose where the institution asks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prescription: Option<kakunin_core::prescription::PrescriptionForm>,
    /// The patient's 公費 recipient certificates valid today, when they chose to use them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipient_certificates: Vec<kakunin_core::public_expense::RecipientCertificate>,
}

/// 保険者番号・記号・番号・枝番 from an eligibility certificate (or insurance card, prescription).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct NumbersCheck {
    /// 保険者番号: 6 digits (国保) or 8 digits, with check digit.
    pub insurer_number: String,
    /// 記号 (may be empty).
    #[serde(default)]
    pub symbol: String,
    /// 番号.
    pub number: String,
    /// 枝番: 2 digits.
    pub branch: String,
    /// When given, must match the person's birth date.
    pub birth_date: Option<NaiveDate>,
    /// The day eligibility is judged for (資格確認日; the clinic software's
    /// `QualificationConfirmationDate`): today when absent; never a future day.
    #[serde(default)]
    pub on: Option<NaiveDate>,
    /// The patient consented at the desk to limit-amount information (限度額適用認定証情報の
    /// 提供に同意): the limit category is then included. Ignored for proxy pickups.
    #[serde(default)]
    pub limit_consent: bool,
    /// The document the numbers were read from, with what is printed on it: a health insurance
    /// card after its expiry or after 2025-12-01, a 資格確認書 past its validity and a
    /// 資格情報のお知らせ without the card are refused with the reason. Absent when the asker
    /// does not say (clinic software's folder requests).
    #[serde(default)]
    pub document: Option<kakunin_core::documents::ShownDocument>,
}

/// A proxy collecting medicine for an absent holder.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProxyPickup {
    /// What the proxy brought; without one the check is refused.
    pub document: Option<ProxyDocument>,
    /// The numbers on it.
    #[serde(flatten)]
    pub numbers: NumbersCheck,
}

/// One item of medical information.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MedicalItem {
    /// Its category.
    pub category: InfoCategory,
    /// When it was recorded.
    pub recorded_on: NaiveDate,
    /// The item (medication, checkup or clinical record).
    pub content: serde_json::Value,
}
