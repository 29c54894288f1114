//! What the reporter path and the admin path both need about an organisation: the advisors
//! it offers, and the answer when it is suspended. Both may import this; neither imports the
//! other.

use meldpunt_api::ErrorCode;

use crate::service::error::{Kind, ServiceError};
use crate::store::admin::{AdvisorStatus, OrgExtras};
use crate::store::{AdvisorKeys, Id, Store, StoreError};

/// The advisors a reporter of `org` is offered, in the organisation's order: its own and the
/// branch-wide ones, without suspended advisors. Those named in `advisor_order` come first,
/// in that order; the rest keep the default order (own, then branch-wide, by name).
pub fn public_advisors(
    store: &dyn Store,
    org_id: i64,
    extras: &OrgExtras,
) -> Result<Vec<AdvisorKeys>, StoreError> {
    let all = store.advisor_statuses(Some(org_id))?;
    Ok(order_advisors(all, &extras.advisor_order)
        .into_iter()
        .filter(|a| !a.suspended)
        .map(|a| a.keys)
        .collect())
}

/// `all` in the order of `order` first, the rest after in their given order.
#[must_use]
pub fn order_advisors(mut all: Vec<AdvisorStatus>, order: &[Id]) -> Vec<AdvisorStatus> {
    let mut out = Vec::with_capacity(all.len());
    for id in order {
        if let Some(pos) = all.iter().position(|a| &a.keys.advisor.id == id) {
            out.push(all.remove(pos));
        }
    }
    out.append(&mut all);
    out
}

/// The answer for a suspended organisation's public page, logo and new cases.
#[must_use]
pub fn org_suspended() -> ServiceError {
    ServiceError::new(
        Kind::Gone,
        ErrorCode::OrgSuspended,
        "this organisation's reporting page is suspended; reports already made can still be read with their pickup code",
    )
}

