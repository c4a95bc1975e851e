//! The request kinds besides the single check, as the clinic programs write them: medication
//! (`YZKsiquc01`) and checkup (`TKKsiquc01`) information by the patient's numbers, 照会番号
//! registration one at a time (`OQSsiimm01`) or as a batch (`OQSmuimm01`, its result fetched
//! by reception number with `OQSmuimm02`); and the kinds kakunin has no data for, refused in
//! writing. Their answers are in [`crate::replies`].

use crate::message::{decode, Encoding};
use crate::tree::Element;
use crate::TerminalError;
use chrono::{Datelike, NaiveDate};
use kakunin_api::eligibility::NumbersCheck;
use kakunin_api::references::{
    BatchReceipt, BatchResult, InformationByNumbers, InformationView, ReferenceRegistration,
    RegistrationOutcome,
};
use kakunin_core::consent::InfoCategory;

/// Most registrations in one `OQSmuimm01` file (the service takes batches of up to this many).
pub const MAX_BATCH: usize = 5_000;

/// What a request of another kind asks.
#[derive(Debug, Clone)]
pub enum Ask {
    /// Consented medication or checkup information by the patient's numbers.
    Information(InformationByNumbers),
    /// Register one 照会番号.
    Register(ReferenceRegistration),
    /// Register a batch of 照会番号 (answered with a reception number).
    Batch(Vec<ReferenceRegistration>),
    /// The result of a batch, by its reception number.
    BatchResult(String),
}

/// A parsed request of another kind.
#[derive(Debug, Clone)]
pub struct OtherRequest {
    /// Its kind (`YZKsiquc01`, …).
    pub kind: String,
    /// What it asks.
    pub ask: Ask,
    /// The asking institution's 医療機関コード.
    pub medical_institution_code: String,
    /// `ArbitraryFileIdentifier`, echoed.
    pub file_identifier: Option<String>,
    /// The file's encoding (the answer's).
    pub encoding: Encoding,
}

/// What the service said to a request of another kind.
#[derive(Debug, Clone)]
pub enum OtherOutcome {
    /// The consented items.
    Information(InformationView),
    /// One registration done.
    Registered(RegistrationOutcome),
    /// A batch received.
    Received(BatchReceipt),
    /// A batch's result.
    BatchResult(BatchResult),
    /// Refused with a reason: answered as an error.
    Refused {
        /// The service's (or the terminal's) code.
        code: String,
        /// What happened and what to do.
        message: String,
    },
    /// The service could not be reached: the request stays.
    Unavailable(String),
}

/// Whether kind `kind` is one the terminal answers besides the single check.
pub fn answered(kind: &str) -> bool {
    matches!(
        kind,
        "YZKsiquc01" | "TKKsiquc01" | "OQSsiimm01" | "OQSmuimm01" | "OQSmuimm02"
    )
}

/// Why a kind is not answered, for its error answer.
pub fn refusal(kind: &str) -> String {
    match kind {
        "OQSmuonq01" | "OQSmuonq02" | "OQSmuhvq01" | "OQSmuhvq02" => format!(
            "request kind {kind} (consents for online or home-visit care) is not supported: kakunin records consents only at the card readers of the institution and holds no online or home-visit consents to list"
        ),
        "OQSmutic01" | "OQSmutic02" => format!(
            "request kind {kind} (医療扶助, public medical assistance) is not supported: kakunin holds no medical-assistance records"
        ),
        _ => format!(
            "request kind {kind} is not supported by this terminal; it answers OQSsiquc01, YZKsiquc01, TKKsiquc01, OQSsiimm01, OQSmuimm01 and OQSmuimm02"
        ),
    }
}

fn field(root: &Element, names: &[&str]) -> Option<String> {
    root.text_of(names).map(str::to_owned)
}

fn need(root: &Element, names: &[&str]) -> Result<String, TerminalError> {
    field(root, names).ok_or_else(|| TerminalError::Field(format!("{} is missing", names[0])))
}

/// A day or a month (`yyyyMMdd` or `yyyyMM`): a month stands for its first day (`end` false)
/// or its last (`end` true).
fn day_or_month(name: &str, v: &str, end: bool) -> Result<NaiveDate, TerminalError> {
    let bad = || {
        TerminalError::Field(format!(
            "{name} {v:?} is not a yyyyMMdd day or a yyyyMM month"
        ))
    };
    match v.len() {
        8 => NaiveDate::parse_from_str(v, "%Y%m%d").map_err(|_| bad()),
        6 => {
            let first =
                NaiveDate::parse_from_str(&format!("{v}01"), "%Y%m%d").map_err(|_| bad())?;
            if !end {
                return Ok(first);
            }
            let next = first
                .with_day(28)
                .and_then(|d| d.checked_add_days(chrono::Days::new(4)))
                .and_then(|d| d.with_day(1))
                .ok_or_else(bad)?;
            Ok(next.pred_opt().ok_or_else(bad)?)
        }
        _ => Err(bad()),
    }
}

