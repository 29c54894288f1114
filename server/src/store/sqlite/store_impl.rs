//! The [`Store`] methods of the SQLite backend: each one picks its connection (a reader, or
//! a write operation queued for the group commit, see [`super::writer`]) and hands it to the
//! entity module that holds the statements.

use super::{
    SqliteStore, advisors, attachments, cases, events, maint, messages, orgs, quota, sessions,
};
use crate::day::Day;
use crate::store::{
    Advisor, AdvisorEvent, AdvisorKeys, AttachmentInfo, CaseInfo, DetachedStanza, Id, InviteScope,
    MessageRow, NewAdvisor, NewCase, OrgUpdate, Organisation, Pending, Purged, Removal, Sender,
    Status, Store, StoreResult, StoredBundle, StoredRevocation,
};

impl Store for SqliteStore {
    fn set_quota(&self, case_bytes: u64, org_bytes: u64) {
        self.quota
            .0
            .store(case_bytes, std::sync::atomic::Ordering::Relaxed);
        self.quota
            .1
            .store(org_bytes, std::sync::atomic::Ordering::Relaxed);
    }

    fn pow_key(&self) -> StoreResult<[u8; 32]> {
        orgs::pow_key(&*self.read()?)
    }

    fn create_org(&self, slug: &str, name: &str) -> StoreResult<i64> {
        let (slug, name) = (slug.to_owned(), name.to_owned());
        self.tx(move |tx| orgs::create(tx, &slug, &name))
    }

    fn update_org(&self, slug: &str, u: &OrgUpdate) -> StoreResult<()> {
        let json = orgs::update_json(u)?;
        let (slug, u) = (slug.to_owned(), u.clone());
        self.tx(move |tx| orgs::update(tx, &slug, &u, json))
    }

    fn org_by_slug(&self, slug: &str) -> StoreResult<Option<Organisation>> {
        orgs::by_slug(&*self.read()?, slug)
    }

    fn org_by_id(&self, id: i64) -> StoreResult<Option<Organisation>> {
        orgs::by_id(&*self.read()?, id)
    }

    fn list_orgs(&self) -> StoreResult<Vec<Organisation>> {
        orgs::list(&*self.read()?)
    }

    fn create_invite(
        &self,
        code_hash: [u8; 32],
        scope: InviteScope,
        expires_at: i64,
    ) -> StoreResult<()> {
        self.tx(move |tx| advisors::create_invite(tx, code_hash, scope, expires_at))
    }

    fn register_advisor(
        &self,
        code_hash: [u8; 32],
        now: i64,
        a: &NewAdvisor,
        bundle: &StoredBundle,
    ) -> StoreResult<Advisor> {
        let (a, bundle) = (a.clone(), bundle.clone());
        self.tx(move |tx| advisors::register(tx, code_hash, now, &a, &bundle))
    }

    fn advisor(&self, id: &Id) -> StoreResult<Option<AdvisorKeys>> {
        advisors::by_id(&*self.read()?, id)
    }

    fn advisor_by_identity(&self, pk: &[u8; 32]) -> StoreResult<Option<Advisor>> {
        advisors::by_identity(&*self.read()?, pk)
    }

    fn advisors_for_org(&self, org_id: i64) -> StoreResult<Vec<AdvisorKeys>> {
        advisors::for_org(&*self.read()?, org_id)
    }

    fn add_bundle(&self, advisor: &Id, bundle: &StoredBundle) -> StoreResult<()> {
        let (advisor, bundle) = (*advisor, bundle.clone());
        self.tx(move |tx| advisors::insert_bundle(tx, &advisor, &bundle))
    }

    fn add_revocation(&self, advisor: &Id, rev: &StoredRevocation) -> StoreResult<()> {
        let (advisor, rev) = (*advisor, rev.clone());
        self.tx(move |tx| advisors::add_revocation(tx, &advisor, &rev))
    }

    fn create_session(
        &self,
        token_hash: [u8; 32],
        advisor: &Id,
        expires_at: i64,
    ) -> StoreResult<()> {
        let advisor = *advisor;
        self.tx(move |tx| sessions::create(tx, token_hash, &advisor, expires_at))
    }

    fn session(&self, token_hash: &[u8; 32], now: i64) -> StoreResult<Option<Id>> {
        sessions::get(&*self.read()?, token_hash, now)
    }

    fn delete_session(&self, token_hash: &[u8; 32]) -> StoreResult<()> {
        let token_hash = *token_hash;
        self.tx(move |tx| sessions::delete(tx, &token_hash))
    }

    fn create_case(&self, c: &NewCase) -> StoreResult<()> {
        let c = c.clone();
        let caps = self.caps();
        self.tx_sized(c.envelope.len(), move |tx| cases::insert_case(tx, &c, caps))
    }

    fn create_case_queued(&self, c: NewCase) -> Pending<()> {
        let caps = self.caps();
        self.queued(c.envelope.len(), move |tx| cases::insert_case(tx, &c, caps))
    }

    fn case_by_token(&self, token_hash: &[u8; 32]) -> StoreResult<Option<CaseInfo>> {
        cases::by_token(&*self.read()?, token_hash)
    }

    fn case_for_advisor(&self, case: &Id, advisor: &Id) -> StoreResult<Option<CaseInfo>> {
        cases::for_advisor(&*self.read()?, case, advisor)
    }

