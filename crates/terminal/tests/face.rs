//! `face/` files of card-reader visits: written once (across restarts), Shift_JIS, with the
//! card reference classification, per-category consent flags and times, and the elderly
//! recipient certificate block; ids that could name a path are refused.

use kakunin_core::consent::ConsentSelection;
use kakunin_core::eligibility::{ElderlyRecipient, EligibilityResult, QualificationValidity};
use kakunin_terminal::folder::{CardVisit, Folder, FACE_PREFIX};

fn elderly() -> EligibilityResult {
    EligibilityResult {
        validity: QualificationValidity::Valid,
        insurer_number: "138057".into(),
        insurer_name: "千代田区国民健康保険".into(),
        insurance_type: "国民健康保険".into(),
        symbol: "千代".into(),
        number: "4321".into(),
        branch: "00".into(),
        personal_family: 1,
        name: "佐藤 花子".into(),
        name_kana: "サトウ ハナコ".into(),
        birth_date: "1954-06-15".parse().unwrap(),
        sex: 2,
        address: "東京都千代田区九段南1-2-1".into(),
        post_number: "102-8688".into(),
        copay_percent: 20,
        valid_from: "2019-04-01".parse().unwrap(),
        valid_to: None,
        limit_category: Some("A04".into()),
        elderly_recipient: Some(ElderlyRecipient {
            valid_from: "2024-07-01".parse().unwrap(),
            valid_to: "2029-06-14".parse().unwrap(),
            copay_percent: 20,
        }),
        reference_number: None,
        document: None,
        medical_assistance: None,
    }
}

fn files(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("face"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".xml"))
        .collect();
    v.sort();
    v
}

#[test]
fn a_card_visit_is_written_once_with_consents_and_elderly_information() {
    let dir = tempfile::tempdir().unwrap();
    let f = Folder::open(dir.path()).unwrap().serving("1310123452");
    let result = elderly();
    let visit = CardVisit {
        visit_id: "v-0123abcd",
        result: &result,
        consent: ConsentSelection {
            medication: true,
            checkup: false,
            clinical: true,
            limit_amount: true,
        },
        consented_at: "2026-11-25T09:30:05".parse().unwrap(),
        prescription: Some(kakunin_core::prescription::PrescriptionForm::Electronic),
    };
    let now = "2026-11-25T09:30:06".parse().unwrap();
    assert!(f.write_face_result(&visit, now).unwrap());
    assert!(!f.write_face_result(&visit, now).unwrap(), "written once");
    let restarted = Folder::open(dir.path()).unwrap();
    assert!(restarted.face_written("v-0123abcd"));
    assert!(!restarted.write_face_result(&visit, now).unwrap());

    let names = files(dir.path());
    assert_eq!(
        names,
        vec![format!(
            "{FACE_PREFIX}13101234520123abcd_20261125093006.xml"
        )]
    );
    let bytes = std::fs::read(dir.path().join("face").join(&names[0])).unwrap();
    let (x, _, bad) = encoding_rs::SHIFT_JIS.decode(&bytes);
    assert!(!bad, "valid Shift_JIS");
    for want in [
        "encoding=\"Shift_JIS\"",
        "<ReferenceClassification>1</ReferenceClassification>",
        "<Name>佐藤 花子</Name>",
        "<ElderlyRecipientCertificateInfo><ElderlyRecipientCertificateDate>20240701</ElderlyRecipientCertificateDate><ElderlyRecipientValidStartDate>20240701</ElderlyRecipientValidStartDate><ElderlyRecipientValidEndDate>20290614</ElderlyRecipientValidEndDate><ElderlyRecipientContributionRatio>020</ElderlyRecipientContributionRatio></ElderlyRecipientCertificateInfo>",
        "<LimitApplicationCertificateRelatedConsFlg>1</LimitApplicationCertificateRelatedConsFlg><LimitApplicationCertificateRelatedConsTime>20261125093005</LimitApplicationCertificateRelatedConsTime>",
        "<SpecificHealthCheckupsInfoConsFlg>0</SpecificHealthCheckupsInfoConsFlg><PharmaceuticalInfoConsFlg>",
        "<PharmaceuticalInfoConsFlg>1</PharmaceuticalInfoConsFlg><PharmaceuticalInfoConsTime>20261125093005</PharmaceuticalInfoConsTime>",
        "<DiagnosisInfoConsFlg>1</DiagnosisInfoConsFlg>",
        "<OperationInfoConsFlg>1</OperationInfoConsFlg>",
        "<LimitApplicationCertificateClassification>01</LimitApplicationCertificateClassification><LimitApplicationCertificateClassificationFlag>A04</LimitApplicationCertificateClassificationFlag>",
        "<MedicalInstitutionCode>1310123452</MedicalInstitutionCode>",
        // The patient's choice at the reader: an electronic prescription.
        "<QualificationValidity>1</QualificationValidity><PrescriptionIssueSelect>1</PrescriptionIssueSelect>",
    ] {
        assert!(x.contains(want), "{want} in {x}");
    }
    // Not 後期高齢者 (the peers read the ratio as that one's); no 照会番号 registered (never our
    // visit id in its place).
    for absent in ["InsuredPartialContributionRatio", "ReferenceNumber"] {
        assert!(!x.contains(absent), "{absent} in {x}");
    }
}

