//! Repository tests, run on SQLite and (with KAKUNIN_TEST_POSTGRES_URL) on PostgreSQL.

use chrono::Duration;
use kakunin_core::audit::{AuditAction, AuditEvent};
use kakunin_core::card::{CardKind, CounterContext, Pin, RegistrationChoice};
use kakunin_core::consent::{ConsentSelection, InfoCategory};
use kakunin_core::declaration::{DeclarationStatus, SelfDeclaration};
use kakunin_core::visit::{PlacedBy, Visit};
use kakunin_core::ErrorCode;
use kakunin_store::audit::AuditWriter;
use kakunin_store::seed::{demo_card_id, demo_institution_codes};
use kakunin_store::testing::stores;
use kakunin_store::visits::{ConsentRecord, VisitRecord};
use kakunin_store::{new_id, StoreError};

#[tokio::test]
async fn seeded_persons_are_found_by_numbers_and_card() {
    for (store, _dir) in stores().await {
        let mut seen = vec![];
        store.seed_persons(60, |n| seen.push(n)).await.unwrap();
        assert_eq!(seen.last(), Some(&60));
        let q = store.qualification_of_person(1).await.unwrap();
        kakunin_core::numbers::InsurerNumber::parse(&q.insurer_number).unwrap();
        let again = store
            .qualification_by_numbers(&q.insurer_number, &q.symbol, &q.number, &q.branch)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again, q);
        // Every draw of the benchmark sampler gives a real qualification (it once gave none a
        // quarter of the time for a single draw).
        let sample = store.sample_numbers(40).await.unwrap();
        assert_eq!(sample.len(), 40);
        for [insurer, symbol, number, branch] in &sample {
            assert!(store
                .qualification_by_numbers(insurer, symbol, number, branch)
                .await
                .unwrap()
                .is_some());
        }
        assert!(store
            .qualification_by_numbers(&q.insurer_number, &q.symbol, "nope", "00")
            .await
            .unwrap()
            .is_none());
        let card = store.card(&demo_card_id(1)).await.unwrap();
        assert_eq!(
            (card.card.kind, card.card.registered),
            (CardKind::Standard, true)
        );
        let face = store.card(&demo_card_id(2)).await.unwrap();
        assert_eq!(face.card.kind, CardKind::FaceAuth);
        assert_eq!(face.card.memo[0].text, "顔認証");
        assert!(store
            .card_by_serial(&card.cert_serial)
            .await
            .unwrap()
            .is_some());
        let meds = store
            .medical_information(1, InfoCategory::Medication)
            .await
            .unwrap();
        assert_eq!(meds.len(), 1);
        let (family, given) = q.name.split_once(' ').unwrap();
        assert!(store
            .persons_by_name_and_birth(family, given, q.birth_date)
            .await
            .unwrap()
            .contains(&1));
        // Seeding more appends after the last id.
        store.seed_persons(5, |_| {}).await.unwrap();
        store.qualification_of_person(65).await.unwrap();
        assert!(matches!(
            store.card("nope").await,
            Err(StoreError::NotFound { .. })
        ));
    }
}

