//! What the server does, between the HTTP handlers (which parse and answer) and the
//! [`Store`] (which keeps). Validation of uploaded bytes happens here, before any write.

use meldpunt_api::ErrorCode;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::web;
use sha2::{Digest, Sha256};

use crate::api::{
    self, CaseSummary, CaseView, b64, unb64, unb64_exact,
};
use crate::config::Settings;
use crate::day::{Day, now_secs};
use crate::error::{ApiError, ApiResult};
use crate::limits::Limiters;
use crate::metrics::Metrics;
use crate::pow::{PowGate, PowSolution};
use crate::store::{
    AdvisorKeys, CaseInfo, DetachedStanza, Id, NewAdvisor, NewCase, Removal, Sender, StanzaTarget,
    Store, StoreError, StoreResult,
};
use crate::verify::{self, Purpose};

/// Most outstanding login challenges.
const MAX_LOGIN_CHALLENGES: usize = 100_000;
/// Largest advisor photo, bytes.
pub const MAX_PHOTO: usize = 64 * 1024;

/// Outstanding login challenges: challenge → (identity key, expiry).
type LoginChallenges = HashMap<[u8; 32], ([u8; 32], i64)>;

/// Shared state of all workers.
#[derive(Debug)]
pub struct AppState {
    /// Settings.
    pub settings: Settings,
    /// Storage.
    pub store: Arc<dyn Store>,
    /// Proof of work.
    pub pow: PowGate,
    /// Bounds concurrent proof-of-work checks (each needs `pow.m_kib` of memory) to about the
    /// number of cores: the check is CPU-bound, so more in parallel only costs memory.
    pow_slots: tokio::sync::Semaphore,
    /// Rate limits.
    pub limits: Limiters,
    /// Counters.
    pub metrics: Metrics,
    /// Advisor notifications (`notify.rs`).
    pub notify: crate::notify::Notifier,
    /// Outstanding login challenges.
    logins: Mutex<LoginChallenges>,
    /// Administrator logins: lock-out and Argon2id slots (memory only).
    pub admin: crate::adminauth::AdminRuntime,
}

impl std::fmt::Debug for dyn Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

/// SHA-256 (session tokens, invite codes).
#[must_use]
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&Sha256::digest(data));
    out
}

/// 32 bytes from the OS CSPRNG.
#[must_use]
pub fn random32() -> [u8; 32] {
    let mut b = [0u8; 32];
    meldpunt_crypto::rng::Rng::fill_bytes(&mut meldpunt_crypto::rng::os_rng(), &mut b);
    b
}

/// A random id.
#[must_use]
pub fn random_id() -> Id {
    let mut b = [0u8; 16];
    meldpunt_crypto::rng::Rng::fill_bytes(&mut meldpunt_crypto::rng::os_rng(), &mut b);
    b
}

fn check_text(field: &str, value: &str, max: usize) -> ApiResult<()> {
    if value.chars().count() > max {
        return Err(ApiError::bad_request(
            ErrorCode::TooLong,
            format!("`{field}` is longer than {max} characters"),
        ));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ApiError::bad_request(
            ErrorCode::BadText,
            format!("`{field}` contains control characters"),
        ));
    }
    Ok(())
}

fn check_languages(langs: &[String]) -> ApiResult<()> {
    if langs.len() > 16 {
        return Err(ApiError::bad_request(ErrorCode::TooMany, "at most 16 languages"));
    }
    for l in langs {
        if l.is_empty() || l.len() > 8 || !l.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
            return Err(ApiError::bad_request(
                ErrorCode::BadLanguage,
                "languages are codes like `nl` or `en`",
            ));
        }
    }
    Ok(())
}

