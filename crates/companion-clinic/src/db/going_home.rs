//! What the clinic sends home with its patients: its safety ruleset (published as a signed
//! FHIR `Library`), its contacts (one `CareTeam` for the clinic) and each patient's going-home
//! plan (a `CarePlan`). All three are stored as FHIR resources through the ordinary write path
//! (stamped as the clinic's, versioned, audited, in the change feed), so any FHIR client reads
//! them; the formats and their checks are the core's (`companion_core::{care_team, plan,
//! rules}`), so the server refuses exactly what a device would.
//!
//! The signing key is Ed25519 (PKCS#8, `ring`), made on first use in the data directory as
//! `ruleset-signing.key` (0600), or wherever `ruleset publish --signing-key` names, and never
//! sent; its public half is kept in `meta` so every server process (several on one PostgreSQL)
//! gives the same key at pairing, and `serve` needs nothing else of it.

use super::{read_in, Actor, Db, Stored};
use crate::error::{StoreError, StoreResult};
use crate::params;
use crate::sql::Sql;
use chrono::{DateTime, Utc};
use companion_core::care_team::{self, CareContact, CARE_TEAM_ID};
use companion_core::plan::{self, Plan};
use companion_core::rules::signed::{self, Signed, LIBRARY_ID};
use companion_core::rules::Ruleset;
use std::path::Path;

pub const KEY_FILE: &str = "ruleset-signing.key";
const PUBLIC_KEY: &str = "ruleset.public_key";

/// The ruleset in force at the clinic, as published.
pub struct Published {
    pub rules: Ruleset,
    pub signed: Signed,
    pub stored: Stored,
}

fn meta(c: &mut dyn Sql, key: &str) -> StoreResult<Option<String>> {
    c.row("SELECT value FROM meta WHERE key = ?1", params![key])?.map(|r| r.text(0)).transpose()
}

impl Db {
    /// The public key devices pin (base64), once the signing key exists.
    pub fn clinic_key(&self) -> StoreResult<Option<String>> {
        self.with(|c| meta(c, PUBLIC_KEY))
    }

    /// The signing key in the data directory, made (and its public half recorded) the first time.
    pub fn signing_key(&self, dir: &Path) -> anyhow::Result<Vec<u8>> {
        self.signing_key_at(&dir.join(KEY_FILE))
    }

