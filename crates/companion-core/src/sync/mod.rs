//! The sync engine's network side (design: `shared/guides/sync.md`). Pairing redeems a one-time
//! code for a device credential kept in the encrypted store. A sync round pushes the outbox as
//! `batch` bundles of idempotent `PUT`s (client ids), then pulls the change feed page by page,
//! moving the cursor only with the page applied. Every failure is sorted: done, quarantine
//! (400/422: set aside, the rest go on), re-pair (401), revoked (403), or later (network, 429,
//! 5xx: back off with jitter). A new server epoch (a restore from backup) queues everything again.

use crate::domain::Scope;
use crate::error::{Error, Problem, Result};
use crate::store::{Store, SyncLink};
use companion_protocol::wire;
use serde::Serialize;
use serde_json::{json, Value};
use std::time::Duration;

mod carers;
mod pairing;
mod push;

use carers::{follow_grant, revoke_removed_carers};
pub use carers::{invite_carer, join_as_carer, Invitation, INVITATION_HOURS};
use pairing::{checked_code, redeem};
pub use pairing::{normalise_code, pair, pair_with};
use push::push_batch;

const BATCH: usize = 50;
const PAGE: i64 = 100;
pub use wire::EPOCH_HEADER;

/// How a sync round ended, for the person and the CLI.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Everything that could be sent was sent, and the feed is read to the end.
    Done,
    /// Try again after this many seconds: the server could not be reached, was busy, or had a
    /// problem of its own (`because`).
    Later { retry_after_secs: u64, because: Wait },
    /// The credential is no longer accepted (401): pair again.
    PairAgain,
    /// The clinic has revoked this device's access (403).
    Revoked,
}

/// Why a round must wait, as the person hears it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Wait {
    /// No answer: no network, the server down, a reply cut off.
    Unreachable,
    /// The clinic asked the device to wait (429, 503).
    Busy,
    /// The clinic answered with an error of its own (5xx).
    ServerError,
}

/// A round cut short by the network: try again after the usual back-off.
fn later() -> Outcome {
    Outcome::Later { retry_after_secs: backoff(), because: Wait::Unreachable }
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
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
        Ok(page) if page.epoch != link.epoch => {
            follow_grant(db, scopes(page.allow))?;
            tracing::info!("server epoch changed; queueing everything again");
            link.epoch = page.epoch;
            link.cursor = 0;
            db.with(|s| {
                s.requeue_everything()?;
                s.set_sync_link(&link)
            })?;
            report.epoch_changed = true;
        }
        Ok(page) => follow_grant(db, scopes(page.allow))?,
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
            Ok(page) => {
                report.received += db.with(|s| s.apply_pulled(&page.resources, page.next))?;
                link.cursor = page.next;
                if !page.more {
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
            _ => return finish(db, &mut link, report, later()),
        };
        let clinics = |q: &Value| q.get("id").and_then(Value::as_str) == Some(id.as_str()) && crate::fhir::written_by_clinic(q);
        if let Some(q) = body.filter(clinics) {
            db.with(|s| s.keep_remote(&q))?;
            report.received += 1;
        }
    }
    // Who at the clinic has looked, for the patient (a server from before has no such list).
    if let Ok(r) = http.get(format!("{}{}", link.server, wire::ACCESS)).bearer_auth(&link.token).send().await {
        if r.status().as_u16() == 200 {
            // A list that cannot be read leaves the one kept before.
            let list = r.json::<wire::AccessReply<crate::store::access::Access>>().await.ok().map(|b| b.access);
            if let Some(list) = list {
                db.with(|s| s.set_access_log(list))?;
            }
        }
    }
    if let Err(outcome) = fetch_care(db, &http, &mut link).await? {
        return finish(db, &mut link, report, outcome);
    }
    link.last_success = Some(db.with(|s| Ok(s.now()))?);
    link.problem = None;
    finish(db, &mut link, report, Outcome::Done)
}

