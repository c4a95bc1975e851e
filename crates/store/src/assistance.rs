//! 医療扶助: the welfare office's monthly tickets for public-assistance recipients, and the demo's
//! recipients (persons 5 and 6 of the seed: one with this month's tickets, one whose month the
//! office has not registered yet — 「未委託」); 公費 recipient certificates (受給者証) recorded for
//! a person (the demo's: person 2, the face-auth card holder, receives 難病医療費助成).

use crate::{get, parse_date, Result, Store};
use chrono::{Datelike, NaiveDate, Utc};
use kakunin_core::medical_assistance::{MedicalTicket, TicketKind};
use kakunin_core::public_expense::RecipientCertificate;

/// The demo welfare office (千代田区 福祉事務所), as the insurer of its recipients: 公費負担者番号
/// of law 12 (生活保護法), prefecture 13.
pub fn demo_welfare_office() -> (String, &'static str) {
    let number = kakunin_core::numbers::InsurerNumber::with_check_digit("1213001")
        .expect("a valid 公費負担者番号")
        .as_str()
        .to_owned();
    (number, "千代田区福祉事務所")
}

/// The insurance type of a public-assistance recipient's record.
pub const ASSISTANCE_TYPE: &str = "生活保護（医療扶助）";

impl Store {
    /// The tickets of person `person_id`, newest month first.
    pub async fn medical_tickets(&self, person_id: i64) -> Result<Vec<MedicalTicket>> {
        let rows = sqlx::query("SELECT issue_number, kind, month, valid_from, valid_to, designated_institution, designated_name, self_pay_amount FROM medical_tickets WHERE person_id = $1 ORDER BY month DESC")
            .bind(person_id)
            .fetch_all(&self.pool)
            .await?;
        let day = |r: &sqlx::any::AnyRow, c: &str| parse_date(&get::<String>(r, c)?);
        rows.iter()
            .map(|r| {
                Ok(MedicalTicket {
                    kind: match get::<String>(r, "kind")?.as_str() {
                        "dispensing" => TicketKind::Dispensing,
                        _ => TicketKind::Medical,
                    },
                    issue_number: get(r, "issue_number")?,
                    month: day(r, "month")?,
                    valid_from: day(r, "valid_from")?,
                    valid_to: day(r, "valid_to")?,
                    designated_institution: get(r, "designated_institution")?,
                    designated_name: get(r, "designated_name")?,
                    self_pay_amount: get(r, "self_pay_amount")?,
                })
            })
            .collect()
    }

