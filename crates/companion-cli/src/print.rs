//! How entries and the summary for the visit are printed as text (and entries as JSON).

use crate::{care, person_label};
use companion_core::{Entry, EntryData};
use std::io::Write;

pub fn print_summary(s: &companion_core::store::VisitSummary, days: i64, out: &mut impl Write) -> anyhow::Result<()> {
    let day = |t: &chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d").to_string();
    writeln!(out, "Summary for the visit: {} to {} ({days} days)", day(&s.since), day(&s.until))?;
    if s.people.is_empty() {
        writeln!(out, "\nNothing was reported in these days.")?;
    }
    for p in &s.people {
        let who = person_label(&p.person.name, p.person.relationship.as_deref());
        match p.person.role {
            companion_core::domain::Role::Patient => writeln!(out, "\nReported by {who}, the patient")?,
            companion_core::domain::Role::Carer => writeln!(out, "\nReported by {who}, a carer")?,
        }
        for x in &p.symptoms {
            let (name, s) = (x.other_name.as_deref().unwrap_or(x.symptom.display()), &x.series);
            writeln!(
                out,
                "  {name:<20} {} report(s), worst {}/10 ({}), latest {}/10 ({})",
                s.reports,
                s.peak,
                day(&s.peak_at),
                s.latest,
                day(&s.latest_at)
            )?;
        }
        if let Some(t) = &p.temperature {
            writeln!(
                out,
                "  {:<20} {} reading(s), highest {:.1} °C ({}), latest {:.1} °C ({})",
                "Temperature",
                t.reports,
                t.peak,
                day(&t.peak_at),
                t.latest,
                day(&t.latest_at)
            )?;
        }
        if let Some(w) = &p.wellbeing {
            let label = match p.person.role {
                companion_core::domain::Role::Carer => "Own wellbeing",
                companion_core::domain::Role::Patient => "Wellbeing",
            };
            writeln!(out, "  {label:<20} {} check-in(s), lowest {}/10 ({}), latest {}/10", w.reports, w.peak, day(&w.peak_at), w.latest)?;
        }
        for c in &p.checkins {
            let title = companion_core::instruments::get(&c.instrument)
                .map(|i| i.questionnaire.title.clone())
                .unwrap_or_else(|_| c.instrument.clone());
            let result = match c.latest.total {
                Some(t) => format!("{t} of {}{}", c.latest.max, c.latest.band.as_deref().map(|b| format!(", {b}")).unwrap_or_default()),
                None => "no total".to_owned(),
            };
            writeln!(out, "  {title}: {} completed, latest {result} ({})", c.completed, day(&c.latest_at))?;
        }
        for m in &p.item9 {
            match m.item9.value {
                None => writeln!(out, "  PHQ-9 of {}: question 9 (thoughts of self-harm) was not answered", day(&m.at))?,
                Some(_) => writeln!(
                    out,
                    "  PHQ-9 of {}: answered that they have had thoughts of being better off dead or of hurting themselves: {}",
                    day(&m.at),
                    m.item9.answer.as_deref().unwrap_or("yes")
                )?,
            }
        }
    }
    if !s.advice.is_empty() {
        writeln!(out, "\nAdvice shown:")?;
        for a in &s.advice {
            writeln!(out, "  {}", care::advice_line(a))?;
        }
    }
    if !s.seen_differently.is_empty() {
        writeln!(out, "\nSeen differently:")?;
        for d in &s.seen_differently {
            let rating = |e: &Entry| match &e.data {
                EntryData::Symptom { symptom, other_name, severity, .. } => {
                    (other_name.as_deref().unwrap_or(symptom.display()).to_owned(), *severity)
                }
                _ => (String::new(), 0),
            };
            let ((name, theirs), (_, own)) = (rating(&d.carer), rating(&d.patient));
            let carer = person_label(&d.carer.author.name, d.carer.author.relationship.as_deref());
            writeln!(out, "  {name}: {carer} {theirs}/10, {} {own}/10", d.patient.author.name)?;
        }
    }
    writeln!(out, "\nQuestions to ask: {}", s.questions.len())?;
    for (i, q) in s.questions.iter().enumerate() {
        if let EntryData::Question { text, .. } = &q.data {
            let by = match q.author.role {
                companion_core::domain::Role::Carer => {
                    format!("  (asked by {})", person_label(&q.author.name, q.author.relationship.as_deref()))
                }
                companion_core::domain::Role::Patient => String::new(),
            };
            writeln!(out, "  {}. {text}{by}", i + 1)?;
        }
    }
    Ok(())
}

pub fn print_entries(entries: &[Entry], json: bool, out: &mut impl Write) -> anyhow::Result<()> {
    if json {
        serde_json::to_writer_pretty(&mut *out, entries)?;
        writeln!(out)?;
        return Ok(());
    }
    for e in entries {
        let when = e.occurred_at.format("%Y-%m-%d %H:%M");
        let what = match &e.data {
            EntryData::Symptom { symptom, other_name, severity, .. } => {
                let name = other_name.as_deref().unwrap_or(symptom.display());
                format!("symptom     {name}, severity {severity}/10")
            }
            EntryData::Temperature { celsius, .. } => format!("temperature {celsius:.1} °C"),
            EntryData::Checkin { wellbeing, .. } => format!("check-in    wellbeing {wellbeing}/10"),
            EntryData::Question { text, state, .. } => format!("question    [{}] {text}", state.as_str()),
            EntryData::Assessment { instrument, score, scoring, answers, .. } => {
                let total = match score.total {
                    Some(t) => format!(
                        "assessment  {instrument} {t}/{}{}",
                        score.max,
                        score.band.as_deref().map(|b| format!(" {b}")).unwrap_or_default()
                    ),
                    None => format!("assessment  {instrument} (no total)"),
                };
                match companion_core::instruments::Item9::of(*scoring, score, answers).filter(|i| i.needs_marking()) {
                    Some(i) if i.value.is_none() => format!("{total} [question 9 not answered]"),
                    Some(i) => format!("{total} [question 9, thoughts of self-harm: {}]", i.answer.as_deref().unwrap_or("yes")),
                    None => total,
                }
            }
        };
        let status = match e.status {
            companion_core::RecordStatus::EnteredInError => " (entered in error)",
            companion_core::RecordStatus::Amended => " (corrected)",
            companion_core::RecordStatus::Final => "",
        };
        let by = match e.author.role {
            companion_core::domain::Role::Carer => format!(
                "  (entered by {}{})",
                e.author.name,
                e.author.relationship.as_deref().map(|r| format!(", {r}")).unwrap_or_default()
            ),
            companion_core::domain::Role::Patient => String::new(),
        };
        writeln!(out, "{when}  {what}{status}{by}  {}", e.id)?;
    }
    Ok(())
}