/// The clinic's care team and signed ruleset (shared by every patient of the clinic, so read by
/// id each round rather than from the patient's feed). A device paired before the clinic had a
/// key pins the one its server names now, over the same authenticated TLS connection. A server
/// from before has neither (404), which changes nothing here.
async fn fetch_care(db: &impl Diary, http: &reqwest::Client, link: &mut SyncLink) -> Result<std::result::Result<(), Outcome>> {
    let get = |path: String| http.get(format!("{}{path}", link.server)).bearer_auth(&link.token).send();
    let read = |res: reqwest::Response| async move {
        match status_of(&res) {
            200 => res.json::<Value>().await.map(Some).map_err(|_| later()),
            404 => Ok(None),
            status => Err(stop_for(status, retry_after(&res))),
        }
    };
    macro_rules! fetch {
        ($path:expr) => {
            match get($path).await {
                Ok(res) => match read(res).await {
                    Ok(v) => v,
                    Err(outcome) => return Ok(Err(outcome)),
                },
                Err(_) => return Ok(Err(later())),
            }
        };
    }
    if let Some(team) = fetch!(format!("/fhir/CareTeam/{}", crate::care_team::CARE_TEAM_ID)) {
        if crate::fhir::written_by_clinic(&team) {
            db.with(|s| s.replace_remote(&team))?;
        }
    }
    if link.clinic_key.is_none() {
        let key = fetch!(wire::CLINIC_KEY.to_owned());
        let key = key.and_then(|k| serde_json::from_value::<wire::ClinicKeyReply>(k).ok());
        link.clinic_key = key.map(|k| k.clinic_key).filter(|k| crate::rules::signed::key_ok(k));
    }
    let library = fetch!(format!("/fhir/Library/{}", crate::rules::signed::LIBRARY_ID));
    if let (Some(library), Some(key)) = (library, link.clinic_key.clone()) {
        match crate::rules::signed::Signed::from_library(&library) {
            Some(signed) => {
                db.with(|s| s.offer_ruleset(&signed, &key))?.ok();
            }
            // Unsigned: refused like a bad signature, the one in force stays.
            None => {
                let unsigned = crate::rules::signed::Signed { text: String::new(), signature: String::new() };
                db.with(|s| s.offer_ruleset(&unsigned, &key))?.ok();
            }
        }
    }
    Ok(Ok(()))
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
        status => {
            let because = match status {
                429 | 503 => Wait::Busy,
                500..=599 => Wait::ServerError,
                _ => Wait::Unreachable,
            };
            Outcome::Later { retry_after_secs: retry_after.unwrap_or_else(backoff), because }
        }
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
    let revoked = res.headers().get(wire::ACCESS_HEADER).and_then(|v| v.to_str().ok()) == Some(wire::ACCESS_REVOKED);
    match res.status().as_u16() {
        401 if revoked => REVOKED,
        s => s,
    }
}

fn retry_after(res: &reqwest::Response) -> Option<u64> {
    res.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok())
}

/// The scopes a carer's device is allowed now, as the feed names them (unknown ones ignored).
fn scopes(allow: Option<Vec<String>>) -> Option<Vec<Scope>> {
    allow.map(|a| a.iter().filter_map(|s| Scope::parse(s)).collect())
}

async fn get_changes(http: &reqwest::Client, link: &SyncLink, since: i64, count: i64) -> std::result::Result<wire::ChangesPage, Outcome> {
    let res = http
        .get(format!("{}{}?since={since}&_count={count}", link.server, wire::CHANGES))
        .bearer_auth(&link.token)
        .send()
        .await
        .map_err(|_| later())?;
    let status = status_of(&res);
    if status != 200 {
        return Err(stop_for(status, retry_after(&res)));
    }
    // A page that does not read as one was cut off or is not the feed: the round stops here.
    res.json().await.map_err(|_| later())
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
