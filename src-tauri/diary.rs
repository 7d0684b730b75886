//! Commands on the diary's records: entries, check-ins, questions and the summary.

use crate::args::{Args, Reply};
use crate::{entry_id, AppState};
use companion_core::api::{args::*, QuestionsReply};
use companion_core::store::TimelineFilter;
use companion_core::{EntryKind, Error, QuestionState};
use tauri::State;

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn add_entry(state: State<'_, AppState>, a: Args<AddEntry>) -> Reply<AddEntry> {
    state.with(|s| s.with_store(|st| st.save(&a.0.entry)))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn add_entries(state: State<'_, AppState>, a: Args<AddEntries>) -> Reply<AddEntries> {
    state.with(|s| s.with_store(|st| st.save_all(&a.0.entries)))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn instruments(state: State<'_, AppState>, _a: Args<Instruments>) -> Reply<Instruments> {
    // The shipped forms, and while unlocked the ones the clinic sent.
    state.with(|s| match s.peek_store(|st| st.instruments()) {
        Err(Error::Locked) => Ok(companion_core::instruments::all().to_vec()),
        other => other,
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn add_assessment(state: State<'_, AppState>, a: Args<AddAssessment>) -> Reply<AddAssessment> {
    let Args(AddAssessment { instrument, answers, occurred_at, questionnaire }) = a;
    state.with(|s| s.with_store(|st| st.add_assessment_with(&instrument, questionnaire.as_deref(), &answers, occurred_at.as_deref())))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn visit_summary(state: State<'_, AppState>, a: Args<VisitSummaryArgs>) -> Reply<VisitSummaryArgs> {
    state.with(|s| s.with_store(|st| st.visit_summary(a.0.days)))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn timeline(state: State<'_, AppState>, a: Args<Timeline>) -> Reply<Timeline> {
    state.with(|s| {
        let kind = a.0.kind.as_deref().map(EntryKind::parse).transpose()?;
        s.with_store(|st| st.timeline(TimelineFilter { kind }))
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn history(state: State<'_, AppState>, a: Args<History>) -> Reply<History> {
    state.with(|s| s.with_store(|st| st.history(entry_id(&a.0.id)?)))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn correct_entry(state: State<'_, AppState>, a: Args<CorrectEntry>) -> Reply<CorrectEntry> {
    state.with(|s| s.with_store(|st| st.correct(entry_id(&a.0.id)?, &a.0.entry)))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn withdraw_entry(state: State<'_, AppState>, a: Args<WithdrawEntry>) -> Reply<WithdrawEntry> {
    state.with(|s| s.with_store(|st| st.withdraw(entry_id(&a.0.id)?)))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn questions(state: State<'_, AppState>, _a: Args<Questions>) -> Reply<Questions> {
    state.with(|s| s.with_store(|st| QuestionsReply::of(st)))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn edit_question(state: State<'_, AppState>, a: Args<EditQuestion>) -> Reply<EditQuestion> {
    state.with(|s| s.with_store(|st| st.edit_question(entry_id(&a.0.id)?, &a.0.text)))
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn set_question_state(state: State<'_, AppState>, a: Args<SetQuestionState>) -> Reply<SetQuestionState> {
    let Args(SetQuestionState { id, question_state, answer }) = a;
    state.with(|s| {
        let new_state = QuestionState::parse(&question_state)?;
        s.with_store(|st| st.set_question_state(entry_id(&id)?, new_state, answer.as_deref()))
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn reorder_questions(state: State<'_, AppState>, a: Args<ReorderQuestions>) -> Reply<ReorderQuestions> {
    state.with(|s| {
        let ids = a.0.ids.iter().map(|i| entry_id(i)).collect::<companion_core::Result<Vec<_>>>()?;
        s.with_store(|st| st.reorder_questions(&ids))
    })
}

#[tauri::command]
#[tracing::instrument(skip_all)]
pub async fn set_next_visit(state: State<'_, AppState>, a: Args<SetNextVisit>) -> Reply<SetNextVisit> {
    state.with(|s| s.with_store(|st| Ok(st.set_next_visit(a.0.date.as_deref())?.map(|d| d.to_string()))))
}