    fn inbox(&self, advisor: &Id) -> StoreResult<Vec<CaseInfo>> {
        cases::inbox(&*self.read()?, advisor)
    }

    fn messages(&self, case: &Id) -> StoreResult<Vec<MessageRow>> {
        messages::list(&*self.read()?, case)
    }

    fn add_message(
        &self,
        case: &Id,
        sender: Sender,
        envelope: &[u8],
        day: Day,
        max: u32,
    ) -> StoreResult<u32> {
        let day = day.to_string();
        let (case, envelope) = (*case, envelope.to_vec());
        let caps = self.caps();
        self.tx_sized(envelope.len(), move |tx| {
            quota::check_quota(tx, &case, envelope.len() as u64, caps)?;
            messages::append_message(tx, &case, sender, &envelope, &day, max)
        })
    }

    fn set_status(&self, case: &Id, status: Status, day: Day) -> StoreResult<()> {
        let day = day.to_string();
        let case = *case;
        self.tx(move |tx| cases::set_status(tx, &case, status, &day))
    }

    fn share_case(
        &self,
        case: &Id,
        advisor: &Id,
        stanzas: &[DetachedStanza],
        statement: &[u8],
        day: Day,
        max_messages: u32,
    ) -> StoreResult<u32> {
        let day = day.to_string();
        let (case, advisor, stanzas, statement) =
            (*case, *advisor, stanzas.to_vec(), statement.to_vec());
        let bytes = statement.len() + stanzas.len() * 96;
        self.tx_sized(bytes, move |tx| {
            messages::share(
                tx,
                &case,
                &advisor,
                &stanzas,
                &statement,
                &day,
                max_messages,
            )
        })
    }

    fn remove_from_case(
        &self,
        case: &Id,
        advisor: &Id,
        statement: &[u8],
        day: Day,
        max_messages: u32,
    ) -> StoreResult<Removal> {
        let day = day.to_string();
        let (case, advisor, statement) = (*case, *advisor, statement.to_vec());
        self.tx_sized(statement.len(), move |tx| {
            messages::remove(tx, &case, &advisor, &statement, &day, max_messages)
        })
    }

    fn advisor_events(&self, advisor: &Id, limit: u32) -> StoreResult<Vec<AdvisorEvent>> {
        events::for_advisor(&*self.read()?, advisor, limit)
    }

    fn event_recipients(&self, org: Option<i64>, subject: Option<Id>) -> StoreResult<Vec<Id>> {
        events::recipients(&*self.read()?, org, subject)
    }

    fn detached_stanzas(&self, case: &Id, advisor: &Id) -> StoreResult<Vec<DetachedStanza>> {
        messages::detached_stanzas(&*self.read()?, case, advisor)
    }

    fn begin_attachment(
        &self,
        case: &Id,
        id: &Id,
        sender: Sender,
        day: Day,
        max_count: u32,
    ) -> StoreResult<()> {
        let (case, id) = (*case, *id);
        let caps = self.caps();
        self.tx(move |tx| attachments::begin(tx, &case, &id, (sender, day), max_count, caps))
    }

    fn append_attachment_chunk(
        &self,
        case: &Id,
        id: &Id,
        seq: u32,
        data: &[u8],
    ) -> StoreResult<()> {
        let (case, id, data) = (*case, *id, data.to_vec());
        self.tx_sized(data.len(), move |tx| {
            attachments::append_chunk(tx, &case, &id, seq, &data)
        })
    }

    fn finish_attachment(
        &self,
        case: &Id,
        id: &Id,
        size: u64,
        chunks: u32,
        max_case_bytes: u64,
    ) -> StoreResult<()> {
        let (case, id) = (*case, *id);
        let caps = self.caps();
        self.tx(move |tx| attachments::finish(tx, &case, &id, (size, chunks, max_case_bytes), caps))
    }

    fn abort_attachment(&self, case: &Id, id: &Id) -> StoreResult<()> {
        let (case, id) = (*case, *id);
        self.tx(move |tx| attachments::abort(tx, &case, &id))
    }

    fn attachments(&self, case: &Id) -> StoreResult<Vec<AttachmentInfo>> {
        attachments::list(&*self.read()?, case)
    }

    fn attachment(&self, case: &Id, id: &Id) -> StoreResult<Option<AttachmentInfo>> {
        attachments::get(&*self.read()?, case, id)
    }

    fn attachment_chunk(&self, case: &Id, id: &Id, seq: u32) -> StoreResult<Option<Vec<u8>>> {
        attachments::chunk(&*self.read()?, case, id, seq)
    }

    fn purge(&self, today: Day, now: i64, all_uploads: bool) -> StoreResult<Purged> {
        // Cases closed longer than their organisation's retention, with everything in them:
        // a few cases per write batch (`maint::purge_cases`).
        let cases = maint::purge_cases(self, today)?;
        self.tx(move |tx| maint::purge_rest(tx, (today, now), all_uploads, cases))
    }

    fn notify_email(&self, advisor: &Id) -> StoreResult<Option<String>> {
        maint::notify_email(self, advisor)
    }

    fn set_notify_email(&self, advisor: &Id, email: Option<&str>) -> StoreResult<()> {
        maint::set_notify_email(self, advisor, email)
    }
}
