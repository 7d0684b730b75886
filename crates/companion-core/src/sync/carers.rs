//! Carers' own devices on the network: the patient's invitation, the carer joining with it,
//! following what the patient allows now, and ending at the clinic the access of carers removed
//! on the patient's device.

use super::*;

/// How long an invitation code can be redeemed (the server's rule, said to the patient).
pub use crate::limits::INVITATION_HOURS;

/// An invitation for a carer's own device: the one-time code to give them, and when their
/// access ends by itself (if it does).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
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
    crate::store::check_carer_days(days)?;
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
    let body = wire::InviteRequest {
        id,
        name: name.clone(),
        relationship: relationship.clone(),
        allow: allow.iter().map(|s| s.as_str().to_owned()).collect(),
        days,
    };
    let res = client(link.ca.as_deref())?
        .post(format!("{}{}", link.server, wire::CARERS))
        .bearer_auth(&link.token)
        .json(&body)
        .send()
        .await
        .map_err(network)?;
    match status_of(&res) {
        200 => {}
        // 409: the clinic ended this carer's access; a carer once removed stays removed.
        401 | 403 | 409 | REVOKED => return Err(Error::NotPermitted),
        // Checked here as the server checks it, so only a server of another version refuses;
        // that is not "offline", and trying again will not help.
        400 | 422 => return Err(Error::Internal("the clinic server refused the invitation")),
        status => return Err(pairing::unavailable(status, retry_after(&res))),
    }
    let reply: wire::InviteReply = res.json().await.map_err(|_| Error::Internal("invitation reply"))?;
    let invitation = Invitation { code: reply.code, carer: reply.carer, expires_at: reply.expires_at };
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
    let (link, body) = redeem(dir, &server, code, ca, true).await?;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned).ok_or(Error::Internal("pairing reply"));
    let grant = body.carer.as_ref().ok_or(Error::Internal("pairing reply"))?;
    // Every server that has carers names the patient; without it there is no diary to make.
    if body.patient_name.trim().is_empty() {
        return Err(Error::Internal("pairing reply"));
    }
    let person = &grant.person;
    let carer = crate::domain::Author {
        id: uuid::Uuid::parse_str(&text(person.get("id"))?).map_err(|_| Error::Internal("pairing reply"))?,
        name: text(person.pointer("/name/0/text"))?,
        role: crate::domain::Role::Carer,
        relationship: person.pointer("/relationship/0/text").and_then(Value::as_str).map(str::to_owned),
    };
    let allow: Vec<Scope> = grant.allow.iter().filter_map(|s| Scope::parse(s)).collect();
    let (mut store, recovery) = Store::create_for_carer(dir, &carer, &body.patient_name, &allow, passphrase, clock)?;
    store.set_sync_link(&link)?;
    pairing::forget(dir);
    tracing::info!("joined as a carer");
    Ok((store, recovery))
}

/// On a carer's own device, takes what the patient allows now (a new invitation may have
/// changed it), so the app offers only that.
pub(super) fn follow_grant(db: &impl Diary, allow: Option<Vec<Scope>>) -> Result<()> {
    let Some(allow) = allow.filter(|a| !a.is_empty()) else { return Ok(()) };
    db.with(|s| if s.is_carer_device() && s.allowed() != allow { s.set_own_grant(&allow) } else { Ok(()) })
}

/// Ends at the clinic the access of carers the patient removed here; kept until the server
/// confirms, so a removal made offline takes effect at the next round.
pub(super) async fn revoke_removed_carers(db: &impl Diary, http: &reqwest::Client, link: &SyncLink) -> std::result::Result<(), Outcome> {
    let pending = db.with(|s| s.carers_to_revoke()).map_err(|_| later())?;
    for id in pending {
        let res =
            http.post(format!("{}{}", link.server, wire::revoke_carer(&id))).bearer_auth(&link.token).send().await.map_err(|_| later())?;
        match status_of(&res) {
            200..=299 | 404 => {
                db.with(|s| s.carer_revoked_at_clinic(&id)).map_err(|_| later())?;
            }
            status => return Err(stop_for(status, retry_after(&res))),
        }
    }
    Ok(())
}
