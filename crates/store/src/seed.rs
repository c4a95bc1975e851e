//! Demo data: plausible insurers, institutions, staff, insured persons with qualifications, cards
//! of both kinds and medical information. Deterministic per person id, so the same `--persons N`
//! gives the same people, and fast enough for 10⁷ persons on SQLite (multi-row inserts in large
//! transactions).
//!
//! The first persons are fixed demo cases (see [`DEMO_CASES`]); the README refers to them.

use crate::{ts, Result, Store};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use kakunin_core::card::{Card, CardKind, CounterContext, Pin};
use kakunin_core::matrix::{IdentityMethod, RegistrationChannel};
use kakunin_core::numbers::{InstitutionCode, InsurerNumber};
use kakunin_core::roles::Role;
use kakunin_evidence::ca::demo_serial_hex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The demo staff and their sign-in passwords (demo only: printed by `kakunin serve`).
pub const DEMO_STAFF: [(&str, &str, Role, &str); 5] = [
    (
        "staff-reception",
        "受付 花子",
        Role::Reception,
        "demo-reception",
    ),
    (
        "staff-pharmacist",
        "薬剤師 次郎",
        Role::Pharmacist,
        "demo-pharmacist",
    ),
    (
        "staff-clerk",
        "窓口 三郎",
        Role::MunicipalClerk,
        "demo-clerk",
    ),
    ("staff-admin", "運用 四郎", Role::Admin, "demo-admin"),
    (
        "staff-other-clinic",
        "他院 五郎",
        Role::Reception,
        "demo-other-clinic",
    ),
];

/// API tokens of the demo staff, for machine clients (terminal, kiosk, benchmarks) on the demo
/// database only: (staff id, token). Never the same as a password.
pub const DEMO_API_TOKENS: [(&str, &str); 5] = [
    ("staff-reception", "demo-token-reception"),
    ("staff-pharmacist", "demo-token-pharmacist"),
    ("staff-clerk", "demo-token-clerk"),
    ("staff-admin", "demo-token-admin"),
    ("staff-other-clinic", "demo-token-other-clinic"),
];

pub use kakunin_evidence::ca::{demo_card_id, DEMO_PIN};

/// The fixed first persons: (card kind, registered for insurance use).
pub const DEMO_CASES: [(&str, bool); 4] = [
    ("standard", true),
    ("face_auth", true),
    ("face_auth", false),
    ("standard", false),
];

/// Municipality code of the demo counter (千代田区).
pub const DEMO_MUNICIPALITY: &str = "131016";

/// The demo clinic's, pharmacy's and the other clinic's 医療機関コード.
pub fn demo_institution_codes() -> (String, String, String) {
    let c = |table, n| {
        InstitutionCode::build(13, table, n)
            .expect("valid")
            .as_str()
            .to_owned()
    };
    (c(1, 12_345), c(4, 54_321), c(1, 99_999))
}

const FAMILY: [(&str, &str); 20] = [
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
];
const MALE: [(&str, &str); 10] = [
    ("太郎", "タロウ"),
    ("健太", "ケンタ"),
    ("翔", "ショウ"),
    ("大輔", "ダイスケ"),
    ("誠", "マコト"),
    ("浩", "ヒロシ"),
    ("蓮", "レン"),
    ("悠真", "ユウマ"),
    ("隆", "タカシ"),
    ("修", "オサム"),
];
const FEMALE: [(&str, &str); 10] = [
    ("花子", "ハナコ"),
    ("陽菜", "ヒナ"),
    ("美咲", "ミサキ"),
    ("結衣", "ユイ"),
    ("恵子", "ケイコ"),
    ("幸子", "サチコ"),
    ("真由美", "マユミ"),
    ("葵", "アオイ"),
    ("裕子", "ユウコ"),
    ("明美", "アケミ"),
];
const PLACES: [(&str, &str); 8] = [
    ("東京都千代田区千代田", "100-0001"),
    ("東京都新宿区西新宿", "160-0023"),
    ("大阪府大阪市北区梅田", "530-0001"),
    ("愛知県名古屋市中区三の丸", "460-0001"),
    ("北海道札幌市中央区北一条西", "060-0001"),
    ("福岡県福岡市博多区博多駅前", "812-0011"),
    ("宮城県仙台市青葉区国分町", "980-0803"),
    ("広島県広島市中区基町", "730-0011"),
];
const LIMITS: [&str; 16] = [
    "A01", "A02", "A03", "A04", "A05", "A06", "B01", "B02", "B03", "B04", "B05", "B06", "B07",
    "B08", "B09", "B10",
];

