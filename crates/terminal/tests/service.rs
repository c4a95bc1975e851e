//! The terminal answering through a running server: face/ files of card-reader visits, and the
//! request kinds besides the single check (照会番号 registration one by one and in batches,
//! medication and checkup information under consent), read back the way the peers read them.

use kakunin_api::client::{ReaderClient, StaffClient};
use kakunin_api::visits::{ConsentRequest, IdentityEvidence, NextStep, StartVisit};
use kakunin_card::client::MyNumberCard;
use kakunin_core::consent::ConsentSelection;
use kakunin_terminal::folder::Folder;
use kakunin_terminal::service::{face_pass, face_since, ApiChecker};

/// A reader enrolled with the demo clinic.
async fn demo_reader(base: &str) -> ReaderClient {
    let reader = ReaderClient::new(
        reqwest::Client::new(),
        base,
        "r-terminal-test",
        kakunin_evidence::attestation::ReaderKey::generate(),
    );
    let operator = StaffClient::new(reqwest::Client::new(), base, "demo-token-admin");
    let clinic = kakunin_store::seed::demo_institution_codes().0;
    kakunin_reader::enrol::register(&reader, &operator, Some(&clinic))
        .await
        .unwrap();
    reader
}

/// A standard demo card checked in by PIN at `reader`, consenting to medication and the
/// limit category; answers the visit's id.
async fn card_visit_by_pin(reader: &ReaderClient) -> String {
    card_visit_consenting(
        reader,
        ConsentSelection {
            medication: true,
            checkup: false,
            clinical: false,
            limit_amount: true,
        },
    )
    .await
}

/// Person 1's demo card checked in by PIN at `reader`, with consent `selection`.
async fn card_visit_consenting(reader: &ReaderClient, selection: ConsentSelection) -> String {
    let ca = kakunin_evidence::ca::DemoCa::new().unwrap();
    let face = kakunin_reader::demo::face(vec![]);
    let mut card = MyNumberCard::new(kakunin_reader::demo::card(&ca, 1, false, &face).unwrap());
    let der = card.read_auth_certificate().unwrap();
    let v = reader
        .start_visit(&StartVisit {
            certificate: kakunin_evidence::b64(&der),
            placed_by: Default::default(),
        })
        .await
        .unwrap();
    let nonce = reader.nonce(&v.id).await.unwrap().nonce;
    let signature = card.sign_with_pin("1234", nonce.as_bytes(), false).unwrap();
    let pin = IdentityEvidence::Pin {
        nonce,
        signature: kakunin_evidence::b64(signature),
        certificate: kakunin_evidence::b64(&der),
    };
    reader.identity(&v.id, &pin).await.unwrap();
    // The demo clinic issues electronic prescriptions: its reader asks.
    let consent = ConsentRequest {
        selection,
        assisted: false,
        prescription: Some(kakunin_core::prescription::PrescriptionForm::Electronic),
        recipient_certificates: false,
    };
    let done = reader.consent(&v.id, &consent).await.unwrap();
    assert_eq!(done.next, NextStep::Done, "{done:?}");
    done.id
}