#[tokio::test]
async fn card_changes_round_trip_and_conflicts_are_refused() {
    for (store, _dir) in stores().await {
        store.seed_persons(4, |_| {}).await.unwrap();
        let before = store.card(&demo_card_id(1)).await.unwrap();
        let mut card = before.card.clone();
        for _ in 0..3 {
            let _ = card.verify_pin("0000", "clinic", kakunin_store::now());
        }
        let mut tx = store.transaction().await.unwrap();
        tx.save_card(&before, &card).await.unwrap();
        kakunin_store::testing::commit_setup(tx).await;
        let locked = store.card(&demo_card_id(1)).await.unwrap();
        assert!(locked.card.pin.as_ref().unwrap().locked());
        assert_eq!(locked.card.history.len(), before.card.history.len() + 1);
        // A second writer holding the old version is refused.
        let mut tx = store.transaction().await.unwrap();
        assert!(matches!(
            tx.save_card(&before, &card).await,
            Err(StoreError::CardChanged(_))
        ));
        drop(tx);

        let ctx = CounterContext {
            municipality: "131016".into(),
            staff: Some("staff-clerk".into()),
            at: kakunin_store::now(),
        };
        let mut c = locked.card.clone();
        c.switch_kind(CardKind::FaceAuth, None, RegistrationChoice::NotAsked, &ctx)
            .unwrap();
        let mut tx = store.transaction().await.unwrap();
        tx.save_card(&locked, &c).await.unwrap();
        kakunin_store::testing::commit_setup(tx).await;
        let face = store.card(&demo_card_id(1)).await.unwrap();
        let mut c = face.card.clone();
        c.switch_kind(
            CardKind::Standard,
            Some((&Pin::parse("9876").unwrap(), [7; 16])),
            RegistrationChoice::NotAsked,
            &ctx,
        )
        .unwrap();
        let mut tx = store.transaction().await.unwrap();
        tx.save_card(&face, &c).await.unwrap();
        kakunin_store::testing::commit_setup(tx).await;
        let back = store.card(&demo_card_id(1)).await.unwrap();
        assert_eq!(
            back.card, c,
            "memo strike and history survive the round trip"
        );
        assert!(back.card.memo[0].struck_on.is_some());
        assert!(back.card.registered);
        let mut c = back.card.clone();
        c.verify_pin("9876", "x", kakunin_store::now()).unwrap();
        assert_eq!(
            c.verify_pin("1", "x", kakunin_store::now())
                .unwrap_err()
                .code,
            ErrorCode::PinWrong
        );
    }
}

#[tokio::test]
async fn audit_chain_survives_concurrency_and_detects_tampering() {
    for (store, _dir) in stores().await {
        let writer = AuditWriter::start(store.clone()).await.unwrap();
        let mut tasks = vec![];
        for i in 0..400 {
            let w = writer.clone();
            tasks.push(tokio::spawn(async move {
                w.append(AuditEvent {
                    at: kakunin_store::now(),
                    actor: "staff-reception".into(),
                    institution: Some("1310123452".into()),
                    action: AuditAction::EligibilityCheck,
                    subject: format!("person-{i}"),
                    detail: "{}".into(),
                })
                .await
                .unwrap()
            }));
        }
        let mut seqs = vec![];
        for t in tasks {
            seqs.push(t.await.unwrap());
        }
        seqs.sort();
        assert_eq!(seqs, (1..=400).collect::<Vec<_>>());
        let report = store.verify_audit_chain().await.unwrap();
        assert_eq!((report.records, report.broken.is_none()), (400, true));

        // A restarted writer continues the same chain.
        let writer2 = AuditWriter::start(store.clone()).await.unwrap();
        let seq = writer2
            .append(AuditEvent {
                at: kakunin_store::now(),
                actor: "system".into(),
                institution: None,
                action: AuditAction::CardChange,
                subject: "c".into(),
                detail: "{}".into(),
            })
            .await
            .unwrap();
        assert_eq!(seq, 401);
        assert!(store.verify_audit_chain().await.unwrap().broken.is_none());

        sqlx::query("UPDATE audit_log SET subject = 'someone-else' WHERE seq = 123")
            .execute(&store.pool)
            .await
            .unwrap();
        let report = store.verify_audit_chain().await.unwrap();
        assert_eq!(report.broken.unwrap().seq, 123);
        assert_eq!(report.last_seq, 122);
    }
}