    /// The signing key in a file of its own (kept off the server: `serve` needs only the public
    /// half, which is in the database), made there the first time. A key file that is not the one
    /// whose public half devices pinned is refused: devices would refuse everything it signs.
    pub fn signing_key_at(&self, path: &Path) -> anyhow::Result<Vec<u8>> {
        let path = path.to_owned();
        let pinned = self.clinic_key()?;
        let key = match std::fs::read(&path) {
            Ok(k) => k,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if pinned.is_some() {
                    anyhow::bail!(
                        "devices have pinned this clinic's ruleset key, and {} is not here: publish from the machine that holds it",
                        path.display()
                    );
                }
                let k = signed::new_key().ok_or_else(|| anyhow::anyhow!("could not make a signing key"))?;
                // Private, whole, and never over a key made meanwhile.
                companion_core::files::write_new(&path, &k)?;
                k
            }
            Err(e) => return Err(e.into()),
        };
        let public = signed::public_key(&key).ok_or_else(|| anyhow::anyhow!("{} is not an Ed25519 key", path.display()))?;
        match pinned {
            Some(p) if p != public => {
                anyhow::bail!("{} is not the key devices pinned (fingerprint {})", path.display(), signed::fingerprint(&p))
            }
            Some(_) => {}
            None => self
                .with(|c| {
                    crate::sql::write_tx(c, |tx| {
                        tx.exec("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING", params![PUBLIC_KEY, &public])
                    })
                })
                .map(|_| ())?,
        }
        Ok(key)
    }

    fn shared(&self, rtype: &'static str, id: &'static str) -> StoreResult<Option<Stored>> {
        self.with(|c| read_in(c, rtype, id))
    }

    /// The ruleset the clinic published last, if any.
    pub fn ruleset(&self) -> StoreResult<Option<Published>> {
        let Some(stored) = self.shared("Library", LIBRARY_ID)? else { return Ok(None) };
        let signed = Signed::from_library(&stored.body).ok_or(StoreError::internal("the stored ruleset"))?;
        let rules = Ruleset::load(&signed.text).map_err(|_| StoreError::internal("the stored ruleset"))?;
        Ok(Some(Published { rules, signed, stored }))
    }

    /// Publishes a ruleset file: checked with the floors the app enforces, its version newer than
    /// the one published, signed with `key`, stored as the `Library` devices fetch.
    pub fn publish_ruleset(&self, by: &Actor, key: &[u8], text: &str) -> anyhow::Result<Published> {
        let rules = Ruleset::load(text)?;
        if let Some(old) = self.ruleset()? {
            let newer = signed::compare_versions(&rules.version, &old.rules.version);
            if newer != Some(std::cmp::Ordering::Greater) {
                anyhow::bail!(
                    "the ruleset is refused: version {} is not newer than {}, the one published",
                    rules.version,
                    old.rules.version
                );
            }
        }
        let signed = signed::sign(key, text).ok_or_else(|| anyhow::anyhow!("the signing key cannot sign"))?;
        let body = signed.to_library(&rules, &super::now_text());
        self.write_checked(by, "Library", LIBRARY_ID, body, "")?;
        self.ruleset()?.ok_or_else(|| anyhow::anyhow!("the ruleset was not stored"))
    }

    /// The clinic's contacts, as devices get them.
    pub fn care_team(&self) -> StoreResult<Vec<CareContact>> {
        Ok(self.shared("CareTeam", CARE_TEAM_ID)?.map(|s| care_team::from_fhir(&s.body)).unwrap_or_default())
    }

    /// Sets the clinic's contacts (checked by the core's rules for them).
    pub fn set_care_team(&self, by: &Actor, contacts: Vec<CareContact>) -> anyhow::Result<Vec<CareContact>> {
        let contacts = care_team::check(contacts)?;
        self.write_checked(by, "CareTeam", CARE_TEAM_ID, care_team::to_fhir(&contacts, "Care team"), "")?;
        Ok(self.care_team()?)
    }

    /// A patient's going-home plan, with when it came into force and its stored version.
    pub fn plan(&self, patient: &str) -> StoreResult<Option<(Plan, DateTime<Utc>, Stored)>> {
        let id = plan::care_plan_id(patient);
        let stored = self.with(|c| read_in(c, "CarePlan", &id))?;
        Ok(stored.and_then(|s| plan::from_fhir(&s.body).map(|(p, since)| (p, since, s))))
    }

    /// Sets a patient's going-home plan (a new version of their `CarePlan`, in force from now).
    pub fn set_plan(&self, by: &Actor, patient: &str, plan: Plan) -> anyhow::Result<(Plan, DateTime<Utc>, Stored)> {
        if !self.patient_exists(patient)? {
            anyhow::bail!("no patient {patient}");
        }
        let plan = plan::check(plan)?;
        let body = plan::to_fhir(&plan, patient, Utc::now());
        self.write_checked(by, "CarePlan", &plan::care_plan_id(patient), body, patient)?;
        self.plan(patient)?.ok_or_else(|| anyhow::anyhow!("the plan was not stored"))
    }

    /// One resource the server writes for the clinic, through the same checks as the API's.
    fn write_checked(&self, by: &Actor, rtype: &str, id: &str, body: serde_json::Value, patient: &str) -> StoreResult<Stored> {
        crate::fhir::check(rtype, id, &body, None)?;
        crate::structure::check(rtype, &body)?;
        let write = super::Write::new(rtype, id, body, None, patient);
        let mut out = self.write_all(by, vec![write], true)?;
        Ok(out.pop().ok_or(StoreError::internal("write"))??.stored)
    }
}
