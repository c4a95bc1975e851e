//! Automatic re-check of self-declarations once the online check works again (SPEC §6).

use crate::error::ApiResult;
use crate::AppState;
use kakunin_api::declarations::RecheckSummary;
use kakunin_core::audit::AuditAction;
use kakunin_core::declaration::DeclarationStatus;
use serde_json::json;

/// Re-checks every pending declaration as the domain says
/// ([`kakunin_core::declaration::SelfDeclaration::matching_person`] and
/// [`kakunin_core::declaration::SelfDeclaration::recheck`]), storing and auditing each verdict.
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
            // Everyone born on the declared day (a few hundred at national scale), then the
            // name as the domain compares it.
            let born_that_day = match f.birth_date.filter(|_| f.matchable()) {
                Some(birth) => state.store.persons_born_on(birth, 100_000).await?,
                None => vec![],
            };
            let matched = f.matching_person(
                born_that_day
                    .iter()
                    .map(|(id, n, kana)| (*id, n.as_str(), kana.as_str())),
            );
            let person = match matched {
                Some(id) => Some(state.store.qualification_of_person(id).await?),
                None => None,
            };
            let status = f.recheck(person.as_ref());
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
