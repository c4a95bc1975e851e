//! Automatic re-check of self-declarations once the online check works again (SPEC §6).

use crate::error::ApiResult;
use crate::AppState;
use kakunin_api::declarations::RecheckSummary;
use kakunin_core::audit::AuditAction;
use kakunin_core::declaration::{declared_name_matches, DeclarationStatus};
use serde_json::json;

/// Re-checks every pending declaration: one person with the declared name (compared by
/// [`declared_name_matches`]) and birth date →
/// confirmed (or mismatch if the declared copay or insurer name disagrees); otherwise not found.
pub async fn recheck_declarations(state: &AppState) -> ApiResult<RecheckSummary> {
    let mut s = RecheckSummary {
        checked: 0,
        confirmed: 0,
        mismatch: 0,
        not_found: 0,
    };
    loop {
        let pending = state.store.pending_declarations(200).await?;
        if pending.is_empty() {
            return Ok(s);
        }
        for d in pending {
            let f = &d.form;
            let mut person = None;
            if let (true, Some(name), Some(birth)) =
                (f.matchable(), f.name.as_deref(), f.birth_date)
            {
                // Everyone born that day (a few hundred at national scale), then the name
                // as the domain compares it; only a single match is a match.
                let ids: Vec<i64> = state
                    .store
                    .persons_born_on(birth, 100_000)
                    .await?
                    .into_iter()
                    .filter(|(_, n, kana)| declared_name_matches(name, n, kana))
                    .map(|(id, ..)| id)
                    .collect();
                if let [id] = ids[..] {
                    person = Some(state.store.qualification_of_person(id).await?);
                }
            }
            let status = match &person {
                None => DeclarationStatus::NotFound,
                Some(q) => {
                    let copay_ok = f
                        .copay_percent
                        .is_none_or(|c| i64::from(c) == q.copay_percent);
                    let insurer_ok = f
                        .insurer_name
                        .as_deref()
                        .is_none_or(|n| n.trim().is_empty() || q.insurer_name.contains(n.trim()));
                    if copay_ok && insurer_ok {
                        DeclarationStatus::Confirmed
                    } else {
                        DeclarationStatus::Mismatch
                    }
                }
            };
            let pid = person.map(|q| q.person_id);
            let mut tx = state.store.transaction().await?;
            tx.set_declaration_status(&d.id, status, pid).await?;
            tx.audit(
                "system",
                Some(&d.institution_code),
                AuditAction::Declaration,
                &d.id,
                json!({ "recheck": status, "person": pid }),
            );
            tx.commit().await?;
            s.checked += 1;
            match status {
                DeclarationStatus::Confirmed => s.confirmed += 1,
                DeclarationStatus::Mismatch => s.mismatch += 1,
                _ => s.not_found += 1,
            }
        }
    }
}

/// Runs the re-check every `config.recheck_every`, logging failures (the database may be down;
/// the declarations stay pending and are tried again).
pub fn spawn(state: AppState) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(state.config.recheck_every).await;
            match recheck_declarations(&state).await {
                Ok(s) if s.checked > 0 => tracing::info!(
                    checked = s.checked,
                    confirmed = s.confirmed,
                    "re-checked self-declarations"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(
                    code = e.code.as_str(),
                    "declaration re-check failed; will retry"
                ),
            }
        }
    });
}