#[tokio::test]
async fn visits_nonces_consents_declarations() {
    for (store, _dir) in stores().await {
        store.seed_persons(2, |_| {}).await.unwrap();
        let (clinic, _, _) = demo_institution_codes();
        let key = kakunin_evidence::attestation::ReaderKey::generate();
        let mut tx = store.transaction().await.unwrap();
        tx.insert_reader(
            &kakunin_store::directory::Reader {
                id: "r1".into(),
                institution_code: clinic.clone(),
                public_key: key.public_key_b64(),
                status: kakunin_store::directory::ReaderStatus::Active,
            },
            "staff-admin",
        )
        .await
        .unwrap();
        kakunin_store::testing::commit_setup(tx).await;
        let now = kakunin_store::now();
        let v = VisitRecord {
            id: new_id("v"),
            institution_code: clinic.clone(),
            reader_id: Some("r1".into()),
            card_id: Some(demo_card_id(2)),
            person_id: Some(2),
            visit: Visit::start(CardKind::FaceAuth, true, PlacedBy::Patient),
            started_at: now,
            updated_at: now,
        };
        let mut tx = store.transaction().await.unwrap();
        tx.insert_visit(&v).await.unwrap();
        kakunin_store::testing::commit_setup(tx).await;
        let mut changed = v.visit.clone();
        changed
            .apply(kakunin_core::visit::VisitEvent::CertificateChecked { ok: true })
            .unwrap();
        let mut tx = store.transaction().await.unwrap();
        tx.save_visit(&v, &changed).await.unwrap();
        kakunin_store::testing::commit_setup(tx).await;
        let mut tx = store.transaction().await.unwrap();
        assert!(
            matches!(
                tx.save_visit(&v, &changed).await,
                Err(StoreError::VisitChanged(_))
            ),
            "stale visit refused"
        );
        drop(tx);
        assert_eq!(store.visit(&v.id).await.unwrap().visit, changed);
        assert_eq!(
            store
                .visits_of_institution(&clinic, 10)
                .await
                .unwrap()
                .len(),
            1
        );

        store.issue_nonce("n1", "r1", &v.id).await.unwrap();
        assert!(
            !store
                .consume_nonce("n1", "other", &v.id, Duration::minutes(5))
                .await
                .unwrap(),
            "other reader"
        );
        assert!(store
            .consume_nonce("n1", "r1", &v.id, Duration::minutes(5))
            .await
            .unwrap());
        assert!(
            !store
                .consume_nonce("n1", "r1", &v.id, Duration::minutes(5))
                .await
                .unwrap(),
            "replay"
        );
        assert!(
            !store
                .consume_nonce("n2", "r1", &v.id, Duration::minutes(5))
                .await
                .unwrap(),
            "unknown"
        );

        let sel = ConsentSelection {
            medication: true,
            checkup: false,
            clinical: true,
            limit_amount: false,
        };
        let mut tx = store.transaction().await.unwrap();
        tx.insert_consent(&ConsentRecord {
            visit_id: v.id.clone(),
            institution_code: clinic.clone(),
            person_id: 2,
            selection: sel,
            assisted: true,
            at: now,
        })
        .await
        .unwrap();
        kakunin_store::testing::commit_setup(tx).await;
        let c = store.consent_of_visit(&v.id).await.unwrap().unwrap();
        assert_eq!((c.selection, c.assisted), (sel, true));

        let form = SelfDeclaration {
            name: Some("山田 花子".into()),
            ..Default::default()
        };
        let d = kakunin_store::declarations::DeclarationRecord {
            id: new_id("d"),
            institution_code: clinic,
            visit_id: None,
            missing: form
                .missing_fields()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            form,
            status: DeclarationStatus::Pending,
            matched_person_id: None,
            created_at: now,
            rechecked_at: None,
        };
        let mut tx = store.transaction().await.unwrap();
        tx.insert_declaration(&d).await.unwrap();
        kakunin_store::testing::commit_setup(tx).await;
        assert_eq!(
            store.pending_declarations(10).await.unwrap(),
            vec![d.clone()]
        );
        let mut tx = store.transaction().await.unwrap();
        tx.set_declaration_status(&d.id, DeclarationStatus::NotFound, None)
            .await
            .unwrap();
        kakunin_store::testing::commit_setup(tx).await;
        assert!(store.pending_declarations(10).await.unwrap().is_empty());
        assert_eq!(
            store.declaration(&d.id).await.unwrap().status,
            DeclarationStatus::NotFound
        );
    }
}

