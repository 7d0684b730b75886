//! What the clinic sends for the patient's care at home, as the diary keeps it offline: the
//! clinic's signed ruleset in force (and the last one refused, with why), the care team's
//! contacts with their staffed hours (a pulled `CareTeam`), and the going-home plan (a pulled
//! `CarePlan`), which sets the diary's treatment and the check-ins the plan asks for.

use super::{parse_ts, Store};
use crate::care_team::{self, CallNow, CareContact};
use crate::error::{Error, Result};
use crate::plan::{self, Plan};
use crate::rules::signed::{self, Refusal, Signed};
use crate::rules::Ruleset;
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::Value;

const CLINIC_RULESET: &str = "clinic_ruleset";
const RULESET_REFUSED: &str = "clinic_ruleset_refused";
const PLAN_SEEN: &str = "plan_seen";

/// The clinic's ruleset as kept: the signed file, when it came into force, and the key's
/// fingerprint it verified under.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Kept {
    signed: Signed,
    since: DateTime<Utc>,
    fingerprint: String,
}

/// A ruleset the device would not take, as Settings says it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct RulesetRefused {
    pub at: DateTime<Utc>,
    pub id: Option<String>,
    pub version: Option<String>,
    /// `bad_signature`, `invalid` or `not_newer`.
    #[ts(type = "'bad_signature' | 'invalid' | 'not_newer'")]
    pub reason: String,
    /// For `invalid`: the element at fault (`temperature.call_at_or_above`).
    pub field: Option<String>,
    #[serde(skip)]
    signature: String,
}

/// Which ruleset is in force.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct RulesetStatus {
    pub id: String,
    pub version: String,
    /// `clinic` (signed by the clinic, verified) or `shipped` (the app's defaults).
    #[ts(type = "'clinic' | 'shipped'")]
    pub source: &'static str,
    /// When the clinic's came into force on this device.
    pub since: Option<DateTime<Utc>>,
    /// The clinic key's fingerprint (pinned at pairing).
    pub key_fingerprint: Option<String>,
    /// The last ruleset refused since the one in force came, and why.
    pub refused: Option<RulesetRefused>,
}

/// The going-home plan in force, as the device shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct PlanInForce {
    #[serde(flatten)]
    pub plan: Plan,
    pub since: DateTime<Utc>,
    /// The server's version of the `CarePlan`.
    pub version: String,
    /// Whether the going-home screen has been walked through for this version.
    pub seen: bool,
}

