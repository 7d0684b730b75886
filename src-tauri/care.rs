//! Commands for the care the diary is set up for and the safety advice it shows: the ward's
//! number, schedules, treatments, the advice list and "I understand". Adapters of a few lines.

use crate::args::{Args, Reply};
use crate::{entry_id, AppState};
use companion_core::api::{args::*, CareSettings};
use tauri::State;

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn care_settings(state: State<'_, AppState>, _a: Args<CareSettingsArgs>) -> Reply<CareSettingsArgs> {
    state.with(|s| s.with_store(|st| CareSettings::of(st)))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn set_ward_phone(state: State<'_, AppState>, a: Args<SetWardPhone>) -> Reply<SetWardPhone> {
    state.with(|s| {
        s.with_store(|st| {
            st.set_ward_phone(a.0.number.as_deref())?;
            CareSettings::of(st)
        })
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn set_schedule(state: State<'_, AppState>, a: Args<SetSchedule>) -> Reply<SetSchedule> {
    state.with(|s| {
        s.with_store(|st| {
            st.set_schedule(&a.0.instrument, a.0.every_days)?;
            CareSettings::of(st)
        })
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn set_treatments(state: State<'_, AppState>, a: Args<SetTreatments>) -> Reply<SetTreatments> {
    state.with(|s| {
        s.with_store(|st| {
            st.set_treatments(&a.0.treatments)?;
            CareSettings::of(st)
        })
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn advice_for(state: State<'_, AppState>, a: Args<AdviceFor>) -> Reply<AdviceFor> {
    state.with(|s| s.with_store(|st| st.advice_for(entry_id(&a.0.id)?)))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn advice_list(state: State<'_, AppState>, a: Args<AdviceList>) -> Reply<AdviceList> {
    state.with(|s| s.with_store(|st| st.advice_shown(a.0.days)))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn access_log(state: State<'_, AppState>, _a: Args<AccessLog>) -> Reply<AccessLog> {
    state.with(|s| s.with_store(|st| st.access_log()))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn acknowledge_advice(state: State<'_, AppState>, a: Args<AcknowledgeAdvice>) -> Reply<AcknowledgeAdvice> {
    state.with(|s| {
        let ids = a.0.ids.iter().map(|i| entry_id(i)).collect::<companion_core::Result<Vec<_>>>()?;
        s.with_store(|st| st.acknowledge_advice(&ids))
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn emergency_numbers(_a: Args<EmergencyNumbers>) -> Reply<EmergencyNumbers> {
    Ok(companion_core::rules::Ruleset::default_rules().contacts)
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn mark_plan_seen(state: State<'_, AppState>, a: Args<MarkPlanSeen>) -> Reply<MarkPlanSeen> {
    state.with(|s| {
        s.with_store(|st| {
            st.mark_plan_seen(&a.0.version)?;
            CareSettings::of(st)
        })
    })
}

/// The summary for the visit as a PDF, saved as a new file in the backups folder (Documents):
/// its file name, to show.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn save_summary_pdf(state: State<'_, AppState>, a: Args<SaveSummaryPdf>) -> Reply<SaveSummaryPdf> {
    let Args(SaveSummaryPdf { days, language }) = a;
    state.with(|s| {
        let bytes = s.with_store(|st| st.summary_pdf(days, language))?;
        let folder = companion_core::paths::backup_dir();
        std::fs::create_dir_all(&folder).map_err(companion_core::Error::from)?;
        let name = format!("companion-summary-{}.pdf", chrono::Local::now().format("%Y-%m-%d-%H%M%S"));
        // Whole or not at all, and never over a file that is there.
        companion_core::files::write_new(&folder.join(&name), &bytes).map_err(companion_core::Error::from)?;
        Ok(name)
    })
}
