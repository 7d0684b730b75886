//! Commands that reach the clinic (pairing, a sync round, carers on their own devices) and the
//! carers on this device. Network work runs on a worker thread; the session is locked for one
//! short step at a time, never across a wait on the network.

use crate::args::{Args, Reply};
use crate::{entry_id, AppState};
use companion_core::api::{args::*, AddCarerReply, CarersReply, JoinReply, SyncStatus};
use companion_core::session::Session;
use companion_core::{clock, sync, Error, ErrorPayload};
use tauri::{Manager, State};

/// The diary as a sync round reaches it: the session is locked for one short step at a time,
/// never while the round waits on the network, so the person's own commands never wait on a
/// slow or absent server. The steps do not count as activity (the idle lock still applies).
pub(crate) struct SessionDiary<'a>(pub(crate) &'a AppState);

impl sync::Diary for SessionDiary<'_> {
    fn with<T>(&self, f: impl FnOnce(&mut companion_core::Store) -> companion_core::Result<T>) -> companion_core::Result<T> {
        let mut session = self.0.session.lock().map_err(|_| Error::Internal("session lock"))?;
        session.peek_store_mut(f)
    }
}

/// A sync round from a worker thread, then the state to show.
pub(crate) fn sync_round(state: &AppState) -> Result<SyncStatus, ErrorPayload> {
    let report = sync::block_on(sync::sync_with(&SessionDiary(state)))?.map_err(ErrorPayload::from)?;
    state.remember_round(&report);
    state.with(|s| s.with_store(|st| SyncStatus::of(st, Some(report))))
}

/// A round on a blocking thread, the session free while it waits.
async fn round_on_worker<R: tauri::Runtime>(app: tauri::AppHandle<R>) -> Result<SyncStatus, ErrorPayload> {
    tauri::async_runtime::spawn_blocking(move || sync_round(&app.state::<AppState>()))
        .await
        .map_err(|_| ErrorPayload::from(Error::Internal("worker")))?
}

/// Network work runs on a blocking thread with a small runtime of its own, holding the session
/// for the call (a few seconds at most; requests time out).
async fn on_worker<R: tauri::Runtime, T: Send + 'static>(
    app: tauri::AppHandle<R>,
    f: impl FnOnce(&mut Session) -> companion_core::Result<T> + Send + 'static,
) -> Result<T, ErrorPayload> {
    tauri::async_runtime::spawn_blocking(move || {
        let state = app.state::<AppState>();
        state.with(f)
    })
    .await
    .map_err(|_| ErrorPayload::from(Error::Internal("worker")))?
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn sync_status(state: State<'_, AppState>, _a: Args<SyncStatusArgs>) -> Reply<SyncStatusArgs> {
    let last = state.last_round();
    state.with(|s| s.with_store(|st| SyncStatus::of(st, last)))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn pair_clinic<R: tauri::Runtime>(app: tauri::AppHandle<R>, a: Args<PairClinic>) -> Reply<PairClinic> {
    let Args(PairClinic { server, code }) = a;
    on_worker(app.clone(), move |s| s.with_store(|st| sync::block_on(sync::pair(st, &server, &code))?.map(|_| ()))).await?;
    // The first round sends the whole diary: the session is free while it waits.
    round_on_worker(app).await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn sync_now<R: tauri::Runtime>(app: tauri::AppHandle<R>, _a: Args<SyncNow>) -> Reply<SyncNow> {
    // The press counts as activity; the round's own steps do not.
    app.state::<AppState>().with(|s| s.with_store(|_| Ok(())))?;
    round_on_worker(app).await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn carers(state: State<'_, AppState>, _a: Args<Carers>) -> Reply<Carers> {
    state.with(|s| s.with_store(|st| CarersReply::of(st)))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn add_carer(state: State<'_, AppState>, a: Args<AddCarer>) -> Reply<AddCarer> {
    let Args(AddCarer { name, relationship, carer_passphrase, allow, my_passphrase, days }) = a;
    state.with(|s| {
        s.with_store(|st| {
            let added = st.add_carer(&name, &relationship, &carer_passphrase, &allow, &my_passphrase, days)?;
            Ok(AddCarerReply { carers: CarersReply::of(st)?, new_recovery_code: added.new_recovery_code.map(|c| c.as_str().to_owned()) })
        })
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn remove_carer(state: State<'_, AppState>, a: Args<RemoveCarer>) -> Reply<RemoveCarer> {
    state.with(|s| {
        s.with_store(|st| {
            st.remove_carer(&a.0.name)?;
            CarersReply::of(st)
        })
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn invite_carer<R: tauri::Runtime>(app: tauri::AppHandle<R>, a: Args<InviteCarer>) -> Reply<InviteCarer> {
    let Args(InviteCarer { name, relationship, allow, days }) = a;
    on_worker(app, move |s| s.with_store(|st| sync::block_on(sync::invite_carer(st, &name, relationship.as_deref(), &allow, days))?)).await
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn share_checkin(state: State<'_, AppState>, a: Args<ShareCheckin>) -> Reply<ShareCheckin> {
    state.with(|s| s.with_store(|st| st.share_checkin(entry_id(&a.0.id)?)))
}

/// A carer's own device: a new diary joined to the patient's through their invitation.
#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn join_as_carer<R: tauri::Runtime>(app: tauri::AppHandle<R>, a: Args<JoinAsCarer>) -> Reply<JoinAsCarer> {
    let Args(JoinAsCarer { server, code, passphrase }) = a;
    let reply = on_worker(app.clone(), move |s| {
        let (store, code) = sync::block_on(sync::join_as_carer(s.dir(), &server, &code, &passphrase, None, clock::system()))??;
        let person = store.me().clone();
        s.adopt(store);
        Ok(JoinReply { recovery_code: code.as_str().to_owned(), person })
    })
    .await?;
    // The first round fetches what the carer may see; the session is free while it waits.
    let _ = round_on_worker(app).await;
    Ok(reply)
}