    /// The 公費 recipient certificates recorded for person `person_id`.
    pub async fn recipient_certificates(
        &self,
        person_id: i64,
    ) -> Result<Vec<RecipientCertificate>> {
        let rows = sqlx::query("SELECT program, payer_number, recipient_number, valid_from, valid_to, copay_limit FROM recipient_certificates WHERE person_id = $1 ORDER BY id")
            .bind(person_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let day = |c: &str| parse_date(&get::<String>(r, c)?);
                Ok(RecipientCertificate {
                    program: get(r, "program")?,
                    payer_number: get(r, "payer_number")?,
                    recipient_number: get(r, "recipient_number")?,
                    valid_from: day("valid_from")?,
                    valid_to: day("valid_to")?,
                    copay_limit: get(r, "copay_limit")?,
                })
            })
            .collect()
    }

    /// Writes `ticket` for person `person_id` (the welfare office registers a month).
    pub async fn insert_medical_ticket(&self, person_id: i64, t: &MedicalTicket) -> Result<()> {
        sqlx::query("INSERT INTO medical_tickets (issue_number, person_id, kind, month, valid_from, valid_to, designated_institution, designated_name, self_pay_amount) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(&t.issue_number)
            .bind(person_id)
            .bind(match t.kind {
                TicketKind::Medical => "medical",
                TicketKind::Dispensing => "dispensing",
            })
            .bind(t.month.to_string())
            .bind(t.valid_from.to_string())
            .bind(t.valid_to.to_string())
            .bind(&t.designated_institution)
            .bind(&t.designated_name)
            .bind(t.self_pay_amount)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Makes seed persons 5 and 6 public-assistance recipients of the demo welfare office (their
    /// record moves to it, no copayment, no limit category): person 5 with this month's 医療券
    /// for the demo clinic and 調剤券 for the demo pharmacy, person 6 with last month's only (this
    /// month 「未委託」). Done once, when those persons are first seeded.
    pub(crate) async fn seed_recipients(&self) -> Result<()> {
        let (office, name) = demo_welfare_office();
        let exists = sqlx::query("SELECT number FROM insurers WHERE number = $1")
            .bind(&office)
            .fetch_optional(&self.pool)
            .await?
            .is_some();
        let persons: i64 = sqlx::query("SELECT COUNT(*) AS n FROM persons WHERE id IN (5, 6)")
            .fetch_one(&self.pool)
            .await
            .and_then(|r| sqlx::Row::try_get(&r, "n"))?;
        if exists || persons < 2 {
            return Ok(());
        }
        sqlx::query("INSERT INTO insurers (number, name, insurance_type) VALUES ($1, $2, $3)")
            .bind(&office)
            .bind(name)
            .bind(ASSISTANCE_TYPE)
            .execute(&self.pool)
            .await?;
        for person in [5i64, 6] {
            sqlx::query("UPDATE qualifications SET insurer_number = $1, symbol = '', number = $2, branch = '00', personal_family = 1, copay_percent = 0, limit_category = NULL WHERE person_id = $3")
                .bind(&office)
                .bind(format!("{:07}", 1_000_000 + person))
                .bind(person)
                .execute(&self.pool)
                .await?;
        }
        let (clinic, pharmacy, _) = crate::seed::demo_institution_codes();
        let today = Utc::now().date_naive();
        let first = today.with_day(1).expect("a first day");
        let last_month = first
            .pred_opt()
            .expect("a day")
            .with_day(1)
            .expect("a first day");
        let month_end = |m: NaiveDate| {
            m.checked_add_months(chrono::Months::new(1))
                .and_then(|n| n.pred_opt())
                .expect("a last day")
        };
        let ticket =
            |kind, month: NaiveDate, institution: &str, name: &str, n: u32| MedicalTicket {
                kind,
                issue_number: format!("{}{:04}", month.format("%Y%m"), n),
                month,
                valid_from: month,
                valid_to: month_end(month),
                designated_institution: institution.to_owned(),
                designated_name: name.to_owned(),
                self_pay_amount: 0,
            };
        // Person 2 receives 難病医療費助成 (法別 54, 東京都), this fiscal year.
        let fiscal = if today.month() >= 4 {
            today.year()
        } else {
            today.year() - 1
        };
        let payer = kakunin_core::numbers::InsurerNumber::with_check_digit("5413601")
            .expect("a valid 公費負担者番号");
        sqlx::query("INSERT INTO recipient_certificates (id, person_id, program, payer_number, recipient_number, valid_from, valid_to, copay_limit) VALUES (1, 2, $1, $2, '1234567', $3, $4, 10000)")
            .bind("難病医療費助成")
            .bind(payer.as_str())
            .bind(format!("{fiscal}-04-01"))
            .bind(format!("{}-03-31", fiscal + 1))
            .execute(&self.pool)
            .await?;
        for (person, t) in [
            (
                5,
                ticket(
                    TicketKind::Medical,
                    first,
                    &clinic,
                    "かくにん内科クリニック",
                    1,
                ),
            ),
            (
                5,
                ticket(TicketKind::Dispensing, first, &pharmacy, "かくにん薬局", 2),
            ),
            (
                5,
                ticket(
                    TicketKind::Medical,
                    last_month,
                    &clinic,
                    "かくにん内科クリニック",
                    3,
                ),
            ),
            (
                6,
                ticket(
                    TicketKind::Medical,
                    last_month,
                    &clinic,
                    "かくにん内科クリニック",
                    4,
                ),
            ),
        ] {
            self.insert_medical_ticket(person, &t).await?;
        }
        Ok(())
    }
}
