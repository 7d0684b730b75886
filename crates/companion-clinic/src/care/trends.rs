//! Trends on the patient page, as tables (readable by a screen reader, printable, and never by
//! colour alone): temperatures with the fever line; ESAS-r items with scores of 3 or more
//! marked, as Oslo's Eir does; PHQ-9 and GAD-7 totals with their band edges, and PHQ-9 item 9
//! marked. The patient and each carer are separate series: a carer's ratings are never merged
//! into the patient's.

use super::*;
use companion_core::domain::{EntryData, RecordStatus, Role};
use companion_core::replica::Replica;

/// At most this many rows in one table.
const ROWS: usize = 30;
const ESAS: [&str; 9] = ["pain", "tiredness", "drowsiness", "nausea", "appetite", "breath", "depression", "anxiety", "wellbeing"];

/// One person's series: their name and role, and their records, newest first.
fn by_person(records: &[Replica]) -> Vec<(String, Vec<&Replica>)> {
    let mut out: Vec<(String, Vec<&Replica>)> = Vec::new();
    for r in records.iter().filter(|r| r.status != RecordStatus::EnteredInError) {
        let who = match r.author.role {
            Role::Patient => "patient".to_owned(),
            Role::Carer => r.author.id.to_string(),
        };
        match out.iter_mut().find(|(w, _)| *w == who) {
            Some((_, list)) => list.push(r),
            None => out.push((who, vec![r])),
        }
    }
    // The patient first.
    out.sort_by_key(|(w, _)| w != "patient");
    out
}

/// "Recorded by the patient", "Recorded by Ola (carer)".
pub(super) fn who(lang: Lang, r: &Replica) -> String {
    match r.author.role {
        Role::Patient => tf(lang, "by", &[("who", t(lang, "patient"))]),
        Role::Carer => tf(lang, "by", &[("who", &tf(lang, "carer", &[("name", &r.author.name)]))]),
    }
}

