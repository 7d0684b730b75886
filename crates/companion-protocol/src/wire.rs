//! What a device and the clinic server say to each other outside FHIR REST: the routes, the
//! pairing and invitation bodies, a page of the change feed, the headers, and version ETags.
//!
//! Both `companion_core::sync` (the client) and `companion_clinic::http` (the server) use
//! these types, so a field renamed on one side is a compile error on the other.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST`: redeem a pairing code or a carer's invitation ([`PairRequest`] → [`PairReply`]).
pub const PAIR: &str = "/pair";
/// `POST`: the patient's device invites a carer ([`InviteRequest`] → [`InviteReply`]).
pub const CARERS: &str = "/carers";
/// `GET ?since=&_count=`: a page of the patient's change feed ([`ChangesPage`]).
pub const CHANGES: &str = "/sync/changes";
/// `GET`: who at the clinic has looked ([`AccessReply`]), for the patient's own devices.
pub const ACCESS: &str = "/sync/access";
/// `GET`: the key the clinic signs its rulesets with ([`ClinicKeyReply`]); 404 until it has one.
pub const CLINIC_KEY: &str = "/sync/clinic-key";

/// `POST`: ends a carer's access at the clinic ([`revoke_carer`] fills in the id).
pub const REVOKE_CARER: &str = "/carers/{id}/revoke";

/// [`REVOKE_CARER`] for one carer.
pub fn revoke_carer(id: &str) -> String {
    REVOKE_CARER.replace("{id}", id)
}

/// On every response: the server's data epoch. A new one means the server's data was
/// replaced (a restore), so a device sends everything again.
pub const EPOCH_HEADER: &str = "x-companion-epoch";
/// On a 401: [`ACCESS_REVOKED`] when the credential was revoked or its access ended, not
/// merely unknown.
pub const ACCESS_HEADER: &str = "x-companion-access";
pub const ACCESS_REVOKED: &str = "revoked";

/// A stored version as an ETag: `W/"3"`.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// The version an ETag or `If-Match` names: `W/"3"`, and as servers and devices have always
/// read it, leniently (`"3"`, `3`; quotes and the weak prefix stripped). A version no record has
/// (`-1`) parses, and the server answers it with 412 and the current version.
pub fn etag_version(text: &str) -> Option<i64> {
    text.trim().trim_start_matches("W/").trim_matches('"').parse().ok()
}

/// Who redeems: left out for a patient's device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PairAs {
    /// A carer's new diary, redeeming an invitation.
    Carer,
    /// Any other value: read as a patient's device, as servers always have.
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PairRequest {
    pub code: String,
    /// The device's retry key: the same key within a few minutes gets the same credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, rename = "as", skip_serializing_if = "Option::is_none")]
    pub as_role: Option<PairAs>,
}

impl PairRequest {
    pub fn as_carer(&self) -> bool {
        self.as_role == Some(PairAs::Carer)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PairReply {
    pub device: String,
    /// The device's bearer credential.
    pub token: String,
    pub patient: String,
    /// The patient's name, for a carer's new diary; servers before carers sent none.
    #[serde(default)]
    pub patient_name: String,
    pub epoch: String,
    /// The clinic's ruleset key (base64url Ed25519), pinned by the device; none before the
    /// clinic had one.
    #[serde(default)]
    pub clinic_key: Option<String>,
    /// For a carer's device: who they are and what the patient allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carer: Option<CarerGrant>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CarerGrant {
    /// The carer's `RelatedPerson`, as the server wrote it.
    pub person: Value,
    /// Scope codes (`observations`, `questions`, `symptoms`, `checkins`).
    pub allow: Vec<String>,
    /// RFC 3339; none while the carer is allowed until removed.
    #[serde(default)]
    pub expires_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InviteRequest {
    /// The carer's identity when they are known on the patient's device already.
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub relationship: Option<String>,
    pub allow: Vec<String>,
    /// Days of access; none for until removed.
    #[serde(default)]
    pub days: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InviteReply {
    /// The one-time code to give the carer.
    pub code: String,
    /// The carer's id at the clinic.
    pub carer: String,
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// A page of the change feed, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangesPage {
    pub epoch: String,
    /// The cursor to ask from next.
    pub next: i64,
    pub more: bool,
    pub resources: Vec<Value>,
    /// On a carer's device: the scopes the patient allows now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow: Option<Vec<String>>,
}

/// Who at the clinic has looked at the patient's record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessReply<T> {
    pub access: Vec<T>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClinicKeyReply {
    pub clinic_key: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn etags_round_trip_and_bad_ones_are_none() {
        assert_eq!(etag(3), "W/\"3\"");
        assert_eq!(etag_version(&etag(42)), Some(42));
        assert_eq!(etag_version(" \"7\" "), Some(7));
        assert_eq!(etag_version("7"), Some(7));
        assert_eq!(etag_version("W/\"-1\""), Some(-1), "no such version: a 412, not a 400");
        for bad in ["", "W/", "W/\"\"", "W/\"x\"", "*", "W/\"3.0\""] {
            assert_eq!(etag_version(bad), None, "{bad}");
        }
    }

    #[test]
    fn bodies_keep_the_names_devices_already_send() {
        let pair: PairRequest = serde_json::from_value(json!({"code": "ABC", "key": "k", "as": "carer"})).unwrap();
        assert!(pair.as_carer());
        let other: PairRequest = serde_json::from_value(json!({"code": "ABC", "as": "nurse"})).unwrap();
        assert!(!other.as_carer());
        let patient = PairRequest { code: "ABC".into(), key: None, as_role: None };
        assert_eq!(serde_json::to_value(&patient).unwrap(), json!({"code": "ABC"}));
        let page = ChangesPage { epoch: "e".into(), next: 4, more: false, resources: vec![], allow: None };
        assert_eq!(serde_json::to_value(&page).unwrap(), json!({"epoch": "e", "next": 4, "more": false, "resources": []}));
        // A server from before carers and keys: no patient_name, no clinic_key.
        let reply: PairReply = serde_json::from_value(json!({"device": "d", "token": "t", "patient": "p", "epoch": "e"})).unwrap();
        assert!(reply.clinic_key.is_none() && reply.carer.is_none() && reply.patient_name.is_empty());
        let sent = serde_json::to_value(PairReply { patient_name: "Kari".into(), ..reply }).unwrap();
        assert_eq!(sent["clinic_key"], Value::Null, "always there, null before the clinic has a key");
        assert!(sent.get("carer").is_none());
        let invite = InviteRequest { id: None, name: "Ola".into(), relationship: None, allow: vec!["questions".into()], days: None };
        let sent = serde_json::to_value(&invite).unwrap();
        assert_eq!(sent, json!({"id": null, "name": "Ola", "relationship": null, "allow": ["questions"], "days": null}));
        assert_eq!(revoke_carer("c1"), "/carers/c1/revoke");
    }
}
