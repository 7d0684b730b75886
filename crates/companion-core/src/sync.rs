//! The sync engine's network side (design: `shared/guides/sync.md`). Pairing redeems a one-time
//! code for a device credential kept in the encrypted store. A sync round pushes the outbox as
//! `batch` bundles of idempotent `PUT`s (client ids), then pulls the change feed page by page,
//! moving the cursor only with the page applied. Every failure is sorted: done, quarantine
//! (400/422: set aside, the rest go on), re-pair (401), revoked (403), or later (network, 429,
//! 5xx: back off with jitter). A new server epoch (a restore from backup) queues everything again.

use crate::domain::Scope;
use crate::error::{Error, Problem, Result};
use crate::store::{Store, SyncLink};
use serde::Serialize;
use serde_json::{json, Value};
use std::time::Duration;

const BATCH: usize = 50;
const PAGE: i64 = 100;
pub const EPOCH_HEADER: &str = "x-companion-epoch";

/// How a sync round ended, for the person and the CLI.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Everything that could be sent was sent, and the feed is read to the end.
    Done,
    /// The server could not be reached or asked to wait; try again after this many seconds.
    Later { retry_after_secs: u64 },
    /// The credential is no longer accepted (401): pair again.
    PairAgain,
    /// The clinic has revoked this device's access (403).
    Revoked,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub outcome: Outcome,
    /// Records (and advice) the server now holds.
    pub sent: usize,
    /// Resources the clinic wrote that arrived.
    pub received: usize,
    /// Records the server refused this round.
    pub refused: usize,
    /// Still waiting to be sent.
    pub pending: i64,
    /// Set aside after a refusal; the person is told.
    pub quarantined: i64,
    /// The server's data epoch changed, so everything was queued again.
    pub epoch_changed: bool,
    /// Records changed on another device since this one last saw them, merged.
    pub merged: usize,
}

/// The HTTP client: TLS by rustls (ring), trusting the system's roots and, when the clinic
/// runs its own certificate authority, that authority's certificate (PEM) too.
fn client(ca: Option<&str>) -> Result<reqwest::Client> {
    // One process-wide provider; a second call finds it installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    if let Some(pem) = ca {
        check_ca(pem)?;
    }
    let mut builder = reqwest::Client::builder()
        // Short: a round may wait on the network, and the person waits for "Sync now".
        .timeout(Duration::from_secs(20))
        .connect_timeout(Duration::from_secs(5))
        .https_only(false);
    if let Some(pem) = ca {
        let cert = reqwest::Certificate::from_pem(pem.as_bytes()).map_err(|_| Error::invalid("ca_file", Problem::BadFormat))?;
        builder = builder.tls_certs_merge([cert]);
    }
    builder.build().map_err(|_| Error::Internal("http client"))
}

/// Checks that PEM text holds at least one certificate, and only well-formed ones.
pub fn check_ca(pem: &str) -> Result<()> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes()).collect::<std::result::Result<Vec<_>, _>>();
    match certs {
        Ok(c) if !c.is_empty() => Ok(()),
        _ => Err(Error::invalid("ca_file", Problem::BadFormat)),
    }
}

/// The server's address, checked: `https`, or `http` only to this machine (tests, a clinic
/// running on the same computer). Plain http elsewhere would send health data in clear text.
pub fn check_server(raw: &str) -> Result<String> {
    let url = reqwest::Url::parse(raw.trim()).map_err(|_| Error::invalid("server", Problem::BadFormat))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1") | Some("localhost") | Some("[::1]") | Some("::1"));
    if url.host_str().is_none_or(str::is_empty) || url.query().is_some() || !url.username().is_empty() {
        return Err(Error::invalid("server", Problem::BadFormat));
    }
    match url.scheme() {
        "https" => Ok(url.as_str().trim_end_matches('/').to_owned()),
        "http" if loopback => Ok(url.as_str().trim_end_matches('/').to_owned()),
        _ => Err(Error::invalid("server", Problem::NotAllowed)),
    }
}

