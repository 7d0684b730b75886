//! The app shell: Tauri commands as thin adapters over `companion_core::session::Session`.
//!
//! Each command takes the session lock, calls one core function and returns its result or an
//! [`ErrorPayload`] (stable `code`, the field at fault, never the value typed). Commands are
//! `async` so key derivation and database work run off the window's thread. Nothing here logs
//! arguments: every command is instrumented with `skip_all`.

use companion_core::domain::{NewEntry, Scope};
use companion_core::instruments::ItemAnswer;
use companion_core::prefs::Preferences;
use companion_core::session::{Session, Status};
use companion_core::store::{Saved, TimelineFilter};
use companion_core::{clock, paths, Author, Entry, EntryKind, Error, ErrorPayload, Problem, QuestionState};
use serde::Serialize;
use std::path::Path;
use std::sync::Mutex;
use tauri::{Manager, State};
use uuid::Uuid;

mod backup;
mod care;
mod reminders;

/// The one piece of state the shell keeps: the session, behind a lock.
pub struct AppState {
    session: Mutex<Session>,
    /// How the last sync round ended (by the person's press or in the background), so every
    /// screen can say "offline" while the clinic cannot be reached. Kept in memory only.
    last_round: Mutex<Option<companion_core::sync::Report>>,
}

impl AppState {
    pub fn new(dir: &Path) -> AppState {
        AppState { session: Mutex::new(Session::new(dir, clock::system())), last_round: Mutex::new(None) }
    }

    pub(crate) fn remember_round(&self, report: &companion_core::sync::Report) {
        if let Ok(mut last) = self.last_round.lock() {
            *last = Some(report.clone());
        }
    }

    fn last_round(&self) -> Option<companion_core::sync::Report> {
        self.last_round.lock().ok().and_then(|l| l.clone())
    }

    fn with<T>(&self, f: impl FnOnce(&mut Session) -> companion_core::Result<T>) -> Result<T, ErrorPayload> {
        let mut session = self.session.lock().map_err(|_| ErrorPayload::from(Error::Internal("session lock")))?;
        f(&mut session).map_err(|e| {
            if e.code() == companion_core::ErrorCode::Internal {
                // The cause (SQLite, I/O) is ours to log; it never names health data.
                tracing::error!(error = %e, "command failed");
            }
            ErrorPayload::from(e)
        })
    }
}

pub(crate) type Reply<T> = Result<T, ErrorPayload>;

/// The diary as a sync round reaches it: the session is locked for one short step at a time,
/// never while the round waits on the network, so the person's own commands never wait on a
/// slow or absent server. The steps do not count as activity (the idle lock still applies).
struct SessionDiary<'a>(&'a AppState);

impl companion_core::sync::Diary for SessionDiary<'_> {
    fn with<T>(&self, f: impl FnOnce(&mut companion_core::Store) -> companion_core::Result<T>) -> companion_core::Result<T> {
        let mut session = self.0.session.lock().map_err(|_| Error::Internal("session lock"))?;
        session.peek_store_mut(f)
    }
}

/// A sync round from a worker thread, then the state to show.
fn sync_round(state: &AppState) -> Result<SyncStatus, ErrorPayload> {
    let report = companion_core::sync::block_on(companion_core::sync::sync_with(&SessionDiary(state)))?.map_err(ErrorPayload::from)?;
    state.remember_round(&report);
    state.with(|s| s.with_store(|st| sync_status_of(st, Some(report))))
}

pub(crate) fn entry_id(raw: &str) -> companion_core::Result<Uuid> {
    Uuid::parse_str(raw.trim()).map_err(|_| Error::invalid("id", Problem::BadFormat))
}

#[derive(Serialize)]
pub struct SetupReply {
    /// Shown once, to write down. Not kept anywhere but its own key slot.
    pub recovery_code: String,
    pub person: Author,
}

