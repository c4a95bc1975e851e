//! Insured persons, qualifications, insurers and medical information: the lookups on the hot path
//! of an eligibility check.

use crate::{get, parse_date, Entity, Result, Store, StoreError};
use chrono::NaiveDate;
use kakunin_core::consent::InfoCategory;
use kakunin_core::eligibility::QualificationRecord;
use sqlx::any::AnyRow;

const RECORD_SELECT: &str = "SELECT q.person_id, q.insurer_number, i.name AS insurer_name, i.insurance_type, q.symbol, q.number, q.branch, \
     q.personal_family, p.family_name, p.given_name, p.family_kana, p.given_kana, p.birth_date, p.sex, p.address, p.post_number, \
     q.copay_percent, q.valid_from, q.valid_to, q.limit_category \
     FROM qualifications q JOIN persons p ON p.id = q.person_id JOIN insurers i ON i.number = q.insurer_number";

fn record(row: &AnyRow) -> Result<QualificationRecord> {
    let family: String = get(row, "family_name")?;
    let given: String = get(row, "given_name")?;
    let family_kana: String = get(row, "family_kana")?;
    let given_kana: String = get(row, "given_kana")?;
    let valid_to: Option<String> = get(row, "valid_to")?;
    Ok(QualificationRecord {
        person_id: get(row, "person_id")?,
        insurer_number: get(row, "insurer_number")?,
        insurer_name: get(row, "insurer_name")?,
        insurance_type: get(row, "insurance_type")?,
        symbol: get(row, "symbol")?,
        number: get(row, "number")?,
        branch: get(row, "branch")?,
        personal_family: get(row, "personal_family")?,
        name: format!("{family} {given}"),
        name_kana: format!("{family_kana} {given_kana}"),
        birth_date: parse_date(&get::<String>(row, "birth_date")?)?,
        sex: get(row, "sex")?,
        address: get(row, "address")?,
        post_number: get(row, "post_number")?,
        copay_percent: get(row, "copay_percent")?,
        valid_from: parse_date(&get::<String>(row, "valid_from")?)?,
        valid_to: valid_to.as_deref().map(parse_date).transpose()?,
        limit_category: get(row, "limit_category")?,
    })
}

pub use kakunin_api::eligibility::MedicalItem;

impl Store {
    /// The person's latest qualification (by start date).
    pub async fn qualification_of_person(&self, person_id: i64) -> Result<QualificationRecord> {
        let sql =
            format!("{RECORD_SELECT} WHERE q.person_id = $1 ORDER BY q.valid_from DESC LIMIT 1");
        let row = sqlx::query(&sql)
            .bind(person_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(Entity::Person(person_id)))?;
        record(&row)
    }