impl AppState {
    /// State over an opened store.
    pub fn new(settings: Settings, store: Arc<dyn Store>) -> StoreResult<Self> {
        let metrics = Metrics::default();
        store.set_quota(settings.quota.case_bytes, settings.quota.org_bytes);
        let notify = crate::notify::Notifier::start(
            &settings.notify,
            Arc::clone(&store),
            Arc::clone(&metrics.notify),
        )
        .map_err(|e| StoreError::Db(e.to_string()))?;
        Ok(AppState {
            pow: PowGate::random(settings.pow.clone()),
            pow_slots: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get() * 2),
            ),
            limits: Limiters::new(&settings.rate_limit, settings.trusted_proxy),
            metrics,
            notify,
            logins: Mutex::new(HashMap::new()),
            admin: crate::adminauth::AdminRuntime::new(),
            settings,
            store,
        })
    }

    /// Runs a store call on the blocking pool.
    pub async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> StoreResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let store = Arc::clone(&self.store);
        web::block(move || f(&*store)).await?.map_err(store_error)
    }

    /// Checks a PoW solution on the blocking pool (Argon2id is CPU- and memory-heavy).
    pub async fn check_pow(self: &Arc<Self>, solution: Option<PowSolution>) -> ApiResult<()> {
        if !self.pow.enabled() {
            return Ok(());
        }
        // A closed semaphore cannot happen (it is never closed); treat it as busy all the same.
        let _slot = self
            .pow_slots
            .acquire()
            .await
            .map_err(|_| ApiError::unavailable())?;
        let me = Arc::clone(self);
        let r = web::block(move || me.pow.check(solution.as_ref())).await?;
        if r.is_err() {
            self.metrics.inc(&self.metrics.pow_rejected);
        }
        r
    }

    /// Forgets expired in-memory state (PoW ids, login challenges, idle rate-limit keys).
    pub fn prune_memory(&self) {
        self.pow.prune();
        self.limits.prune();
        let now = now_secs();
        if let Ok(mut m) = self.logins.lock() {
            m.retain(|_, (_, exp)| *exp > now);
        }
        self.admin.lockout.prune();
    }

    // ---------- public

    /// An organisation's page data.
    pub async fn org_page(&self, slug: String) -> ApiResult<api::OrgPage> {
        if slug.is_empty() || slug.len() > 64 {
            return Err(ApiError::not_found("unknown organisation"));
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
                let advisors = crate::admin::public_advisors(s, org.id, &extras)?;
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
            .ok_or_else(|| ApiError::not_found("unknown organisation"))?
            .map_err(|()| crate::adminapi::org_suspended())?;
        let [intro_nl, intro_en, conduct_nl, conduct_en] = html;
        let now = now_secs();
        Ok(api::OrgPage {
            has_logo,
            intro_html: api::Texts {
                nl: intro_nl,
                en: intro_en,
            },
            code_of_conduct_html: api::Texts {
                nl: conduct_nl,
                en: conduct_en,
            },
            slug: org.slug,
            name: org.name,
            intro: api::Texts {
                nl: org.intro_nl,
                en: org.intro_en,
            },
            code_of_conduct: api::Texts {
                nl: org.conduct_nl,
                en: org.conduct_en,
            },
            categories: org.categories.iter().map(api::category).collect(),
            languages: org.languages,
            retention_days: org.retention_days,
            advisors: advisors
                .iter()
                .map(|a| api::advisor_out(a, now))
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
        req: api::CreateCase,
        ip: std::net::IpAddr,
    ) -> ApiResult<Day> {
        if req.org.is_empty() || req.org.len() > 64 {
            return Err(ApiError::bad_request(
                ErrorCode::BadOrg,
                "`org` must be 1..=64 bytes",
            ));
        }
        if req.advisors.is_empty() || req.advisors.len() > 32 {
            return Err(ApiError::bad_request(
                ErrorCode::BadAdvisors,
                "address 1..=32 advisors",
            ));
        }
        let mut advisor_ids = Vec::with_capacity(req.advisors.len());
        for a in &req.advisors {
            let id: Id = unb64_exact("advisors", a)?;
            if advisor_ids.contains(&id) {
                return Err(ApiError::bad_request(
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
                let advisors = crate::admin::public_advisors(s, org.id, &extras)?;
                Ok(Some((org, extras.suspended, advisors)))
            })
            .await?
            .ok_or_else(|| ApiError::not_found("unknown organisation"))?;
        if suspended {
            return Err(crate::adminapi::org_suspended());
        }
        let now = now_secs();
        let addressed: Vec<&AdvisorKeys> = advisor_ids
            .iter()
            .map(|id| {
                visible.iter().find(|a| &a.advisor.id == id).ok_or_else(|| {
                    ApiError::bad_request(
                        ErrorCode::BadAdvisors,
                        "an addressed advisor is unknown to this organisation",
                    )
                })
            })
            .collect::<ApiResult<_>>()?;
        check_stanzas(&info.key_ids, &addressed, now)?;

        self.check_pow(req.pow).await?;
        self.limits
            .charge_global(crate::limits::Class::Create, &self.metrics)?;
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
    ) -> ApiResult<CaseInfo> {
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
    pub async fn reporter_view(&self, case: CaseInfo) -> ApiResult<CaseView> {
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
                .map(|a| api::advisor_out(a, now))
                .collect(),
            messages: messages.iter().map(|m| api::message_out(m, None)).collect(),
            attachments: attachments
                .iter()
                .map(|a| api::attachment_out(a, None))
                .collect(),
        })
    }

    /// A reporter's follow-up: sealed to the advisors on the case.
    pub async fn follow_up(
        self: &Arc<Self>,
        case: CaseInfo,
        req: api::PostFollowUp,
    ) -> ApiResult<u32> {
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

    async fn add_message(&self, case: Id, sender: Sender, envelope: Vec<u8>) -> ApiResult<u32> {
        let max = self.settings.limits.messages_per_case;
        let seq = self
            .db(move |s| s.add_message(&case, sender, &envelope, Day::today(), max))
            .await?;
        Ok(seq)
    }

    // ---------- advisors

    /// Redeems an invite.
    pub async fn register(&self, req: api::Register) -> ApiResult<api::AdvisorOut> {
        if req.invite.is_empty() || req.invite.len() > 128 {
            return Err(ApiError::bad_request(ErrorCode::BadInvite, "malformed invite code"));
        }
        let identity = verify::identity(&unb64("identity", &req.identity, 64)?)?;
        let now = now_secs();
        let bundle = verify::bundle(&unb64("bundle", &req.bundle, 256)?, &identity, now)?;
        let p = req.profile;
        if p.display_name.trim().is_empty() {
            return Err(ApiError::bad_request(
                ErrorCode::BadProfile,
                "`display_name` must not be empty",
            ));
        }
        check_text("display_name", &p.display_name, 100)?;
        check_text("bio", &p.bio, 2000)?;
        check_languages(&p.languages)?;
        let photo = match (p.photo, p.photo_type) {
            (Some(photo), Some(t)) => {
                if !matches!(t.as_str(), "image/jpeg" | "image/png" | "image/webp") {
                    return Err(ApiError::bad_request(
                        ErrorCode::BadPhoto,
                        "`photo_type` must be image/jpeg, image/png or image/webp",
                    ));
                }
                Some((unb64("photo", &photo, MAX_PHOTO)?, t))
            }
            (None, None) => None,
            _ => {
                return Err(ApiError::bad_request(
                    ErrorCode::BadPhoto,
                    "`photo` and `photo_type` go together",
                ));
            }
        };
        let code_hash = sha256(normalise_invite(&req.invite).as_bytes());
        let new = NewAdvisor {
            id: random_id(),
            identity_pk: identity,
            display_name: p.display_name,
            bio: p.bio,
            photo,
            languages: p.languages,
        };
        let keys = self
            .db(move |s| {
                let a = s.register_advisor(code_hash, now, &new, &bundle)?;
                s.advisor(&a.id)
            })
            .await
            .map_err(|e| match e.code {
                meldpunt_api::ErrorCode::NotFound => ApiError::new(
                    actix_web::http::StatusCode::FORBIDDEN,
                    ErrorCode::BadInvite,
                    "unknown, used or expired invite",
                ),
                _ => e,
            })?
            .ok_or_else(ApiError::internal)?;
        // The other advisors of the organisation and the branch-wide ones are told.
        if self.notify.enabled() {
            let (org, subject) = (keys.advisor.org_id, keys.advisor.id);
            // Registered already: a failure here costs the mail only.
            if let Ok(ids) = self
                .db(move |s| s.event_recipients(org, Some(subject)))
                .await
            {
                self.notify.activity(&ids);
            }
        }
        Ok(api::advisor_out(&keys, now))
    }

    /// A login challenge. Issued for any well-formed identity key, known or not, so that the
    /// answer does not tell who is registered.
    pub fn login_challenge(&self, req: &api::LoginChallengeRequest) -> ApiResult<([u8; 32], i64)> {
        let identity = verify::identity(&unb64("identity", &req.identity, 64)?)?;
        let challenge = random32();
        let expires = now_secs() + i64::from(self.settings.advisor.challenge_ttl_secs);
        let mut map = self.logins.lock().map_err(|_| ApiError::internal())?;
        if map.len() >= MAX_LOGIN_CHALLENGES {
            let now = now_secs();
            map.retain(|_, (_, exp)| *exp > now);
            if map.len() >= MAX_LOGIN_CHALLENGES {
                return Err(ApiError::unavailable());
            }
        }
        map.insert(challenge, (identity, expires));
        Ok((challenge, expires))
    }

    /// Checks a signed challenge and opens a session. The challenge is used up whatever the
    /// outcome.
    pub async fn login(&self, req: api::Login) -> ApiResult<(String, i64, Id)> {
        let fail = || ApiError::unauthorized(ErrorCode::LoginFailed, "login failed");
        let identity = verify::identity(&unb64("identity", &req.identity, 64)?)?;
        let challenge: [u8; 32] = unb64_exact("challenge", &req.challenge)?;
        let signature = unb64("signature", &req.signature, 64)?;
        let entry = self
            .logins
            .lock()
            .map_err(|_| ApiError::internal())?
            .remove(&challenge);
        let now = now_secs();
        let ok_challenge = matches!(entry, Some((id, exp)) if id == identity && exp > now);
        if !ok_challenge || !verify::login_signature(&identity, &challenge, &signature) {
            self.metrics.inc(&self.metrics.advisor_login_failures);
            return Err(fail());
        }
        let advisor = self
            .db(move |s| match s.advisor_by_identity(&identity)? {
                Some(a) => {
                    let suspended = s.advisor_suspended(&a.id)?.unwrap_or(false);
                    Ok(Some((a, suspended)))
                }
                None => Ok(None),
            })
            .await?;
        let Some((advisor, suspended)) = advisor else {
            self.metrics.inc(&self.metrics.advisor_login_failures);
            return Err(fail());
        };
        if suspended {
            self.metrics.inc(&self.metrics.advisor_login_failures);
            return Err(ApiError::new(
                actix_web::http::StatusCode::FORBIDDEN,
                "advisor_suspended",
                "this advisor account is suspended; ask the administrator",
            ));
        }
        let token = random32();
        let expires = now + i64::from(self.settings.advisor.session_ttl_secs);
        let hash = sha256(&token);
        let id = advisor.id;
        self.db(move |s| s.create_session(hash, &id, expires))
            .await?;
        Ok((b64(&token), expires, id))
    }

    /// The advisor of a bearer token.
    pub async fn session(&self, bearer: Option<&str>) -> ApiResult<AdvisorKeys> {
        let unauthorized =
            || ApiError::unauthorized(ErrorCode::BadSession, "missing, unknown or expired session");
        let token = bearer.ok_or_else(unauthorized)?;
        let token: [u8; 32] = unb64_exact("session", token).map_err(|_| unauthorized())?;
        let hash = sha256(&token);
        let now = now_secs();
        self.db(move |s| match s.session(&hash, now)? {
            Some(id) if s.advisor_suspended(&id)? != Some(true) => s.advisor(&id),
            _ => Ok(None),
        })
        .await?
        .ok_or_else(unauthorized)
    }

    /// Ends a session.
    pub async fn logout(&self, bearer: &str) -> ApiResult<()> {
        let token: [u8; 32] = unb64_exact("session", bearer)?;
        let hash = sha256(&token);
        self.db(move |s| s.delete_session(&hash)).await
    }

    /// The advisor's inbox.
    pub async fn inbox(&self, me: &AdvisorKeys) -> ApiResult<Vec<CaseSummary>> {
        let id = me.advisor.id;
        let cases = self.db(move |s| s.inbox(&id)).await?;
        let today = Day::today();
        Ok(cases.iter().map(|c| api::case_summary(c, today)).collect())
    }

    /// A case the advisor is on; 404 otherwise (also for cases of other organisations).
    pub async fn advisor_case(&self, me: &AdvisorKeys, case: &str) -> ApiResult<CaseInfo> {
        let case = api::parse_id(case)?;
        let id = me.advisor.id;
        self.db(move |s| s.case_for_advisor(&case, &id))
            .await?
            .ok_or_else(|| ApiError::not_found("not found"))
    }

    /// The advisor's view of a case: envelopes and the advisor's detached stanzas.
    pub async fn advisor_view(&self, me: &AdvisorKeys, case: CaseInfo) -> ApiResult<CaseView> {
        let id = case.id;
        let advisor = me.advisor.id;
        let advisor_ids = case.advisors.clone();
        let (messages, attachments, stanzas, advisors) = self
            .db(move |s| {
                let mut advisors = Vec::new();
                for a in &advisor_ids {
                    if let Some(k) = s.advisor(a)? {
                        advisors.push(k);
                    }
                }
                Ok((
                    s.messages(&id)?,
                    s.attachments(&id)?,
                    s.detached_stanzas(&id, &advisor)?,
                    advisors,
                ))
            })
            .await?;
        let for_target = |t: &StanzaTarget| -> Vec<String> {
            stanzas
                .iter()
                .filter(|s| &s.target == t)
                .map(|s| b64(&s.stanza))
                .collect()
        };
        let now = now_secs();
        Ok(CaseView {
            id: Some(b64(&case.id)),
            org: case.org_slug.clone(),
            status: case.status.into(),
            created: case.created.to_string(),
            updated: case.updated.to_string(),
            deadlines: Some(api::deadlines(&case, Day::today())),
            advisors: advisors
                .iter()
                .map(|a| api::advisor_out(a, now))
                .collect(),
            messages: messages
                .iter()
                .map(|m| api::message_out(m, Some(for_target(&StanzaTarget::Message(m.seq)))))
                .collect(),
            attachments: attachments
                .iter()
                .map(|a| api::attachment_out(a, Some(for_target(&StanzaTarget::Attachment(a.id)))))
                .collect(),
        })
    }

    /// An advisor's reply (sealed to the reporter's key, opaque to the server).
    pub async fn reply(&self, case: CaseInfo, req: api::PostReply) -> ApiResult<u32> {
        let envelope = self.advisor_envelope(&case, &req.envelope)?;
        self.add_message(case.id, Sender::Advisor, envelope).await
    }

    /// An advisor's envelope (reply or membership statement): decoded, within the message
    /// size limit, a message for the case's organisation.
    fn advisor_envelope(&self, case: &CaseInfo, b64: &str) -> ApiResult<Vec<u8>> {
        let envelope = unb64("envelope", b64, self.settings.limits.message_bytes)?;
        verify::envelope(&envelope, Purpose::Message, &case.org_slug)?;
        Ok(envelope)
    }

    /// Sets the status.
    pub async fn set_status(&self, case: CaseInfo, status: crate::store::Status) -> ApiResult<()> {
        let id = case.id;
        self.db(move |s| s.set_status(&id, status, Day::today()))
            .await
    }

    /// Shares a case with another advisor of the same organisation (or a branch-wide one):
    /// stores the stanzas, adds the advisor and appends the signed membership statement, in
    /// one transaction; returns the statement's `seq`.
    pub async fn share(&self, case: CaseInfo, req: api::Share) -> ApiResult<u32> {
        let target: Id = unb64_exact("advisor", &req.advisor)?;
        let envelope = self.advisor_envelope(&case, &req.envelope)?;
        let limit = self.settings.limits.messages_per_case as usize
            + self.settings.limits.attachments_per_case as usize;
        if req.stanzas.len() > limit {
            return Err(ApiError::bad_request(
                ErrorCode::TooMany,
                "more stanzas than the case can hold",
            ));
        }
        let org_id = case.org_id;
        // A suspended advisor cannot be added to a case.
        let advisor = self
            .db(move |s| match s.advisor_suspended(&target)? {
                Some(false) => s.advisor(&target),
                _ => Ok(None),
            })
            .await?;
        let Some(advisor) =
            advisor.filter(|a| a.advisor.org_id.is_none() || a.advisor.org_id == Some(org_id))
        else {
            return Err(ApiError::bad_request(
                ErrorCode::BadAdvisor,
                "no such advisor for this organisation",
            ));
        };
        let now = now_secs();
        let mut stanzas = Vec::with_capacity(req.stanzas.len());
        for s in &req.stanzas {
            let stanza = unb64("stanza", &s.stanza, verify::STANZA_LEN)?;
            let key_id = verify::detached_stanza(&stanza)?;
            if !advisor.has_valid_key(&key_id, now) {
                return Err(ApiError::bad_request(
                    ErrorCode::BadStanza,
                    "stanza is not for a valid key of that advisor",
                ));
            }
            let target = match (s.message, &s.attachment) {
                (Some(seq), None) => StanzaTarget::Message(seq),
                (None, Some(a)) => StanzaTarget::Attachment(unb64_exact("attachment", a)?),
                _ => {
                    return Err(ApiError::bad_request(
                        ErrorCode::BadStanza,
                        "each stanza names either `message` or `attachment`",
                    ));
                }
            };
            stanzas.push(DetachedStanza { target, stanza });
        }
        let id = case.id;
        let max = self.settings.limits.messages_per_case;
        let seq = self
            .db(move |s| s.share_case(&id, &target, &stanzas, &envelope, Day::today(), max))
            .await?;
        self.notify.activity(&[target]);
        Ok(seq)
    }

    /// Removes an advisor from a case (the caller too: leaving) and appends the signed
    /// membership statement, in one transaction; returns the statement's `seq`. The stored
    /// stanzas stay.
    pub async fn remove(&self, case: CaseInfo, req: api::Remove) -> ApiResult<u32> {
        let target: Id = unb64_exact("advisor", &req.advisor)?;
        let envelope = self.advisor_envelope(&case, &req.envelope)?;
        let (id, max) = (case.id, self.settings.limits.messages_per_case);
        let outcome = self
            .db(move |s| s.remove_from_case(&id, &target, &envelope, Day::today(), max))
            .await?;
        match outcome {
            Removal::Removed(seq) => Ok(seq),
            Removal::NotOnCase => Err(ApiError::conflict(
                ErrorCode::NotOnCase,
                "that advisor is not on this case",
            )),
            Removal::LastAdvisor => Err(ApiError::conflict(
                ErrorCode::LastAdvisor,
                "that advisor is the case's only advisor; a case keeps at least one",
            )),
        }
    }

    /// The advisor events `me` is shown, newest first (at most [`crate::store::MAX_EVENTS`]).
    pub async fn events(&self, me: &AdvisorKeys) -> ApiResult<Vec<api::EventOut>> {
        let id = me.advisor.id;
        let events = self
            .db(move |s| s.advisor_events(&id, crate::store::MAX_EVENTS))
            .await?;
        Ok(events.iter().map(api::event_out).collect())
    }

    /// Publishes a new key bundle (rotation).
    pub async fn publish_bundle(&self, me: &AdvisorKeys, req: api::PublishBundle) -> ApiResult<()> {
        let bundle = verify::bundle(
            &unb64("bundle", &req.bundle, 256)?,
            &me.advisor.identity_pk,
            now_secs(),
        )?;
        let id = me.advisor.id;
        self.db(move |s| s.add_bundle(&id, &bundle)).await
    }

    /// Publishes a revocation of one of the advisor's keys.
    pub async fn publish_revocation(
        &self,
        me: &AdvisorKeys,
        req: api::PublishRevocation,
    ) -> ApiResult<()> {
        let rev = verify::revocation(
            &unb64("revocation", &req.revocation, 256)?,
            &me.advisor.identity_pk,
        )?;
        let id = me.advisor.id;
        self.db(move |s| s.add_revocation(&id, &rev))
            .await
            .map_err(|e| match e.code {
                meldpunt_api::ErrorCode::NotFound => ApiError::bad_request(ErrorCode::BadRevocation, "not one of your keys"),
                _ => e,
            })
    }
}

/// A store error as answered. `Busy` (busy database, full write queue, or a write that could
/// not be committed: disk full, I/O error) is a 503 that says the change may not be saved.
fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Busy => ApiError::new(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            "storage busy or unavailable; the change may not have been saved, try again later",
        ),
        other => other.into(),
    }
}

/// Invite codes are compared after removing separators and upper-casing.
#[must_use]
pub fn normalise_invite(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Checks the recipients of a reporter's envelope: every advisor in `advisors` has a stanza
/// for one of its currently valid keys, and at most one stanza is for some other key (the
/// reporter's own reply key, so the reporter can re-read what they sent).
fn check_stanzas(key_ids: &[[u8; 16]], advisors: &[&AdvisorKeys], now: i64) -> ApiResult<()> {
    for a in advisors {
        if !key_ids.iter().any(|k| a.has_valid_key(k, now)) {
            return Err(ApiError::conflict(
                ErrorCode::StaleKeys,
                "the envelope is not sealed to a valid key of every addressed advisor; fetch the keys again",
            ));
        }
    }
    let foreign = key_ids
        .iter()
        .filter(|k| !advisors.iter().any(|a| a.has_valid_key(k, now)))
        .count();
    if foreign > 1 {
        return Err(ApiError::bad_request(
            ErrorCode::BadEnvelope,
            "the envelope is sealed to unknown keys",
        ));
    }
    Ok(())
}
