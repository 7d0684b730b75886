//! The summary for the visit as a PDF, made here so the app, the CLI and the clinic print the
//! same thing: the patient's name and the period, what each person reported (never merged), the
//! advice shown and what the clinic did with it, PHQ-9 item 9 whenever it must be seen, where
//! patient and carer see things differently, the questions to ask, and small charts of the
//! trends. Words come from the app's own catalogues (English, Bokmål, Nynorsk), so the PDF says
//! what the screen says.

use crate::domain::{Entry, EntryData, RecordStatus, Role};
use crate::norway;
use crate::pdf::{Block, Chart, Document};
use crate::prefs::Language;
use crate::store::{Advice, VisitSummary};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::sync::OnceLock;

fn catalogue(lang: Language) -> &'static Value {
    static EN: OnceLock<Value> = OnceLock::new();
    static NB: OnceLock<Value> = OnceLock::new();
    static NN: OnceLock<Value> = OnceLock::new();
    let (cell, text) = match lang {
        Language::En => (&EN, include_str!("../../../ui/src/i18n/en.json")),
        Language::Nb => (&NB, include_str!("../../../ui/src/i18n/nb.json")),
        Language::Nn => (&NN, include_str!("../../../ui/src/i18n/nn.json")),
    };
    cell.get_or_init(|| serde_json::from_str(text).unwrap_or(Value::Null))
}

/// A catalogue string with its `{name}` placeholders filled (the English one when missing).
fn t(lang: Language, key: &str, args: &[(&str, String)]) -> String {
    let raw = catalogue(lang).get(key).or_else(|| catalogue(Language::En).get(key)).and_then(Value::as_str).unwrap_or(key);
    let mut s = raw.replace('\u{ad}', "");
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), value);
    }
    s
}

fn date(lang: Language, at: DateTime<Utc>) -> String {
    let wall = norway::local(at);
    match lang {
        Language::En => wall.format("%-d %b %Y").to_string(),
        _ => wall.format("%-d.%-m.%Y").to_string(),
    }
}

fn time(lang: Language, at: DateTime<Utc>) -> String {
    format!("{} {}", date(lang, at), norway::local(at).format("%H:%M"))
}

fn number(lang: Language, v: f64) -> String {
    let s = format!("{v:.1}");
    if lang == Language::En {
        s
    } else {
        s.replace('.', ",")
    }
}

fn symptom_name(lang: Language, e: &EntryData) -> String {
    match e {
        EntryData::Symptom { other_name: Some(n), .. } => n.clone(),
        EntryData::Symptom { symptom, .. } => t(lang, &format!("symptom.{}", symptom.code()), &[]),
        _ => String::new(),
    }
}

/// An instrument by its published short name (PHQ-9, ESAS-r), else its title.
fn instrument_name(id: &str) -> String {
    match id {
        "phq9" => "PHQ-9".into(),
        "phq2" => "PHQ-2".into(),
        "gad7" => "GAD-7".into(),
        "gad2" => "GAD-2".into(),
        "esas-r" => "ESAS-r".into(),
        other => crate::instruments::get(other).map(|i| i.questionnaire.title.clone()).unwrap_or_else(|_| other.to_owned()),
    }
}

/// What the clinic did with a piece of advice, from its receipt; nothing before the server's word.
fn receipt_line(lang: Language, a: &Advice) -> Option<String> {
    let r = &a.receipt;
    if let (Some(at), Some(outcome)) = (r.closed_at, r.outcome.as_deref()) {
        return Some(format!(
            "{} {}",
            t(lang, "receipt.closed", &[("time", time(lang, at))]),
            t(lang, &format!("receipt.outcome.{outcome}"), &[])
        ));
    }
    if let Some(at) = r.taken_at {
        return Some(t(lang, "receipt.taken", &[("time", time(lang, at))]));
    }
    if let Some(at) = r.received_at {
        return Some(t(lang, "receipt.received", &[("time", time(lang, at))]));
    }
    r.sent_at.map(|_| t(lang, "receipt.sent", &[]))
}

