//! Golden requests and responses, every bad input answered (never silence), half-written files,
//! the service down, restarts.

use kakunin_core::eligibility::{EligibilityResult, QualificationValidity};
use kakunin_terminal::folder::{CheckOutcome, Checker, Folder, Pass};
use kakunin_terminal::message::{self, CheckRequest, Encoding};

fn request(enc: &str, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"{enc}\"?>\n<XmlMsg><MessageHeader><MedicalInstitutionCode>1310123452</MedicalInstitutionCode>\
         <QualificationConfirmationDate>20261125</QualificationConfirmationDate></MessageHeader><MessageBody><QualificationConfirmSearchInfo>{body}\
         </QualificationConfirmSearchInfo></MessageBody></XmlMsg>"
    )
}

const FIELDS: &str = "<InsurerNumber>01130012</InsurerNumber><InsuredCardSymbol>記号１</InsuredCardSymbol><InsuredIdentificationNumber>1234</InsuredIdentificationNumber>\
    <InsuredBranchNumber>1</InsuredBranchNumber><Birthdate>19800217</Birthdate><LimitApplicationCertificateRelatedConsFlg>1</LimitApplicationCertificateRelatedConsFlg>";

fn result() -> EligibilityResult {
    EligibilityResult {
        validity: QualificationValidity::Valid,
        insurer_number: "01130012".into(),
        insurer_name: "全国健康保険協会東京支部".into(),
        insurance_type: "協会けんぽ".into(),
        symbol: "記号１".into(),
        number: "1234".into(),
        branch: "01".into(),
        personal_family: 1,
        name: "山田 太郎".into(),
        name_kana: "ヤマダ タロウ".into(),
        birth_date: "1980-02-17".parse().unwrap(),
        sex: 1,
        address: "東京都千代田区千代田1-1".into(),
        post_number: "100-0001".into(),
        copay_percent: 30,
        valid_from: "2020-04-01".parse().unwrap(),
        valid_to: None,
        limit_category: Some("A03".into()),
        elderly_recipient: None,
    }
}

struct Fake {
    up: bool,
    seen: Vec<CheckRequest>,
}

impl Checker for Fake {
    fn check(&mut self, r: &CheckRequest) -> CheckOutcome {
        if !self.up {
            return CheckOutcome::Unavailable("down".into());
        }
        self.seen.push(r.clone());
        match r.insurer_number.as_str() {
            "01130012" => CheckOutcome::Found {
                result: Box::new(result()),
                reference_number: "REF-1".into(),
            },
            "99999999" => CheckOutcome::NotFound,
            _ => CheckOutcome::Refused {
                code: "unknown_insurer".into(),
                message: "insurer is not known; check the number".into(),
            },
        }
    }
}

fn now() -> chrono::NaiveDateTime {
    "2026-11-25T10:11:12".parse().unwrap()
}

fn read_res(dir: &std::path::Path, suffix: &str, enc: Encoding) -> String {
    let bytes = std::fs::read(dir.join("res").join(format!("OQSsiquc01res_{suffix}.xml"))).unwrap();
    let codec = if enc == Encoding::ShiftJis {
        encoding_rs::SHIFT_JIS
    } else {
        encoding_rs::UTF_8
    };
    codec.decode(&bytes).0.into_owned()
}

/// Two passes: the first sees the file, the second (size unchanged) answers it.
fn settle(f: &mut Folder, c: &mut Fake) -> Pass {
    let first = f.pass(c, now()).unwrap();
    let second = f.pass(c, now()).unwrap();
    Pass {
        answered: first.answered + second.answered,
        waiting: second.waiting,
        deferred: second.deferred,
    }
}