fn registration(e: &Element) -> Result<ReferenceRegistration, TerminalError> {
    Ok(ReferenceRegistration {
        reference_number: need(e, &["ReferenceNumber"])?,
        insurer_number: need(e, &["InsurerNumber"])?.trim().to_owned(),
        symbol: field(e, &["InsuredCardSymbol"]).unwrap_or_default(),
        number: need(e, &["InsuredIdentificationNumber"])?,
        branch: field(e, &["InsuredBranchNumber"]).unwrap_or_default(),
    })
}

/// Parses a request of kind `kind` (one [`answered`] says the terminal answers).
pub fn parse(kind: &str, bytes: &[u8]) -> Result<OtherRequest, TerminalError> {
    let (text, encoding) = decode(bytes)?;
    let root = Element::parse(&text)?;
    let ask = match kind {
        "YZKsiquc01" | "TKKsiquc01" => {
            let category = if kind == "YZKsiquc01" {
                InfoCategory::Medication
            } else {
                InfoCategory::Checkup
            };
            let birth = field(&root, &["Birthdate"])
                .map(|b| day_or_month("Birthdate", &b, false))
                .transpose()?;
            let numbers = NumbersCheck {
                insurer_number: need(&root, &["InsurerNumber"])?.trim().to_owned(),
                symbol: field(&root, &["InsuranceCardSymbol", "InsuredCardSymbol"])
                    .unwrap_or_default(),
                number: need(
                    &root,
                    &[
                        "InsuredPersonIdentificationNumber",
                        "InsuredIdentificationNumber",
                    ],
                )?,
                branch: field(&root, &["BranchNumber", "InsuredBranchNumber"])
                    .unwrap_or_else(|| "00".into()),
                birth_date: birth,
                ..NumbersCheck::default()
            };
            Ask::Information(InformationByNumbers {
                numbers,
                category,
                from: field(&root, &["StartDate"])
                    .map(|d| day_or_month("StartDate", &d, false))
                    .transpose()?,
                to: field(&root, &["EndDate"])
                    .map(|d| day_or_month("EndDate", &d, true))
                    .transpose()?,
            })
        }
        "OQSsiimm01" => {
            let info = root
                .find("ReferenceNumberRegistrationInfo")
                .ok_or_else(|| {
                    TerminalError::Field("ReferenceNumberRegistrationInfo is missing".into())
                })?;
            Ask::Register(registration(info)?)
        }
        "OQSmuimm01" => {
            let infos = root.all("ReferenceNumberRegistrationInfo");
            if infos.is_empty() {
                return Err(TerminalError::Field(
                    "ReferenceNumberRegistrationInfo is missing".into(),
                ));
            }
            if infos.len() > MAX_BATCH {
                return Err(TerminalError::Field(format!(
                    "the batch has {} registrations, more than the {MAX_BATCH} one file may hold; split it into several files",
                    infos.len()
                )));
            }
            Ask::Batch(
                infos
                    .into_iter()
                    .map(registration)
                    .collect::<Result<_, _>>()?,
            )
        }
        "OQSmuimm02" => {
            let n = need(&root, &["ReceptionNumber"])?;
            if !n.bytes().all(|b| b.is_ascii_alphanumeric()) || n.len() > 64 {
                return Err(TerminalError::Field(
                    "ReceptionNumber is letters and digits only: use the one the OQSmuimm01 answer gave".into(),
                ));
            }
            Ask::BatchResult(n)
        }
        other => return Err(TerminalError::Field(refusal(other))),
    };
    Ok(OtherRequest {
        kind: kind.to_owned(),
        ask,
        medical_institution_code: need(&root, &["MedicalInstitutionCode"])?,
        file_identifier: field(&root, &["ArbitraryFileIdentifier"]),
        encoding,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_stands_for_its_first_or_last_day() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(day_or_month("x", "202602", false).unwrap(), d("2026-02-01"));
        assert_eq!(day_or_month("x", "202602", true).unwrap(), d("2026-02-28"));
        assert_eq!(day_or_month("x", "202412", true).unwrap(), d("2024-12-31"));
        assert_eq!(
            day_or_month("x", "20240229", true).unwrap(),
            d("2024-02-29")
        );
        assert!(day_or_month("x", "2026-02", true).is_err());
        assert!(day_or_month("x", "202613", false).is_err());
    }
}