/// A request that failed without an answer: offline, unless the server's certificate was
/// refused, which waiting will not mend and the person must hear about.
fn network(e: reqwest::Error) -> Error {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(err) = source {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            if matches!(tls, rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented) {
                return Error::invalid("server", Problem::Untrusted);
            }
        }
        // An io::Error's source() skips the error it wraps; look inside it.
        source = match err.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    Error::Offline
}

/// Redeems a pairing code and keeps the credential in the encrypted store.
pub async fn pair(store: &mut Store, server: &str, code: &str) -> Result<SyncLink> {
    pair_with(store, server, code, None).await
}

/// [`pair`], trusting also the clinic's own certificate authority (PEM), which is kept with the
/// credential for every later round.
pub async fn pair_with(store: &mut Store, server: &str, code: &str, ca: Option<&str>) -> Result<SyncLink> {
    let server = check_server(server)?;
    let code = checked_code(code, ca)?;
    let (link, _) = redeem(&server, code, ca, false).await?;
    store.set_sync_link(&link)?;
    tracing::info!("paired with the clinic");
    Ok(link)
}

/// A code as typed, trimmed and required; the CA, if any, checked.
fn checked_code<'a>(code: &'a str, ca: Option<&str>) -> Result<&'a str> {
    if let Some(pem) = ca {
        check_ca(pem)?;
    }
    let code = code.trim();
    if code.is_empty() {
        return Err(Error::invalid("code", Problem::Required));
    }
    Ok(code)
}

/// Redeems a pairing code (the patient's own device) or an invitation (`as_carer`): the link to
/// keep, and the server's whole reply.
async fn redeem(server: &str, code: &str, ca: Option<&str>, as_carer: bool) -> Result<(SyncLink, Value)> {
    let mut request = json!({ "code": code });
    if as_carer {
        request["as"] = json!("carer");
    }
    let res = client(ca)?.post(format!("{server}/pair")).json(&request).send().await.map_err(network)?;
    match res.status().as_u16() {
        200 => {}
        403 | 400 | 404 => return Err(Error::invalid("code", Problem::NotAllowed)),
        _ => return Err(Error::Offline),
    }
    let body: Value = res.json().await.map_err(network)?;
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned).ok_or(Error::Internal("pairing reply"));
    let link = SyncLink {
        server: server.to_owned(),
        token: text("token")?,
        patient: text("patient")?,
        device: text("device")?,
        epoch: text("epoch")?,
        cursor: 0,
        last_success: None,
        problem: None,
        ca: ca.map(str::to_owned),
    };
    Ok((link, body))
}

/// How long an invitation code can be redeemed (the server's rule, said to the patient).
pub const INVITATION_HOURS: i64 = 72;

/// An invitation for a carer's own device: the one-time code to give them, and when their
/// access ends by itself (if it does).
#[derive(Debug, Clone, Serialize)]
pub struct Invitation {
    pub code: String,
    pub carer: String,
    pub expires_at: Option<String>,
}