/// The demo insurers: (number, name, insurance type).
pub fn demo_insurers() -> Vec<(String, String, String)> {
    let n = |body: &str| {
        InsurerNumber::with_check_digit(body)
            .expect("valid")
            .as_str()
            .to_owned()
    };
    let mut v = vec![];
    for (pref, name) in [(13, "東京"), (27, "大阪"), (23, "愛知"), (1, "北海道")] {
        v.push((
            n(&format!("01{pref:02}001")),
            format!("全国健康保険協会{name}支部"),
            "協会けんぽ".to_owned(),
        ));
        v.push((
            n(&format!("39{pref:02}001")),
            format!("{name}後期高齢者医療広域連合"),
            "後期高齢者医療".to_owned(),
        ));
        v.push((
            n(&format!("{pref:02}001")),
            format!("{name}国民健康保険"),
            "国民健康保険".to_owned(),
        ));
    }
    v.push((
        n("0613001"),
        "けんぽ商事健康保険組合".to_owned(),
        "組合管掌健康保険".to_owned(),
    ));
    v.push((
        n("3113001"),
        "公立学校共済組合東京支部".to_owned(),
        "共済組合".to_owned(),
    ));
    v
}

/// From this many persons on, a seed builds the random-order indexes after loading.
const BULK_SEED: u64 = 500_000;

/// Creates the indexes a bulk seed drops (no-op when they exist).
pub(crate) async fn create_bulk_indexes(store: &Store) -> Result<()> {
    sqlx::query("CREATE UNIQUE INDEX IF NOT EXISTS cards_cert_serial ON cards (cert_serial)")
        .execute(&store.pool)
        .await?;
    sqlx::query("CREATE INDEX IF NOT EXISTS persons_name_birth ON persons (family_name, given_name, birth_date)").execute(&store.pool).await?;
    sqlx::query("CREATE INDEX IF NOT EXISTS persons_birth ON persons (birth_date)")
        .execute(&store.pool)
        .await?;
    sqlx::query("CREATE INDEX IF NOT EXISTS persons_family_kana ON persons (family_kana)")
        .execute(&store.pool)
        .await?;
    Ok(())
}

enum Val {
    I(i64),
    T(String),
    N,
}

impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Val {
        v.map_or(Val::N, Val::T)
    }
}

struct Bulk {
    table: &'static str,
    columns: &'static [&'static str],
    rows: Vec<Vec<Val>>,
}