fn checker(base: &str) -> ApiChecker {
    ApiChecker::new(
        StaffClient::new(reqwest::Client::new(), base, "demo-token-reception"),
        tokio::runtime::Handle::current(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn every_visit_completed_while_the_terminal_was_stopped_is_written() {
    let (_dir, base) = kakunin_server::testing::demo_server(4).await;
    let folder_dir = tempfile::tempdir().unwrap();
    let folder = Folder::open(folder_dir.path()).unwrap();
    let since = face_since(folder_dir.path()).unwrap();
    let reader = demo_reader(&base).await;
    // More than the latest hundred the reception queue shows.
    for _ in 0..110 {
        card_visit_by_pin(&reader).await;
    }
    let checker = checker(&base);
    assert_eq!(face_pass(&folder, &checker, since).await.unwrap(), 110);
    assert_eq!(face_pass(&folder, &checker, since).await.unwrap(), 0);
    // The cursor moved on: a later visit is found from there.
    assert!(folder_dir.path().join("face/.cursor").exists());
    card_visit_by_pin(&reader).await;
    assert_eq!(face_pass(&folder, &checker, since).await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn completed_card_visits_are_written_to_face_once() {
    let (_dir, base) = kakunin_server::testing::demo_server(4).await;
    let folder_dir = tempfile::tempdir().unwrap();
    let folder = Folder::open(folder_dir.path())
        .unwrap()
        .serving("1310123455");
    let since = face_since(folder_dir.path()).unwrap();
    assert_eq!(
        face_since(folder_dir.path()).unwrap(),
        since,
        "kept across restarts"
    );
    let checker = checker(&base);
    let id = card_visit_by_pin(&demo_reader(&base).await).await;

    assert_eq!(face_pass(&folder, &checker, since).await.unwrap(), 1);
    assert_eq!(
        face_pass(&folder, &checker, since).await.unwrap(),
        0,
        "once"
    );
    let name = std::fs::read_dir(folder_dir.path().join("face"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".xml"))
        .unwrap();
    assert!(
        name.starts_with(&format!(
            "OQSsiquc01res_face_1310123455{}_",
            id.trim_start_matches("v-")
        )),
        "{name}"
    );
    let bytes = std::fs::read(folder_dir.path().join("face").join(&name)).unwrap();
    let text = encoding_rs::SHIFT_JIS.decode(&bytes).0.into_owned();
    for want in [
        "<ReferenceClassification>1</ReferenceClassification>",
        "<PharmaceuticalInfoConsFlg>1</PharmaceuticalInfoConsFlg>",
        "<SpecificHealthCheckupsInfoConsFlg>0</SpecificHealthCheckupsInfoConsFlg>",
        "<LimitApplicationCertificateRelatedConsFlg>1</LimitApplicationCertificateRelatedConsFlg>",
    ] {
        assert!(text.contains(want), "{want} in {text}");
    }

    // Visits from before the terminal first ran on the folder are not written.
    let later = tempfile::tempdir().unwrap();
    let later_folder = Folder::open(later.path()).unwrap();
    let later_since = face_since(later.path()).unwrap();
    assert_eq!(
        face_pass(&later_folder, &checker, later_since)
            .await
            .unwrap(),
        0
    );
}

/// The numbers of demo person `id`, read from the server's database.
async fn numbers_of(
    dir: &std::path::Path,
    id: i64,
) -> kakunin_core::eligibility::QualificationRecord {
    let store = kakunin_store::Store::connect(&kakunin_store::sqlite_url(&dir.join("k.db")))
        .await
        .unwrap();
    store.qualification_of_person(id).await.unwrap()
}

/// Drops request `name` (Shift_JIS) into req/ and runs passes until its answer is in res/;
/// answers the answer's text.
fn ask(folder: &mut Folder, checker: &mut ApiChecker, name: &str, xml: &str) -> String {
    let bytes = encoding_rs::SHIFT_JIS.encode(xml).0.into_owned();
    std::fs::write(folder.dir().join("req").join(name), bytes).unwrap();
    let res = folder
        .dir()
        .join("res")
        .join(name.replacen("req_", "res_", 1));
    for _ in 0..5 {
        folder
            .pass(checker, chrono::Local::now().naive_local())
            .unwrap();
        if let Ok(bytes) = std::fs::read(&res) {
            return encoding_rs::SHIFT_JIS.decode(&bytes).0.into_owned();
        }
    }
    panic!("{name} was not answered");
}

const CLINIC: &str = "1310123455";

fn registration_xml(number: &str, q: &kakunin_core::eligibility::QualificationRecord) -> String {
    format!(
        "<ReferenceNumberRegistrationInfo><ReferenceNumber>{number}</ReferenceNumber><InsurerNumber>{}</InsurerNumber><InsuredCardSymbol>{}</InsuredCardSymbol><InsuredIdentificationNumber>{}</InsuredIdentificationNumber><InsuredBranchNumber>{}</InsuredBranchNumber></ReferenceNumberRegistrationInfo>",
        q.insurer_number, q.symbol, q.number, q.branch
    )
}

fn message(header: &str, body: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"Shift_JIS\" standalone=\"no\"?>\r\n<XmlMsg><MessageHeader><MedicalInstitutionCode>{CLINIC}</MedicalInstitutionCode><ArbitraryFileIdentifier>AFI-1</ArbitraryFileIdentifier>{header}</MessageHeader><MessageBody>{body}</MessageBody></XmlMsg>")
}

fn single_check_xml(q: &kakunin_core::eligibility::QualificationRecord) -> String {
    message(
        "",
        &format!(
            "<QualificationConfirmSearchInfo><InsurerNumber>{}</InsurerNumber><InsuredCardSymbol>{}</InsuredCardSymbol><InsuredIdentificationNumber>{}</InsuredIdentificationNumber><InsuredBranchNumber>{}</InsuredBranchNumber><Birthdate>{}</Birthdate></QualificationConfirmSearchInfo>",
            q.insurer_number, q.symbol, q.number, q.branch, q.birth_date.format("%Y%m%d")
        ),
    )
}

async fn serving_folder(base: &str) -> (tempfile::TempDir, Folder, ApiChecker) {
    let dir = tempfile::tempdir().unwrap();
    let folder = Folder::open(dir.path()).unwrap().serving(CLINIC);
    (dir, folder, checker(base))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registered_reference_number_heads_the_answers_and_face_files_of_its_patient() {
    let (db, base) = kakunin_server::testing::demo_server(4).await;
    let (dir, mut folder, mut c) = serving_folder(&base).await;
    let p1 = numbers_of(db.path(), 1).await;
    let p2 = numbers_of(db.path(), 2).await;

    let before = ask(
        &mut folder,
        &mut c,
        "OQSsiquc01req_before.xml",
        &single_check_xml(&p1),
    );
    assert!(!before.contains("<ReferenceNumber>"), "{before}");

    // Space-padded to eight, as the registration spec asks for a six-digit insurer number.
    let mut padded = p1.clone();
    padded.insurer_number = format!("{:>8}", p1.insurer_number);
    let reg = ask(
        &mut folder,
        &mut c,
        "OQSsiimm01req_202612010001.xml",
        &message("", &registration_xml("24434", &padded)),
    );
    for want in [
        "<SegmentOfResult>1</SegmentOfResult>",
        "<ProcessingResultStatus>1</ProcessingResultStatus>",
        "<ReferenceNumber>24434</ReferenceNumber>",
        "<ArbitraryFileIdentifier>AFI-1</ArbitraryFileIdentifier>",
    ] {
        assert!(reg.contains(want), "{want} in {reg}");
    }

    let after = ask(
        &mut folder,
        &mut c,
        "OQSsiquc01req_after.xml",
        &single_check_xml(&p1),
    );
    assert!(
        after.contains("<ReferenceNumber>24434</ReferenceNumber>"),
        "{after}"
    );

    // The card-reader result of that patient carries it too.
    let since = face_since(dir.path()).unwrap();
    card_visit_by_pin(&demo_reader(&base).await).await;
    assert_eq!(face_pass(&folder, &c, since).await.unwrap(), 1);
    let face = std::fs::read_dir(dir.path().join("face"))
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().ends_with(".xml"))
        .unwrap();
    let face = encoding_rs::SHIFT_JIS
        .decode(&std::fs::read(face.path()).unwrap())
        .0
        .into_owned();
    assert!(
        face.contains("<ReferenceNumber>24434</ReferenceNumber>"),
        "{face}"
    );

    // The same number for another patient is refused in writing; the first keeps it.
    let taken = ask(
        &mut folder,
        &mut c,
        "OQSsiimm01req_202612010002.xml",
        &message("", &registration_xml("24434", &p2)),
    );
    for want in [
        "<SegmentOfResult>9</SegmentOfResult>",
        "<ErrorCode>reference_number_taken</ErrorCode>",
        "<ProcessingResultStatus>2</ProcessingResultStatus>",
        "<ProcessingResultCode>reference_number_taken</ProcessingResultCode>",
    ] {
        assert!(taken.contains(want), "{want} in {taken}");
    }
    let still = ask(
        &mut folder,
        &mut c,
        "OQSsiquc01req_still.xml",
        &single_check_xml(&p1),
    );
    assert!(
        still.contains("<ReferenceNumber>24434</ReferenceNumber>"),
        "{still}"
    );

    // Another institution does not see this clinic's numbers.
    let other = StaffClient::new(reqwest::Client::new(), &base, "demo-token-other-clinic");
    let r = other
        .check_numbers(&kakunin_api::eligibility::NumbersCheck {
            insurer_number: p1.insurer_number.clone(),
            symbol: p1.symbol.clone(),
            number: p1.number.clone(),
            branch: p1.branch.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(r.reference_number, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_is_received_with_a_reception_number_and_its_result_fetched_by_it() {
    let (db, base) = kakunin_server::testing::demo_server(4).await;
    let (_dir, mut folder, mut c) = serving_folder(&base).await;
    let p1 = numbers_of(db.path(), 1).await;
    let p2 = numbers_of(db.path(), 2).await;
    let mut nobody = p2.clone();
    nobody.number = "99999999".into();
    let body = [
        registration_xml("1001", &p1),
        registration_xml("1002", &p2),
        registration_xml("1003", &nobody),
    ]
    .concat();
    let up = ask(
        &mut folder,
        &mut c,
        "OQSmuimm01req_202612010001.xml",
        &message("", &body),
    );
    assert!(
        up.contains("<ProcessingResultStatus>1</ProcessingResultStatus>"),
        "{up}"
    );
    let reception = up
        .split("<ReceptionNumber>")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .expect("a reception number");
    assert_eq!(reception.len(), 16);

    let down = ask(
        &mut folder,
        &mut c,
        "OQSmuimm02req_202612010002.xml",
        &message(
            "",
            &format!("<ReceptionNumber>{reception}</ReceptionNumber>"),
        ),
    );
    let results: Vec<&str> = down
        .split("<ReferenceNumberRegistrationResult>")
        .skip(1)
        .collect();
    assert_eq!(results.len(), 3, "{down}");
    assert!(
        results[0].contains("<ReferenceNumber>1001</ReferenceNumber>")
            && results[0].contains("<ProcessingResultStatus>1<")
    );
    assert!(
        results[1].contains("<ReferenceNumber>1002</ReferenceNumber>")
            && results[1].contains("<ProcessingResultStatus>1<")
    );
    assert!(
        results[2].contains("<ProcessingResultStatus>2<")
            && results[2].contains("qualification_not_found"),
        "{}",
        results[2]
    );

    let found = ask(
        &mut folder,
        &mut c,
        "OQSsiquc01req_p2.xml",
        &single_check_xml(&p2),
    );
    assert!(
        found.contains("<ReferenceNumber>1002</ReferenceNumber>"),
        "{found}"
    );

    // An unknown reception number, or another clinic's, is refused in writing.
    let unknown = ask(
        &mut folder,
        &mut c,
        "OQSmuimm02req_202612010003.xml",
        &message("", "<ReceptionNumber>0000000000000000</ReceptionNumber>"),
    );
    assert!(
        unknown.contains("<ErrorCode>unknown_reception_number</ErrorCode>"),
        "{unknown}"
    );
}

fn information_xml(kind_dates: bool, q: &kakunin_core::eligibility::QualificationRecord) -> String {
    // As OQSDrug2 writes it: the numbers in the header, under its own names.
    message(
        &format!("<InsurerNumber>{}</InsurerNumber><InsuranceCardSymbol>{}</InsuranceCardSymbol><InsuredPersonIdentificationNumber>{}</InsuredPersonIdentificationNumber><BranchNumber>{}</BranchNumber>",
            q.insurer_number, q.symbol, q.number, q.branch),
        &format!("{}<FileCategory>1</FileCategory><PrDiInfClassification>1</PrDiInfClassification><MedicalTreatmentFlag>1</MedicalTreatmentFlag>",
            if kind_dates { "<StartDate>202001</StartDate><EndDate>203012</EndDate>" } else { "" }),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn medication_and_checkups_are_answered_only_under_this_clinics_consent() {
    let (db, base) = kakunin_server::testing::demo_server(4).await;
    let (_dir, mut folder, mut c) = serving_folder(&base).await;
    let p1 = numbers_of(db.path(), 1).await;

    let refused = ask(
        &mut folder,
        &mut c,
        "YZKsiquc01req_01before.xml",
        &information_xml(true, &p1),
    );
    for want in [
        "<ResultCode>2</ResultCode>",
        "<ErrorCode>consent_missing</ErrorCode>",
        "<MessageContents>",
    ] {
        assert!(refused.contains(want), "{want} in {refused}");
    }
    assert!(!refused.contains("アムロジピン"), "{refused}");

    // The patient consents to medication (not checkups) at this clinic's reader.
    let reader = demo_reader(&base).await;
    card_visit_consenting(
        &reader,
        ConsentSelection {
            medication: true,
            ..Default::default()
        },
    )
    .await;

    let yzk = ask(
        &mut folder,
        &mut c,
        "YZKsiquc01req_01after.xml",
        &information_xml(true, &p1),
    );
    for want in [
        "<ResultCode>1</ResultCode>",
        "<QuaInf><Name>",
        "<MeTrMonthInf><MeTrMonth>",
        "<DiDateInfs><DiDateInf><DiDate>",
        "<DrugN>アムロジピン錠5mg</DrugN>",
        "<UsageN>1日1回1錠</UsageN>",
        "<Times>28</Times>",
    ] {
        assert!(yzk.contains(want), "{want} in {yzk}");
    }
    let tkk = ask(
        &mut folder,
        &mut c,
        "TKKsiquc01req_01after.xml",
        &information_xml(false, &p1),
    );
    assert!(
        tkk.contains("<ErrorCode>consent_missing</ErrorCode>") && !tkk.contains("HbA1c"),
        "{tkk}"
    );

    card_visit_consenting(
        &reader,
        ConsentSelection {
            checkup: true,
            ..Default::default()
        },
    )
    .await;
    let tkk = ask(
        &mut folder,
        &mut c,
        "TKKsiquc01req_02after.xml",
        &information_xml(false, &p1),
    );
    for want in [
        "<QualificationsInfo><Name>",
        "<SpecificHealthCheckupInfo><EffectiveTime>",
        "<ItemName>HbA1c</ItemName>",
        "<DataValue>5.6</DataValue>",
        "<Unit>%</Unit>",
    ] {
        assert!(tkk.contains(want), "{want} in {tkk}");
    }

    // Another clinic's terminal gets nothing under this clinic's consent.
    let other = StaffClient::new(reqwest::Client::new(), &base, "demo-token-other-clinic");
    let e = other
        .information_by_numbers(&kakunin_api::references::InformationByNumbers {
            numbers: kakunin_api::eligibility::NumbersCheck {
                insurer_number: p1.insurer_number.clone(),
                symbol: p1.symbol.clone(),
                number: p1.number.clone(),
                branch: p1.branch.clone(),
                ..Default::default()
            },
            category: kakunin_core::consent::InfoCategory::Checkup,
            from: None,
            to: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(kakunin_api::ApiCode::ConsentMissing));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_kinds_kakunin_has_no_data_for_are_refused_in_writing() {
    let (_db, base) = kakunin_server::testing::demo_server(2).await;
    let (_dir, mut folder, mut c) = serving_folder(&base).await;
    for (kind, why) in [
        ("OQSmuonq01", "online or home-visit"),
        ("OQSmuhvq01", "online or home-visit"),
        ("OQSmutic01", "medical-assistance"),
        ("OQSzzzzz01", "not supported"),
    ] {
        let body = "<QualificationConfirmSearchInfo><ConsentDateFrom>20261101</ConsentDateFrom><ConsentDateTo>20261130</ConsentDateTo></QualificationConfirmSearchInfo>";
        let a = ask(
            &mut folder,
            &mut c,
            &format!("{kind}req_202612010001.xml"),
            &message("", body),
        );
        for want in [
            "<SegmentOfResult>9</SegmentOfResult>",
            "<ErrorCode>KKN-E007</ErrorCode>",
            why,
            "<ProcessingResultStatus>2</ProcessingResultStatus>",
        ] {
            assert!(a.contains(want), "{kind}: {want} in {a}");
        }
    }
}
