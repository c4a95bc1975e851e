//! The answers to the kinds of [`crate::kinds`], in the elements the clinic programs read:
//! OQSDrug2 reads a medication answer's `ResultCode` (1 for a result, else `MessageContents`),
//! the patient in `MessageHeader/QuaInf` and the items under `MessageBody/MeTrMonthInf`, and a
//! checkup answer's patient in `MessageHeader/QualificationsInfo` and each checkup in
//! `SpecificHealthCheckupInfo`; MynaReception and OQSDrug2 read a registration's or a batch's
//! `SegmentOfResult`, `ProcessingResultStatus`/`Code`/`Message`, `ReceptionNumber` and, per
//! registration, `ReferenceNumber` and the insurance numbers.

use crate::codes::{date_code, ReferenceClassification};
use crate::kinds::{Ask, OtherOutcome, OtherRequest};
use crate::message::{el, encode, open_message, opt_el, AnswerHeader};
use kakunin_api::eligibility::MedicalItem;
use kakunin_api::references::{InformationView, ReferenceRegistration, RegistrationOutcome};
use kakunin_core::consent::InfoCategory;

/// The answer to `req`; `None` while the service is unavailable (the request stays).
pub fn reply(
    req: &OtherRequest,
    outcome: OtherOutcome,
    institution: &str,
    now: chrono::NaiveDateTime,
) -> Option<Vec<u8>> {
    let header = AnswerHeader {
        institution,
        confirmation_date: now.date(),
        file_identifier: req.file_identifier.as_deref(),
    };
    let by = ReferenceClassification::Numbers;
    let enc = req.encoding;
    let x = match outcome {
        OtherOutcome::Unavailable(_) => return None,
        OtherOutcome::Refused { code, message } => {
            let mut x = open_message(&header, now, enc, by, Some((&code, &message)), |x| {
                if matches!(req.ask, Ask::Information(_)) {
                    el(x, "ResultCode", "2");
                    el(x, "MessageContents", &message);
                }
            });
            el(&mut x, "ProcessingResultStatus", "2");
            el(&mut x, "ProcessingResultCode", &code);
            el(&mut x, "ProcessingResultMessage", &message);
            if let Ask::Register(r) = &req.ask {
                registration_info(&mut x, "ReferenceNumberRegistrationInfo", r);
            }
            x
        }
        OtherOutcome::Information(view) => {
            let category = match &req.ask {
                Ask::Information(i) => i.category,
                _ => InfoCategory::Medication,
            };
            let mut x = open_message(&header, now, enc, by, None, |x| {
                el(x, "ResultCode", "1");
                patient(x, category, &view);
            });
            el(&mut x, "ProcessingResultStatus", "1");
            match category {
                InfoCategory::Checkup => checkups(&mut x, &view.items),
                _ => medication(&mut x, &view.items),
            }
            x
        }
        OtherOutcome::Registered(o) => {
            let mut x = open_message(&header, now, enc, by, None, |_| {});
            el(&mut x, "ProcessingResultStatus", "1");
            registration_info(&mut x, "ReferenceNumberRegistrationInfo", &o.registration);
            x
        }
        OtherOutcome::Received(receipt) => {
            let mut x = open_message(&header, now, enc, by, None, |_| {});
            el(&mut x, "ProcessingResultStatus", "1");
            el(&mut x, "ReceptionNumber", &receipt.reception_number);
            el(
                &mut x,
                "NumberOfRegistrations",
                &receipt.received.to_string(),
            );
            x
        }
        OtherOutcome::BatchResult(b) => {
            let mut x = open_message(&header, now, enc, by, None, |_| {});
            el(&mut x, "ProcessingResultStatus", "1");
            el(&mut x, "ReceptionNumber", &b.reception_number);
            x.push_str("<ResultList>");
            for o in &b.outcomes {
                outcome_info(&mut x, o);
            }
            x.push_str("</ResultList>");
            x
        }
    };
    Some(encode(&format!("{x}</MessageBody></XmlMsg>\n"), enc))
}

fn registration_info(x: &mut String, name: &str, r: &ReferenceRegistration) {
    x.push_str(&format!("<{name}>"));
    registration_fields(x, r);
    x.push_str(&format!("</{name}>"));
}

fn registration_fields(x: &mut String, r: &ReferenceRegistration) {
    el(x, "ReferenceNumber", &r.reference_number);
    el(x, "InsurerNumber", &r.insurer_number);
    opt_el(x, "InsuredCardSymbol", Some(&r.symbol));
    el(x, "InsuredIdentificationNumber", &r.number);
    opt_el(x, "InsuredBranchNumber", Some(&r.branch));
}