impl Bulk {
    fn new(table: &'static str, columns: &'static [&'static str]) -> Self {
        Bulk {
            table,
            columns,
            rows: vec![],
        }
    }

    async fn flush(
        &mut self,
        store: &Store,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ) -> Result<()> {
        let per = (30_000 / self.columns.len()).min(1000);
        for chunk in self.rows.chunks(per) {
            let sql = format!(
                "INSERT INTO {} ({}) VALUES {}",
                self.table,
                self.columns.join(","),
                store.values_clause(chunk.len(), self.columns.len())
            );
            let mut q = sqlx::query(&sql);
            for row in chunk {
                for v in row {
                    q = match v {
                        Val::I(i) => q.bind(*i),
                        Val::T(s) => q.bind(s.as_str()),
                        Val::N => q.bind(None::<String>),
                    };
                }
            }
            q.execute(&mut **tx).await?;
        }
        self.rows.clear();
        Ok(())
    }
}

impl Store {
    /// Inserts insurers, institutions and staff unless already there.
    pub async fn seed_base(&self) -> Result<()> {
        if !self.is_empty().await? {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        let mut ins = Bulk::new("insurers", &["number", "name", "insurance_type"]);
        for (n, name, kind) in demo_insurers() {
            ins.rows.push(vec![Val::T(n), Val::T(name), Val::T(kind)]);
        }
        ins.flush(self, &mut tx).await?;
        let (clinic, pharmacy, other) = demo_institution_codes();
        let mut inst = Bulk::new(
            "institutions",
            &["code", "name", "kind", "issues_e_prescriptions"],
        );
        // The demo clinic issues electronic prescriptions (its kiosk asks electronic or paper);
        // the clinic next door does not.
        for (code, name, kind, e_prescriptions) in [
            (clinic.clone(), "かくにん内科クリニック", "clinic", 1),
            (pharmacy.clone(), "かくにん薬局", "pharmacy", 0),
            (other.clone(), "となり整形外科", "clinic", 0),
            (
                DEMO_MUNICIPALITY.to_owned(),
                "千代田区役所 区民課",
                "municipality",
                0,
            ),
            ("operator".to_owned(), "kakunin 運用", "operator", 0),
        ] {
            inst.rows.push(vec![
                Val::T(code),
                Val::T(name.into()),
                Val::T(kind.into()),
                Val::I(e_prescriptions),
            ]);
        }
        inst.flush(self, &mut tx).await?;
        let mut staff = Bulk::new(
            "staff",
            &[
                "id",
                "institution_code",
                "name",
                "role",
                "token_hash",
                "password_hash",
            ],
        );
        for (id, name, role, password) in DEMO_STAFF {
            let inst = match (id, role) {
                ("staff-other-clinic", _) => other.clone(),
                (_, Role::Reception) => clinic.clone(),
                (_, Role::Pharmacist) => pharmacy.clone(),
                (_, Role::MunicipalClerk) => DEMO_MUNICIPALITY.to_owned(),
                (_, Role::Admin) => "operator".to_owned(),
            };
            staff.rows.push(vec![
                Val::T(id.into()),
                Val::T(inst),
                Val::T(name.into()),
                Val::T(role.as_str().into()),
                Val::T(crate::directory::token_hash(&crate::directory::new_token(
                    "unused-",
                ))),
                Val::T(crate::directory::hash_password(password)),
            ]);
        }
        staff.flush(self, &mut tx).await?;
        tx.commit().await?;
        let years = chrono::Utc::now() + Duration::days(3650);
        let mut tx = self.transaction().await?;
        for (id, token) in DEMO_API_TOKENS {
            tx.issue_api_token_value(id, "demo", years, token).await?;
        }
        tx.commit_setup().await
    }

    /// Gives the demo staff their documented API tokens where a demo database from before API
    /// tokens lacks them (the demo kiosk enrols with one). Demo databases only: the caller runs
    /// it only with the demo CA.
    pub async fn ensure_demo_api_tokens(&self) -> Result<()> {
        let years = chrono::Utc::now() + Duration::days(3650);
        for (id, token) in DEMO_API_TOKENS {
            // A token revoked by the operator stays revoked: only a missing one is added.
            if self.staff(id).await.is_err() || self.api_token_exists(token).await? {
                continue;
            }
            let mut tx = self.transaction().await?;
            tx.issue_api_token_value(id, "demo", years, token).await?;
            tx.commit_setup().await?;
        }
        Ok(())
    }

    /// Adds `count` persons after the highest existing id, calling `progress(done)` as it goes.
    /// Large seeds drop the indexes whose keys arrive in random order (certificate serials,
    /// names, birth dates, kana) and build them once at the end: inserting 10⁷ random keys into a B-tree larger than
    /// the page cache is what makes bulk loads crawl.
    pub async fn seed_persons(&self, count: u64, mut progress: impl FnMut(u64)) -> Result<()> {
        self.seed_base().await?;
        let bulk = count >= BULK_SEED;
        if bulk {
            for index in [
                "cards_cert_serial",
                "persons_name_birth",
                "persons_birth",
                "persons_family_kana",
            ] {
                sqlx::query(&format!("DROP INDEX IF EXISTS {index}"))
                    .execute(&self.pool)
                    .await?;
            }
        }
        let start: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) AS m FROM persons")
            .fetch_one(&self.pool)
            .await
            .and_then(|r| sqlx::Row::try_get(&r, "m"))?;
        let insurers = demo_insurers();
        let today = Utc::now().date_naive();
        let now = ts(Utc::now());
        let batch = 20_000u64;
        let demo_pin = Pin::parse(DEMO_PIN)?;
        let mut done = 0u64;
        while done < count {
            let n = batch.min(count - done);
            let mut persons = Bulk::new(
                "persons",
                &[
                    "id",
                    "family_name",
                    "given_name",
                    "family_kana",
                    "given_kana",
                    "birth_date",
                    "sex",
                    "address",
                    "post_number",
                ],
            );
            let mut quals = Bulk::new(
                "qualifications",
                &[
                    "id",
                    "person_id",
                    "insurer_number",
                    "symbol",
                    "number",
                    "branch",
                    "personal_family",
                    "copay_percent",
                    "valid_from",
                    "valid_to",
                    "limit_category",
                ],
            );
            let mut cards = Bulk::new(
                "cards",
                &[
                    "id",
                    "person_id",
                    "kind",
                    "cert_serial",
                    "registered",
                    "pin_salt",
                    "pin_hash",
                    "pin_failures",
                    "expires_on",
                    "security_code",
                    "version",
                    "updated_at",
                    "municipality_code",
                ],
            );
            let mut memo = Bulk::new(
                "card_memo",
                &[
                    "card_id",
                    "seq",
                    "text",
                    "entered_on",
                    "municipality",
                    "struck_on",
                ],
            );
            let mut history = Bulk::new(
                "card_history",
                &["card_id", "seq", "at", "place", "staff", "event"],
            );
            let mut medical = Bulk::new(
                "medical_information",
                &["id", "person_id", "category", "recorded_on", "content"],
            );
            for i in 0..n {
                let id = start + (done + i) as i64 + 1;
                let mut rng = StdRng::seed_from_u64(id as u64 ^ 0x6b616b756e696e);
                let sex = rng.gen_range(1..=2i64);
                let (family, fk) = FAMILY[rng.gen_range(0..FAMILY.len())];
                let (given, gk) = if sex == 1 {
                    MALE[rng.gen_range(0..MALE.len())]
                } else {
                    FEMALE[rng.gen_range(0..FEMALE.len())]
                };
                let birth = NaiveDate::from_ymd_opt(1930, 1, 1).expect("date")
                    + Duration::days(rng.gen_range(0..33_000));
                let (addr, post) = PLACES[rng.gen_range(0..PLACES.len())];
                persons.rows.push(vec![
                    Val::I(id),
                    Val::T(family.into()),
                    Val::T(given.into()),
                    Val::T(fk.into()),
                    Val::T(gk.into()),
                    Val::T(birth.to_string()),
                    Val::I(sex),
                    Val::T(format!(
                        "{addr}{}-{}-{}",
                        rng.gen_range(1..10),
                        rng.gen_range(1..30),
                        rng.gen_range(1..20)
                    )),
                    Val::T(post.into()),
                ]);
                let age = today.years_since(birth).unwrap_or(0);
                let pick = |prefix: &str, rng: &mut StdRng| {
                    let v: Vec<_> = insurers
                        .iter()
                        .filter(|(_, _, t)| t.starts_with(prefix))
                        .collect();
                    v[rng.gen_range(0..v.len())].0.clone()
                };
                let (insurer, copay) = if age >= 75 {
                    (
                        pick("後期", &mut rng),
                        if rng.gen_bool(0.1) { 30 } else { 10 },
                    )
                } else {
                    let p = ["協会", "国民", "組合", "共済"][rng.gen_range(0..4)];
                    (
                        pick(p, &mut rng),
                        if !(6..70).contains(&age) { 20 } else { 30 },
                    )
                };
                let from = (birth + Duration::days(365 * 20))
                    .max(NaiveDate::from_ymd_opt(2015, 4, 1).expect("date"))
                    .min(today);
                quals.rows.push(vec![
                    Val::I(id),
                    Val::I(id),
                    Val::T(insurer),
                    Val::T(format!("{}", 1000 + id % 9000)),
                    Val::T(format!("{id}")),
                    Val::T("00".into()),
                    Val::I(if rng.gen_bool(0.7) { 1 } else { 2 }),
                    Val::I(copay),
                    Val::T(from.to_string()),
                    Val::N,
                    if rng.gen_bool(0.3) {
                        Val::T(LIMITS[rng.gen_range(0..LIMITS.len())].into())
                    } else {
                        Val::N
                    },
                ]);
                let case = DEMO_CASES.get(id as usize - 1).copied();
                let has_card = case.is_some() || rng.gen_bool(0.75);
                if has_card {
                    let card = demo_card_id(id);
                    let face = case
                        .map(|c| c.0 == "face_auth")
                        .unwrap_or_else(|| rng.gen_bool(0.2));
                    let registered = case.map(|c| c.1).unwrap_or_else(|| rng.gen_bool(0.8));
                    let issued = (today - Duration::days(rng.gen_range(30..1500)))
                        .and_hms_opt(9, 0, 0)
                        .expect("time")
                        .and_utc();
                    let expires = NaiveDate::from_ymd_opt(
                        issued.year() + 10,
                        birth.month(),
                        birth.day().min(28),
                    )
                    .expect("date");
                    // Issued (and registered) as the domain issues cards, like any other.
                    let ctx = CounterContext {
                        municipality: DEMO_MUNICIPALITY.into(),
                        staff: None,
                        at: issued,
                    };
                    let kind = if face {
                        CardKind::FaceAuth
                    } else {
                        CardKind::Standard
                    };
                    let salt: [u8; 16] = rng.gen();
                    let mut issued_card = Card::issue(
                        card.clone(),
                        kind,
                        (!face).then_some((&demo_pin, salt)),
                        false,
                        &ctx,
                    )?;
                    if registered {
                        let (channel, method) = if face {
                            (RegistrationChannel::CardReader, IdentityMethod::Face)
                        } else {
                            (RegistrationChannel::Smartphone, IdentityMethod::Pin)
                        };
                        issued_card.register(
                            channel,
                            Some(method),
                            "demo",
                            None,
                            issued + Duration::days(3),
                        )?;
                    }
                    let (salt, hash) = match &issued_card.pin {
                        Some(p) => (Val::T(p.salt.clone()), Val::T(p.hash.clone())),
                        None => (Val::N, Val::N),
                    };
                    cards.rows.push(vec![
                        Val::T(card.clone()),
                        Val::I(id),
                        Val::T(issued_card.kind.as_str().into()),
                        Val::T(demo_serial_hex(&card)),
                        Val::I(issued_card.registered as i64),
                        salt,
                        hash,
                        Val::I(0),
                        Val::T(expires.to_string()),
                        Val::T(format!("{:04}", rng.gen_range(0..10_000))),
                        Val::I(0),
                        Val::T(now.clone()),
                        Val::T(DEMO_MUNICIPALITY.into()),
                    ]);
                    for (seq, h) in issued_card.history.iter().enumerate() {
                        history.rows.push(vec![
                            Val::T(card.clone()),
                            Val::I(seq as i64),
                            Val::T(ts(h.at)),
                            Val::T(h.place.clone()),
                            Val::from(h.staff.clone()),
                            Val::T(serde_json::to_string(&h.event).expect("card event serialises")),
                        ]);
                    }
                    for (seq, m) in issued_card.memo.iter().enumerate() {
                        memo.rows.push(vec![
                            Val::T(card.clone()),
                            Val::I(seq as i64),
                            Val::T(m.text.clone()),
                            Val::T(m.entered_on.to_string()),
                            Val::T(m.municipality.clone()),
                            Val::N,
                        ]);
                    }
                }
                if case.is_some() || rng.gen_bool(0.2) {
                    for (k, (cat, content)) in [
                        ("medication", serde_json::json!({ "drug": "アムロジピン錠5mg", "dose": "1日1回1錠", "days": 28 })),
                        ("checkup", serde_json::json!({ "bmi": 23.1, "systolic": 128, "hba1c": 5.6 })),
                        ("clinical", serde_json::json!({ "diagnosis": "高血圧症", "procedure": null })),
                    ]
                    .into_iter()
                    .enumerate()
                    {
                        medical.rows.push(vec![
                            Val::I(id * 4 + k as i64), Val::I(id), Val::T(cat.into()),
                            Val::T((today - Duration::days(rng.gen_range(1..400))).to_string()), Val::T(content.to_string()),
                        ]);
                    }
                }
            }
            let mut tx = self.pool.begin().await?;
            for b in [
                &mut persons,
                &mut quals,
                &mut cards,
                &mut memo,
                &mut history,
                &mut medical,
            ] {
                b.flush(self, &mut tx).await?;
            }
            tx.commit().await?;
            done += n;
            progress(done);
        }
        if bulk {
            create_bulk_indexes(self).await?;
        }
        self.seed_recipients().await
    }
}
