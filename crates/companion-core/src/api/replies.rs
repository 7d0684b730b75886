//! Replies that more than one command, or both the app and the CLI, show: built here once from
//! the store, so they say the same thing under the same names everywhere.

use crate::domain::{Role, Scope};
use crate::rules::{Contacts, TemperatureRules};
use crate::store::{
    Appointment, Assignment, BackupInfo, CareTeamNow, Carer, ClinicAnswer, Disagreement, Invited, PlanInForce, Quarantined, Recheck,
    RulesetStatus, Schedule,
};
use crate::sync::Report;
use crate::treatment::Treatment;
use crate::{Author, Entry, Result, Store};
use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, TS)]
pub struct SetupReply {
    /// Shown once, to write down. Not kept anywhere but its own key slot.
    pub recovery_code: String,
    pub person: Author,
}

/// A carer's own new diary: the same as setting one up.
pub type JoinReply = SetupReply;

#[derive(Debug, Clone, Serialize, TS)]
pub struct QuestionsReply {
    pub questions: Vec<Entry>,
    /// YYYY-MM-DD, as the person set it.
    pub next_visit: Option<String>,
    /// Visits the clinic booked, soonest first.
    pub appointments: Vec<Appointment>,
    /// The clinic's answers to the questions.
    pub answers: Vec<ClinicAnswer>,
}

impl QuestionsReply {
    pub fn of(st: &Store) -> Result<QuestionsReply> {
        Ok(QuestionsReply {
            questions: st.questions()?,
            next_visit: st.next_visit()?.map(|d| d.to_string()),
            appointments: st.appointments()?,
            answers: st.clinic_answers()?,
        })
    }
}

/// Where sync stands, for the app's settings and header and for `companion sync --status`.
#[derive(Debug, Clone, Serialize, TS)]
pub struct SyncStatus {
    pub paired: bool,
    pub server: Option<String>,
    /// The patient's id at the clinic.
    pub patient: Option<String>,
    pub last_success: Option<chrono::DateTime<chrono::Utc>>,
    pub pending: i64,
    pub quarantined: i64,
    /// `revoked` or `pair_again` when the clinic no longer accepts this device.
    #[ts(type = "'revoked' | 'pair_again' | null")]
    pub problem: Option<String>,
    pub refused: Vec<Quarantined>,
    /// The outcome of the round just run, if one was.
    pub last_round: Option<Report>,
    /// On a carer's own device, the patient they help (so an ended access is said plainly).
    pub carer_of: Option<String>,
}

impl SyncStatus {
    pub fn of(st: &Store, last_round: Option<Report>) -> Result<SyncStatus> {
        let link = st.sync_link()?;
        let (pending, quarantined) = st.outbox_counts()?;
        Ok(SyncStatus {
            paired: link.is_some(),
            server: link.as_ref().map(|l| l.server.clone()),
            patient: link.as_ref().map(|l| l.patient.clone()),
            last_success: link.as_ref().and_then(|l| l.last_success),
            pending,
            quarantined,
            problem: link.and_then(|l| l.problem),
            refused: st.quarantined()?,
            last_round,
            carer_of: if st.is_carer_device() { Some(st.patient()?.name) } else { None },
        })
    }
}

/// Who is signed in, what they may do, and (for the patient) the carers and where a carer
/// sees things differently.
#[derive(Debug, Clone, Serialize, TS)]
pub struct CarersReply {
    pub me: Author,
    /// The patient whose diary this is.
    pub patient: Author,
    /// Whether whoever is signed in owns the diary (and so manages carers).
    pub owner: bool,
    /// What they may do: everything for the owner, what was granted for a carer.
    pub allowed: Vec<Scope>,
    pub carers: Vec<Carer>,
    /// Carers invited to their own device.
    pub invited: Vec<Invited>,
    pub disagreements: Vec<Disagreement>,
    /// Whether a carer can be invited to their own device (the diary is paired).
    pub can_invite: bool,
}

impl CarersReply {
    pub fn of(st: &Store) -> Result<CarersReply> {
        Ok(CarersReply {
            me: st.me().clone(),
            patient: st.patient()?,
            owner: st.is_owner(),
            allowed: st.allowed(),
            carers: st.carers()?,
            invited: st.invited_carers()?,
            disagreements: st.disagreements()?,
            can_invite: st.is_owner() && st.me().role == Role::Patient && st.sync_link()?.is_some(),
        })
    }
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct AddCarerReply {
    pub carers: CarersReply,
    /// Only when adding the first carer replaced an older diary's recovery code: shown once.
    pub new_recovery_code: Option<String>,
}

/// The diary's care settings: the ruleset in force and its numbers, check-ins, treatments,
/// "measure again" reminders, and what the clinic sent (its team and going-home plan).
#[derive(Debug, Clone, Serialize, TS)]
pub struct CareSettings {
    pub ward_phone: Option<String>,
    pub ruleset: String,
    pub ruleset_version: String,
    pub contacts: Contacts,
    pub temperature: TemperatureRules,
    pub schedules: Vec<Schedule>,
    pub assigned: Vec<Assignment>,
    pub treatments: Vec<Treatment>,
    pub may_set_treatments: bool,
    pub rechecks: Vec<Recheck>,
    pub treatments_from_clinic: bool,
    pub ruleset_status: RulesetStatus,
    pub care_team: CareTeamNow,
    pub plan: Option<PlanInForce>,
}

impl CareSettings {
    pub fn of(st: &Store) -> Result<CareSettings> {
        let rules = st.ruleset();
        let from_clinic = st.treatments_from_clinic()?;
        Ok(CareSettings {
            ward_phone: st.ward_phone()?,
            ruleset: rules.id.clone(),
            ruleset_version: rules.version.clone(),
            contacts: rules.contacts.clone(),
            temperature: rules.temperature.clone(),
            schedules: st.schedules()?,
            assigned: st.assigned()?,
            treatments: st.treatments()?,
            may_set_treatments: st.is_owner() && !from_clinic,
            rechecks: st.rechecks()?,
            treatments_from_clinic: from_clinic,
            ruleset_status: st.ruleset_status()?,
            care_team: st.care_team()?,
            plan: st.plan()?,
        })
    }
}

/// The backups folder and what is in it: backups (newest first) and files that are not.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Backups {
    pub folder: String,
    pub backups: Vec<BackupInfo>,
    pub damaged: Vec<String>,
}