fn outcome_info(x: &mut String, o: &RegistrationOutcome) {
    x.push_str("<ReferenceNumberRegistrationResult>");
    registration_fields(x, &o.registration);
    el(
        x,
        "ProcessingResultStatus",
        if o.registered { "1" } else { "2" },
    );
    if let Some(code) = o.code {
        el(x, "ProcessingResultCode", code.as_str());
    }
    opt_el(x, "ProcessingResultMessage", o.message.as_deref());
    x.push_str("</ReferenceNumberRegistrationResult>");
}

/// The patient block each kind's reader expects in the header.
fn patient(x: &mut String, category: InfoCategory, v: &InformationView) {
    let (block, name, kana, birth, sex) = match category {
        InfoCategory::Checkup => (
            "QualificationsInfo",
            "Name",
            "KanasName",
            "Birthday",
            "AdministrativeGenderCode",
        ),
        _ => ("QuaInf", "Name", "KanaName", "Birth", "AdmGendCode"),
    };
    x.push_str(&format!("<{block}>"));
    el(x, name, &v.name);
    el(x, kana, &v.name_kana);
    el(x, birth, &date_code(v.birth_date));
    el(x, sex, &v.sex.to_string());
    x.push_str(&format!("</{block}>"));
}

/// A value of an item's content as text (numbers as written, strings as they are).
fn text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Medication items, by month (`MeTrMonthInf`, `MeTrMonth` yyyyMM) and day (`DiDateInf`,
/// `DiDate`): an item's `drug`, `dose` and `days` are `DrugN`, `UsageN` and `Times` (a plain
/// text item is its `DrugN`).
fn medication(x: &mut String, items: &[MedicalItem]) {
    let mut sorted: Vec<&MedicalItem> = items.iter().collect();
    sorted.sort_by_key(|i| i.recorded_on);
    let mut month: Option<String> = None;
    let mut day: Option<chrono::NaiveDate> = None;
    for i in sorted {
        let m = i.recorded_on.format("%Y%m").to_string();
        if month.as_deref() != Some(&m) {
            if month.is_some() {
                x.push_str("</DrugInfs></DiDateInf></DiDateInfs></MeTrMonthInf>");
            }
            x.push_str("<MeTrMonthInf>");
            el(x, "MeTrMonth", &m);
            x.push_str("<DiDateInfs>");
            month = Some(m);
            day = None;
        }
        if day != Some(i.recorded_on) {
            if day.is_some() {
                x.push_str("</DrugInfs></DiDateInf>");
            }
            x.push_str("<DiDateInf>");
            el(x, "DiDate", &date_code(i.recorded_on));
            x.push_str("<DrugInfs>");
            day = Some(i.recorded_on);
        }
        x.push_str("<DrugInf>");
        let c = &i.content;
        let field = |k: &str| c.get(k).and_then(text);
        opt_el(x, "DrugN", field("drug").or_else(|| text(c)).as_deref());
        opt_el(x, "UsageN", field("dose").as_deref());
        opt_el(x, "Times", field("days").as_deref());
        x.push_str("</DrugInf>");
    }
    if month.is_some() {
        x.push_str("</DrugInfs></DiDateInf></DiDateInfs></MeTrMonthInf>");
    }
}

/// Names and units of the checkup values kakunin holds, by their key.
fn checkup_item(key: &str) -> (&str, Option<&'static str>) {
    match key {
        "bmi" => ("BMI", Some("kg/m2")),
        "systolic" => ("収縮期血圧", Some("mmHg")),
        "diastolic" => ("拡張期血圧", Some("mmHg")),
        "hba1c" => ("HbA1c", Some("%")),
        other => (other, None),
    }
}

/// Checkup items, one `SpecificHealthCheckupInfo` per checkup (`EffectiveTime` yyyyMMdd), one
/// `HealthCheckupResultAndQuestionInfo` per value: `ItemCode` is the value's key as kakunin
/// holds it (kakunin's data carries no JLAC10 codes), `ItemName` its name, `DataType` `PQ` for a
/// number and `ST` for text.
fn checkups(x: &mut String, items: &[MedicalItem]) {
    for i in items {
        x.push_str("<SpecificHealthCheckupInfo>");
        el(x, "EffectiveTime", &date_code(i.recorded_on));
        x.push_str("<HealthCheckupResultAndQuestionInfos>");
        if let Some(map) = i.content.as_object() {
            for (k, v) in map {
                let Some(value) = text(v) else { continue };
                let (name, unit) = checkup_item(k);
                x.push_str("<HealthCheckupResultAndQuestionInfo>");
                el(x, "ItemCode", k);
                el(x, "ItemName", name);
                el(x, "DataType", if v.is_number() { "PQ" } else { "ST" });
                el(x, "DataValue", &value);
                opt_el(x, "Unit", unit);
                x.push_str("</HealthCheckupResultAndQuestionInfo>");
            }
        }
        x.push_str("</HealthCheckupResultAndQuestionInfos></SpecificHealthCheckupInfo>");
    }
}