/// The patient invites a carer to join from their own device, allowed `allow`, for `days` (or
/// until removed). A carer already on this device keeps their identity, so what they log on
/// either device is theirs. The relationship is optional; one given replaces the one known.
pub async fn invite_carer(
    store: &mut Store,
    name: &str,
    relationship: Option<&str>,
    allow: &[Scope],
    days: Option<i64>,
) -> Result<Invitation> {
    if store.me().role != crate::domain::Role::Patient || !store.is_owner() {
        return Err(Error::NotPermitted);
    }
    let allow = Scope::normalise("allow", allow.to_vec())?;
    if days.is_some_and(|d| !(1..=3650).contains(&d)) {
        return Err(Error::invalid("days", Problem::OutOfRange { min: 1.0, max: 3650.0 }));
    }
    let link = store.sync_link()?.ok_or(Error::NotPaired)?;
    // One identity per carer: a carer on this device, or one invited before, keeps theirs.
    let (id, name, relationship) = match store.carer_named(name) {
        Ok(c) => (Some(c.person.id.to_string()), c.person.name, relationship.map(str::to_owned).or(c.person.relationship)),
        Err(Error::NotFound) => match store.invited_named(name)? {
            Some(i) => (Some(i.id), i.name, relationship.map(str::to_owned).or(i.relationship)),
            None => (None, crate::domain::person_name(name)?, relationship.map(str::to_owned)),
        },
        Err(e) => return Err(e),
    };
    let relationship = relationship.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    if relationship.as_ref().is_some_and(|r| r.chars().count() > crate::store::MAX_RELATIONSHIP) {
        return Err(Error::invalid("relationship", Problem::TooLong { max: crate::store::MAX_RELATIONSHIP }));
    }
    let body = json!({ "id": id, "name": name, "relationship": relationship, "allow": allow, "days": days });
    let res = client(link.ca.as_deref())?
        .post(format!("{}/carers", link.server))
        .bearer_auth(&link.token)
        .json(&body)
        .send()
        .await
        .map_err(network)?;
    match status_of(&res) {
        200 => {}
        401 | 403 | REVOKED => return Err(Error::NotPermitted),
        // Checked here as the server checks it, so only a server of another version refuses;
        // that is not "offline", and trying again will not help.
        400 | 422 => return Err(Error::Internal("the clinic server refused the invitation")),
        _ => return Err(Error::Offline),
    }
    let reply: Value = res.json().await.map_err(network)?;
    let invitation = Invitation {
        code: reply.get("code").and_then(Value::as_str).ok_or(Error::Internal("invitation reply"))?.to_owned(),
        carer: reply.get("carer").and_then(Value::as_str).ok_or(Error::Internal("invitation reply"))?.to_owned(),
        expires_at: reply.get("expires_at").and_then(Value::as_str).map(str::to_owned),
    };
    store.note_carer_at_clinic(crate::store::Invited {
        id: invitation.carer.clone(),
        name,
        relationship,
        allow: allow.clone(),
        expires_at: invitation.expires_at.clone(),
    })?;
    tracing::info!(scopes = allow.len(), "carer invited");
    Ok(invitation)
}

/// A carer joins from their own device: redeems the patient's invitation and sets up a new
/// diary in `dir`, owned by the carer, joined to the patient's. The passphrase is checked and
/// the folder looked at first, so a code is never used up on a set-up that cannot happen.
pub async fn join_as_carer(
    dir: &std::path::Path,
    server: &str,
    code: &str,
    passphrase: &str,
    ca: Option<&str>,
    clock: crate::clock::SharedClock,
) -> Result<(Store, crate::store::RecoveryCode)> {
    let server = check_server(server)?;
    let code = checked_code(code, ca)?;
    crate::crypto::check_passphrase("passphrase", passphrase)?;
    if crate::store::presence(dir)? == crate::store::Presence::Present {
        return Err(Error::AlreadyInitialised);
    }
    let (link, body) = redeem(&server, code, ca, true).await?;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned).ok_or(Error::Internal("pairing reply"));
    let person = body.pointer("/carer/person").ok_or(Error::Internal("pairing reply"))?;
    let carer = crate::domain::Author {
        id: uuid::Uuid::parse_str(&text(person.get("id"))?).map_err(|_| Error::Internal("pairing reply"))?,
        name: text(person.pointer("/name/0/text"))?,
        role: crate::domain::Role::Carer,
        relationship: person.pointer("/relationship/0/text").and_then(Value::as_str).map(str::to_owned),
    };
    let allow: Vec<Scope> = body
        .pointer("/carer/allow")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().and_then(Scope::parse))
        .collect();
    let (mut store, recovery) = Store::create_for_carer(dir, &carer, &text(body.get("patient_name"))?, &allow, passphrase, clock)?;
    store.set_sync_link(&link)?;
    tracing::info!("joined as a carer");
    Ok((store, recovery))
}

