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
    };
    assert!(f.write_face_result(&visit, now()).unwrap());
    let name = std::fs::read_dir(dir.path().join("face"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".xml"))
        .unwrap();
    // MynaReception: OQSsiquc01res_face_<anything>_<yyyyMMddHHmmss>.xml
    let stamp = name
        .strip_prefix("OQSsiquc01res_face_")
        .and_then(|n| n.strip_suffix(".xml"))
        .and_then(|n| n.rsplit_once('_'))
        .map(|(_, t)| t)
        .unwrap();
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
    assert!(!one(&els, &format!("{r}/NameKana")).is_empty());
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
