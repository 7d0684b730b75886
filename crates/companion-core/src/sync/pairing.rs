//! Pairing: redeeming the clinic's code (the patient's own device) or a carer's invitation,
//! safe to retry.
//!
//! A reply can be lost after the server redeemed the code. So the device sends a random retry
//! key with the code, and keeps it (with the code's hash) in `pairing.json` beside the diary
//! until the credential is safely stored: a retry, in this call or a later one within a few
//! minutes, sends the same key and gets the same credential (see the server's `pairing.rs`).

use super::*;
use crate::paths::PAIRING_FILE;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::path::Path;

/// Attempts within one call when the reply is lost or the clinic is briefly unavailable, and
/// how long a call may go on retrying: the person is waiting on the screen.
const ATTEMPTS: u32 = 3;
const RETRY_FOR: Duration = Duration::from_secs(12);
/// A clinic that asks for a longer wait than this is not retried within the call.
const SHORT_WAIT: Duration = Duration::from_secs(2);
/// A kept key is used again for this long: less than the server's window (10 minutes), so a
/// retry never meets a key the server has stopped honouring.
const KEY_MINUTES: i64 = 8;

/// Redeems a pairing code and keeps the credential in the encrypted store.
pub async fn pair(store: &mut Store, server: &str, code: &str) -> Result<SyncLink> {
    pair_with(store, server, code, None).await
}

/// [`pair`], trusting also the clinic's own certificate authority (PEM), which is kept with the
/// credential for every later round.
pub async fn pair_with(store: &mut Store, server: &str, code: &str, ca: Option<&str>) -> Result<SyncLink> {
    let server = check_server(server)?;
    let code = checked_code(code, ca)?;
    let dir = store.dir().to_owned();
    let (link, _) = redeem(&dir, &server, code, ca, false).await?;
    // Another clinic, or another key: what the last one sent for the patient's care is not this
    // one's (its ward number, its rules).
    let before = store.sync_link()?;
    if before.is_some_and(|b| b.server != link.server || b.clinic_key != link.clinic_key) {
        store.forget_clinic_care()?;
    }
    store.set_sync_link(&link)?;
    forget(&dir);
    tracing::info!("paired with the clinic");
    Ok(link)
}

/// A code as typed, trimmed and required; the CA, if any, checked.
pub(super) fn checked_code<'a>(code: &'a str, ca: Option<&str>) -> Result<&'a str> {
    if let Some(pem) = ca {
        check_ca(pem)?;
    }
    let code = code.trim();
    if code.is_empty() {
        return Err(Error::invalid("code", Problem::Required));
    }
    // What the clinic would refuse unread is refused here, without using a try.
    if code.len() > crate::limits::MAX_CODE {
        return Err(Error::invalid("code", Problem::TooLong { max: crate::limits::MAX_CODE }));
    }
    Ok(code)
}

/// Redeems a pairing code (the patient's own device) or an invitation (`as_carer`): the link to
/// keep, and the server's whole reply. The caller removes the kept key ([`forget`]) once the
/// credential is stored.
pub(super) async fn redeem(dir: &Path, server: &str, code: &str, ca: Option<&str>, as_carer: bool) -> Result<(SyncLink, wire::PairReply)> {
    let key = retry_key(dir, code)?;
    let request = wire::PairRequest { code: code.to_owned(), key: Some(key), as_role: as_carer.then_some(wire::PairAs::Carer) };
    let http = client(ca)?;
    let started = std::time::Instant::now();
    let mut attempt = 0;
    let body: Value = loop {
        attempt += 1;
        let mut wait = Duration::from_millis(400 << attempt);
        let failed = match http.post(format!("{server}{}", wire::PAIR)).json(&request).send().await {
            Ok(res) => match res.status().as_u16() {
                200 => match res.json().await {
                    Ok(body) => break body,
                    // The code was redeemed, the reply cut (or unreadable): the same key gets
                    // it again.
                    Err(e) => network(e),
                },
                // Refused for good: no retry will change that, so the key goes too.
                403 | 400 | 404 => return Err(refused(dir, Error::invalid("code", Problem::NotAllowed))),
                409 if as_carer => return Err(refused(dir, Error::PatientCode)),
                409 => return Err(refused(dir, Error::CarerCode)),
                status => {
                    let asked = retry_after(&res);
                    if let Some(secs) = asked {
                        wait = Duration::from_secs(secs);
                    }
                    unavailable(status, asked)
                }
            },
            Err(e) => network(e),
        };
        let give_up = attempt >= ATTEMPTS || matches!(failed, Error::Invalid(_));
        if give_up || wait > SHORT_WAIT || started.elapsed() + wait > RETRY_FOR {
            return Err(failed);
        }
        tokio::time::sleep(wait).await;
    };
    // A reply that reads but is not a pairing reply is the server's fault, not the network's.
    let body: wire::PairReply = serde_json::from_value(body).map_err(|_| Error::Internal("pairing reply"))?;
    let link = SyncLink {
        server: server.to_owned(),
        token: body.token.clone(),
        patient: body.patient.clone(),
        device: body.device.clone(),
        epoch: body.epoch.clone(),
        cursor: 0,
        last_success: None,
        problem: None,
        ca: ca.map(str::to_owned),
        // Pinned here, from the reply over TLS; a server from before sends none.
        clinic_key: body.clinic_key.clone().filter(|k| crate::rules::signed::key_ok(k)),
    };
    Ok((link, body))
}