/// On a carer's own device, takes what the patient allows now (a new invitation may have
/// changed it), so the app offers only that.
fn follow_grant(db: &impl Diary, allow: Option<Vec<Scope>>) -> Result<()> {
    let Some(allow) = allow.filter(|a| !a.is_empty()) else { return Ok(()) };
    db.with(|s| if s.is_carer_device() && s.allowed() != allow { s.set_own_grant(&allow) } else { Ok(()) })
}

/// Ends at the clinic the access of carers the patient removed here; kept until the server
/// confirms, so a removal made offline takes effect at the next round.
async fn revoke_removed_carers(db: &impl Diary, http: &reqwest::Client, link: &SyncLink) -> std::result::Result<(), Outcome> {
    let pending = db.with(|s| s.carers_to_revoke()).map_err(|_| Outcome::Later { retry_after_secs: backoff() })?;
    for id in pending {
        let res = http
            .post(format!("{}/carers/{id}/revoke", link.server))
            .bearer_auth(&link.token)
            .send()
            .await
            .map_err(|_| Outcome::Later { retry_after_secs: backoff() })?;
        match status_of(&res) {
            200..=299 | 404 => {
                db.with(|s| s.carer_revoked_at_clinic(&id)).map_err(|_| Outcome::Later { retry_after_secs: backoff() })?;
            }
            status => return Err(stop_for(status, retry_after(&res))),
        }
    }
    Ok(())
}

enum Push {
    Continue,
    Stop(Outcome),
}

/// How a sync round reaches the diary: one short step at a time, never across a wait on the
/// network, so the app's other commands are not held up by a slow or absent server.
pub trait Diary {
    fn with<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T>;
}

/// A store the caller holds for the whole round (the CLI, tests, benchmarks).
pub struct Held<'a>(std::cell::RefCell<&'a mut Store>);

impl<'a> Held<'a> {
    pub fn new(store: &'a mut Store) -> Held<'a> {
        Held(std::cell::RefCell::new(store))
    }
}

impl Diary for Held<'_> {
    fn with<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        f(&mut self.0.borrow_mut())
    }
}

/// One sync round on a store held throughout: see [`sync_with`].
pub async fn sync_once(store: &mut Store) -> Result<Report> {
    sync_with(&Held::new(store)).await
}

/// One sync round: push everything queued, then pull what the clinic wrote.
pub async fn sync_with(db: &impl Diary) -> Result<Report> {
    // The device's credential is the owner's: a carer on the patient's device never uses it.
    if !db.with(|s| Ok(s.is_owner()))? {
        return Err(Error::NotPermitted);
    }
    let Some(mut link) = db.with(|s| s.sync_link())? else { return Err(Error::NotPaired) };
    let http = client(link.ca.as_deref())?;
    let mut report =
        Report { outcome: Outcome::Done, sent: 0, received: 0, refused: 0, pending: 0, quarantined: 0, epoch_changed: false, merged: 0 };

    // The epoch first: if the server lost data, queue everything before pushing.
    match get_changes(&http, &link, link.cursor, 1).await {
        Ok((epoch, _, _, _, allow)) if epoch != link.epoch => {
            follow_grant(db, allow)?;
            tracing::info!("server epoch changed; queueing everything again");
            link.epoch = epoch;
            link.cursor = 0;
            db.with(|s| {
                s.requeue_everything()?;
                s.set_sync_link(&link)
            })?;
            report.epoch_changed = true;
        }
        Ok((_, _, _, _, allow)) => follow_grant(db, allow)?,
        Err(outcome) => return finish(db, &mut link, report, outcome),
    }
    if let Err(outcome) = revoke_removed_carers(db, &http, &link).await {
        return finish(db, &mut link, report, outcome);
    }

    loop {
        match push_batch(db, &http, &link, &mut report).await? {
            Push::Continue => {}
            Push::Stop(Outcome::Done) => break,
            Push::Stop(outcome) => return finish(db, &mut link, report, outcome),
        }
    }

    loop {
        match get_changes(&http, &link, link.cursor, PAGE).await {
            Ok((_, next, more, resources, _)) => {
                report.received += db.with(|s| s.apply_pulled(&resources, next))?;
                link.cursor = next;
                if !more {
                    break;
                }
            }
            Err(outcome) => return finish(db, &mut link, report, outcome),
        }
    }
    // Forms the clinic assigned: fetched once, kept with what the clinic wrote.
    for id in db.with(|s| s.assigned_questionnaires_missing())? {
        let res = http.get(format!("{}/fhir/Questionnaire/{id}", link.server)).bearer_auth(&link.token).send().await;
        let body = match res {
            Ok(r) if r.status().as_u16() == 200 => r.json::<Value>().await.ok(),
            Ok(r) if r.status().as_u16() == 404 => None,
            _ => return finish(db, &mut link, report, Outcome::Later { retry_after_secs: backoff() }),
        };
        if let Some(q) = body.filter(|q| q.get("id").and_then(Value::as_str) == Some(id.as_str())) {
            db.with(|s| s.keep_remote(&q))?;
            report.received += 1;
        }
    }
    link.last_success = Some(db.with(|s| Ok(s.now()))?);
    link.problem = None;
    finish(db, &mut link, report, Outcome::Done)
}