/// A small chart; its x axis runs from the first reading to the last, and says so.
fn chart(title: String, points: Vec<(f64, f64)>, range: (f64, f64), line: Option<(f64, String)>, lang: Language) -> Block {
    let day = |x: f64| DateTime::from_timestamp(x as i64, 0).map(|t| date(lang, t)).unwrap_or_default();
    let (first, last) = (points.first().map(|p| day(p.0)).unwrap_or_default(), points.last().map(|p| day(p.0)).unwrap_or_default());
    Block::Chart(Chart { title, points, x_labels: (first, last), y_min: range.0, y_max: range.1, line })
}

/// The document for a summary. `entries` are the records it was made from (newest first, as
/// the timeline gives them), for the charts; `patient` names whose summary it is.
pub fn document(summary: &VisitSummary, entries: &[Entry], patient: &str, fever_from: f64, lang: Language) -> Document {
    let (since, until) = (summary.since, summary.until);
    let mut blocks = Vec::new();
    if summary.people.iter().all(|p| p.symptoms.is_empty() && p.temperature.is_none() && p.wellbeing.is_none() && p.checkins.is_empty()) {
        blocks.push(Block::Paragraph(t(lang, "summary.nothing", &[])));
    }
    for person in &summary.people {
        let who = person.person.name.clone();
        let key = if person.person.role == Role::Carer { "summary.by_carer" } else { "summary.by_patient" };
        blocks.push(Block::Heading(t(lang, key, &[("who", who.clone())])));
        let mine: Vec<&Entry> = entries
            .iter()
            .rev()
            .filter(|e| e.status != RecordStatus::EnteredInError && !e.private && e.occurred_at >= since)
            .filter(|e| e.author.id == person.person.id || (person.person.role == Role::Patient && e.author.role == Role::Patient))
            .collect();
        let x = |e: &Entry| e.occurred_at.timestamp() as f64;
        if let Some(s) = &person.temperature {
            blocks.push(Block::Paragraph(t(
                lang,
                "summary.temperature",
                &[
                    ("latest", number(lang, s.latest)),
                    ("highest", number(lang, s.peak)),
                    ("date", date(lang, s.peak_at)),
                    ("readings", s.reports.to_string()),
                ],
            )));
            let points = mine.iter().filter_map(|e| match e.data {
                EntryData::Temperature { celsius, .. } => Some((x(e), celsius)),
                _ => None,
            });
            let label = format!("{} °C", number(lang, fever_from));
            blocks.push(chart(t(lang, "kind.temperature", &[]), points.collect(), (35.0, 41.0), Some((fever_from, label)), lang));
        }
        if let Some(s) = &person.wellbeing {
            let key = if person.person.role == Role::Carer { "summary.own_wellbeing" } else { "summary.wellbeing" };
            blocks.push(Block::Paragraph(t(
                lang,
                key,
                &[
                    ("latest", s.latest.to_string()),
                    ("lowest", s.peak.to_string()),
                    ("date", date(lang, s.peak_at)),
                    ("reports", s.reports.to_string()),
                ],
            )));
        }
        for (i, s) in person.symptoms.iter().enumerate() {
            let name = match &s.other_name {
                Some(n) => n.clone(),
                None => t(lang, &format!("symptom.{}", s.symptom.code()), &[]),
            };
            let args = [
                ("name", name.clone()),
                ("latest", s.series.latest.to_string()),
                ("worst", s.series.peak.to_string()),
                ("date", date(lang, s.series.peak_at)),
                ("reports", s.series.reports.to_string()),
            ];
            blocks.push(Block::Bullet(t(lang, "summary.symptom", &args)));
            // The three most reported get a chart each.
            if i < 3 && s.series.reports > 1 {
                let points: Vec<(f64, f64)> = mine
                    .iter()
                    .filter_map(|e| match &e.data {
                        EntryData::Symptom { symptom, severity, .. } if *symptom == s.symptom && symptom_name(lang, &e.data) == name => {
                            Some((x(e), *severity as f64))
                        }
                        _ => None,
                    })
                    .collect();
                blocks.push(chart(name, points, (0.0, 10.0), None, lang));
            }
        }
        for c in &person.checkins {
            let name = instrument_name(&c.instrument);
            let args = [
                ("name", name),
                ("total", c.latest.total.map(|v| v.to_string()).unwrap_or_default()),
                ("max", c.latest.max.to_string()),
                ("band", c.latest.band.as_deref().map(|b| t(lang, &format!("band.{b}"), &[])).unwrap_or_default()),
                ("date", date(lang, c.latest_at)),
                ("count", c.completed.to_string()),
            ];
            let key = match (c.latest.total, &c.latest.band) {
                (None, _) => "summary.checkin_no_total",
                (Some(_), None) => "summary.checkin_no_band",
                _ => "summary.checkin",
            };
            blocks.push(Block::Bullet(t(lang, key, &args)));
        }
        for m in &person.item9 {
            let line = match &m.item9.answer {
                Some(answer) if m.item9.value.is_some() => {
                    t(lang, "summary.item9", &[("date", date(lang, m.at)), ("answer", answer.clone())])
                }
                _ => t(lang, "summary.item9_skipped", &[("date", date(lang, m.at))]),
            };
            blocks.push(Block::Bullet(line));
            if m.withdrawn {
                blocks.push(Block::Paragraph(t(lang, "summary.item9_withdrawn", &[])));
            }
        }
    }
    if !summary.seen_differently.is_empty() {
        blocks.push(Block::Heading(t(lang, "home.differ_title", &[])));
        for d in &summary.seen_differently {
            let severity = |e: &Entry| match e.data {
                EntryData::Symptom { severity, .. } => severity.to_string(),
                _ => String::new(),
            };
            let args = [
                ("symptom", symptom_name(lang, &d.patient.data)),
                ("carer", d.carer.author.name.clone()),
                ("theirs", severity(&d.carer)),
                ("patient", d.patient.author.name.clone()),
                ("mine", severity(&d.patient)),
            ];
            blocks.push(Block::Bullet(t(lang, "summary.differ", &args)));
        }
    }
    blocks.push(Block::Heading(t(lang, "summary.advice_title", &[])));
    if summary.advice.is_empty() {
        blocks.push(Block::Paragraph("-".into()));
    }
    for a in &summary.advice {
        let number = a.contacts.first().and_then(|c| c.number.clone()).unwrap_or_default();
        let title = t(lang, &format!("advice.title.{}", a.level.as_str()), &[("number", number)]);
        let kind = t(lang, &format!("kind.{}", a.record_kind.as_str()), &[]);
        blocks.push(Block::Bullet(t(lang, "summary.advice_item", &[("title", title), ("time", time(lang, a.raised_at)), ("kind", kind)])));
        if let Some(line) = receipt_line(lang, a) {
            blocks.push(Block::Paragraph(line));
        }
        if let Some(m) = &a.receipt.message {
            blocks.push(Block::Paragraph(format!("{} {m}", t(lang, "receipt.message", &[]))));
        }
        if a.withdrawn {
            blocks.push(Block::Paragraph(t(lang, "summary.advice_withdrawn", &[])));
        }
    }
    blocks.push(Block::Heading(t(lang, "summary.questions_title", &[])));
    if summary.questions.is_empty() {
        blocks.push(Block::Paragraph(t(lang, "summary.no_questions", &[])));
    }
    for q in &summary.questions {
        if let EntryData::Question { text, .. } = &q.data {
            blocks.push(Block::Bullet(text.clone()));
        }
    }
    Document {
        title: t(lang, "summary.title", &[]),
        subtitle: format!("{patient} · {}", t(lang, "summary.period", &[("from", date(lang, since)), ("to", date(lang, until))])),
        footer: format!("Companion · {patient} · {}", t(lang, "advice.not_emergency", &[])),
        blocks,
    }
}

impl crate::store::Store {
    /// The summary of the last `days` days as a PDF, in a language.
    pub fn summary_pdf(&self, days: i64, lang: Language) -> crate::Result<Vec<u8>> {
        let summary = self.visit_summary(days)?;
        let entries = self.timeline(crate::store::TimelineFilter::default())?;
        let patient = self.patient()?.name;
        let doc = document(&summary, &entries, &patient, self.ruleset().temperature.call_at_or_above, lang);
        Ok(crate::pdf::render(&doc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_words_fill_their_placeholders() {
        assert_eq!(t(Language::En, "summary.period", &[("from", "1".into()), ("to", "2".into())]), "From 1 to 2");
        assert!(!t(Language::Nb, "summary.title", &[]).contains('\u{ad}'));
        assert_ne!(t(Language::Nn, "summary.title", &[]), "summary.title");
        assert_eq!(number(Language::Nb, 38.25), "38,2");
    }
}
