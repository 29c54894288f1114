//! The advisor's path: registration, login, sessions, the inbox, cases, replies, sharing,
//! keys and revocations.

use meldpunt_api::ErrorCode;

use crate::day::{Day, now_secs};
use crate::service::checks::{MAX_PHOTO, check_languages, check_text};
use crate::service::error::{Kind, ServiceError, ServiceResult};
use crate::service::ids::{normalise_invite, random32, random_id, sha256};
use crate::service::state::{AppState, MAX_LOGIN_CHALLENGES};
use crate::service::verify::{self, Purpose};
use crate::service::wire::{self, CaseSummary, CaseView, b64, unb64, unb64_exact};
use crate::store::{
    AdvisorKeys, CaseInfo, DetachedStanza, Id, NewAdvisor, Removal, Sender, StanzaTarget,
};

impl AppState {
    /// The slug of the advisor's organisation (`None`: branch-wide, or no longer there).
    pub async fn org_slug(&self, org_id: Option<i64>) -> ServiceResult<Option<String>> {
        let Some(id) = org_id else {
            return Ok(None);
        };
        Ok(self.db(move |s| s.org_by_id(id)).await?.map(|o| o.slug))
    }

    /// Redeems an invite.
    pub async fn register(&self, req: wire::Register) -> ServiceResult<wire::AdvisorOut> {
        if req.invite.is_empty() || req.invite.len() > 128 {
            return Err(ServiceError::bad_request(ErrorCode::BadInvite, "malformed invite code"));
        }
        let identity = verify::identity(&unb64("identity", &req.identity, 64)?)?;
        let now = now_secs();
        let bundle = verify::bundle(&unb64("bundle", &req.bundle, 256)?, &identity, now)?;
        let p = req.profile;
        if p.display_name.trim().is_empty() {
            return Err(ServiceError::bad_request(
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
                    return Err(ServiceError::bad_request(
                        ErrorCode::BadPhoto,
                        "`photo_type` must be image/jpeg, image/png or image/webp",
                    ));
                }
                Some((unb64("photo", &photo, MAX_PHOTO)?, t))
            }
            (None, None) => None,
            _ => {
                return Err(ServiceError::bad_request(
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
                meldpunt_api::ErrorCode::NotFound => ServiceError::new(
                    Kind::Forbidden,
                    ErrorCode::BadInvite,
                    "unknown, used or expired invite",
                ),
                _ => e,
            })?
            .ok_or_else(ServiceError::internal)?;
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
        Ok(wire::advisor_out(&keys, now))
    }

    /// A login challenge. Issued for any well-formed identity key, known or not, so that the
    /// answer does not tell who is registered.
    pub fn login_challenge(&self, req: &wire::LoginChallengeRequest) -> ServiceResult<([u8; 32], i64)> {
        let identity = verify::identity(&unb64("identity", &req.identity, 64)?)?;
        let challenge = random32();
        let expires = now_secs() + i64::from(self.settings.advisor.challenge_ttl_secs);
        let mut map = self.logins.lock().map_err(|_| ServiceError::internal())?;
        if map.len() >= MAX_LOGIN_CHALLENGES {
            let now = now_secs();
            map.retain(|_, (_, exp)| *exp > now);
            if map.len() >= MAX_LOGIN_CHALLENGES {
                return Err(ServiceError::unavailable());
            }
        }
        map.insert(challenge, (identity, expires));
        Ok((challenge, expires))
    }

    /// Checks a signed challenge and opens a session. The challenge is used up whatever the
    /// outcome.
    pub async fn login(&self, req: wire::Login) -> ServiceResult<(String, i64, Id)> {
        let fail = || ServiceError::unauthorized(ErrorCode::LoginFailed, "login failed");
        let identity = verify::identity(&unb64("identity", &req.identity, 64)?)?;
        let challenge: [u8; 32] = unb64_exact("challenge", &req.challenge)?;
        let signature = unb64("signature", &req.signature, 64)?;
        let entry = self
            .logins
            .lock()
            .map_err(|_| ServiceError::internal())?
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
            return Err(ServiceError::new(
                Kind::Forbidden,
                ErrorCode::AdvisorSuspended,
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
    pub async fn session(&self, bearer: Option<&str>) -> ServiceResult<AdvisorKeys> {
        let unauthorized =
            || ServiceError::unauthorized(ErrorCode::BadSession, "missing, unknown or expired session");
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
    pub async fn logout(&self, bearer: &str) -> ServiceResult<()> {
        let token: [u8; 32] = unb64_exact("session", bearer)?;
        let hash = sha256(&token);
        self.db(move |s| s.delete_session(&hash)).await
    }

    /// The advisor's inbox.
    pub async fn inbox(&self, me: &AdvisorKeys) -> ServiceResult<Vec<CaseSummary>> {
        let id = me.advisor.id;
        let cases = self.db(move |s| s.inbox(&id)).await?;
        let today = Day::today();
        Ok(cases.iter().map(|c| wire::case_summary(c, today)).collect())
    }

    /// A case the advisor is on; 404 otherwise (also for cases of other organisations).
    pub async fn advisor_case(&self, me: &AdvisorKeys, case: &str) -> ServiceResult<CaseInfo> {
        let case = wire::parse_id(case)?;
        let id = me.advisor.id;
        self.db(move |s| s.case_for_advisor(&case, &id))
            .await?
            .ok_or_else(|| ServiceError::not_found("not found"))
    }

    /// The advisor's view of a case: envelopes and the advisor's detached stanzas.
    pub async fn advisor_view(&self, me: &AdvisorKeys, case: CaseInfo) -> ServiceResult<CaseView> {
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
            deadlines: Some(wire::deadlines(&case, Day::today())),
            advisors: advisors
                .iter()
                .map(|a| wire::advisor_out(a, now))
                .collect(),
            messages: messages
                .iter()
                .map(|m| wire::message_out(m, Some(for_target(&StanzaTarget::Message(m.seq)))))
                .collect(),
            attachments: attachments
                .iter()
                .map(|a| wire::attachment_out(a, Some(for_target(&StanzaTarget::Attachment(a.id)))))
                .collect(),
        })
    }

    /// An advisor's reply (sealed to the reporter's key, opaque to the server).
    pub async fn reply(&self, case: CaseInfo, req: wire::PostReply) -> ServiceResult<u32> {
        let envelope = self.advisor_envelope(&case, &req.envelope)?;
        self.add_message(case.id, Sender::Advisor, envelope).await
    }

    /// An advisor's envelope (reply or membership statement): decoded, within the message
    /// size limit, a message for the case's organisation.
    fn advisor_envelope(&self, case: &CaseInfo, b64: &str) -> ServiceResult<Vec<u8>> {
        let envelope = unb64("envelope", b64, self.settings.limits.message_bytes)?;
        verify::envelope(&envelope, Purpose::Message, &case.org_slug)?;
        Ok(envelope)
    }

    /// Sets the status.
    pub async fn set_status(&self, case: CaseInfo, status: crate::store::Status) -> ServiceResult<()> {
        let id = case.id;
        self.db(move |s| s.set_status(&id, status, Day::today()))
            .await
    }

    /// Shares a case with another advisor of the same organisation (or a branch-wide one):
    /// stores the stanzas, adds the advisor and appends the signed membership statement, in
    /// one transaction; returns the statement's `seq`.
    pub async fn share(&self, case: CaseInfo, req: wire::Share) -> ServiceResult<u32> {
        let target: Id = unb64_exact("advisor", &req.advisor)?;
        let envelope = self.advisor_envelope(&case, &req.envelope)?;
        let limit = self.settings.limits.messages_per_case as usize
            + self.settings.limits.attachments_per_case as usize;
        if req.stanzas.len() > limit {
            return Err(ServiceError::bad_request(
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
            return Err(ServiceError::bad_request(
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
                return Err(ServiceError::bad_request(
                    ErrorCode::BadStanza,
                    "stanza is not for a valid key of that advisor",
                ));
            }
            let target = match (s.message, &s.attachment) {
                (Some(seq), None) => StanzaTarget::Message(seq),
                (None, Some(a)) => StanzaTarget::Attachment(unb64_exact("attachment", a)?),
                _ => {
                    return Err(ServiceError::bad_request(
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
    pub async fn remove(&self, case: CaseInfo, req: wire::Remove) -> ServiceResult<u32> {
        let target: Id = unb64_exact("advisor", &req.advisor)?;
        let envelope = self.advisor_envelope(&case, &req.envelope)?;
        let (id, max) = (case.id, self.settings.limits.messages_per_case);
        let outcome = self
            .db(move |s| s.remove_from_case(&id, &target, &envelope, Day::today(), max))
            .await?;
        match outcome {
            Removal::Removed(seq) => Ok(seq),
            Removal::NotOnCase => Err(ServiceError::conflict(
                ErrorCode::NotOnCase,
                "that advisor is not on this case",
            )),
            Removal::LastAdvisor => Err(ServiceError::conflict(
                ErrorCode::LastAdvisor,
                "that advisor is the case's only advisor; a case keeps at least one",
            )),
        }
    }

    /// The advisor events `me` is shown, newest first (at most [`crate::store::MAX_EVENTS`]).
    pub async fn events(&self, me: &AdvisorKeys) -> ServiceResult<Vec<wire::EventOut>> {
        let id = me.advisor.id;
        let events = self
            .db(move |s| s.advisor_events(&id, crate::store::MAX_EVENTS))
            .await?;
        Ok(events.iter().map(wire::event_out).collect())
    }

    /// Publishes a new key bundle (rotation).
    pub async fn publish_bundle(&self, me: &AdvisorKeys, req: wire::PublishBundle) -> ServiceResult<()> {
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
        req: wire::PublishRevocation,
    ) -> ServiceResult<()> {
        let rev = verify::revocation(
            &unb64("revocation", &req.revocation, 256)?,
            &me.advisor.identity_pk,
        )?;
        let id = me.advisor.id;
        self.db(move |s| s.add_revocation(&id, &rev))
            .await
            .map_err(|e| match e.code {
                meldpunt_api::ErrorCode::NotFound => ServiceError::bad_request(ErrorCode::BadRevocation, "not one of your keys"),
                _ => e,
            })
    }
}