fn finish(db: &impl Diary, link: &mut SyncLink, mut report: Report, outcome: Outcome) -> Result<Report> {
    link.problem = match outcome {
        Outcome::PairAgain => Some("pair_again".into()),
        Outcome::Revoked => Some("revoked".into()),
        _ => link.problem.take().filter(|_| outcome != Outcome::Done),
    };
    let (pending, quarantined) = db.with(|s| {
        // Keep the cursor the store holds (apply_pulled moved it) and record any problem.
        if let Some(saved) = s.sync_link()? {
            link.cursor = saved.cursor;
        }
        s.set_sync_link(link)?;
        s.outbox_counts()
    })?;
    report.pending = pending;
    report.quarantined = quarantined;
    report.outcome = outcome;
    tracing::info!(sent = report.sent, received = report.received, refused = report.refused, "sync round ended");
    Ok(report)
}

/// A status that is not success, as an outcome for the whole round.
fn stop_for(status: u16, retry_after: Option<u64>) -> Outcome {
    match status {
        REVOKED => Outcome::Revoked,
        401 => Outcome::PairAgain,
        403 => Outcome::Revoked,
        _ => Outcome::Later { retry_after_secs: retry_after.unwrap_or_else(backoff) },
    }
}

/// 15 to 45 seconds: a first back-off with jitter, so devices do not retry in step.
fn backoff() -> u64 {
    let mut b = [0u8; 1];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    15 + (b[0] as u64 % 31)
}

/// A 401 the server marked as revoked access (not merely an unknown credential).
const REVOKED: u16 = 4011;

fn status_of(res: &reqwest::Response) -> u16 {
    let revoked = res.headers().get("x-companion-access").and_then(|v| v.to_str().ok()) == Some("revoked");
    match res.status().as_u16() {
        401 if revoked => REVOKED,
        s => s,
    }
}

fn retry_after(res: &reqwest::Response) -> Option<u64> {
    res.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok())
}

