//! Our answers read the way the clinic programs read them (facts from hangilc/myclinic-ts
//! `packages/onshi-result`, YUKI-ENT/MynaReception `FaceXmlParser.cs` and YUKI-ENT/OQSDrug2; their
//! own parsers were run on these files outside the repository — see docs/terminal.md):
//! every header has the date, the institution and the character code and echoes the file id;
//! every body has `ProcessingResultStatus`; no element is written empty; limit codes sit in the
//! elements the peers check them in; a face file has exactly one result with kana and birth date.

use kakunin_core::consent::ConsentSelection;
use kakunin_core::eligibility::{ElderlyRecipient, EligibilityResult, QualificationValidity};
use kakunin_terminal::folder::{CardVisit, CheckOutcome, Checker, Folder};
use kakunin_terminal::message::CheckRequest;
use quick_xml::events::Event;

const CLINIC: &str = "1310123452";

/// Every element of a document as (path, text), e.g. ("XmlMsg/MessageHeader/SegmentOfResult", "1").
fn elements(xml: &str) -> Vec<(String, String)> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut path, mut out, mut text) = (Vec::<String>::new(), vec![], String::new());
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => {
                path.push(String::from_utf8(e.name().as_ref().to_vec()).unwrap());
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.unescape().unwrap()),
            Event::End(_) => {
                out.push((path.join("/"), std::mem::take(&mut text)));
                path.pop();
            }
            Event::Empty(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                out.push((format!("{}/{name}", path.join("/")), String::new()));
            }
            Event::Eof => return out,
            _ => {}
        }
    }
}

fn one<'a>(els: &'a [(String, String)], path: &str) -> &'a str {
    let found: Vec<_> = els.iter().filter(|(p, _)| p == path).collect();
    assert_eq!(found.len(), 1, "exactly one {path} in {els:?}");
    &found[0].1
}

fn result() -> EligibilityResult {
    EligibilityResult {
        validity: QualificationValidity::Valid,
        insurer_number: "39131156".into(),
        insurer_name: "東京都後期高齢者医療広域連合".into(),
        insurance_type: "後期高齢者医療".into(),
        symbol: String::new(),
        number: "12345678".into(),
        branch: "00".into(),
        personal_family: 1,
        name: "佐藤 花子".into(),
        name_kana: "サトウ ハナコ".into(),
        birth_date: "1944-06-15".parse().unwrap(),
        sex: 2,
        address: "東京都千代田区九段南1-2-1".into(),
        post_number: "102-8688".into(),
        copay_percent: 10,
        valid_from: "2019-04-01".parse().unwrap(),
        valid_to: None,
        limit_category: Some("B05".into()),
        elderly_recipient: None,
        reference_number: None,
        document: None,
        medical_assistance: None,
    }
}

struct Found;

impl Checker for Found {
    fn check(&mut self, r: &CheckRequest) -> CheckOutcome {
        assert_eq!(
            r.confirmation_date,
            "2026-11-20".parse().ok(),
            "passed on to be judged"
        );
        CheckOutcome::Found {
            result: Box::new(result()),
        }
    }
}

fn request(institution: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"Shift_JIS\"?>\n<XmlMsg><MessageHeader><MedicalInstitutionCode>{institution}</MedicalInstitutionCode>\
         <ArbitraryFileIdentifier>RC-0042</ArbitraryFileIdentifier><QualificationConfirmationDate>20261120</QualificationConfirmationDate></MessageHeader>\
         <MessageBody><QualificationConfirmSearchInfo><InsurerNumber>39131156</InsurerNumber><InsuredIdentificationNumber>12345678</InsuredIdentificationNumber>\
         <InsuredBranchNumber>00</InsuredBranchNumber><Birthdate>19440615</Birthdate></QualificationConfirmSearchInfo></MessageBody></XmlMsg>"
    )
}

fn answered(dir: &std::path::Path, name: &str) -> (String, Vec<(String, String)>) {
    let bytes = std::fs::read(dir.join("res").join(name)).unwrap();
    // Strictly Shift_JIS as declared (the peers refuse a mismatch).
    let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&bytes);
    assert!(!bad, "{name} is Shift_JIS");
    let text = text.into_owned();
    let els = elements(&text);
    (text, els)
}