fn when(r: &Replica) -> Markup {
    time(&r.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

pub(super) fn render(lang: Lang, records: &[Replica]) -> Markup {
    let fever = companion_core::rules::Ruleset::default_rules().temperature.call_at_or_above;
    let temps: Vec<Replica> = records.iter().filter(|r| matches!(r.data, EntryData::Temperature { .. })).cloned().collect();
    let esas: Vec<Replica> =
        records.iter().filter(|r| matches!(&r.data, EntryData::Assessment { instrument, .. } if instrument == "esas-r")).cloned().collect();
    let totals = |id: &str| -> Vec<Replica> {
        records.iter().filter(|r| matches!(&r.data, EntryData::Assessment { instrument, .. } if instrument == id)).cloned().collect()
    };
    let fever_text = format!("{fever:.1}");
    // PHQ-9's ninth scored item, by its link id in the shipped form.
    let item9 = companion_core::instruments::get("phq9").ok().and_then(|f| f.scored_items.get(8).cloned());
    html! {
        h3 { (t(lang, "temperatures")) }
        @if temps.is_empty() { p { (t(lang, "no_trend")) } } @else {
            p.hint { (tf(lang, "fever_line", &[("t", &fever_text)])) }
            @for (_, list) in by_person(&temps) {
                @let points: Vec<(chrono::DateTime<chrono::Utc>, f64)> = list.iter().filter_map(|r| match &r.data { EntryData::Temperature { celsius, .. } => Some((r.occurred_at, *celsius)), _ => None }).collect();
                (super::chart::line(&format!("{} – {}", t(lang, "temperatures"), who(lang, list[0])), &points, (35.0, 41.0), &[(fever, format!("{fever_text} °C"))], |v| v >= fever))
                div.scroll role="region" tabindex="0" aria-label={ (t(lang, "temperatures")) " – " (who(lang, list[0])) } {
                table.trend {
                    caption { (t(lang, "temperatures")) " – " (who(lang, list[0])) }
                    thead { tr { th scope="col" { (t(lang, "date")) } th scope="col" { (t(lang, "value")) } } }
                    tbody {
                        @for r in list.iter().take(ROWS) {
                            @if let EntryData::Temperature { celsius, feels_unwell, .. } = &r.data {
                                tr {
                                    td { (when(r)) }
                                    td {
                                        @if *celsius >= fever { strong { "⚑ " (format!("{celsius:.1}")) " °C" } } @else { (format!("{celsius:.1}")) " °C" }
                                        @if *feels_unwell { ", " (t(lang, "r.unwell")) }
                                    }
                                }
                            }
                        }
                    }
                }
                }
            }
        }
        h3 { "ESAS-r" }
        @if esas.is_empty() { p { (t(lang, "no_trend")) } } @else {
            p.hint { (t(lang, "esas_mark")) }
            @for (_, list) in by_person(&esas) {
                div.scroll role="region" tabindex="0" aria-label={ "ESAS-r – " (who(lang, list[0])) } {
                    table.trend {
                        caption { "ESAS-r – " (who(lang, list[0])) }
                        thead { tr {
                            th scope="col" { (t(lang, "date")) }
                            @for code in ESAS { th scope="col" { (words::app_text(lang, &format!("esas.{code}")).unwrap_or(code)) } }
                        } }
                        tbody {
                            @for r in list.iter().take(ROWS) {
                                @if let EntryData::Assessment { score, .. } = &r.data {
                                    tr {
                                        td { (when(r)) }
                                        @for code in ESAS {
                                            td {
                                                @match score.item(&format!("esas-{code}")) {
                                                    Some(v) if v >= 3 => { strong.high { "● " (v) } }
                                                    Some(v) => { (v) }
                                                    None => { "–" }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @for (id, title) in [("phq9", "PHQ-9"), ("gad7", "GAD-7")] {
            @let list = totals(id);
            h3 { (title) }
            @if list.is_empty() { p { (t(lang, "no_trend")) } } @else {
                @if let Ok(form) = companion_core::instruments::get(id) {
                    @let bands: Vec<String> = form.bands.iter().map(|b| format!("{}–{} {}", b.min, b.max, words::app_text(lang, &format!("band.{}", b.code)).unwrap_or(&b.code).to_lowercase())).collect();
                    p.hint { (tf(lang, "bands", &[("bands", &bands.join(", "))])) @if id == "phq9" { " " (t(lang, "item9_mark")) } }
                }
                @for (_, series) in by_person(&list) {
                    @let totals: Vec<(chrono::DateTime<chrono::Utc>, f64)> = series.iter().filter_map(|r| match &r.data { EntryData::Assessment { score, .. } => score.total.map(|n| (r.occurred_at, n as f64)), _ => None }).collect();
                    @let edges: Vec<(f64, String)> = companion_core::instruments::get(id).map(|f| f.bands.iter().skip(1).map(|b| (b.min as f64 - 0.5, b.min.to_string())).collect()).unwrap_or_default();
                    @let max = companion_core::instruments::get(id).map(|f| f.max_total as f64).unwrap_or(27.0);
                    (super::chart::line(&format!("{title} – {}", who(lang, series[0])), &totals, (0.0, max), &edges, |v| v >= 10.0))
                    div.scroll role="region" tabindex="0" aria-label={ (title) " – " (who(lang, series[0])) } {
                    table.trend {
                        caption { (title) " – " (who(lang, series[0])) }
                        thead { tr {
                            th scope="col" { (t(lang, "date")) }
                            th scope="col" { (t(lang, "total")) }
                            th scope="col" { (t(lang, "band")) }
                            @if id == "phq9" { th scope="col" { (t(lang, "item9")) } }
                        } }
                        tbody {
                            @for r in series.iter().take(ROWS) {
                                @if let EntryData::Assessment { score, .. } = &r.data {
                                    tr {
                                        td { (when(r)) }
                                        td { @match score.total { Some(n) => { (n) " / " (score.max) } None => { "–" } } }
                                        td { (score.band.as_deref().map(|b| words::app_text(lang, &format!("band.{b}")).unwrap_or(b)).unwrap_or("–")) }
                                        @if id == "phq9" {
                                            td {
                                                @match item9.as_deref().and_then(|link| score.item(link)) {
                                                    Some(v) if v >= 1 => { strong { "⚑ " (v) } }
                                                    Some(v) => { (v) }
                                                    None => { "–" }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    }
                }
            }
        }
    }
}