#[test]
fn shift_jis_request_round_trip_with_every_field_format() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Folder::open(dir.path()).unwrap();
    let sjis = encoding_rs::SHIFT_JIS
        .encode(&request("Shift_JIS", FIELDS))
        .0
        .into_owned();
    std::fs::write(dir.path().join("req/OQSsiquc01req_0001.xml"), &sjis).unwrap();
    let mut c = Fake {
        up: true,
        seen: vec![],
    };
    assert_eq!(settle(&mut f, &mut c).answered, 1);
    let r = &c.seen[0];
    assert_eq!(
        (
            r.symbol.as_str(),
            r.branch.as_str(),
            r.limit_consent,
            r.encoding
        ),
        ("記号１", "01", true, Encoding::ShiftJis),
        "two-digit branch, Shift_JIS text"
    );
    let x = read_res(dir.path(), "0001", Encoding::ShiftJis);
    for want in [
        "encoding=\"Shift_JIS\"",
        "<ProcessExecutionTime>20261125101112</ProcessExecutionTime>",
        "<SegmentOfResult>1</SegmentOfResult>",
        "<ReferenceClassification>2</ReferenceClassification>",
        "<QualificationValidity>1</QualificationValidity>",
        "<InsuredBranchNumber>01</InsuredBranchNumber>",
        "<Name>山田 太郎</Name>",
        "<Birthdate>19800217</Birthdate><Address>東京都千代田区千代田1-1</Address><PostNumber>100-0001</PostNumber>",
        "<QualificationDate>20200401</QualificationDate>",
        "<InsuredPartialContributionRatio>030</InsuredPartialContributionRatio>",
        "<LimitApplicationCertificateClassification>A03</LimitApplicationCertificateClassification>",
        "<ReferenceNumber>REF-1</ReferenceNumber>",
        "<LimitApplicationCertificateRelatedConsFlg>1</LimitApplicationCertificateRelatedConsFlg>",
        "<LimitApplicationCertificateRelatedConsTime>20261125101112</LimitApplicationCertificateRelatedConsTime>",
    ] {
        assert!(x.contains(want), "{want} in {x}");
    }
    // A check by numbers carries no consent to medical information, and this person (45) has
    // no elderly recipient certificate.
    for absent in [
        "PharmaceuticalInfoConsFlg",
        "ElderlyRecipientCertificateInfo",
    ] {
        assert!(!x.contains(absent), "{absent} in {x}");
    }
    // Exactly once: more passes, and a restart, answer nothing again.
    assert_eq!(settle(&mut f, &mut c).answered, 0);
    let mut restarted = Folder::open(dir.path()).unwrap();
    assert_eq!(settle(&mut restarted, &mut c).answered, 0);
    assert_eq!(c.seen.len(), 1);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("res"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary files left");
}

#[test]
fn bad_requests_get_error_responses() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Folder::open(dir.path()).unwrap();
    let cases: [(&str, Vec<u8>, &str); 6] = [
        (
            "malformed",
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><XmlMsg><MessageHeader>".to_vec(),
            "KKN-E002",
        ),
        (
            "wrongenc",
            {
                // Declared UTF-8, written in Shift_JIS.
                encoding_rs::SHIFT_JIS
                    .encode(&request("UTF-8", FIELDS))
                    .0
                    .into_owned()
            },
            "KKN-E001",
        ),
        (
            "unknownenc",
            request("EBCDIC", FIELDS).into_bytes(),
            "KKN-E001",
        ),
        (
            "missing",
            request("UTF-8", "<InsurerNumber>01130012</InsurerNumber>").into_bytes(),
            "KKN-E003",
        ),
        (
            "baddate",
            request("UTF-8", &FIELDS.replace("19800217", "1980-02-17")).into_bytes(),
            "KKN-E003",
        ),
        (
            "unknowninsurer",
            request("UTF-8", &FIELDS.replace("01130012", "01130020")).into_bytes(),
            "unknown_insurer",
        ),
    ];
    for (name, bytes, _) in &cases {
        std::fs::write(
            dir.path().join(format!("req/OQSsiquc01req_{name}.xml")),
            bytes,
        )
        .unwrap();
    }
    let mut c = Fake {
        up: true,
        seen: vec![],
    };
    assert_eq!(settle(&mut f, &mut c).answered, cases.len());
    for (name, _, code) in cases {
        let x = read_res(dir.path(), name, Encoding::Utf8);
        assert!(
            x.contains("<SegmentOfResult>9</SegmentOfResult>")
                && x.contains(&format!("<ErrorCode>{code}</ErrorCode>")),
            "{name}: {x}"
        );
        assert!(
            x.contains("<ErrorMessage>") && !x.contains("<ErrorMessage></ErrorMessage>"),
            "{name} says why"
        );
    }
    // Not found is a normal answer with validity 4.
    std::fs::write(
        dir.path().join("req/OQSsiquc01req_nf.xml"),
        request("UTF-8", &FIELDS.replace("01130012", "99999999")),
    )
    .unwrap();
    settle(&mut f, &mut c);
    let x = read_res(dir.path(), "nf", Encoding::Utf8);
    assert!(
        x.contains("<SegmentOfResult>1</SegmentOfResult>")
            && x.contains("<QualificationValidity>4</QualificationValidity>"),
        "{x}"
    );
}

