//! The reporter's path: the organisation page, a new case, the case by its token, follow-ups.

use meldpunt_api::ErrorCode;
use std::sync::Arc;

use crate::day::{Day, now_secs};
use crate::service::checks::{check_stanzas, store_error};
use crate::service::error::{ServiceError, ServiceResult};
use crate::service::ids::random_id;
use crate::service::state::AppState;
use crate::service::verify::{self, Purpose};
use crate::service::orgs;
use crate::service::wire::{self, CaseView, unb64, unb64_exact};
use crate::store::{AdvisorKeys, CaseInfo, Id, NewCase, Sender, StoreError};

impl AppState {
    /// An organisation's page data.
    pub async fn org_page(&self, slug: String) -> ServiceResult<wire::OrgPage> {
        if slug.is_empty() || slug.len() > 64 {
            return Err(ServiceError::not_found("unknown organisation"));
        }
        let (org, advisors, has_logo, html) = self
            .db(move |s| {
                // A renamed organisation is still found by its former slugs (old links, and
                // the slug its older cases were sealed for).
                let org = match s.org_by_slug(&slug)? {
                    Some(org) => org,
                    None => match s.org_by_former_slug(&slug)? {
                        Some(org) => org,
                        None => return Ok(None),
                    },
                };
                let extras = s.org_extras(org.id)?;
                if extras.suspended {
                    return Ok(Some(Err(())));
                }
                let advisors = orgs::public_advisors(s, org.id, &extras)?;
                // Markdown is rendered here, on the blocking pool.
                let html = [
                    &org.intro_nl,
                    &org.intro_en,
                    &org.conduct_nl,
                    &org.conduct_en,
                ]
                .map(|t| crate::markdown::render(t));
                Ok(Some(Ok((org, advisors, extras.has_logo, html))))
            })
            .await?
            .ok_or_else(|| ServiceError::not_found("unknown organisation"))?
            .map_err(|()| orgs::org_suspended())?;
        let [intro_nl, intro_en, conduct_nl, conduct_en] = html;
        let now = now_secs();
        Ok(wire::OrgPage {
            has_logo,
            intro_html: wire::Texts {
                nl: intro_nl,
                en: intro_en,
            },
            code_of_conduct_html: wire::Texts {
                nl: conduct_nl,
                en: conduct_en,
            },
            slug: org.slug,
            name: org.name,
            intro: wire::Texts {
                nl: org.intro_nl,
                en: org.intro_en,
            },
            code_of_conduct: wire::Texts {
                nl: org.conduct_nl,
                en: org.conduct_en,
            },
            categories: org.categories.iter().map(wire::category).collect(),
            languages: org.languages,
            retention_days: org.retention_days,
            advisors: advisors
                .iter()
                .map(|a| wire::advisor_out(a, now))
                .collect(),
        })
    }

    // ---------- reporter