async fn push_batch(db: &impl Diary, http: &reqwest::Client, link: &SyncLink, report: &mut Report) -> Result<Push> {
    // Read what to send in one step; the store is free again while it travels.
    let (queued, entries, owner, main) = db.with(|store| bundle_entries(store, link))?;
    if queued.is_empty() {
        return Ok(Push::Stop(Outcome::Done));
    }
    let bundle = json!({ "resourceType": "Bundle", "type": "batch", "entry": entries });
    let seqs: Vec<i64> = queued.iter().map(|q| q.seq).collect();
    let res = match http.post(format!("{}/fhir", link.server)).bearer_auth(&link.token).json(&bundle).send().await {
        Ok(r) => r,
        Err(_) => {
            db.with(|s| s.outbox_retry_later(&seqs, None))?;
            return Ok(Push::Stop(Outcome::Later { retry_after_secs: backoff() }));
        }
    };
    let status = status_of(&res);
    if status != 200 {
        let after = retry_after(&res);
        db.with(|s| s.outbox_retry_later(&seqs, Some(status.min(599))))?;
        return Ok(Push::Stop(stop_for(status, after)));
    }
    let Ok(reply) = res.json::<Value>().await else {
        // The connection broke mid-response: the server may hold some of it; PUTs are
        // idempotent, so sending again is safe.
        db.with(|s| s.outbox_retry_later(&seqs, None))?;
        return Ok(Push::Stop(Outcome::Later { retry_after_secs: backoff() }));
    };
    let results = reply.get("entry").and_then(Value::as_array).cloned().unwrap_or_default();
    if results.len() != owner.len() {
        db.with(|s| s.outbox_retry_later(&seqs, Some(status)))?;
        return Ok(Push::Stop(Outcome::Later { retry_after_secs: backoff() }));
    }
    // An item is done when all its resources landed; refused when any was refused.
    let mut worst: Vec<(u16, String)> = vec![(200, String::new()); queued.len()];
    for (r, i) in results.iter().zip(&owner) {
        let code: u16 = r
            .pointer("/response/status")
            .and_then(Value::as_str)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(500);
        if code >= 300 && (worst[*i].0 < 300 || code > worst[*i].0) {
            let why = r.pointer("/response/outcome/issue/0/diagnostics").and_then(Value::as_str).unwrap_or("").to_owned();
            worst[*i] = (code, why);
        }
    }
    // The server's version of each record it took.
    let versions: Vec<(uuid::Uuid, i64)> = main
        .iter()
        .zip(&worst)
        .filter_map(|(slot, (code, _))| {
            let (at, id) = slot.as_ref().filter(|_| (200..300).contains(code))?;
            let etag = results[*at].pointer("/response/etag").and_then(Value::as_str)?;
            Some((*id, etag.trim_start_matches("W/").trim_matches('"').parse::<i64>().ok()?))
        })
        .collect();
    db.with(|s| s.note_server_versions(&versions))?;
    let mut done = Vec::new();
    let mut later = Vec::new();
    for ((q, (code, why)), slot) in queued.iter().zip(worst).zip(&main) {
        match code {
            200..=299 => done.push(q.seq),
            412 => match slot {
                // Changed elsewhere since this device last saw it: take in the server's copy,
                // merge, and send the merge (or nothing, if the server's copy is the merge).
                Some((at, id)) => {
                    let url = entries[*at].pointer("/request/url").and_then(Value::as_str).unwrap_or_default().to_owned();
                    match merge_from_server(db, http, link, &url, *id).await? {
                        Some(false) => done.push(q.seq),
                        Some(true) => {}
                        None => later.push(q.seq),
                    }
                    report.merged += 1;
                }
                None => later.push(q.seq),
            },
            // One record refused inside an accepted request: set aside, the rest go on. A 403
            // here is about that record (a carer outside what the patient allows now); access
            // ended is a 401 or 403 on the whole request, above.
            400 | 403 | 404 | 409 | 413 | 422 => {
                db.with(|s| s.outbox_quarantine(q.seq, code, &why))?;
                report.refused += 1;
            }
            401 => {
                db.with(|s| s.outbox_retry_later(&[q.seq], Some(code)))?;
                return Ok(Push::Stop(stop_for(code, None)));
            }
            _ => later.push(q.seq),
        }
    }
    report.sent += done.len();
    db.with(|s| s.outbox_sent(&done))?;
    if !later.is_empty() {
        db.with(|s| s.outbox_retry_later(&later, None))?;
        return Ok(Push::Stop(Outcome::Later { retry_after_secs: backoff() }));
    }
    if report.merged > MAX_MERGES {
        // Another device keeps changing the same records: try again later.
        return Ok(Push::Stop(Outcome::Later { retry_after_secs: backoff() }));
    }
    Ok(Push::Continue)
}