    /// The latest qualification of each of `person_ids` (one query for a page of visits, not
    /// one per visit); persons without one are absent.
    pub async fn qualifications_of_persons(
        &self,
        person_ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, QualificationRecord>> {
        let mut out = std::collections::HashMap::new();
        if person_ids.is_empty() {
            return Ok(out);
        }
        let params: Vec<String> = (1..=person_ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "{RECORD_SELECT} WHERE q.person_id IN ({}) ORDER BY q.person_id, q.valid_from DESC",
            params.join(",")
        );
        let mut q = sqlx::query(&sql);
        for id in person_ids {
            q = q.bind(id);
        }
        for row in q.fetch_all(&self.pool).await? {
            let r = record(&row)?;
            // The first row of each person is the latest (by start date).
            out.entry(r.person_id).or_insert(r);
        }
        Ok(out)
    }

    /// The latest qualification under 保険者番号・番号・枝番 and 記号 (empty symbol matches empty).
    pub async fn qualification_by_numbers(
        &self,
        insurer: &str,
        symbol: &str,
        number: &str,
        branch: &str,
    ) -> Result<Option<QualificationRecord>> {
        let sql = format!(
            "{RECORD_SELECT} WHERE q.insurer_number = $1 AND q.number = $2 AND q.branch = $3 AND q.symbol = $4 ORDER BY q.valid_from DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(insurer)
            .bind(number)
            .bind(branch)
            .bind(symbol)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| record(&r)).transpose()
    }

    /// Persons with this name and birth date (for re-checking self-declarations).
    pub async fn persons_by_name_and_birth(
        &self,
        family: &str,
        given: &str,
        birth: NaiveDate,
    ) -> Result<Vec<i64>> {
        let rows = sqlx::query("SELECT id FROM persons WHERE family_name = $1 AND given_name = $2 AND birth_date = $3 LIMIT 10")
            .bind(family)
            .bind(given)
            .bind(birth.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| get(r, "id")).collect()
    }

    /// Persons born on `birth`: (id, name, name in kana), at most `limit` (for re-checking
    /// self-declarations, whose names are compared by the domain's rule).
    pub async fn persons_born_on(
        &self,
        birth: NaiveDate,
        limit: i64,
    ) -> Result<Vec<(i64, String, String)>> {
        let rows = sqlx::query("SELECT id, family_name, given_name, family_kana, given_kana FROM persons WHERE birth_date = $1 ORDER BY id LIMIT $2")
            .bind(birth.to_string())
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(id_and_names).collect()
    }

    /// Persons whose family name is `family` in kanji or `family_kana` in kana (both exact, both
    /// indexed): (id, name, name in kana), at most `limit`.
    pub async fn persons_by_family_name(
        &self,
        family: &str,
        family_kana: &str,
        limit: i64,
    ) -> Result<Vec<(i64, String, String)>> {
        let rows = sqlx::query("SELECT id, family_name, given_name, family_kana, given_kana FROM persons WHERE family_name = $1 UNION SELECT id, family_name, given_name, family_kana, given_kana FROM persons WHERE family_kana = $2 ORDER BY id LIMIT $3")
            .bind(family)
            .bind(family_kana)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(id_and_names).collect()
    }

    /// Whether an insurer exists.
    pub async fn insurer_exists(&self, number: &str) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 FROM insurers WHERE number = $1")
            .bind(number)
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }

    /// Medical information of a person in one category, newest first.
    pub async fn medical_information(
        &self,
        person_id: i64,
        category: InfoCategory,
    ) -> Result<Vec<MedicalItem>> {
        let rows = sqlx::query("SELECT recorded_on, content FROM medical_information WHERE person_id = $1 AND category = $2 ORDER BY recorded_on DESC")
            .bind(person_id)
            .bind(category.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let content: String = get(r, "content")?;
                Ok(MedicalItem {
                    category,
                    recorded_on: parse_date(&get::<String>(r, "recorded_on")?)?,
                    content: serde_json::from_str(&content)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                })
            })
            .collect()
    }

    /// (insurer, symbol, number, branch) of `count` qualifications picked uniformly at random
    /// over the whole table, for benchmarks: lookups must not all hit the hot end of the index.
    pub async fn sample_numbers(&self, count: usize) -> Result<Vec<[String; 4]>> {
        let max: i64 = get(
            &sqlx::query("SELECT COALESCE(MAX(id), 0) AS m FROM qualifications")
                .fetch_one(&self.pool)
                .await?,
            "m",
        )?;
        let mut out = Vec::with_capacity(count);
        if max == 0 {
            return Ok(out);
        }
        for _ in 0..count {
            // The first row at or after a random id: ids may have gaps, and every draw must
            // still give a row (a draw that found none once left a caller with nothing).
            let id = (rand::random::<u64>() % max as u64) as i64 + 1;
            if let Some(r) = sqlx::query(
                "SELECT insurer_number, symbol, number, branch FROM qualifications WHERE id >= $1 ORDER BY id LIMIT 1",
            )
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            {
                out.push([
                    get(&r, "insurer_number")?,
                    get(&r, "symbol")?,
                    get(&r, "number")?,
                    get(&r, "branch")?,
                ]);
            }
        }
        Ok(out)
    }

    /// Number of insured persons.
    pub async fn count_persons(&self) -> Result<i64> {
        get(
            &sqlx::query("SELECT COUNT(*) AS n FROM persons")
                .fetch_one(&self.pool)
                .await?,
            "n",
        )
    }
}

/// (id, name, name in kana) of a person row.
fn id_and_names(r: &AnyRow) -> Result<(i64, String, String)> {
    Ok((
        get(r, "id")?,
        format!(
            "{} {}",
            get::<String>(r, "family_name")?,
            get::<String>(r, "given_name")?
        ),
        format!(
            "{} {}",
            get::<String>(r, "family_kana")?,
            get::<String>(r, "given_kana")?
        ),
    ))
}