#[derive(Serialize)]
pub struct QuestionsReply {
    pub questions: Vec<Entry>,
    /// YYYY-MM-DD, as the person set it.
    pub next_visit: Option<String>,
    /// Visits the clinic booked, soonest first.
    pub appointments: Vec<companion_core::store::Appointment>,
    /// The clinic's answers to the questions.
    pub answers: Vec<companion_core::store::ClinicAnswer>,
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn status(state: State<'_, AppState>) -> Reply<Status> {
    state.with(|s| s.status())
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn touch(state: State<'_, AppState>) -> Reply<bool> {
    state.with(|s| Ok(s.touch()))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn setup(state: State<'_, AppState>, name: String, passphrase: String) -> Reply<SetupReply> {
    state.with(|s| {
        let code = s.setup(&name, &passphrase)?;
        let person = s.with_store(|st| Ok(st.me().clone()))?;
        Ok(SetupReply { recovery_code: code.as_str().to_owned(), person })
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn unlock(state: State<'_, AppState>, passphrase: String) -> Reply<Author> {
    state.with(|s| s.unlock(&passphrase))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn recover(state: State<'_, AppState>, code: String, new_passphrase: String) -> Reply<Author> {
    state.with(|s| s.recover(&code, &new_passphrase))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn lock(state: State<'_, AppState>) -> Reply<()> {
    state.with(|s| {
        s.lock();
        Ok(())
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn change_passphrase(state: State<'_, AppState>, current: String, new_passphrase: String) -> Reply<()> {
    state.with(|s| s.with_store(|st| st.change_passphrase(&current, &new_passphrase)))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn new_recovery_code(state: State<'_, AppState>) -> Reply<String> {
    state.with(|s| s.with_store(|st| Ok(st.new_recovery_code()?.as_str().to_owned())))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn set_preferences(state: State<'_, AppState>, preferences: Preferences) -> Reply<Preferences> {
    state.with(|s| s.set_preferences(preferences))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn add_entry(state: State<'_, AppState>, entry: NewEntry) -> Reply<Saved> {
    state.with(|s| s.with_store(|st| st.save(&entry)))
}

/// Several records from one form (symptoms logged together), in one transaction.
#[tauri::command]
#[tracing::instrument(skip_all)]
async fn add_entries(state: State<'_, AppState>, entries: Vec<NewEntry>) -> Reply<Vec<Saved>> {
    state.with(|s| s.with_store(|st| st.save_all(&entries)))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn instruments(state: State<'_, AppState>) -> Reply<Vec<companion_core::instruments::Instrument>> {
    // The shipped forms, and while unlocked the ones the clinic sent.
    state.with(|s| match s.peek_store(|st| st.instruments()) {
        Err(Error::Locked) => Ok(companion_core::instruments::all().to_vec()),
        other => other,
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn add_assessment(
    state: State<'_, AppState>,
    instrument: String,
    answers: Vec<ItemAnswer>,
    occurred_at: Option<String>,
    questionnaire: Option<String>,
) -> Reply<Saved> {
    state.with(|s| s.with_store(|st| st.add_assessment_with(&instrument, questionnaire.as_deref(), &answers, occurred_at.as_deref())))
}

/// Where sync stands, for the settings screen and the header: always at hand.
#[derive(Serialize)]
pub struct SyncStatus {
    pub paired: bool,
    pub server: Option<String>,
    pub last_success: Option<String>,
    pub pending: i64,
    pub quarantined: i64,
    /// `revoked` or `pair_again` when the clinic no longer accepts this device.
    pub problem: Option<String>,
    pub refused: Vec<companion_core::store::Quarantined>,
    /// The outcome of the round just run, if one was.
    pub last_round: Option<companion_core::sync::Report>,
    /// On a carer's own device, the patient they help (so an ended access is said plainly).
    pub carer_of: Option<String>,
}

fn sync_status_of(st: &companion_core::Store, last_round: Option<companion_core::sync::Report>) -> companion_core::Result<SyncStatus> {
    let link = st.sync_link()?;
    let (pending, quarantined) = st.outbox_counts()?;
    Ok(SyncStatus {
        paired: link.is_some(),
        server: link.as_ref().map(|l| l.server.clone()),
        last_success: link.as_ref().and_then(|l| l.last_success).map(|t| t.to_rfc3339()),
        pending,
        quarantined,
        problem: link.and_then(|l| l.problem),
        refused: st.quarantined()?,
        last_round,
        carer_of: if st.is_carer_device() { Some(st.patient()?.name) } else { None },
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn sync_status(state: State<'_, AppState>) -> Reply<SyncStatus> {
    let last = state.last_round();
    state.with(|s| s.with_store(|st| sync_status_of(st, last)))
}

/// Network work runs on a blocking thread with a small runtime of its own, holding the session
/// for the round (a few seconds at most; requests time out).
async fn on_worker<R: tauri::Runtime, T: Send + 'static>(
    app: tauri::AppHandle<R>,
    f: impl FnOnce(&mut Session) -> companion_core::Result<T> + Send + 'static,
) -> Reply<T> {
    tauri::async_runtime::spawn_blocking(move || {
        let state = app.state::<AppState>();
        state.with(f)
    })
    .await
    .map_err(|_| ErrorPayload::from(Error::Internal("worker")))?
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn pair_clinic<R: tauri::Runtime>(app: tauri::AppHandle<R>, server: String, code: String) -> Reply<SyncStatus> {
    on_worker(app.clone(), move |s| {
        s.with_store(|st| companion_core::sync::block_on(companion_core::sync::pair(st, &server, &code))?.map(|_| ()))
    })
    .await?;
    // The first round sends the whole diary: the session is free while it waits.
    tauri::async_runtime::spawn_blocking(move || sync_round(&app.state::<AppState>()))
        .await
        .map_err(|_| ErrorPayload::from(Error::Internal("worker")))?
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn sync_now<R: tauri::Runtime>(app: tauri::AppHandle<R>) -> Reply<SyncStatus> {
    // The press counts as activity; the round's own steps do not.
    app.state::<AppState>().with(|s| s.with_store(|_| Ok(())))?;
    tauri::async_runtime::spawn_blocking(move || sync_round(&app.state::<AppState>()))
        .await
        .map_err(|_| ErrorPayload::from(Error::Internal("worker")))?
}

/// Who is signed in, what they may do, and (for the patient) the carers and where a carer
/// sees things differently.
#[derive(Serialize)]
pub struct CarersReply {
    pub me: Author,
    /// The patient whose diary this is.
    pub patient: Author,
    /// Whether whoever is signed in owns the diary (and so manages carers).
    pub owner: bool,
    /// What they may do: everything for the owner, what was granted for a carer.
    pub allowed: Vec<Scope>,
    pub carers: Vec<companion_core::store::Carer>,
    /// Carers invited to their own device.
    pub invited: Vec<companion_core::store::Invited>,
    pub disagreements: Vec<companion_core::store::Disagreement>,
    /// Whether a carer can be invited to their own device (the diary is paired).
    pub can_invite: bool,
}

fn carers_of(st: &companion_core::Store) -> companion_core::Result<CarersReply> {
    Ok(CarersReply {
        me: st.me().clone(),
        patient: st.patient()?,
        owner: st.is_owner(),
        allowed: st.allowed(),
        carers: st.carers()?,
        invited: st.invited_carers()?,
        disagreements: st.disagreements()?,
        can_invite: st.is_owner() && st.me().role == companion_core::domain::Role::Patient && st.sync_link()?.is_some(),
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn carers(state: State<'_, AppState>) -> Reply<CarersReply> {
    state.with(|s| s.with_store(|st| carers_of(st)))
}

#[derive(Serialize)]
pub struct AddCarerReply {
    pub carers: CarersReply,
    /// Only when adding the first carer replaced an older diary's recovery code: shown once.
    pub new_recovery_code: Option<String>,
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn add_carer(
    state: State<'_, AppState>,
    name: String,
    relationship: String,
    carer_passphrase: String,
    allow: Vec<Scope>,
    my_passphrase: String,
    days: Option<i64>,
) -> Reply<AddCarerReply> {
    state.with(|s| {
        s.with_store(|st| {
            let added = st.add_carer(&name, &relationship, &carer_passphrase, &allow, &my_passphrase, days)?;
            Ok(AddCarerReply { carers: carers_of(st)?, new_recovery_code: added.new_recovery_code.map(|c| c.as_str().to_owned()) })
        })
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn remove_carer(state: State<'_, AppState>, name: String) -> Reply<CarersReply> {
    state.with(|s| {
        s.with_store(|st| {
            st.remove_carer(&name)?;
            carers_of(st)
        })
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn invite_carer<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    name: String,
    relationship: Option<String>,
    allow: Vec<Scope>,
    days: Option<i64>,
) -> Reply<companion_core::sync::Invitation> {
    on_worker(app, move |s| {
        s.with_store(|st| {
            companion_core::sync::block_on(companion_core::sync::invite_carer(st, &name, relationship.as_deref(), &allow, days))?
        })
    })
    .await
}

#[derive(Serialize)]
pub struct JoinReply {
    pub recovery_code: String,
    pub person: Author,
}

/// A carer's own device: a new diary joined to the patient's through their invitation.
#[tauri::command]
#[tracing::instrument(skip_all)]
async fn join_as_carer<R: tauri::Runtime>(app: tauri::AppHandle<R>, server: String, code: String, passphrase: String) -> Reply<JoinReply> {
    let reply = on_worker(app.clone(), move |s| {
        let (store, code) = companion_core::sync::block_on(companion_core::sync::join_as_carer(
            s.dir(),
            &server,
            &code,
            &passphrase,
            None,
            clock::system(),
        ))??;
        let person = store.me().clone();
        s.adopt(store);
        Ok(JoinReply { recovery_code: code.as_str().to_owned(), person })
    })
    .await?;
    // The first round fetches what the carer may see; the session is free while it waits.
    let _ = tauri::async_runtime::spawn_blocking(move || sync_round(&app.state::<AppState>())).await;
    Ok(reply)
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn share_checkin(state: State<'_, AppState>, id: String) -> Reply<Entry> {
    state.with(|s| s.with_store(|st| st.share_checkin(entry_id(&id)?)))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn visit_summary(state: State<'_, AppState>, days: i64) -> Reply<companion_core::store::VisitSummary> {
    state.with(|s| s.with_store(|st| st.visit_summary(days)))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn timeline(state: State<'_, AppState>, kind: Option<String>) -> Reply<Vec<Entry>> {
    state.with(|s| {
        let kind = kind.as_deref().map(EntryKind::parse).transpose()?;
        s.with_store(|st| st.timeline(TimelineFilter { kind }))
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn history(state: State<'_, AppState>, id: String) -> Reply<Vec<Entry>> {
    state.with(|s| s.with_store(|st| st.history(entry_id(&id)?)))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn correct_entry(state: State<'_, AppState>, id: String, entry: NewEntry) -> Reply<Saved> {
    state.with(|s| s.with_store(|st| st.correct(entry_id(&id)?, &entry)))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn withdraw_entry(state: State<'_, AppState>, id: String) -> Reply<Entry> {
    state.with(|s| s.with_store(|st| st.withdraw(entry_id(&id)?)))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn questions(state: State<'_, AppState>) -> Reply<QuestionsReply> {
    state.with(|s| {
        s.with_store(|st| {
            Ok(QuestionsReply {
                questions: st.questions()?,
                next_visit: st.next_visit()?.map(|d| d.to_string()),
                appointments: st.appointments()?,
                answers: st.clinic_answers()?,
            })
        })
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn edit_question(state: State<'_, AppState>, id: String, text: String) -> Reply<Entry> {
    state.with(|s| s.with_store(|st| st.edit_question(entry_id(&id)?, &text)))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn set_question_state(state: State<'_, AppState>, id: String, question_state: String, answer: Option<String>) -> Reply<Entry> {
    state.with(|s| {
        let new_state = QuestionState::parse(&question_state)?;
        s.with_store(|st| st.set_question_state(entry_id(&id)?, new_state, answer.as_deref()))
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn reorder_questions(state: State<'_, AppState>, ids: Vec<String>) -> Reply<Vec<Entry>> {
    state.with(|s| {
        let ids = ids.iter().map(|i| entry_id(i)).collect::<companion_core::Result<Vec<_>>>()?;
        s.with_store(|st| st.reorder_questions(&ids))
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
async fn set_next_visit(state: State<'_, AppState>, date: Option<String>) -> Reply<Option<String>> {
    state.with(|s| s.with_store(|st| Ok(st.set_next_visit(date.as_deref())?.map(|d| d.to_string()))))
}

/// The app with its state and commands, on any runtime (the tests use the mock one).
pub fn builder<R: tauri::Runtime>(builder: tauri::Builder<R>, dir: &Path) -> tauri::Builder<R> {
    // Keep in step with COMMANDS in build.rs, which grants them to the window.
    builder.manage(AppState::new(dir)).invoke_handler(tauri::generate_handler![
        status,
        touch,
        setup,
        unlock,
        recover,
        lock,
        change_passphrase,
        new_recovery_code,
        set_preferences,
        add_entry,
        add_entries,
        timeline,
        history,
        visit_summary,
        correct_entry,
        withdraw_entry,
        questions,
        edit_question,
        set_question_state,
        reorder_questions,
        set_next_visit,
        instruments,
        add_assessment,
        care::care_settings,
        care::set_ward_phone,
        care::set_schedule,
        care::set_treatments,
        care::advice_for,
        care::advice_list,
        care::access_log,
        care::acknowledge_advice,
        care::emergency_numbers,
        care::mark_plan_seen,
        care::save_summary_pdf,
        sync_status,
        pair_clinic,
        sync_now,
        carers,
        add_carer,
        remove_carer,
        invite_carer,
        share_checkin,
        join_as_carer,
        backup::create_backup,
        backup::backups,
        backup::restore_backup,
        backup::set_aside_diary,
    ])
}

/// Starts the app on the diary in the usual folder (or `COMPANION_DATA_DIR`).
pub fn run() {
    companion_core::logging::init();
    let dir = paths::default_data_dir();
    builder(tauri::Builder::default(), &dir)
        .plugin(tauri_plugin_notification::init())
        .plugin(navigation_guard())
        .setup(|app| {
            reminders::start(app.handle().clone());
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("the window could not be started");
}

/// The window never leaves the app: a link to anywhere else (including the `tel:` buttons on
/// advice cards, which show the number to dial) does not navigate the webview away.
fn navigation_guard<R: tauri::Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri::plugin::Builder::new("navigation-guard")
        .on_navigation(|_webview, url| {
            let inside =
                url.scheme() == "tauri" || matches!(url.host_str(), Some("tauri.localhost") | Some("localhost") | Some("ipc.localhost"));
            if !inside {
                tracing::info!(scheme = url.scheme(), "navigation away from the app refused");
            }
            inside
        })
        .build()
}

#[cfg(test)]
mod tests;