/// The error for a status that says the clinic is there but cannot serve now.
pub(super) fn unavailable(status: u16, retry_after: Option<u64>) -> Error {
    let retry_after_secs = retry_after.unwrap_or_else(backoff);
    match status {
        429 | 503 => Error::ClinicBusy { retry_after_secs },
        500..=599 => Error::ClinicFailed { retry_after_secs },
        _ => Error::Offline,
    }
}

#[derive(Serialize, Deserialize)]
struct Pending {
    code: String,
    key: String,
    at: DateTime<Utc>,
}

/// The key for this code: the one kept for it if it is recent, else a new one, kept first.
fn retry_key(dir: &Path, code: &str) -> Result<String> {
    let path = dir.join(PAIRING_FILE);
    let code_hash = code_hash(code);
    let now = Utc::now();
    let kept = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice::<Pending>(&b).ok());
    if let Some(p) = kept.filter(|p| p.code == code_hash && now - p.at < chrono::Duration::minutes(KEY_MINUTES) && p.at <= now) {
        return Ok(p.key);
    }
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).map_err(|_| Error::Internal("randomness"))?;
    use base64::Engine;
    let key = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    crate::store::create_private_dir(dir)?;
    let json = serde_json::to_vec(&Pending { code: code_hash, key: key.clone(), at: now }).map_err(|_| Error::Internal("pairing file"))?;
    crate::keyfile::write_atomically(&path, &json)?;
    Ok(key)
}

fn refused(dir: &Path, e: Error) -> Error {
    forget(dir);
    e
}

/// Removes the kept key: the credential it was for is stored.
pub(super) fn forget(dir: &Path) {
    let _ = std::fs::remove_file(dir.join(PAIRING_FILE));
}

/// A code as typed, as the server reads it: letters and digits, upper case, O as 0, I and L
/// as 1 (so a code read aloud or copied by hand still works).
pub fn normalise_code(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

/// The code's hash, so the file never holds the code itself.
fn code_hash(code: &str) -> String {
    crate::crypto::sha256_hex(normalise_code(code).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_kept_for_the_same_code_only() {
        let dir = tempfile::tempdir().unwrap();
        let first = retry_key(dir.path(), "abcd-efgh-jkmn").unwrap();
        assert_eq!(retry_key(dir.path(), "ABCD EFGH JKMN").unwrap(), first, "the same code, typed otherwise");
        let other = retry_key(dir.path(), "ABCD-EFGH-JKMP").unwrap();
        assert_ne!(other, first, "another code gets another key");
        assert!(!std::fs::read_to_string(dir.path().join(PAIRING_FILE)).unwrap().contains("JKMP"), "the code itself is not kept");
        forget(dir.path());
        assert!(!dir.path().join(PAIRING_FILE).exists());
    }

    #[test]
    fn busy_and_failing_clinics_are_told_apart() {
        assert!(matches!(unavailable(429, Some(7)), Error::ClinicBusy { retry_after_secs: 7 }));
        assert!(matches!(unavailable(503, None), Error::ClinicBusy { .. }));
        assert!(matches!(unavailable(500, Some(3)), Error::ClinicFailed { retry_after_secs: 3 }));
        assert!(matches!(unavailable(302, None), Error::Offline));
    }
}
