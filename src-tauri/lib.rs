//! The app shell: Tauri commands as thin adapters over `companion_core::session::Session`.
//!
//! Each command takes the session lock, calls one core function and returns its result or an
//! [`ErrorPayload`] (stable `code`, the field at fault, never the value typed). Commands are
//! `async` so key derivation and database work run off the window's thread. Nothing here logs
//! arguments: every command is instrumented with `skip_all`.

use companion_core::domain::NewEntry;
use companion_core::prefs::Preferences;
use companion_core::session::{Session, Status};
use companion_core::store::TimelineFilter;
use companion_core::{clock, paths, Author, Entry, EntryKind, Error, ErrorPayload, Problem, QuestionState};
use serde::Serialize;
use std::path::Path;
use std::sync::Mutex;
use tauri::State;
use uuid::Uuid;

/// The one piece of state the shell keeps: the session, behind a lock.
pub struct AppState {
    session: Mutex<Session>,
}

impl AppState {
    pub fn new(dir: &Path) -> AppState {
        AppState { session: Mutex::new(Session::new(dir, clock::system())) }
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

type Reply<T> = Result<T, ErrorPayload>;

fn entry_id(raw: &str) -> companion_core::Result<Uuid> {
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
    /// YYYY-MM-DD
    pub next_visit: Option<String>,
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
async fn add_entry(state: State<'_, AppState>, entry: NewEntry) -> Reply<Entry> {
    state.with(|s| s.with_store(|st| st.add(&entry)))
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
async fn correct_entry(state: State<'_, AppState>, id: String, entry: NewEntry) -> Reply<Entry> {
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
            Ok(QuestionsReply { questions: st.questions()?, next_visit: st.next_visit()?.map(|d| d.to_string()) })
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
async fn set_question_state(
    state: State<'_, AppState>,
    id: String,
    question_state: String,
    answer: Option<String>,
) -> Reply<Entry> {
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
        timeline,
        history,
        correct_entry,
        withdraw_entry,
        questions,
        edit_question,
        set_question_state,
        reorder_questions,
        set_next_visit,
    ])
}

/// Starts the app on the diary in the usual folder (or `COMPANION_DATA_DIR`).
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("COMPANION_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let dir = paths::default_data_dir();
    builder(tauri::Builder::default(), &dir)
        .run(tauri::generate_context!())
        .expect("the window could not be started");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
    use tauri::webview::InvokeRequest;

    fn call(webview: &tauri::WebviewWindow<tauri::test::MockRuntime>, cmd: &str, body: Value) -> Result<Value, Value> {
        get_ipc_response(
            webview,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(body),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<Value>().unwrap())
    }

    /// The shell end to end without a window: the real core behind the real IPC dispatch.
    #[test]
    fn commands_reach_the_core_and_errors_cross_as_payloads() {
        let dir = tempfile::tempdir().unwrap();
        let app = builder(mock_builder(), dir.path()).build(mock_context(noop_assets())).unwrap();
        let w = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();

        assert_eq!(call(&w, "status", json!({})).unwrap()["state"], "new");
        let short = call(&w, "setup", json!({"name": "Kari", "passphrase": "short"})).unwrap_err();
        assert_eq!(short["code"], "invalid");
        assert_eq!(short["field"], "passphrase");
        assert_eq!(short["problem"]["kind"], "too_short");

        let set = call(&w, "setup", json!({"name": "Kari", "passphrase": "correct horse"})).unwrap();
        assert_eq!(set["recovery_code"].as_str().unwrap().len(), 29);

        let bad = call(&w, "add_entry", json!({"entry": {"kind": "symptom", "symptom": "pain", "severity": 11}}))
            .unwrap_err();
        assert_eq!(bad["field"], "severity");
        assert_eq!(bad["problem"], json!({"kind": "out_of_range", "min": 0.0, "max": 10.0}));
        let added =
            call(&w, "add_entry", json!({"entry": {"kind": "symptom", "symptom": "pain", "severity": 6}})).unwrap();
        assert_eq!(added["author"]["name"], "Kari");
        let list = call(&w, "timeline", json!({"kind": "symptom"})).unwrap();
        assert_eq!(list.as_array().unwrap().len(), 1);
        let none = call(&w, "timeline", json!({"kind": "temperature"})).unwrap();
        assert_eq!(none.as_array().unwrap().len(), 0);

        call(&w, "lock", json!({})).unwrap();
        assert_eq!(call(&w, "timeline", json!({})).unwrap_err()["code"], "locked");
        let wrong = call(&w, "unlock", json!({"passphrase": "not it at all"})).unwrap_err();
        assert_eq!(wrong["code"], "wrong_passphrase");
        assert!(!wrong.to_string().contains("not it at all"));
        call(&w, "unlock", json!({"passphrase": "correct horse"})).unwrap();
        assert_eq!(call(&w, "withdraw_entry", json!({"id": "nope"})).unwrap_err()["field"], "id");
    }
}
