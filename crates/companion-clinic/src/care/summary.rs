//! The summary for the visit on the patient page, built as the app builds it
//! (`companion_core::store::people_of`, `disagreements_among`) from the records the server holds:
//! per person, never merged; PHQ-9 item 9 always shown when it must be seen.

use super::*;
use companion_core::domain::{Entry, EntryData, Role};
use companion_core::replica::Replica;
use companion_core::store::Reported;

/// The days a summary covers.
pub const DAYS: i64 = 14;

/// A record the server holds, as the diary keeps it.
fn entry_of(r: &Replica) -> Entry {
    Entry {
        id: r.id,
        version: 1,
        status: r.status,
        occurred_at: r.occurred_at,
        recorded_at: r.recorded_at,
        updated_at: r.edited_at(r.recorded_at),
        author: r.author.clone(),
        updated_by: r.updated_by.clone(),
        device: r.device,
        private: false,
        data: r.data.clone(),
    }
}

fn at(t: &chrono::DateTime<chrono::Utc>) -> Markup {
    time(&t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

fn symptom_name(lang: Lang, code: &str, other: Option<&str>) -> String {
    other.map(str::to_owned).unwrap_or_else(|| words::app_text(lang, &format!("symptom.{code}")).unwrap_or(code).to_owned())
}

fn person(lang: Lang, p: &Reported, patient_name: &str) -> String {
    match p.person.role {
        Role::Patient => format!("{patient_name} ({})", t(lang, "patient")),
        Role::Carer => tf(lang, "carer", &[("name", &p.person.name)]),
    }
}

/// Records newest first.
pub(super) fn render(lang: Lang, patient_name: &str, records: &[Replica]) -> Markup {
    let mut entries: Vec<Entry> = records.iter().map(entry_of).collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.occurred_at));
    let since = chrono::Utc::now() - chrono::Duration::days(DAYS);
    let me = entries.iter().find(|e| e.author.role == Role::Patient).map(|e| e.author.clone());
    let people = me.map(|p| companion_core::store::people_of(&entries, &p, since)).unwrap_or_default();
    let differ: Vec<_> =
        companion_core::store::disagreements_among(&entries).into_iter().filter(|d| d.carer.occurred_at >= since).collect();
    html! {
        @if people.is_empty() { p { (t(lang, "no_trend")) } }
        @for p in &people {
            h3 { (person(lang, p, patient_name)) }
            ul.summary {
                @for m in &p.item9 {
                    li { strong { "⚑ " (tf(lang, "s.item9", &[("answer", m.item9.answer.as_deref().unwrap_or("–"))])) } " " (at(&m.at)) @if m.withdrawn { " (" (t(lang, "withdrawn")) ")" } }
                }
                @for s in &p.symptoms {
                    li {
                        (symptom_name(lang, s.symptom.code(), s.other_name.as_deref())) ": "
                        (tf(lang, "s.series", &[("n", &s.series.reports.to_string()), ("peak", &s.series.peak.to_string()), ("latest", &s.series.latest.to_string())]))
                        " (" (at(&s.series.peak_at)) ")"
                    }
                }
                @if let Some(temp) = &p.temperature {
                    li {
                        (t(lang, "temperatures")) ": "
                        (tf(lang, "s.temperature", &[("n", &temp.reports.to_string()), ("peak", &format!("{:.1}", temp.peak)), ("latest", &format!("{:.1}", temp.latest))]))
                        " (" (at(&temp.peak_at)) ")"
                    }
                }
                @if let Some(w) = &p.wellbeing {
                    li { (t(lang, "r.wellbeing")) ": " (tf(lang, "s.wellbeing", &[("n", &w.reports.to_string()), ("peak", &w.peak.to_string()), ("latest", &w.latest.to_string())])) }
                }
                @for c in &p.checkins {
                    li {
                        (companion_core::instruments::get(&c.instrument).map(|i| i.questionnaire.title.clone()).unwrap_or_else(|_| c.instrument.clone())) ": "
                        (tf(lang, "s.checkin", &[("n", &c.completed.to_string())]))
                        @if let Some(total) = c.latest.total { " " (total) " / " (c.latest.max) }
                        @if let Some(b) = &c.latest.band { ", " (words::app_text(lang, &format!("band.{b}")).unwrap_or(b)) }
                        " (" (at(&c.latest_at)) ")"
                    }
                }
            }
        }
        @if !differ.is_empty() {
            h3 { (t(lang, "s.differ")) }
            ul {
                @for d in &differ {
                    @if let (EntryData::Symptom { symptom, severity: theirs, .. }, EntryData::Symptom { severity: mine, .. }) = (&d.carer.data, &d.patient.data) {
                        li { (tf(lang, "s.differ_item", &[("carer", &d.carer.author.name), ("symptom", &symptom_name(lang, symptom.code(), None)), ("theirs", &theirs.to_string()), ("mine", &mine.to_string())])) }
                    }
                }
            }
        }
    }
}

/// The summary for the visit as the PDF the app and the CLI make (`companion_core::summary_pdf`),
/// from the records the server holds: what each person reported, where they see things
/// differently, the questions still open. The clinic's alerts are on the patient page.
pub(super) fn pdf(lang: Lang, patient_name: &str, records: &[Replica], fever: f64) -> Vec<u8> {
    let mut entries: Vec<Entry> = records.iter().map(entry_of).collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.occurred_at));
    let until = chrono::Utc::now();
    let since = until - chrono::Duration::days(DAYS);
    let people = entries
        .iter()
        .find(|e| e.author.role == Role::Patient)
        .map(|e| companion_core::store::people_of(&entries, &e.author.clone(), since))
        .unwrap_or_default();
    let questions = entries
        .iter()
        .filter(|e| e.status != companion_core::domain::RecordStatus::EnteredInError)
        .filter(|e| matches!(e.data, EntryData::Question { state: companion_core::domain::QuestionState::Open, .. }))
        .cloned()
        .collect();
    let seen_differently =
        companion_core::store::disagreements_among(&entries).into_iter().filter(|d| d.carer.occurred_at >= since).collect();
    let summary = companion_core::store::VisitSummary { since, until, people, advice: Vec::new(), questions, seen_differently };
    let language = if lang == Lang::Nb { companion_core::prefs::Language::Nb } else { companion_core::prefs::Language::En };
    companion_core::pdf::render(&companion_core::summary_pdf::document(&summary, &entries, patient_name, fever, language))
}
