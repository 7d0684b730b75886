//! Commands that set up, unlock and lock the diary, and the person's preferences.

use crate::args::{Args, Reply};
use crate::AppState;
use companion_core::api::{args::*, SetupReply};
use tauri::State;

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn status(state: State<'_, AppState>, _a: Args<StatusArgs>) -> Reply<StatusArgs> {
    state.with(|s| s.status())
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn touch(state: State<'_, AppState>, _a: Args<Touch>) -> Reply<Touch> {
    state.with(|s| Ok(s.touch()))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn setup(state: State<'_, AppState>, a: Args<Setup>) -> Reply<Setup> {
    let Args(Setup { name, passphrase }) = a;
    state.with(|s| {
        let code = s.setup(&name, &passphrase)?;
        let person = s.with_store(|st| Ok(st.me().clone()))?;
        Ok(SetupReply { recovery_code: code.as_str().to_owned(), person })
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn unlock(state: State<'_, AppState>, a: Args<Unlock>) -> Reply<Unlock> {
    state.with(|s| s.unlock(&a.0.passphrase))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn recover(state: State<'_, AppState>, a: Args<Recover>) -> Reply<Recover> {
    state.with(|s| s.recover(&a.0.code, &a.0.new_passphrase))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn lock(state: State<'_, AppState>, _a: Args<Lock>) -> Reply<Lock> {
    state.with(|s| {
        s.lock();
        Ok(())
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn change_passphrase(state: State<'_, AppState>, a: Args<ChangePassphrase>) -> Reply<ChangePassphrase> {
    state.with(|s| s.with_store(|st| st.change_passphrase(&a.0.current, &a.0.new_passphrase)))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn new_recovery_code(state: State<'_, AppState>, _a: Args<NewRecoveryCode>) -> Reply<NewRecoveryCode> {
    state.with(|s| s.with_store(|st| Ok(st.new_recovery_code()?.as_str().to_owned())))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn set_preferences(state: State<'_, AppState>, a: Args<SetPreferences>) -> Reply<SetPreferences> {
    state.with(|s| s.set_preferences(a.0.preferences))
}