/// The care team as the device shows it: the clinic's contacts, each with whether it is
/// staffed now, the line to call now, and the ward's number the patient typed (their own).
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct CareTeamNow {
    pub contacts: Vec<ContactNow>,
    pub call_now: CallNow,
    pub own_ward_phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct ContactNow {
    #[serde(flatten)]
    pub contact: CareContact,
    pub staffed: care_team::Staffed,
}

/// The ruleset this diary evaluates with: the clinic's kept one if it still loads, else the
/// shipped defaults.
pub(super) fn rules_in_force(conn: &Connection) -> Ruleset {
    super::setting(conn, CLINIC_RULESET)
        .ok()
        .flatten()
        .and_then(|t| serde_json::from_str::<Kept>(&t).ok())
        .and_then(|k| Ruleset::load(&k.signed.text).ok())
        .unwrap_or_else(Ruleset::default_rules)
}

impl Store {
    fn kept_ruleset(&self) -> Result<Option<Kept>> {
        Ok(super::setting(&self.conn, CLINIC_RULESET)?.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Which ruleset is in force, since when, and the last one refused.
    pub fn ruleset_status(&self) -> Result<RulesetStatus> {
        let kept = self.kept_ruleset()?.filter(|k| Ruleset::load(&k.signed.text).is_ok());
        let refused = super::setting(&self.conn, RULESET_REFUSED)?.and_then(|t| serde_json::from_str::<RulesetRefused>(&t).ok());
        let key = self.sync_link()?.and_then(|l| l.clinic_key).map(|k| signed::fingerprint(&k));
        Ok(RulesetStatus {
            id: self.rules.id.clone(),
            version: self.rules.version.clone(),
            source: if kept.is_some() { "clinic" } else { "shipped" },
            since: kept.as_ref().map(|k| k.since),
            key_fingerprint: kept.map(|k| k.fingerprint).or(key),
            refused,
        })
    }

    /// Offers the device a ruleset the clinic published: taken (and in force from now) only
    /// when it verifies under the pinned key, loads with its floors, and is newer than the
    /// clinic's one in force; otherwise refused, noted for Settings, and the one in force stays.
    /// The same ruleset offered again changes nothing.
    pub fn offer_ruleset(&mut self, offered: &Signed, pinned: &str) -> Result<std::result::Result<(), Refusal>> {
        let kept = self.kept_ruleset()?;
        if kept.as_ref().is_some_and(|k| k.signed == *offered) {
            return Ok(Ok(()));
        }
        let now = self.now();
        let verdict = offered.verify(pinned).and_then(|rules| match &kept {
            // The kept one's version, read even if it no longer loads (a newer build's floor): an
            // older ruleset is never taken back.
            Some(k) => match serde_json::from_str::<Value>(&k.signed.text)
                .ok()
                .and_then(|v| v.get("version").and_then(Value::as_str).map(str::to_owned))
                .and_then(|old| signed::compare_versions(&rules.version, &old))
            {
                Some(std::cmp::Ordering::Greater) => Ok(rules),
                _ => Err((Refusal::NotNewer, crate::rules::refused("version", "is not newer than the ruleset in force"))),
            },
            None => Ok(rules),
        });
        match verdict {
            Ok(rules) => {
                let k = Kept { signed: offered.clone(), since: now, fingerprint: signed::fingerprint(pinned) };
                let text = serde_json::to_string(&k).map_err(|_| Error::Internal("ruleset"))?;
                let tx = self.conn.transaction()?;
                super::set_setting(&tx, CLINIC_RULESET, &text)?;
                tx.execute("DELETE FROM settings WHERE key = ?1", [RULESET_REFUSED])?;
                tx.commit()?;
                tracing::info!("the clinic's ruleset is in force");
                self.rules = rules;
                Ok(Ok(()))
            }
            Err((why, e)) => {
                let previous = super::setting(&self.conn, RULESET_REFUSED)?.and_then(|t| serde_json::from_str::<Value>(&t).ok());
                let same = previous.as_ref().and_then(|p| p.get("signature")).and_then(Value::as_str) == Some(offered.signature.as_str());
                if !same {
                    let head: Option<Value> = serde_json::from_str(&offered.text).ok();
                    let field = |k: &str| head.as_ref().and_then(|h| h.get(k)).and_then(Value::as_str).map(str::to_owned);
                    let reason = serde_json::to_value(&why).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
                    let mut note = serde_json::json!({
                        "at": now, "id": field("id"), "version": field("version"), "reason": reason,
                        "field": (why == Refusal::Invalid && !e.field.is_empty()).then_some(e.field.clone()),
                    });
                    note["signature"] = offered.signature.clone().into();
                    super::set_setting(&self.conn, RULESET_REFUSED, &note.to_string())?;
                }
                tracing::warn!(reason = ?why, "the clinic's ruleset was refused; the one in force stays");
                Ok(Err(why))
            }
        }
    }

    /// The clinic's contacts (from the pulled `CareTeam`), none before one arrives.
    pub fn care_contacts(&self) -> Result<Vec<CareContact>> {
        if let Some(kept) = self.care.lock().ok().and_then(|c| c.clone()) {
            return Ok(kept);
        }
        let team = self.remote("CareTeam")?.into_iter().find(|t| t.get("id").and_then(Value::as_str) == Some(care_team::CARE_TEAM_ID));
        let team = team.map(|t| care_team::from_fhir(&t)).unwrap_or_default();
        if let Ok(mut c) = self.care.lock() {
            *c = Some(team.clone());
        }
        Ok(team)
    }

    /// What the clinic sent has changed: the contacts are read again when next needed.
    pub(super) fn care_changed(&self) {
        if let Ok(mut c) = self.care.lock() {
            *c = None;
        }
    }

    /// The line to call now: the ward while staffed, else out of hours.
    pub fn call_now(&self) -> Result<CallNow> {
        let own = self.ward_phone()?;
        Ok(care_team::call_now(&self.care_contacts()?, own.as_deref(), &self.rules.contacts.out_of_hours, self.now()))
    }

    /// "My care team": every contact and whether it is staffed now, and who to call now.
    pub fn care_team(&self) -> Result<CareTeamNow> {
        let now = self.now();
        let contacts = self.care_contacts()?.into_iter().map(|c| ContactNow { staffed: c.staffed(now), contact: c }).collect();
        Ok(CareTeamNow { contacts, call_now: self.call_now()?, own_ward_phone: self.ward_phone()? })
    }

    /// The going-home plan in force: the newest active going-home `CarePlan` the clinic sent.
    pub fn plan(&self) -> Result<Option<PlanInForce>> {
        let seen = super::setting(&self.conn, &self.plan_seen_key())?;
        let mut best: Option<PlanInForce> = None;
        for cp in self.remote("CarePlan")? {
            let Some((plan, since)) = plan::from_fhir(&cp) else { continue };
            let version = format!(
                "{}/{}",
                cp.get("id").and_then(Value::as_str).unwrap_or_default(),
                cp.pointer("/meta/versionId").and_then(Value::as_str).unwrap_or("1")
            );
            if best.as_ref().is_none_or(|b| since >= b.since) {
                best = Some(PlanInForce { seen: seen.as_deref() == Some(version.as_str()), plan, since, version });
            }
        }
        Ok(best)
    }

    /// Who has walked through the plan is kept per person: a carer on the patient's device
    /// pressing "Done" does not stand for the patient.
    fn plan_seen_key(&self) -> String {
        format!("{PLAN_SEEN}:{}", self.me.id)
    }

    /// The going-home screen was walked through for this version of the plan, by whoever is
    /// signed in.
    pub fn mark_plan_seen(&mut self, version: &str) -> Result<()> {
        super::set_setting(&self.conn, &self.plan_seen_key(), version)
    }

    /// When each of the plan's check-ins was last done (a temperature for `temperature`).
    pub(super) fn last_done(&self, instrument: &str) -> Result<Option<DateTime<Utc>>> {
        let sql = if instrument == plan::TEMPERATURE {
            "SELECT max(v.occurred_at) FROM entries e JOIN entry_versions v ON v.entry_id = e.id AND v.version = e.current_version
             WHERE e.kind = 'temperature' AND v.status <> 'entered-in-error' AND ?1 = ?1"
        } else {
            "SELECT max(v.occurred_at) FROM entries e JOIN entry_versions v ON v.entry_id = e.id AND v.version = e.current_version
             WHERE e.kind = 'assessment' AND v.status <> 'entered-in-error' AND json_extract(v.data, '$.instrument') = ?1"
        };
        let last: Option<String> = self.conn.query_row(sql, [instrument], |r| r.get(0))?;
        Ok(last.map(|t| parse_ts(&t)).transpose()?)
    }

    /// Forgets what one clinic sent for the patient's care (its ruleset, care team and plan), when
    /// the diary pairs with another clinic or the clinic's key changes: none of it is that
    /// clinic's. Records and advice stay.
    pub fn forget_clinic_care(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        for key in [CLINIC_RULESET, RULESET_REFUSED] {
            tx.execute("DELETE FROM settings WHERE key = ?1", [key])?;
        }
        tx.execute("DELETE FROM settings WHERE key LIKE ?1", [format!("{PLAN_SEEN}:%")])?;
        tx.execute("DELETE FROM remote WHERE type IN ('CareTeam', 'CarePlan', 'Library')", [])?;
        tx.commit()?;
        self.care_changed();
        self.rules = Ruleset::default_rules();
        Ok(())
    }
}