/// The entries of one batch bundle: the queued items, each item's resources, which item each
/// entry belongs to, and each record's main resource (its index and id).
#[allow(clippy::type_complexity)]
fn bundle_entries(
    store: &mut Store,
    link: &SyncLink,
) -> Result<(Vec<crate::store::Queued>, Vec<Value>, Vec<usize>, Vec<Option<(usize, uuid::Uuid)>>)> {
    let queued = store.outbox(BATCH)?;
    if queued.is_empty() {
        return Ok((queued, Vec::new(), Vec::new(), Vec::new()));
    }
    let device = uuid::Uuid::parse_str(&link.device).unwrap_or_default();
    let patient = store.patient()?;
    // Each queued item becomes one or more bundle entries; remember which.
    let mut entries = Vec::new();
    let mut owner = Vec::new();
    // For each queued record: the index of its main resource in the bundle, and its id.
    let mut main: Vec<Option<(usize, uuid::Uuid)>> = vec![None; queued.len()];
    // The patient's device sends each carer who wrote something as a RelatedPerson, once a
    // batch, so the references resolve (a carer's own device is not allowed to).
    let mut people = std::collections::HashSet::new();
    let sends_people = store.me().role == crate::domain::Role::Patient;
    for (i, q) in queued.iter().enumerate() {
        let resources = match q.item.as_str() {
            "entry" => match store.entry(q.ref_id) {
                Ok(e) => {
                    main[i] = Some((entries.len(), e.id));
                    let copy = store.replica(&e)?;
                    let mut out = crate::fhir::outbound_entry(&e, &copy, &patient, &link.patient, device);
                    for who in [&e.author, &e.updated_by] {
                        if sends_people && who.role == crate::domain::Role::Carer && people.insert(who.id) {
                            out.push(("RelatedPerson".into(), who.id.to_string(), crate::fhir::related_person(who, &link.patient)));
                        }
                    }
                    out
                }
                Err(Error::NotFound) => Vec::new(),
                Err(e) => return Err(e),
            },
            _ => match store.advice_by_id(q.ref_id) {
                Ok(a) => vec![crate::fhir::outbound_advice(&a, &link.patient, device)],
                Err(Error::NotFound) => Vec::new(),
                Err(e) => return Err(e),
            },
        };
        for (n, (rtype, id, resource)) in resources.into_iter().enumerate() {
            let mut request = json!({ "method": "PUT", "url": format!("{rtype}/{id}") });
            // An edit names the version it was made on; the server answers 412 if another
            // device changed the record since.
            if n == 0 && q.item == "entry" {
                if let Some(v) = store.server_version(q.ref_id)? {
                    request["ifMatch"] = json!(format!("W/\"{v}\""));
                }
            }
            entries.push(json!({ "resource": resource, "request": request }));
            owner.push(i);
        }
    }
    Ok((queued, entries, owner, main))
}

/// Merges per round before waiting: bounds a tug of war between two devices.
const MAX_MERGES: usize = 100;

