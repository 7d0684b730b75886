//! A clinic's ruleset as it travels: the exact bytes of the ruleset file, signed with the
//! clinic's Ed25519 key (`ring`). The server keeps the private key; its public half reaches the
//! device at pairing, over TLS, and is pinned there. The device takes a ruleset only when the
//! signature verifies under the pinned key, it loads (with the floors), and its version is newer
//! than the one in force; otherwise the one it has stays. As FHIR it is a `Library` with the
//! file as its content and the signature in an extension, so any FHIR client can read it.

use super::{refused, Ruleset, RulesetError};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::cmp::Ordering;

/// The id of the clinic's ruleset `Library` (one; each publication is a new version).
pub const LIBRARY_ID: &str = "companion-ruleset";

/// A ruleset and the clinic's signature over its exact bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signed {
    /// The ruleset file, exactly as published.
    pub text: String,
    /// Ed25519 over `text`'s bytes, base64.
    pub signature: String,
}

pub fn signature_extension_url() -> String {
    format!("{}/StructureDefinition/ruleset-signature", crate::fhir::CANONICAL_BASE)
}

/// A new signing key, as PKCS#8 (kept by the server, never sent).
pub fn new_key() -> Option<Vec<u8>> {
    Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).ok().map(|d| d.as_ref().to_vec())
}

/// The public half of a PKCS#8 key, base64: what devices pin.
pub fn public_key(pkcs8: &[u8]) -> Option<String> {
    Ed25519KeyPair::from_pkcs8(pkcs8).ok().map(|k| B64.encode(k.public_key().as_ref()))
}

/// Whether text is an Ed25519 public key as the server sends it (32 bytes, base64).
pub fn key_ok(public_b64: &str) -> bool {
    B64.decode(public_b64).is_ok_and(|k| k.len() == 32)
}

/// Signs a ruleset file with the clinic's key.
pub fn sign(pkcs8: &[u8], text: &str) -> Option<Signed> {
    let key = Ed25519KeyPair::from_pkcs8(pkcs8).ok()?;
    Some(Signed { text: text.to_owned(), signature: B64.encode(key.sign(text.as_bytes()).as_ref()) })
}

/// A short, readable fingerprint of a public key (the first 16 bytes of its SHA-256, in hex
/// groups of four), for a person comparing what the device pinned with what the clinic shows.
pub fn fingerprint(public_b64: &str) -> String {
    let raw = B64.decode(public_b64).unwrap_or_default();
    let digest = ring::digest::digest(&ring::digest::SHA256, &raw);
    let hex: String = digest.as_ref()[..16].iter().map(|b| format!("{b:02x}")).collect();
    hex.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(":")
}

/// Compares two versions made of numbers separated by dots (`2.10.0` is after `2.9.1`).
/// `None` when either is not such a version.
pub fn compare_versions(a: &str, b: &str) -> Option<Ordering> {
    let parse = |v: &str| v.split('.').map(|p| p.parse::<u64>().ok()).collect::<Option<Vec<u64>>>().filter(|p| !p.is_empty());
    let (mut a, mut b) = (parse(a)?, parse(b)?);
    let n = a.len().max(b.len());
    a.resize(n, 0);
    b.resize(n, 0);
    Some(a.cmp(&b))
}

/// Why a signed ruleset was not taken, as Settings says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// No signature, or one that does not verify under the pinned key (changed on the way, or
    /// signed by another key).
    BadSignature,
    /// It breaks a floor or does not load (the element named).
    Invalid,
    /// Its version is not newer than the one in force.
    NotNewer,
}

impl Signed {
    /// Checks the signature under the pinned key, then loads the ruleset (its floors included).
    pub fn verify(&self, public_b64: &str) -> Result<Ruleset, (Refusal, RulesetError)> {
        let key = B64.decode(public_b64).map_err(|_| (Refusal::BadSignature, refused("", "the pinned key cannot be read")))?;
        let sig = B64.decode(&self.signature).map_err(|_| (Refusal::BadSignature, refused("", "the signature cannot be read")))?;
        UnparsedPublicKey::new(&ED25519, key)
            .verify(self.text.as_bytes(), &sig)
            .map_err(|_| (Refusal::BadSignature, refused("", "the signature does not match the clinic's key")))?;
        Ruleset::load(&self.text).map_err(|e| (Refusal::Invalid, e))
    }

    /// As a FHIR `Library`.
    pub fn to_library(&self, rules: &Ruleset, published: &str) -> Value {
        json!({
            "resourceType": "Library",
            "id": LIBRARY_ID,
            "url": format!("{}/Library/{LIBRARY_ID}", crate::fhir::CANONICAL_BASE),
            "version": rules.version,
            "name": "CompanionRuleset",
            "title": rules.id,
            "status": "active",
            "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/library-type", "code": "asset-collection" }] },
            "date": published,
            "description": rules.source.clone().unwrap_or_else(|| "The clinic's safety rules for Companion".to_owned()),
            "extension": [{ "url": signature_extension_url(), "valueBase64Binary": self.signature }],
            "content": [{ "contentType": "application/json", "data": B64.encode(self.text.as_bytes()), "title": rules.id }],
        })
    }

    /// Reads one back from a `Library` as [`Signed::to_library`] writes it.
    pub fn from_library(library: &Value) -> Option<Signed> {
        let url = signature_extension_url();
        let signature = library
            .get("extension")
            .and_then(Value::as_array)?
            .iter()
            .find(|e| e.get("url").and_then(Value::as_str) == Some(url.as_str()))?
            .get("valueBase64Binary")?
            .as_str()?
            .to_owned();
        let data = library.pointer("/content/0/data")?.as_str()?;
        let text = String::from_utf8(B64.decode(data).ok()?).ok()?;
        Some(Signed { text, signature })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::DEFAULT_RULESET;

    fn clinic_rules(version: &str) -> String {
        let mut v: Value = serde_json::from_str(DEFAULT_RULESET).unwrap();
        v["id"] = "oslo-cancer-ward".into();
        v["version"] = version.into();
        serde_json::to_string_pretty(&v).unwrap()
    }

    #[test]
    fn a_signed_ruleset_verifies_and_a_changed_one_does_not() {
        let key = new_key().unwrap();
        let public = public_key(&key).unwrap();
        let signed = sign(&key, &clinic_rules("3.0.0")).unwrap();
        assert_eq!(signed.verify(&public).unwrap().version, "3.0.0");
        let tampered = Signed { text: signed.text.replace("38.0", "39.5"), ..signed.clone() };
        assert_eq!(tampered.verify(&public).unwrap_err().0, Refusal::BadSignature);
        let other = public_key(&new_key().unwrap()).unwrap();
        assert_eq!(signed.verify(&other).unwrap_err().0, Refusal::BadSignature);
        let library = signed.to_library(&Ruleset::load(&signed.text).unwrap(), "2026-12-01T10:00:00Z");
        assert_eq!(Signed::from_library(&library), Some(signed));
        assert_eq!(fingerprint(&public).len(), 39);
    }

    #[test]
    fn versions_compare_as_numbers() {
        assert_eq!(compare_versions("2.10.0", "2.9.1"), Some(Ordering::Greater));
        assert_eq!(compare_versions("3", "3.0.0"), Some(Ordering::Equal));
        assert_eq!(compare_versions("2.0.0", "2.0.1"), Some(Ordering::Less));
        assert_eq!(compare_versions("2.0-beta", "2.0"), None);
    }
}