#[tokio::test]
async fn two_audit_writers_on_one_database_keep_one_chain() {
    for (store, _dir) in stores().await {
        let a = AuditWriter::start(store.clone()).await.unwrap();
        let b = AuditWriter::start(store.clone()).await.unwrap();
        let ev = |i: usize| AuditEvent {
            at: kakunin_store::now(),
            actor: "system".into(),
            institution: None,
            action: AuditAction::Consent,
            subject: format!("s{i}"),
            detail: "{}".into(),
        };
        let ta = tokio::spawn({
            let a = a.clone();
            async move {
                for i in 0..30 {
                    a.append(ev(i)).await.unwrap();
                }
            }
        });
        for i in 30..60 {
            b.append(ev(i)).await.unwrap();
        }
        ta.await.unwrap();
        let report = store.verify_audit_chain().await.unwrap();
        assert_eq!((report.records, report.broken), (60, None));
    }
}

#[tokio::test]
async fn a_transaction_commits_its_rows_with_its_audit_record_or_nothing() {
    for (store, _dir) in stores().await {
        store.seed_persons(1, |_| {}).await.unwrap();
        let before = store.verify_audit_chain().await.unwrap().records;
        let expires = chrono::Utc::now() + chrono::Duration::days(1);
        // Without an audit record nothing is committed.
        let mut tx = store.transaction().await.unwrap();
        let (_, unaudited) = tx
            .issue_api_token("staff-reception", "unaudited", expires)
            .await
            .unwrap();
        assert!(matches!(tx.commit().await, Err(StoreError::Unaudited)));
        // A token issued and audited in a transaction not yet committed.
        let audited_token = |label: &'static str| {
            let store = store.clone();
            async move {
                let mut tx = store.transaction().await.unwrap();
                let (_, token) = tx
                    .issue_api_token("staff-reception", label, expires)
                    .await
                    .unwrap();
                tx.audit(
                    "test",
                    None,
                    kakunin_core::audit::AuditAction::StaffAccount,
                    "staff-reception",
                    serde_json::json!({ "op": "token", "token_id": token.id }),
                );
                (tx, token)
            }
        };
        // Dropped before commit: rolled back, rows and record alike.
        let (tx, dropped) = audited_token("dropped").await;
        drop(tx);
        // Committed: both, the record chained.
        let (tx, kept) = audited_token("kept").await;
        let seqs = tx.commit().await.unwrap();
        assert_eq!(seqs, vec![before + 1]);
        let ids: Vec<String> = store
            .api_tokens(Some("staff-reception"))
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.id)
            .collect();
        assert!(ids.contains(&kept.id));
        assert!(!ids.contains(&unaudited.id) && !ids.contains(&dropped.id));
        let report = store.verify_audit_chain().await.unwrap();
        assert!(report.broken.is_none());
        assert_eq!(report.records, before + 1);
    }
}

#[tokio::test]
async fn the_holders_of_a_page_of_visits_are_read_at_once() {
    for (store, _dir) in stores().await {
        store.seed_persons(5, |_| {}).await.unwrap();
        let got = store
            .qualifications_of_persons(&[1, 3, 5, 99])
            .await
            .unwrap();
        assert_eq!(got.len(), 3, "the unknown person is absent");
        for id in [1, 3, 5] {
            assert_eq!(got[&id], store.qualification_of_person(id).await.unwrap());
        }
        assert!(store
            .qualifications_of_persons(&[])
            .await
            .unwrap()
            .is_empty());
    }
}