/// Reads the server's copy of a record and takes it in. Some(true): the merge differs from the
/// server's copy and must be sent; Some(false): the server's copy is the merge; None: could not
/// read it now.
async fn merge_from_server(db: &impl Diary, http: &reqwest::Client, link: &SyncLink, url: &str, id: uuid::Uuid) -> Result<Option<bool>> {
    let Ok(res) = http.get(format!("{}/fhir/{url}", link.server)).bearer_auth(&link.token).send().await else {
        return Ok(None);
    };
    if res.status().as_u16() == 404 {
        // The server does not have it (any more): send it as new.
        db.with(|s| s.forget_server_version(id))?;
        return Ok(Some(true));
    }
    if res.status().as_u16() != 200 {
        return Ok(None);
    }
    let version = res
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .and_then(|e| e.trim_start_matches("W/").trim_matches('"').parse::<i64>().ok());
    let Ok(body) = res.json::<Value>().await else { return Ok(None) };
    let Some(copy) = crate::replica::from_resource(&body).filter(|c| c.id == id) else {
        // Not a record a Companion device wrote: leave ours as it is, and try later.
        return Ok(None);
    };
    let absorbed = db.with(|s| s.absorb(&copy, version))?;
    tracing::info!(changed = absorbed.changed, resend = absorbed.resend, "merged an edit made elsewhere");
    Ok(Some(absorbed.resend))
}

/// A page of the change feed: the epoch, the next cursor, whether more follows, the resources,
/// and for a carer's device what the patient allows it now.
type Page = (String, i64, bool, Vec<Value>, Option<Vec<Scope>>);

async fn get_changes(http: &reqwest::Client, link: &SyncLink, since: i64, count: i64) -> std::result::Result<Page, Outcome> {
    let res = http
        .get(format!("{}/sync/changes?since={since}&_count={count}", link.server))
        .bearer_auth(&link.token)
        .send()
        .await
        .map_err(|_| Outcome::Later { retry_after_secs: backoff() })?;
    let status = status_of(&res);
    if status != 200 {
        return Err(stop_for(status, retry_after(&res)));
    }
    let body: Value = res.json().await.map_err(|_| Outcome::Later { retry_after_secs: backoff() })?;
    let epoch = body.get("epoch").and_then(Value::as_str).unwrap_or_default().to_owned();
    let next = body.get("next").and_then(Value::as_i64).unwrap_or(since);
    let more = body.get("more").and_then(Value::as_bool).unwrap_or(false);
    let resources = body.get("resources").and_then(Value::as_array).cloned().unwrap_or_default();
    let allow =
        body.get("allow").and_then(Value::as_array).map(|a| a.iter().filter_map(|v| v.as_str().and_then(Scope::parse)).collect::<Vec<_>>());
    Ok((epoch, next, more, resources, allow))
}

/// Runs an async sync step on a small runtime of its own (the CLI, the app's worker thread).
pub fn block_on<T>(f: impl std::future::Future<Output = T>) -> Result<T> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|_| Error::Internal("runtime"))?;
    Ok(rt.block_on(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(r: Result<impl std::fmt::Debug>) -> Option<(&'static str, Problem)> {
        match r {
            Err(Error::Invalid(i)) => Some((i.field, i.problem)),
            _ => None,
        }
    }

    #[test]
    fn https_anywhere_plain_http_only_on_this_machine() {
        assert_eq!(check_server("https://clinic.example:8443/").unwrap(), "https://clinic.example:8443");
        assert_eq!(check_server(" http://127.0.0.1:9000 ").unwrap(), "http://127.0.0.1:9000");
        assert_eq!(check_server("http://localhost:9000").unwrap(), "http://localhost:9000");
        assert_eq!(problem(check_server("http://clinic.example")), Some(("server", Problem::NotAllowed)));
        assert_eq!(problem(check_server("ftp://clinic.example")), Some(("server", Problem::NotAllowed)));
        assert_eq!(problem(check_server("clinic.example")), Some(("server", Problem::BadFormat)));
        assert_eq!(problem(check_server("https://user@clinic.example")), Some(("server", Problem::BadFormat)));
    }

    #[test]
    fn a_ca_file_must_hold_a_certificate() {
        assert_eq!(problem(check_ca("junk")), Some(("ca_file", Problem::BadFormat)));
        assert_eq!(problem(check_ca("")), Some(("ca_file", Problem::BadFormat)));
        let broken = "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n";
        assert_eq!(problem(check_ca(broken)), Some(("ca_file", Problem::BadFormat)));
    }
}