fn no_empty_elements(els: &[(String, String)]) {
    let leaves_with_children: Vec<&String> = els.iter().map(|(p, _)| p).collect();
    for (p, v) in els {
        let is_parent = leaves_with_children.iter().any(|q| {
            q.len() > p.len() && q.starts_with(p.as_str()) && q.as_bytes()[p.len()] == b'/'
        });
        assert!(is_parent || !v.is_empty(), "{p} is written empty");
    }
}

fn header_facts(els: &[(String, String)]) {
    let date = one(els, "XmlMsg/MessageHeader/QualificationConfirmationDate");
    assert!(
        date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()),
        "{date}"
    );
    assert_eq!(
        one(els, "XmlMsg/MessageHeader/MedicalInstitutionCode"),
        CLINIC
    );
    assert_eq!(
        one(els, "XmlMsg/MessageHeader/CharacterCodeIdentifier"),
        "1"
    );
    one(els, "XmlMsg/MessageHeader/ProcessExecutionTime");
    one(els, "XmlMsg/MessageHeader/ReferenceClassification");
    one(els, "XmlMsg/MessageBody/ProcessingResultStatus");
    no_empty_elements(els);
}

fn now() -> chrono::NaiveDateTime {
    "2026-11-20T09:30:00".parse().unwrap()
}

#[test]
fn an_answer_carries_what_every_peer_reads_and_nothing_empty() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Folder::open(dir.path()).unwrap().serving(CLINIC);
    std::fs::write(
        dir.path().join("req/OQSsiquc01req_k.xml"),
        encoding_rs::SHIFT_JIS.encode(&request(CLINIC)).0,
    )
    .unwrap();
    for _ in 0..2 {
        f.pass(&mut Found, now()).unwrap();
    }
    let (text, els) = answered(dir.path(), "OQSsiquc01res_k.xml");
    header_facts(&els);
    assert_eq!(
        one(&els, "XmlMsg/MessageHeader/ArbitraryFileIdentifier"),
        "RC-0042",
        "echoed"
    );
    assert_eq!(
        one(&els, "XmlMsg/MessageHeader/QualificationConfirmationDate"),
        "20261120"
    );
    assert_eq!(one(&els, "XmlMsg/MessageBody/ProcessingResultStatus"), "1");
    let r = "XmlMsg/MessageBody/ResultList/ResultOfQualificationConfirmation";
    assert_eq!(one(&els, &format!("{r}/InsuredCardValidDate")), "20190401");
    // 後期高齢者: the ratio the peers read as 負担割 (010 → 1割).
    assert_eq!(
        one(&els, &format!("{r}/InsuredPartialContributionRatio")),
        "010"
    );
    let limit = format!("{r}/LimitApplicationCertificateRelatedInfo");
    assert_eq!(
        one(
            &els,
            &format!("{limit}/LimitApplicationCertificateClassification")
        ),
        "02"
    );
    assert_eq!(
        one(
            &els,
            &format!("{limit}/LimitApplicationCertificateClassificationFlag")
        ),
        "B05"
    );
    assert!(
        !text.contains("ErrorCode"),
        "no error elements on success: {text}"
    );
    assert!(
        !text.contains("ConsTime"),
        "no consent, no consent time: {text}"
    );
    assert!(
        !text.contains("KKN-REF"),
        "our reference is not the clinic's 照会番号"
    );
}

#[test]
fn an_error_answer_has_its_header_and_body_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Folder::open(dir.path()).unwrap().serving(CLINIC);
    // Another institution's request: refused in writing.
    std::fs::write(
        dir.path().join("req/OQSsiquc01req_other.xml"),
        encoding_rs::SHIFT_JIS.encode(&request("1319999991")).0,
    )
    .unwrap();
    for _ in 0..2 {
        f.pass(&mut Found, now()).unwrap();
    }
    let (_, els) = answered(dir.path(), "OQSsiquc01res_other.xml");
    header_facts(&els);
    assert_eq!(one(&els, "XmlMsg/MessageHeader/SegmentOfResult"), "9");
    assert_eq!(one(&els, "XmlMsg/MessageHeader/ErrorCode"), "KKN-E009");
    assert_eq!(one(&els, "XmlMsg/MessageBody/ProcessingResultStatus"), "2");
}

