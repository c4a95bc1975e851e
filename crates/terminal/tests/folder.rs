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
        reference_number: None,
        document: None,
        medical_assistance: None,
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
/// Writes a request as a writer that finished a while ago would have left it (its time set back
/// past the quiet period a file that does not parse is given).
fn finished_request(dir: &std::path::Path, name: &str, bytes: &[u8]) {
    let path = dir.join("req").join(name);
    std::fs::write(&path, bytes).unwrap();
    let earlier = std::time::SystemTime::now() - 2 * kakunin_terminal::folder::QUIET;
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(earlier)
        .unwrap();
}

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
        "<LimitApplicationCertificateClassification>01</LimitApplicationCertificateClassification><LimitApplicationCertificateClassificationFlag>A03</LimitApplicationCertificateClassificationFlag>",
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
        "InsuredPartialContributionRatio",
        "ReferenceNumber",
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
        finished_request(dir.path(), &format!("OQSsiquc01req_{name}.xml"), bytes);
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

// The folder is hostile input: each fault found when it was tried from outside.

fn up() -> Fake {
    Fake {
        up: true,
        seen: vec![],
    }
}

fn res_text(dir: &std::path::Path, name: &str) -> String {
    String::from_utf8_lossy(&std::fs::read(dir.join("res").join(name)).unwrap()).into_owned()
}

#[test]
fn a_link_in_req_is_never_followed_nor_its_target_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("passwd");
    std::fs::write(&secret, "root:x:0:0:secret-line").unwrap();
    let mut f = Folder::open(dir.path()).unwrap();
    std::os::unix::fs::symlink(&secret, dir.path().join("req/OQSsiquc01req_link.xml")).unwrap();
    settle(&mut f, &mut up());
    let x = res_text(dir.path(), "OQSsiquc01res_link.xml");
    assert!(x.contains("<ErrorCode>KKN-E006</ErrorCode>"), "{x}");
    assert!(!x.contains("secret-line"), "{x}");
    assert_eq!(
        std::fs::read_to_string(&secret).unwrap(),
        "root:x:0:0:secret-line"
    );
}

#[test]
fn a_link_planted_at_a_temporary_name_is_not_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    std::fs::write(&victim, "keep me").unwrap();
    let mut f = Folder::open(dir.path()).unwrap();
    for planted in [
        ".OQSsiquc01res_p.xml.tmp",
        &format!(".tmp-{}-0", std::process::id()),
    ] {
        std::os::unix::fs::symlink(&victim, dir.path().join("res").join(planted)).unwrap();
    }
    std::fs::write(
        dir.path().join("req/OQSsiquc01req_p.xml"),
        request("UTF-8", FIELDS),
    )
    .unwrap();
    assert_eq!(settle(&mut f, &mut up()).answered, 1);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    assert!(res_text(dir.path(), "OQSsiquc01res_p.xml").contains("<SegmentOfResult>1"));
}

#[test]
fn dangling_links_and_directories_do_not_stall_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Folder::open(dir.path()).unwrap();
    std::os::unix::fs::symlink("/nonexistent/x", dir.path().join("req/OQSsiquc01req_a.xml"))
        .unwrap();
    std::fs::create_dir(dir.path().join("req/OQSsiquc01req_b.xml")).unwrap();
    std::fs::write(
        dir.path().join("req/OQSsiquc01req_c.xml"),
        request("UTF-8", FIELDS),
    )
    .unwrap();
    let pass = settle(&mut f, &mut up());
    assert_eq!(pass.answered, 3, "{pass:?}");
    assert!(res_text(dir.path(), "OQSsiquc01res_c.xml").contains("<SegmentOfResult>1"));
    for bad in ["a", "b"] {
        let x = res_text(dir.path(), &format!("OQSsiquc01res_{bad}.xml"));
        assert!(x.contains("<ErrorCode>KKN-E006</ErrorCode>"), "{bad}: {x}");
    }
}

#[test]
fn a_name_near_the_length_limit_is_answered() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Folder::open(dir.path()).unwrap();
    let stem = "x".repeat(251 - "OQSsiquc01req_".len() - ".xml".len());
    let name = format!("OQSsiquc01req_{stem}.xml");
    assert_eq!(name.len(), 251);
    std::fs::write(dir.path().join("req").join(&name), request("UTF-8", FIELDS)).unwrap();
    assert_eq!(settle(&mut f, &mut up()).answered, 1);
    assert!(
        res_text(dir.path(), &format!("OQSsiquc01res_{stem}.xml")).contains("<SegmentOfResult>1")
    );
}

