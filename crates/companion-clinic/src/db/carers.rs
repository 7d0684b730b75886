//! Carers with their own device: the patient's invitation (the carer's `RelatedPerson`, a
//! `Consent`, a one-time code), revoking a carer, and what they were allowed.

use super::*;

impl Db {
    /// The patient (from one of their own devices) invites a carer: the carer's
    /// `RelatedPerson`, a `Consent` naming what they may see and until when, and a one-time
    /// code for the carer's own device. Inviting a carer again replaces what they may see.
    pub fn invite(&self, actor: &Actor, invite: Invite) -> StoreResult<(String, String, Option<String>)> {
        let Actor::Device { patient, carer: None, .. } = actor else {
            return Err(StoreError::forbidden("only the patient's own device invites a carer"));
        };
        let id = invite.carer.clone().unwrap_or_else(|| Uuid::new_v4().to_string());
        if !fhir::valid_id(&id) {
            return Err(StoreError::invalid("the carer id is not a valid FHIR id"));
        }
        let now = Utc::now();
        let access_until = invite.days.map(|d| (now + Duration::days(d)).to_rfc3339_opts(SecondsFormat::Millis, true));
        let code = pairing_code();
        let code_expires =
            (now + Duration::hours(companion_protocol::limits::INVITATION_HOURS)).to_rfc3339_opts(SecondsFormat::Millis, true);
        let scopes: Vec<&str> = invite.allow.iter().map(|s| s.as_str()).collect();
        let scopes = scopes.join(",");
        let mut person = serde_json::json!({
            "resourceType": "RelatedPerson",
            "id": id,
            "identifier": [{ "system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{id}") }],
            "active": true,
            "patient": { "reference": format!("Patient/{patient}") },
            "name": [{ "text": invite.name }],
        });
        if let Some(relationship) = &invite.relationship {
            person["relationship"] = serde_json::json!([{ "text": relationship }]);
        }
        let consent = consent_body(&id, patient, &invite.allow, &now_text(), access_until.as_deref(), "active");
        self.with(|c| {
            sql::write_tx(c, |tx| {
                if let Some(row) = tx.row("SELECT patient_id, revoked_at FROM carers WHERE id = ?1", params![&id])? {
                    if row.text(0)? != *patient {
                        return Err(StoreError::forbidden("this carer belongs to another patient"));
                    }
                    // A carer once removed stays removed: their old devices, codes and id never
                    // come back. Inviting them again makes a new carer.
                    if row.opt_text(1)?.is_some() {
                        return Err(StoreError::state_conflict("this carer was removed; invite them again as a new carer"));
                    }
                    tx.exec(
                        "UPDATE carers SET scopes = ?2, expires_at = ?3 WHERE id = ?1",
                        params![&id, &scopes, access_until.as_deref()],
                    )?;
                } else {
                    tx.exec(
                        "INSERT INTO carers (id, patient_id, scopes, expires_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![&id, patient, &scopes, access_until.as_deref(), &now_text()],
                    )?;
                }
                tx.exec(
                    "INSERT INTO invitations (code_hash, carer_id, expires_at) VALUES (?1, ?2, ?3)",
                    params![&sha256_hex(&normalise_code(&code)), &id, &code_expires],
                )?;
                for (rtype, body) in [("RelatedPerson", person.clone()), ("Consent", consent.clone())] {
                    let id = body["id"].as_str().unwrap_or_default().to_owned();
                    write_one(tx, actor, Write::new(rtype, &id, body, None, patient))??;
                }
                Ok(())
            })
        })?;
        self.note_high_water()?;
        Ok((code, id, access_until))
    }

    /// Ends a carer's access (the patient removed them, or staff did): their devices get 401
    /// at once; what they wrote stays. The Consent becomes inactive.
    pub fn revoke_carer(&self, actor: &Actor, carer: &str) -> StoreResult<()> {
        let own_patient = match actor {
            Actor::Device { patient, carer: None, .. } => Some(patient.clone()),
            Actor::Staff { .. } => None,
            _ => return Err(StoreError::forbidden("only the patient or the clinic ends a carer's access")),
        };
        self.with(|c| {
            sql::write_tx(c, |tx| {
                let Some(row) = tx.row("SELECT patient_id, scopes, expires_at FROM carers WHERE id = ?1", params![carer])? else {
                    return Err(StoreError::not_found());
                };
                let patient = row.text(0)?;
                if own_patient.as_ref().is_some_and(|p| *p != patient) {
                    return Err(StoreError::not_found());
                }
                tx.exec("UPDATE carers SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL", params![carer, &now_text()])?;
                let consent =
                    consent_body(carer, &patient, &parse_scopes(&row.text(1)?), &now_text(), row.opt_text(2)?.as_deref(), "inactive");
                let id = consent["id"].as_str().unwrap_or_default().to_owned();
                write_one(tx, actor, Write::new("Consent", &id, consent, None, &patient))??;
                audit(tx, &actor.label(), "revoke-carer", Some("RelatedPerson"), Some(carer), Some(&patient))?;
                Ok(())
            })
        })?;
        self.note_high_water()
    }

    /// Test support: makes a carer's access look expired.
    pub fn expire_carer(&self, carer: &str) -> StoreResult<()> {
        self.with(|c| c.exec("UPDATE carers SET expires_at = '2000-01-01T00:00:00.000Z' WHERE id = ?1", params![carer]).map(|_| ()))
    }
}

pub(super) fn parse_scopes(text: &str) -> Vec<Scope> {
    text.split(',').filter_map(Scope::parse).collect()
}

/// The Consent of a carer: what the patient permits them to see, from when, until when.
fn consent_body(carer: &str, patient: &str, allow: &[Scope], at: &str, until: Option<&str>, status: &str) -> Value {
    let codes: Vec<Value> =
        allow.iter().map(|s| serde_json::json!({ "coding": [{ "system": CARER_ACCESS_SYSTEM, "code": s.as_str() }] })).collect();
    let mut period = serde_json::json!({ "start": at });
    if let Some(end) = until {
        period["end"] = serde_json::json!(end);
    }
    serde_json::json!({
        "resourceType": "Consent",
        "id": format!("carer-{carer}"),
        "status": status,
        "scope": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy" }] },
        "category": [{ "coding": [{ "system": "http://loinc.org", "code": "59284-0" }] }],
        "patient": { "reference": format!("Patient/{patient}") },
        "dateTime": at,
        "performer": [{ "reference": format!("Patient/{patient}") }],
        "policyRule": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN" }] },
        "provision": {
            "type": "permit",
            "period": period,
            "actor": [{
                "role": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP" }] },
                "reference": { "reference": format!("RelatedPerson/{carer}") },
            }],
            "code": codes,
        },
    })
}

/// Our code system for what a carer may see or do (observations, questions, symptoms, checkins).
pub const CARER_ACCESS_SYSTEM: &str = "https://fhir.companion-diary.no/CodeSystem/carer-access";
