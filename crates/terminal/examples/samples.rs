//! Writes one of each answer the terminal gives into `DIR` (res/ and face/ under it): a found
//! qualification (a 70–74-year-old with a 高齢受給者証 and a limit category), not found, a
//! malformed request, an unsupported request kind, and a card visit's face/ file. For reading our
//! files with other programs' parsers (outside this repository):
//!
//! ```sh
//! cargo run -p kakunin-terminal --example samples -- /tmp/samples
//! ```

use kakunin_core::consent::ConsentSelection;
use kakunin_core::eligibility::{ElderlyRecipient, EligibilityResult, QualificationValidity};
use kakunin_terminal::folder::{CardVisit, CheckOutcome, Checker, Folder};
use kakunin_terminal::message::CheckRequest;

fn result() -> EligibilityResult {
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
        birth_date: "1954-06-15".parse().expect("date"),
        sex: 2,
        address: "東京都千代田区九段南1-2-1".into(),
        post_number: "102-8688".into(),
        copay_percent: 20,
        valid_from: "2019-04-01".parse().expect("date"),
        valid_to: None,
        limit_category: Some("A04".into()),
        elderly_recipient: Some(ElderlyRecipient {
            valid_from: "2024-07-01".parse().expect("date"),
            valid_to: "2029-06-14".parse().expect("date"),
            copay_percent: 20,
        }),
        reference_number: Some("24434".into()),
        document: None,
        medical_assistance: None,
    }
}

/// Answers 138057 with the sample, anything else as not found.
struct Sample;

impl Checker for Sample {
    fn check(&mut self, r: &CheckRequest) -> CheckOutcome {
        if r.insurer_number == "138057" {
            CheckOutcome::Found {
                result: Box::new(result()),
            }
        } else {
            CheckOutcome::NotFound
        }
    }
}

fn request(insurer: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<XmlMsg><MessageHeader><MedicalInstitutionCode>1310123452</MedicalInstitutionCode>\
         <ArbitraryFileIdentifier>ABC-123</ArbitraryFileIdentifier><QualificationConfirmationDate>20261201</QualificationConfirmationDate></MessageHeader>\
         <MessageBody><QualificationConfirmSearchInfo><InsurerNumber>{insurer}</InsurerNumber><InsuredCardSymbol>千代</InsuredCardSymbol>\
         <InsuredIdentificationNumber>4321</InsuredIdentificationNumber><InsuredBranchNumber>00</InsuredBranchNumber><Birthdate>19540615</Birthdate>\
         <LimitApplicationCertificateRelatedConsFlg>1</LimitApplicationCertificateRelatedConsFlg></QualificationConfirmSearchInfo></MessageBody></XmlMsg>"
    )
}

fn main() -> std::io::Result<()> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "samples".into()));
    let mut folder = Folder::open(&dir)?.serving("1310123452");
    let req = dir.join("req");
    std::fs::write(req.join("OQSsiquc01req_found.xml"), request("138057"))?;
    std::fs::write(req.join("OQSsiquc01req_notfound.xml"), request("06139990"))?;
    std::fs::write(
        req.join("OQSsiquc01req_malformed.xml"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><XmlMsg>",
    )?;
    std::fs::write(req.join("YZKsiquc01req_kind.xml"), request("138057"))?;
    let earlier = std::time::SystemTime::now() - 2 * kakunin_terminal::folder::QUIET;
    std::fs::File::options()
        .write(true)
        .open(req.join("OQSsiquc01req_malformed.xml"))?
        .set_modified(earlier)?;
    let now = chrono::Local::now().naive_local();
    for _ in 0..2 {
        folder.pass(&mut Sample, now)?;
    }
    let result = result();
    folder.write_face_result(
        &CardVisit {
            visit_id: "v-0123abcd",
            result: &result,
            consent: ConsentSelection {
                medication: true,
                checkup: false,
                clinical: true,
                limit_amount: true,
            },
            consented_at: now,
            prescription: Some(kakunin_core::prescription::PrescriptionForm::Electronic),
        },
        now,
    )?;
    println!(
        "samples in {}/res and {}/face",
        dir.display(),
        dir.display()
    );
    Ok(())
}