#[test]
fn half_written_files_wait_and_a_down_service_keeps_the_request() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Folder::open(dir.path()).unwrap();
    let full = request("UTF-8", FIELDS);
    let path = dir.path().join("req/OQSsiquc01req_slow.xml");
    std::fs::write(&path, &full[..40]).unwrap();
    let mut c = Fake {
        up: false,
        seen: vec![],
    };
    assert_eq!(
        f.pass(&mut c, now()).unwrap(),
        Pass {
            answered: 0,
            waiting: 1,
            deferred: 0
        }
    );
    std::fs::write(&path, &full).unwrap(); // the writer finished
    assert_eq!(
        f.pass(&mut c, now()).unwrap().waiting,
        1,
        "size changed: wait once more"
    );
    assert_eq!(
        f.pass(&mut c, now()).unwrap().deferred,
        1,
        "service down: kept"
    );
    assert!(!dir.path().join("res/OQSsiquc01res_slow.xml").exists());
    c.up = true;
    assert_eq!(
        f.pass(&mut c, now()).unwrap().answered,
        1,
        "answered once the service is back"
    );
}

#[test]
fn a_full_disk_leaves_the_request_for_later() {
    // Writing into a read-only res/ stands in for a full disk: the pass fails, nothing is marked.
    let dir = tempfile::tempdir().unwrap();
    let mut f = Folder::open(dir.path()).unwrap();
    std::fs::write(
        dir.path().join("req/OQSsiquc01req_disk.xml"),
        request("UTF-8", FIELDS),
    )
    .unwrap();
    let mut c = Fake {
        up: true,
        seen: vec![],
    };
    f.pass(&mut c, now()).unwrap();
    let res = dir.path().join("res");
    std::fs::remove_dir_all(&res).unwrap();
    std::fs::write(&res, b"not a directory").unwrap();
    assert!(f.pass(&mut c, now()).is_err());
    assert!(
        !dir.path().join("req/.done/OQSsiquc01req_disk.xml").exists(),
        "not marked as answered"
    );
    std::fs::remove_file(&res).unwrap();
    std::fs::create_dir(&res).unwrap();
    assert_eq!(f.pass(&mut c, now()).unwrap().answered, 1);
}

#[test]
fn declared_encodings() {
    assert_eq!(
        message::declared_encoding(b"<?xml version=\"1.0\" encoding=\"shift_jis\"?>").unwrap(),
        Encoding::ShiftJis
    );
    assert_eq!(
        message::declared_encoding(b"<?xml version='1.0' encoding='UTF-8'?>").unwrap(),
        Encoding::Utf8
    );
    assert_eq!(
        message::declared_encoding(b"<XmlMsg/>").unwrap(),
        Encoding::Utf8
    );
}