    /// Creates a case. Checks run cheapest first; the PoW (expensive) runs after the
    /// structural checks, then the global `create` quota is taken (so that requests without
    /// a valid PoW, from however many addresses, cannot use it up), then the write. `ip` is
    /// the client's rate-limit key (its own quota was taken by the handler): a `token_hash`
    /// that is already taken counts as a failed token guess against it.
    pub async fn create_case(
        self: &Arc<Self>,
        req: wire::CreateCase,
        ip: std::net::IpAddr,
    ) -> ServiceResult<Day> {
        if req.org.is_empty() || req.org.len() > 64 {
            return Err(ServiceError::bad_request(
                ErrorCode::BadOrg,
                "`org` must be 1..=64 bytes",
            ));
        }
        if req.advisors.is_empty() || req.advisors.len() > 32 {
            return Err(ServiceError::bad_request(
                ErrorCode::BadAdvisors,
                "address 1..=32 advisors",
            ));
        }
        let mut advisor_ids = Vec::with_capacity(req.advisors.len());
        for a in &req.advisors {
            let id: Id = unb64_exact("advisors", a)?;
            if advisor_ids.contains(&id) {
                return Err(ServiceError::bad_request(
                    ErrorCode::BadAdvisors,
                    "an advisor is listed twice",
                ));
            }
            advisor_ids.push(id);
        }
        let token_hash: [u8; 32] = unb64_exact("token_hash", &req.token_hash)?;
        let envelope = unb64(
            "envelope",
            &req.envelope,
            self.settings.limits.message_bytes,
        )?;
        let info = verify::envelope(&envelope, Purpose::Report, &req.org)?;

        let slug = req.org.clone();
        let (org, suspended, visible) = self
            .db(move |s| {
                let Some(org) = s.org_by_slug(&slug)? else {
                    return Ok(None);
                };
                // Suspended advisors cannot be chosen; a suspended organisation takes no case.
                let extras = s.org_extras(org.id)?;
                let advisors = orgs::public_advisors(s, org.id, &extras)?;
                Ok(Some((org, extras.suspended, advisors)))
            })
            .await?
            .ok_or_else(|| ServiceError::not_found("unknown organisation"))?;
        if suspended {
            return Err(orgs::org_suspended());
        }
        let now = now_secs();
        let addressed: Vec<&AdvisorKeys> = advisor_ids
            .iter()
            .map(|id| {
                visible.iter().find(|a| &a.advisor.id == id).ok_or_else(|| {
                    ServiceError::bad_request(
                        ErrorCode::BadAdvisors,
                        "an addressed advisor is unknown to this organisation",
                    )
                })
            })
            .collect::<ServiceResult<_>>()?;
        check_stanzas(&info.key_ids, &addressed, now)?;

        self.check_pow(req.pow).await?;
        self.limits
            .charge_global(crate::service::limits::Class::Create, &self.metrics)?;
        let day = Day::today();
        let case = NewCase {
            id: random_id(),
            org_id: org.id,
            token_hash,
            advisors: advisor_ids.clone(),
            envelope,
            day,
        };
        // Queued for the writer's next group commit and awaited here: no thread waits for
        // the fsync. Answered only once the case is committed.
        match self.store.create_case_queued(case).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                return Err(self.limits.create_conflict(ip, &self.metrics));
            }
            Err(e) => return Err(store_error(e)),
        }
        self.notify.activity(&advisor_ids);
        Ok(day)
    }

    /// Finds the case of a case token, counting failures against the client's address.
    pub async fn case_by_token(
        &self,
        token: Option<&str>,
        ip: std::net::IpAddr,
    ) -> ServiceResult<CaseInfo> {
        let hash = token.and_then(verify::case_token_hash);
        let Some(hash) = hash else {
            return Err(self.limits.token_failure(ip, &self.metrics));
        };
        let found = self.db(move |s| s.case_by_token(&hash)).await?;
        match found {
            Some(c) => Ok(c),
            None => Err(self.limits.token_failure(ip, &self.metrics)),
        }
    }

    /// The reporter's view of a case.
    pub async fn reporter_view(&self, case: CaseInfo) -> ServiceResult<CaseView> {
        let id = case.id;
        let advisor_ids = case.advisors.clone();
        let (messages, attachments, advisors) = self
            .db(move |s| {
                let mut advisors = Vec::new();
                for a in &advisor_ids {
                    if let Some(k) = s.advisor(a)? {
                        advisors.push(k);
                    }
                }
                Ok((s.messages(&id)?, s.attachments(&id)?, advisors))
            })
            .await?;
        let now = now_secs();
        Ok(CaseView {
            id: None,
            org: case.org_slug,
            status: case.status.into(),
            created: case.created.to_string(),
            updated: case.updated.to_string(),
            deadlines: None,
            advisors: advisors
                .iter()
                .map(|a| wire::advisor_out(a, now))
                .collect(),
            messages: messages.iter().map(|m| wire::message_out(m, None)).collect(),
            attachments: attachments
                .iter()
                .map(|a| wire::attachment_out(a, None))
                .collect(),
        })
    }

    /// A reporter's follow-up: sealed to the advisors on the case.
    pub async fn follow_up(
        self: &Arc<Self>,
        case: CaseInfo,
        req: wire::PostFollowUp,
    ) -> ServiceResult<u32> {
        let envelope = unb64(
            "envelope",
            &req.envelope,
            self.settings.limits.message_bytes,
        )?;
        let info = verify::envelope(&envelope, Purpose::Message, &case.org_slug)?;
        let ids = case.advisors.clone();
        let advisors = self
            .db(move |s| {
                let mut out = Vec::new();
                for a in &ids {
                    if let Some(k) = s.advisor(a)? {
                        out.push(k);
                    }
                }
                Ok(out)
            })
            .await?;
        let now = now_secs();
        // Advisors left without any valid key cannot be sealed to; all others must be.
        let reachable: Vec<&AdvisorKeys> = advisors
            .iter()
            .filter(|a| a.valid_bundles(now).next().is_some())
            .collect();
        check_stanzas(&info.key_ids, &reachable, now)?;
        self.check_pow(req.pow).await?;
        let seq = self
            .add_message(case.id, Sender::Reporter, envelope)
            .await?;
        self.notify.activity(&case.advisors);
        Ok(seq)
    }

    pub(super) async fn add_message(&self, case: Id, sender: Sender, envelope: Vec<u8>) -> ServiceResult<u32> {
        let max = self.settings.limits.messages_per_case;
        let seq = self
            .db(move |s| s.add_message(&case, sender, &envelope, Day::today(), max))
            .await?;
        Ok(seq)
    }

    // ---------- advisors
}