#[test]
fn visit_ids_that_could_name_a_path_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let f = Folder::open(dir.path()).unwrap();
    let result = elderly();
    for id in ["", "../res/x", "a/b", "v 1"] {
        let visit = CardVisit {
            visit_id: id,
            result: &result,
            consent: ConsentSelection::default(),
            consented_at: "2026-11-25T09:30:05".parse().unwrap(),
            prescription: None,
        };
        let e = f
            .write_face_result(&visit, "2026-11-25T09:30:06".parse().unwrap())
            .unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{id}");
    }
    assert!(files(dir.path()).is_empty());
}

#[test]
fn a_recipients_face_file_carries_this_months_medical_ticket() {
    use kakunin_core::medical_assistance::{MedicalAssistance, MedicalTicket, TicketKind};
    let dir = tempfile::tempdir().unwrap();
    let f = Folder::open(dir.path()).unwrap().serving("1310123452");
    let mut result = elderly();
    result.medical_assistance = Some(MedicalAssistance::Ticket {
        ticket: MedicalTicket {
            kind: TicketKind::Medical,
            issue_number: "2026110001".into(),
            month: "2026-11-01".parse().unwrap(),
            valid_from: "2026-11-01".parse().unwrap(),
            valid_to: "2026-11-30".parse().unwrap(),
            designated_institution: "1310123452".into(),
            designated_name: "かくにん内科クリニック".into(),
            self_pay_amount: 0,
        },
    });
    let visit = CardVisit {
        visit_id: "v-aid",
        result: &result,
        consent: ConsentSelection::default(),
        consented_at: "2026-11-25T09:30:05".parse().unwrap(),
        prescription: None,
    };
    assert!(f
        .write_face_result(&visit, "2026-11-25T09:30:06".parse().unwrap())
        .unwrap());
    let name = files(dir.path()).remove(0);
    let bytes = std::fs::read(dir.path().join("face").join(&name)).unwrap();
    let (x, _, _) = encoding_rs::SHIFT_JIS.decode(&bytes);
    assert!(
        x.contains("<PublicExpenseResultList><MedicalTicketInfo><TicketType>1</TicketType><MedicalTicketValidDate>20261101</MedicalTicketValidDate><MedicalTicketExpirationDate>20261130</MedicalTicketExpirationDate><IssueNumber>2026110001</IssueNumber><MedicalTreatmentMonth>202611</MedicalTreatmentMonth><DesignatedMedicalInstitutionCode>1310123452</DesignatedMedicalInstitutionCode><DesignatedMedicalInstitutionName>かくにん内科クリニック</DesignatedMedicalInstitutionName><SelfPayAmount>0</SelfPayAmount></MedicalTicketInfo></PublicExpenseResultList>"),
        "{x}"
    );
    // No prescription choice was asked: none is written.
    assert!(!x.contains("PrescriptionIssueSelect"), "{x}");
}
