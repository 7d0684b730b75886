//! The coordinator's figures: open alerts by level, and over the last 7 and 30 days the median
//! and 90th-percentile time to take and to close, the share closed within target, and alerts
//! per patient per week, per level. Coordinators and administrators only.

use super::*;
use crate::db::triage::Timing;
use crate::db::Role;
use axum::Extension;
use chrono::{Duration, Utc};

const LEVELS: [&str; 3] = ["stat", "asap", "routine"];

/// The p-th percentile (nearest rank) of minutes, or `None` for none.
pub(crate) fn percentile(values: &mut [i64], p: f64) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = ((p / 100.0) * values.len() as f64).ceil().max(1.0) as usize;
    Some(values[rank.min(values.len()) - 1])
}

/// The figures of one level (or all, `None`) over `days`.
pub(crate) struct Figures {
    pub alerts: usize,
    pub take: (Option<i64>, Option<i64>),
    pub close: (Option<i64>, Option<i64>),
    /// Closed by their target, of those whose target has passed or that are closed.
    pub within: Option<(usize, usize)>,
    pub per_patient_week: Option<f64>,
}

pub(crate) fn figures(all: &[Timing], level: Option<&str>, days: i64) -> Figures {
    let now = Utc::now();
    let from = now - Duration::days(days);
    let rows: Vec<&Timing> = all.iter().filter(|t| t.received_at >= from && level.is_none_or(|l| t.priority == l)).collect();
    let mut take: Vec<i64> = rows.iter().filter_map(|t| Some((t.taken_at? - t.received_at).num_minutes())).collect();
    let mut close: Vec<i64> = rows.iter().filter_map(|t| Some((t.closed_at? - t.received_at).num_minutes())).collect();
    let judged: Vec<&&Timing> = rows.iter().filter(|t| t.closed_at.is_some() || t.due_at <= now).collect();
    let on_time = judged.iter().filter(|t| t.closed_at.is_some_and(|c| c <= t.due_at)).count();
    let mut patients: Vec<&str> = rows.iter().map(|t| t.patient.as_str()).collect();
    patients.sort_unstable();
    patients.dedup();
    Figures {
        alerts: rows.len(),
        take: (percentile(&mut take, 50.0), percentile(&mut take, 90.0)),
        close: (percentile(&mut close, 50.0), percentile(&mut close, 90.0)),
        within: (!judged.is_empty()).then_some((on_time, judged.len())),
        per_patient_week: (!patients.is_empty()).then(|| rows.len() as f64 / patients.len() as f64 / (days as f64 / 7.0)),
    }
}

pub(super) async fn page(State(state): State<AppState>, headers: HeaderMap, peer: Option<Extension<Peer>>) -> Response {
    let ctx = match signed_in(&state, &headers, peer.as_deref(), true).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Some(r) = allow(&ctx, &[Role::Coordinator, Role::Admin]) {
        return r;
    }
    let lang = ctx.lang;
    let db = state.db.clone();
    let all = match blocking(move || db.timings(Utc::now() - Duration::days(30))).await {
        Ok(a) => a,
        Err(e) => return api_error_page(lang, e),
    };
    let open = |l: &str| all.iter().filter(|t| t.priority == l && t.status != "completed").count();
    let mins = |m: Option<i64>| m.map(|m| words::span(lang, m)).unwrap_or_else(|| t(lang, "wl.none").to_owned());
    let body = html! {
        h1 { (t(lang, "workload")) }
        h2 { (t(lang, "wl.open")) }
        ul.figures {
            @for l in LEVELS { li { (t(lang, &format!("filter.{l}"))) ": " strong { (open(l)) } } }
        }
        @for days in [7, 30] {
            h2 { (tf(lang, "wl.period", &[("n", &days.to_string())])) }
            div.levels {
                @for (name, f) in LEVELS.iter().map(|l| (t(lang, &format!("filter.{l}")), figures(&all, Some(l), days))).chain([(t(lang, "all_levels"), figures(&all, None, days))]) {
                    section.level-figures {
                        h3 { (name) }
                        dl.facts {
                            dt { (t(lang, "wl.alerts")) } dd { (f.alerts) }
                            dt { (t(lang, "wl.take_median")) } dd { (mins(f.take.0)) }
                            dt { (t(lang, "wl.take_p90")) } dd { (mins(f.take.1)) }
                            dt { (t(lang, "wl.close_median")) } dd { (mins(f.close.0)) }
                            dt { (t(lang, "wl.close_p90")) } dd { (mins(f.close.1)) }
                            dt { (t(lang, "wl.within")) } dd {
                                @match f.within { Some((n, of)) => { (n * 100 / of) " % (" (n) "/" (of) ")" } None => { (t(lang, "wl.none")) } }
                            }
                            dt { (t(lang, "wl.per_patient")) } dd {
                                @match f.per_patient_week { Some(v) => { (format!("{v:.1}")) } None => { (t(lang, "wl.none")) } }
                            }
                        }
                    }
                }
            }
        }
    };
    html_response(StatusCode::OK, layout(lang, Some(&ctx), t(lang, "workload"), body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        assert_eq!(percentile(&mut [], 50.0), None);
        assert_eq!(percentile(&mut [5], 90.0), Some(5));
        let mut v: Vec<i64> = (1..=10).rev().collect();
        assert_eq!(percentile(&mut v, 50.0), Some(5));
        assert_eq!(percentile(&mut v, 90.0), Some(9));
    }
}
