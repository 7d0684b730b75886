//! Commands for the care the diary is set up for and the safety advice it shows: the ward's
//! number, schedules, treatments, the advice list and "I understand". Adapters of a few lines.

use crate::{entry_id, AppState, Reply};
use companion_core::store::{Advice, CareTeamNow, PlanInForce, Recheck, RulesetStatus, Schedule};
use companion_core::treatment::Treatment;
use serde::Serialize;
use tauri::State;

#[derive(Serialize)]
pub struct CareSettings {
    pub ward_phone: Option<String>,
    pub ruleset: String,
    pub ruleset_version: String,
    pub contacts: companion_core::rules::Contacts,
    pub temperature: companion_core::rules::TemperatureRules,
    pub schedules: Vec<Schedule>,
    /// Forms the clinic asked for, not yet done.
    pub assigned: Vec<companion_core::store::Assignment>,
    /// The treatments the patient is on, and whether whoever is signed in may change them.
    pub treatments: Vec<Treatment>,
    pub may_set_treatments: bool,
    /// "Measure your temperature again" reminders not yet done.
    pub rechecks: Vec<Recheck>,
    /// Whether the treatments come from the clinic's going-home plan.
    pub treatments_from_clinic: bool,
    /// Which ruleset is in force, since when, and the last one refused.
    pub ruleset_status: RulesetStatus,
    /// The clinic's contacts, staffed now or not, and who to call now.
    pub care_team: CareTeamNow,
    /// The clinic's going-home plan, once it has come.
    pub plan: Option<PlanInForce>,
}

fn care_settings_of(st: &companion_core::Store) -> companion_core::Result<CareSettings> {
    let rules = st.ruleset();
    Ok(CareSettings {
        ward_phone: st.ward_phone()?,
        ruleset: rules.id.clone(),
        ruleset_version: rules.version.clone(),
        contacts: rules.contacts.clone(),
        temperature: rules.temperature.clone(),
        schedules: st.schedules()?,
        assigned: st.assigned()?,
        treatments: st.treatments()?,
        may_set_treatments: st.is_owner() && !st.treatments_from_clinic()?,
        rechecks: st.rechecks()?,
        treatments_from_clinic: st.treatments_from_clinic()?,
        ruleset_status: st.ruleset_status()?,
        care_team: st.care_team()?,
        plan: st.plan()?,
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn care_settings(state: State<'_, AppState>) -> Reply<CareSettings> {
    state.with(|s| s.with_store(|st| care_settings_of(st)))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn set_ward_phone(state: State<'_, AppState>, number: Option<String>) -> Reply<CareSettings> {
    state.with(|s| {
        s.with_store(|st| {
            st.set_ward_phone(number.as_deref())?;
            care_settings_of(st)
        })
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn set_schedule(state: State<'_, AppState>, instrument: String, every_days: Option<i64>) -> Reply<CareSettings> {
    state.with(|s| {
        s.with_store(|st| {
            st.set_schedule(&instrument, every_days)?;
            care_settings_of(st)
        })
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn set_treatments(state: State<'_, AppState>, treatments: Vec<Treatment>) -> Reply<CareSettings> {
    state.with(|s| {
        s.with_store(|st| {
            st.set_treatments(&treatments)?;
            care_settings_of(st)
        })
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn advice_for(state: State<'_, AppState>, id: String) -> Reply<Vec<Advice>> {
    state.with(|s| s.with_store(|st| st.advice_for(entry_id(&id)?)))
}

/// The advice shown in the last `days` days, newest first, so a dismissed card stays findable.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn advice_list(state: State<'_, AppState>, days: i64) -> Reply<Vec<Advice>> {
    state.with(|s| s.with_store(|st| st.advice_shown(days)))
}

/// Who at the clinic opened the record (the patient's own; a carer is refused).
#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn access_log(state: State<'_, AppState>) -> Reply<Vec<companion_core::store::access::Access>> {
    state.with(|s| s.with_store(|st| st.access_log()))
}

/// "I understand" on a card: recorded with the advice, when and by whom.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn acknowledge_advice(state: State<'_, AppState>, ids: Vec<String>) -> Reply<Vec<Advice>> {
    state.with(|s| {
        let ids = ids.iter().map(|i| entry_id(i)).collect::<companion_core::Result<Vec<_>>>()?;
        s.with_store(|st| st.acknowledge_advice(&ids))
    })
}

/// The numbers that answer at once (emergency, out-of-hours doctor, helpline), from the shipped
/// ruleset: shown on the lock screen, so they work without unlocking.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn emergency_numbers() -> Reply<companion_core::rules::Contacts> {
    Ok(companion_core::rules::Ruleset::default_rules().contacts)
}

/// The going-home screen was walked through for this version of the plan.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn mark_plan_seen(state: State<'_, AppState>, version: String) -> Reply<CareSettings> {
    state.with(|s| {
        s.with_store(|st| {
            st.mark_plan_seen(&version)?;
            care_settings_of(st)
        })
    })
}

/// The summary for the visit as a PDF, saved as a new file in the backups folder (Documents):
/// its file name, to show.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn save_summary_pdf(state: State<'_, AppState>, days: i64, language: companion_core::prefs::Language) -> Reply<String> {
    state.with(|s| {
        let bytes = s.with_store(|st| st.summary_pdf(days, language))?;
        let folder = companion_core::paths::backup_dir();
        std::fs::create_dir_all(&folder).map_err(companion_core::Error::from)?;
        let name = format!("companion-summary-{}.pdf", chrono::Local::now().format("%Y-%m-%d-%H%M%S"));
        let mut f =
            std::fs::OpenOptions::new().write(true).create_new(true).open(folder.join(&name)).map_err(companion_core::Error::from)?;
        std::io::Write::write_all(&mut f, &bytes).and_then(|()| f.sync_all()).map_err(companion_core::Error::from)?;
        Ok(name)
    })
}
