//! Redeeming a pairing code (one of the patient's own devices) or a carer's invitation (a
//! carer's own device), safe to retry.
//!
//! A reply can be lost after the server did the work (a reset, a cut connection) and a request
//! can arrive twice. The device therefore sends a random retry key with the code; the first
//! redemption keeps a hash of it and the device it made, and derives the device's credential
//! from the key, so the same device asking again with the same key within
//! [`RETRY_MINUTES`] gets the same device and the same credential. Anyone else with the code,
//! or the device after that, still hears "already used". Without a key (an older app) a
//! code is used once, as before.

use super::*;

/// How long after a code was redeemed its device may ask again with the same key.
pub const RETRY_MINUTES: i64 = 10;

/// What a retry key must look like: 22 to 128 characters of base64url (at least 128 bits).
pub fn valid_key(key: &str) -> bool {
    (22..=128).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The credential of `device` redeemed with `key`: only the holder of the key can know it, and
/// the server keeps its hash as it keeps every device's.
fn token_from_key(key: &str, device: &str) -> String {
    use base64::Engine;
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes()),
        format!("companion-device-token|{device}").as_bytes(),
    );
    format!("d_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

fn key_hash(key: &str) -> String {
    sha256_hex(&format!("companion-pair-key|{key}"))
}

impl Db {
    /// Redeems a code: single use, unexpired. A pairing code (from the clinic) pairs one of the
    /// patient's own devices; an invitation (from the patient) a carer's. `as_carer` says which
    /// the device expects; the other kind is refused with 409, without being used up, so the
    /// device can say what to do instead. `key` makes the redemption safe to retry (above).
    pub fn pair(&self, code: &str, as_carer: bool, key: Option<&str>) -> StoreResult<Paired> {
        let hash = sha256_hex(&normalise_code(code));
        self.with(|c| {
            sql::write_tx(c, |tx| {
                let code_row = tx.row(
                    "SELECT patient_id, expires_at, used_at, used_key, used_device FROM pairing_codes WHERE code_hash = ?1",
                    params![&hash],
                )?;
                let (table, who) = match code_row {
                    Some(row) => ("pairing_codes", row),
                    None => match tx.row(
                        "SELECT c.patient_id, i.expires_at, i.used_at, i.used_key, i.used_device, c.id
                         FROM invitations i JOIN carers c ON c.id = i.carer_id WHERE i.code_hash = ?1 AND c.revoked_at IS NULL",
                        params![&hash],
                    )? {
                        Some(row) => ("invitations", row),
                        None => return Err(StoreError::forbidden("the pairing code is not valid")),
                    },
                };
                let (patient, expires, used) = (who.text(0)?, who.text(1)?, who.opt_text(2)?);
                // Used and expired codes are refused as such whatever kind they are; only a code
                // that could still be redeemed is told to be the other kind.
                let expired = DateTime::parse_from_rfc3339(&expires).map_err(|_| StoreError::internal("expiry"))? < Utc::now();
                if used.is_none() && expired {
                    return Err(StoreError::forbidden("the pairing code has expired"));
                }
                if used.is_none() && as_carer != (table == "invitations") {
                    return Err(StoreError::state_conflict(if as_carer {
                        "this code pairs the patient's own device, not a carer's"
                    } else {
                        "this is a carer's invitation: it joins a new diary"
                    }));
                }
                let (device, token) = match &used {
                    // A retry: the same device, and the same credential, derived again.
                    Some(used_at) => {
                        let (device, key) = retried(tx, &who, used_at, key)?;
                        let token = token_from_key(key, &device);
                        (device, token)
                    }
                    None => {
                        let device = Uuid::new_v4().to_string();
                        let token = key.map_or_else(|| random_token("d_"), |k| token_from_key(k, &device));
                        let kept = key.map(key_hash);
                        tx.exec(
                            &format!("UPDATE {table} SET used_at = ?2, used_key = ?3, used_device = ?4 WHERE code_hash = ?1"),
                            params![&hash, &now_text(), kept.as_deref(), &device],
                        )?;
                        tx.exec(
                            "INSERT INTO devices (id, patient_id, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
                            params![&device, &patient, &sha256_hex(&token), &now_text()],
                        )?;
                        if table == "invitations" {
                            tx.exec("INSERT INTO carer_devices (device_id, carer_id) VALUES (?1, ?2)", params![&device, &who.text(5)?])?;
                        }
                        (device, token)
                    }
                };
                let mut carer = None;
                if table == "invitations" {
                    let carer_id = who.text(5)?;
                    let person = read_in(tx, "RelatedPerson", &carer_id)?.ok_or_else(|| StoreError::internal("carer resource"))?;
                    let row = tx.one("SELECT scopes, expires_at FROM carers WHERE id = ?1", params![&carer_id])?;
                    carer = Some((person.body, parse_scopes(&row.text(0)?), row.opt_text(1)?));
                }
                let patient_name = tx.one("SELECT name FROM patients WHERE id = ?1", params![&patient])?.text(0)?;
                let action = match (used.is_some(), carer.is_some()) {
                    (false, false) => "pair",
                    (false, true) => "pair-carer",
                    (true, false) => "pair-retried",
                    (true, true) => "pair-carer-retried",
                };
                audit(tx, &format!("device/{device}"), action, None, None, Some(&patient))?;
                Ok(Paired { device, token, patient, carer, patient_name })
            })
        })
    }
}

/// The device a code already redeemed made, when `key` is the one it was redeemed with, the
/// redemption is recent, and the device still has access; otherwise "already used".
fn retried<'k>(tx: &mut dyn Sql, who: &Row, used_at: &str, key: Option<&'k str>) -> StoreResult<(String, &'k str)> {
    let used = || StoreError::forbidden("the pairing code has already been used");
    let (Some(key), Some(kept), Some(device)) = (key, who.opt_text(3)?, who.opt_text(4)?) else { return Err(used()) };
    let recent = DateTime::parse_from_rfc3339(used_at).is_ok_and(|t| Utc::now() - t.with_timezone(&Utc) < Duration::minutes(RETRY_MINUTES));
    if key_hash(key) != kept || !recent {
        return Err(used());
    }
    match tx.row("SELECT revoked_at FROM devices WHERE id = ?1", params![&device])? {
        Some(r) if r.opt_text(0)?.is_none() => Ok((device, key)),
        _ => Err(used()),
    }
}