#[test]
fn a_face_file_is_what_reception_programs_take_in() {
    let dir = tempfile::tempdir().unwrap();
    let f = Folder::open(dir.path()).unwrap().serving(CLINIC);
    let mut r = result();
    r.insurer_number = "01130012".into();
    r.elderly_recipient = Some(ElderlyRecipient {
        valid_from: "2024-07-01".parse().unwrap(),
        valid_to: "2029-06-14".parse().unwrap(),
        copay_percent: 20,
    });
    let visit = CardVisit {
        visit_id: "v-0a1b",
        result: &r,
        consent: ConsentSelection {
            medication: true,
            ..ConsentSelection::default()
        },
        consented_at: now(),
        prescription: Some(kakunin_core::prescription::PrescriptionForm::Electronic),
    };
    assert!(f.write_face_result(&visit, now()).unwrap());
    let name = std::fs::read_dir(dir.path().join("face"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".xml"))
        .unwrap();
    // MynaReception: OQSsiquc01res_face_<anything>_<yyyyMMddHHmmss>.xml, and as its example
    // names them, the institution's code first.
    let (id, stamp) = name
        .strip_prefix("OQSsiquc01res_face_")
        .and_then(|n| n.strip_suffix(".xml"))
        .and_then(|n| n.rsplit_once('_'))
        .unwrap();
    assert!(id.starts_with(CLINIC) && !id.contains('_'), "{name}");
    assert!(
        stamp.len() == 14 && stamp.bytes().all(|b| b.is_ascii_digit()),
        "{name}"
    );
    let bytes = std::fs::read(dir.path().join("face").join(&name)).unwrap();
    let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&bytes);
    assert!(!bad);
    let els = elements(&text);
    header_facts(&els);
    assert_eq!(one(&els, "XmlMsg/MessageHeader/SegmentOfResult"), "1");
    assert_eq!(one(&els, "XmlMsg/MessageBody/ProcessingResultStatus"), "1");
    let r = "XmlMsg/MessageBody/ResultList/ResultOfQualificationConfirmation";
    // Half-width, as the peers' fixtures hold it (myclinic-ts onshi-face.test.ts: "ｼﾝﾘｮｳ ﾀﾛｳ").
    assert_eq!(one(&els, &format!("{r}/NameKana")), "ｻﾄｳ ﾊﾅｺ");
    assert_eq!(one(&els, &format!("{r}/Birthdate")), "19440615");
    assert!(
        !els.iter()
            .any(|(p, _)| p.ends_with("InsuredPartialContributionRatio")),
        "not 後期高齢者: no ratio the peers would read as one"
    );
    assert!(
        !els.iter().any(|(p, _)| p.ends_with("ReferenceNumber")),
        "no 照会番号 registered"
    );
}

mod other_kinds {
    //! The answers to the other kinds, at the paths the peers select: OQSDrug2's medication
    //! reader (`/XmlMsg/MessageHeader/QuaInf`, `/XmlMsg/MessageBody/MeTrMonthInf`,
    //! `DiDateInfs/DiDateInf`, `DrugInfs/DrugInf`, `//ResultCode`), its checkup reader
    //! (`/XmlMsg/MessageHeader/QualificationsInfo`, `//SpecificHealthCheckupInfo`,
    //! `HealthCheckupResultAndQuestionInfos/HealthCheckupResultAndQuestionInfo`) and its batch
    //! reader (`//ReceptionNumber`, `//ProcessingResultStatus`), MynaReception's registration
    //! reader (`SegmentOfResult`, `ProcessingResultStatus`, `ReferenceNumber`,
    //! `ArbitraryFileIdentifier`).
    use super::{elements, one, CLINIC};
    use kakunin_api::eligibility::MedicalItem;
    use kakunin_api::references::{BatchReceipt, InformationView, RegistrationOutcome};
    use kakunin_core::consent::InfoCategory;
    use kakunin_terminal::kinds::{self, OtherOutcome};
    use kakunin_terminal::replies::reply;