#[test]
fn an_oversized_request_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Folder::open(dir.path()).unwrap();
    let mut big = request("UTF-8", FIELDS).into_bytes();
    big.resize(5 << 20, b' ');
    std::fs::write(dir.path().join("req/OQSsiquc01req_big.xml"), big).unwrap();
    let mut c = up();
    settle(&mut f, &mut c);
    let x = res_text(dir.path(), "OQSsiquc01res_big.xml");
    assert!(x.contains("<ErrorCode>KKN-E008</ErrorCode>"), "{x}");
    assert!(c.seen.is_empty(), "not checked");
}

#[test]
fn a_writer_that_pauses_mid_file_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Folder::open(dir.path()).unwrap();
    let full = request("UTF-8", FIELDS);
    let path = dir.path().join("req/OQSsiquc01req_pause.xml");
    std::fs::write(&path, &full[..full.len() / 2]).unwrap();
    let mut c = up();
    // Passes while the writer pauses: the half file stands still but does not parse.
    for _ in 0..4 {
        assert_eq!(f.pass(&mut c, now()).unwrap().answered, 0);
    }
    assert!(!dir.path().join("res/OQSsiquc01res_pause.xml").exists());
    std::fs::write(&path, &full).unwrap();
    assert_eq!(settle(&mut f, &mut c).answered, 1);
    assert!(res_text(dir.path(), "OQSsiquc01res_pause.xml").contains("<SegmentOfResult>1"));
}

#[test]
fn a_request_that_changes_after_its_answer_is_answered_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Folder::open(dir.path()).unwrap();
    let full = request("UTF-8", FIELDS);
    // A writer that paused longer than the quiet period mid-file: the half is answered as
    // malformed…
    finished_request(
        dir.path(),
        "OQSsiquc01req_grow.xml",
        &full.as_bytes()[..full.len() / 2],
    );
    let mut c = up();
    assert_eq!(settle(&mut f, &mut c).answered, 1);
    assert!(res_text(dir.path(), "OQSsiquc01res_grow.xml").contains("KKN-E002"));
    // …then wrote the rest into its file (moved to .done with it): answered again, properly.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(dir.path().join("req/.done/OQSsiquc01req_grow.xml"), &full).unwrap();
    settle(&mut f, &mut c);
    settle(&mut f, &mut c);
    let x = res_text(dir.path(), "OQSsiquc01res_grow.xml");
    assert!(x.contains("<SegmentOfResult>1</SegmentOfResult>"), "{x}");
}

#[test]
fn the_same_name_dropped_again_is_answered_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Folder::open(dir.path()).unwrap();
    let path = dir.path().join("req/OQSsiquc01req_same.xml");
    std::fs::write(&path, request("UTF-8", FIELDS)).unwrap();
    let mut c = up();
    assert_eq!(settle(&mut f, &mut c).answered, 1);
    std::thread::sleep(std::time::Duration::from_millis(20));
    // Another patient, the same file name, while the first answer is still in res/.
    std::fs::write(
        &path,
        request("UTF-8", &FIELDS.replace("01130012", "99999999")),
    )
    .unwrap();
    assert_eq!(settle(&mut f, &mut c).answered, 1);
    let x = res_text(dir.path(), "OQSsiquc01res_same.xml");
    assert!(
        x.contains("<QualificationValidity>4</QualificationValidity>"),
        "{x}"
    );
}

#[test]
fn other_request_kinds_and_letter_cases_are_answered_never_silence() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Folder::open(dir.path()).unwrap();
    std::fs::write(
        dir.path().join("req/YZKsiquc01req_1.xml"),
        request("UTF-8", FIELDS),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("req/OQSsiquc01req_2.XML"),
        request("UTF-8", FIELDS),
    )
    .unwrap();
    assert_eq!(settle(&mut f, &mut up()).answered, 2);
    let x = res_text(dir.path(), "YZKsiquc01res_1.xml");
    assert!(
        x.contains("<SegmentOfResult>9</SegmentOfResult>") && x.contains("KKN-E007"),
        "{x}"
    );
    assert!(res_text(dir.path(), "OQSsiquc01res_2.XML").contains("<SegmentOfResult>1"));
}