    fn request(kind: &str, header: &str, body: &str) -> kinds::OtherRequest {
        let xml = format!("<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><XmlMsg><MessageHeader><MedicalInstitutionCode>{CLINIC}</MedicalInstitutionCode><ArbitraryFileIdentifier>X9</ArbitraryFileIdentifier>{header}</MessageHeader><MessageBody>{body}</MessageBody></XmlMsg>");
        kinds::parse(kind, &encoding_rs::SHIFT_JIS.encode(&xml).0).unwrap()
    }

    fn text(bytes: Vec<u8>) -> String {
        encoding_rs::SHIFT_JIS.decode(&bytes).0.into_owned()
    }

    fn now() -> chrono::NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(9, 30, 0)
            .unwrap()
    }

    fn view(items: Vec<MedicalItem>) -> InformationView {
        InformationView {
            name: "髙橋 﨑子".into(),
            name_kana: "タカハシ サキコ".into(),
            birth_date: chrono::NaiveDate::from_ymd_opt(1950, 3, 4).unwrap(),
            sex: 2,
            items,
        }
    }

    fn item(
        category: InfoCategory,
        day: (i32, u32, u32),
        content: serde_json::Value,
    ) -> MedicalItem {
        MedicalItem {
            category,
            recorded_on: chrono::NaiveDate::from_ymd_opt(day.0, day.1, day.2).unwrap(),
            content,
        }
    }

    const NUMBERS: &str = "<InsurerNumber>  123453</InsurerNumber><InsuranceCardSymbol>12</InsuranceCardSymbol><InsuredPersonIdentificationNumber>34</InsuredPersonIdentificationNumber><BranchNumber>01</BranchNumber>";

    #[test]
    fn a_medication_request_as_oqsdrug_writes_it_is_read() {
        let r = request(
            "YZKsiquc01",
            NUMBERS,
            "<StartDate>202601</StartDate><EndDate>202611</EndDate><FileCategory>1</FileCategory>",
        );
        let kinds::Ask::Information(q) = &r.ask else {
            panic!("{r:?}")
        };
        assert_eq!(q.category, InfoCategory::Medication);
        assert_eq!(
            q.numbers.insurer_number, "123453",
            "spaces of the padding dropped"
        );
        assert_eq!(
            (
                q.numbers.symbol.as_str(),
                q.numbers.number.as_str(),
                q.numbers.branch.as_str()
            ),
            ("12", "34", "01")
        );
        assert_eq!(q.from, chrono::NaiveDate::from_ymd_opt(2026, 1, 1));
        assert_eq!(q.to, chrono::NaiveDate::from_ymd_opt(2026, 11, 30));
        assert_eq!(r.file_identifier.as_deref(), Some("X9"));
    }

    #[test]
    fn medication_sits_where_oqsdrug_reads_it() {
        let r = request("YZKsiquc01", NUMBERS, "");
        let items = vec![
            item(
                InfoCategory::Medication,
                (2026, 11, 2),
                serde_json::json!({ "drug": "アムロジピン錠5mg", "dose": "1日1回1錠", "days": 28 }),
            ),
            item(
                InfoCategory::Medication,
                (2026, 11, 2),
                serde_json::json!({ "drug": "メトホルミン錠250mg" }),
            ),
            item(
                InfoCategory::Medication,
                (2026, 10, 5),
                serde_json::json!("ロキソプロフェン錠60mg"),
            ),
        ];
        let x = text(reply(&r, OtherOutcome::Information(view(items)), CLINIC, now()).unwrap());
        let els = elements(&x);
        assert_eq!(one(&els, "XmlMsg/MessageHeader/ResultCode"), "1");
        assert_eq!(one(&els, "XmlMsg/MessageHeader/QuaInf/Name"), "髙橋 﨑子");
        assert_eq!(
            one(&els, "XmlMsg/MessageHeader/QuaInf/KanaName"),
            "タカハシ サキコ"
        );
        assert_eq!(one(&els, "XmlMsg/MessageHeader/QuaInf/Birth"), "19500304");
        assert_eq!(one(&els, "XmlMsg/MessageHeader/QuaInf/AdmGendCode"), "2");
        assert_eq!(
            one(&els, "XmlMsg/MessageHeader/ArbitraryFileIdentifier"),
            "X9"
        );
        let months: Vec<&str> = els
            .iter()
            .filter(|(p, _)| p == "XmlMsg/MessageBody/MeTrMonthInf/MeTrMonth")
            .map(|(_, t)| t.as_str())
            .collect();
        assert_eq!(months, ["202610", "202611"]);
        let drug = "XmlMsg/MessageBody/MeTrMonthInf/DiDateInfs/DiDateInf/DrugInfs/DrugInf";
        let drugs: Vec<&str> = els
            .iter()
            .filter(|(p, _)| p == &format!("{drug}/DrugN"))
            .map(|(_, t)| t.as_str())
            .collect();
        assert_eq!(
            drugs,
            [
                "ロキソプロフェン錠60mg",
                "アムロジピン錠5mg",
                "メトホルミン錠250mg"
            ]
        );
        let days: Vec<&str> = els
            .iter()
            .filter(|(p, _)| p.ends_with("DiDateInf/DiDate"))
            .map(|(_, t)| t.as_str())
            .collect();
        assert_eq!(days, ["20261005", "20261102"], "one DiDateInf per day");
        assert_eq!(one(&els, &format!("{drug}/UsageN")), "1日1回1錠");
        assert_eq!(one(&els, &format!("{drug}/Times")), "28");
    }

    #[test]
    fn checkups_sit_where_oqsdrug_reads_them() {
        let r = request("TKKsiquc01", NUMBERS, "");
        let items = vec![item(
            InfoCategory::Checkup,
            (2026, 6, 1),
            serde_json::json!({ "bmi": 23.1, "hba1c": 5.6, "note": "要経過観察" }),
        )];
        let x = text(reply(&r, OtherOutcome::Information(view(items)), CLINIC, now()).unwrap());
        let els = elements(&x);
        assert_eq!(
            one(&els, "XmlMsg/MessageHeader/QualificationsInfo/KanasName"),
            "タカハシ サキコ"
        );
        assert_eq!(
            one(&els, "XmlMsg/MessageHeader/QualificationsInfo/Birthday"),
            "19500304"
        );
        assert_eq!(
            one(
                &els,
                "XmlMsg/MessageHeader/QualificationsInfo/AdministrativeGenderCode"
            ),
            "2"
        );
        assert_eq!(
            one(
                &els,
                "XmlMsg/MessageBody/SpecificHealthCheckupInfo/EffectiveTime"
            ),
            "20260601"
        );
        let info = "XmlMsg/MessageBody/SpecificHealthCheckupInfo/HealthCheckupResultAndQuestionInfos/HealthCheckupResultAndQuestionInfo";
        let values: Vec<(&str, &str)> = els
            .iter()
            .filter(|(p, _)| p == &format!("{info}/ItemName"))
            .map(|(_, t)| t.as_str())
            .zip(
                els.iter()
                    .filter(|(p, _)| p == &format!("{info}/DataValue"))
                    .map(|(_, t)| t.as_str()),
            )
            .collect();
        assert_eq!(
            values,
            [("BMI", "23.1"), ("HbA1c", "5.6"), ("note", "要経過観察")]
        );
        let types: Vec<&str> = els
            .iter()
            .filter(|(p, _)| p == &format!("{info}/DataType"))
            .map(|(_, t)| t.as_str())
            .collect();
        assert_eq!(types, ["PQ", "PQ", "ST"]);
    }

    #[test]
    fn a_refused_information_request_says_why_where_oqsdrug_looks() {
        let r = request("YZKsiquc01", NUMBERS, "");
        let x = text(
            reply(
                &r,
                OtherOutcome::Refused {
                    code: "consent_missing".into(),
                    message: "同意がありません".into(),
                },
                CLINIC,
                now(),
            )
            .unwrap(),
        );
        let els = elements(&x);
        assert_eq!(one(&els, "XmlMsg/MessageHeader/ResultCode"), "2");
        assert_eq!(
            one(&els, "XmlMsg/MessageHeader/MessageContents"),
            "同意がありません"
        );
        assert_eq!(one(&els, "XmlMsg/MessageHeader/SegmentOfResult"), "9");
        assert_eq!(one(&els, "XmlMsg/MessageBody/ProcessingResultStatus"), "2");
        assert!(!x.contains("QuaInf"));
    }

    const REGISTRATION: &str = "<ReferenceNumberRegistrationInfo><ReferenceNumber>24434</ReferenceNumber><InsurerNumber>  123453</InsurerNumber><InsuredIdentificationNumber>34</InsuredIdentificationNumber><InsuredBranchNumber>00</InsuredBranchNumber></ReferenceNumberRegistrationInfo>";

    #[test]
    fn a_registration_answer_is_what_myna_reception_checks() {
        let r = request("OQSsiimm01", "", REGISTRATION);
        let kinds::Ask::Register(reg) = &r.ask else {
            panic!("{r:?}")
        };
        assert_eq!(
            (
                reg.reference_number.as_str(),
                reg.insurer_number.as_str(),
                reg.symbol.as_str()
            ),
            ("24434", "123453", "")
        );
        let done = RegistrationOutcome {
            registration: reg.clone(),
            registered: true,
            code: None,
            message: None,
        };
        let els = elements(&text(
            reply(&r, OtherOutcome::Registered(done), CLINIC, now()).unwrap(),
        ));
        assert_eq!(one(&els, "XmlMsg/MessageHeader/SegmentOfResult"), "1");
        assert_eq!(
            one(&els, "XmlMsg/MessageHeader/ArbitraryFileIdentifier"),
            "X9"
        );
        assert_eq!(one(&els, "XmlMsg/MessageBody/ProcessingResultStatus"), "1");
        assert_eq!(
            one(
                &els,
                "XmlMsg/MessageBody/ReferenceNumberRegistrationInfo/ReferenceNumber"
            ),
            "24434"
        );
        assert!(
            !els.iter().any(|(p, _)| p.ends_with("InsuredCardSymbol")),
            "no empty symbol"
        );
    }

    #[test]
    fn a_batch_answer_carries_its_reception_number() {
        let r = request("OQSmuimm01", "", &REGISTRATION.repeat(3));
        let kinds::Ask::Batch(regs) = &r.ask else {
            panic!("{r:?}")
        };
        assert_eq!(regs.len(), 3);
        let receipt = BatchReceipt {
            reception_number: "1234567890123456".into(),
            received: 3,
        };
        let els = elements(&text(
            reply(&r, OtherOutcome::Received(receipt), CLINIC, now()).unwrap(),
        ));
        assert_eq!(
            one(&els, "XmlMsg/MessageBody/ReceptionNumber"),
            "1234567890123456"
        );
        assert_eq!(one(&els, "XmlMsg/MessageBody/ProcessingResultStatus"), "1");
        let too_many = format!("<?xml version=\"1.0\"?><XmlMsg><MessageHeader><MedicalInstitutionCode>{CLINIC}</MedicalInstitutionCode></MessageHeader><MessageBody>{}</MessageBody></XmlMsg>", REGISTRATION.repeat(kinds::MAX_BATCH + 1));
        let e = kinds::parse("OQSmuimm01", too_many.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("split"), "{e}");
        let odd = request("OQSmuimm02", "", "<ReceptionNumber>1</ReceptionNumber>");
        assert!(matches!(odd.ask, kinds::Ask::BatchResult(ref n) if n == "1"));
        let bad = format!("<?xml version=\"1.0\"?><XmlMsg><MessageHeader><MedicalInstitutionCode>{CLINIC}</MedicalInstitutionCode></MessageHeader><MessageBody><ReceptionNumber>../x</ReceptionNumber></MessageBody></XmlMsg>");
        assert!(kinds::parse("OQSmuimm02", bad.as_bytes()).is_err());
    }
}
