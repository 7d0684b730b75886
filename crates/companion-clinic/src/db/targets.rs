//! The clinic's response targets for alerts, by level: settings in `meta` (`target.call_now`,
//! `target.contact_24h`, `target.tell_team`), set with `companion-clinic settings set` or on the
//! admin page; working days are counted on Norway's calendar.

use super::*;

/// A response target: minutes, or working days (Monday to Friday, same time of day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Minutes(i64),
    WorkingDays(i64),
}

impl Target {
    /// `60m`, `24h`, `2d` or `3wd` (working days).
    pub fn parse(text: &str) -> Option<Target> {
        let t = text.trim();
        let (n, unit) = t.find(|c: char| !c.is_ascii_digit()).map(|i| t.split_at(i))?;
        let n: i64 = n.parse().ok().filter(|n| *n > 0)?;
        let target = match unit {
            "m" | "min" => Target::Minutes(n),
            "h" => Target::Minutes(n.checked_mul(60)?),
            "d" => Target::Minutes(n.checked_mul(24 * 60)?),
            "wd" => Target::WorkingDays(n),
            _ => return None,
        };
        // At most 30 days: a target is a response time, not a plan.
        let minutes = match target {
            Target::Minutes(m) => m,
            Target::WorkingDays(d) => d.checked_mul(24 * 60)?,
        };
        (minutes <= 30 * 24 * 60).then_some(target)
    }

    pub fn text(self) -> String {
        match self {
            Target::Minutes(m) if m % (24 * 60) == 0 => format!("{}d", m / (24 * 60)),
            Target::Minutes(m) if m % 60 == 0 => format!("{}h", m / 60),
            Target::Minutes(m) => format!("{m}m"),
            Target::WorkingDays(d) => format!("{d}wd"),
        }
    }

    /// When an alert received at `from` is due.
    pub fn due(self, from: DateTime<Utc>) -> DateTime<Utc> {
        use chrono::{Datelike, Weekday};
        match self {
            Target::Minutes(m) => from + Duration::minutes(m),
            Target::WorkingDays(n) => {
                // Counted on the clinic's calendar (Norway), at the same wall time.
                let mut t = crate::care::clock::local(from);
                let mut left = n;
                while left > 0 {
                    t += Duration::days(1);
                    if !matches!(t.weekday(), Weekday::Sat | Weekday::Sun) {
                        left -= 1;
                    }
                }
                crate::care::clock::from_local(t)
            }
        }
    }
}

/// The three targets a clinic sets, by their setting names.
pub const TARGETS: [(&str, Target); 3] =
    [("call_now", Target::Minutes(60)), ("contact_24h", Target::Minutes(24 * 60)), ("tell_team", Target::WorkingDays(3))];

impl Db {
    /// The response targets in force, by setting name.
    pub fn targets(&self) -> StoreResult<Vec<(&'static str, Target)>> {
        self.with(targets_in)
    }

    /// Sets some of the response targets (`call_now=60m`); the others keep theirs. `by`: who, for
    /// the audit (`admin` on the command line).
    pub fn set_targets(&self, by: &str, given: &[(String, String)]) -> StoreResult<Vec<(&'static str, Target)>> {
        let mut parsed = Vec::new();
        for (name, value) in given {
            let Some((key, _)) = TARGETS.iter().find(|(k, _)| k == name) else {
                let names: Vec<&str> = TARGETS.iter().map(|(k, _)| *k).collect();
                return Err(StoreError::invalid(format!("--target {name}: the targets are {}", names.join(", "))));
            };
            let t = Target::parse(value).ok_or_else(|| {
                StoreError::invalid(format!(
                    "--target {name}={value}: give minutes, hours, days or working days (60m, 24h, 2d, 3wd), at most 30 days"
                ))
            })?;
            parsed.push((*key, t));
        }
        self.with(|c| {
            sql::write_tx(c, |tx| {
                for (key, t) in &parsed {
                    tx.exec(
                        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        params![&format!("target.{key}"), &t.text()],
                    )?;
                }
                audit(tx, by, "settings", None, None, None)?;
                targets_in(tx)
            })
        })
    }
}

pub(super) fn targets_in(c: &mut dyn Sql) -> StoreResult<Vec<(&'static str, Target)>> {
    let mut out = Vec::new();
    for (key, default) in TARGETS {
        let stored = c.row("SELECT value FROM meta WHERE key = ?1", params![&format!("target.{key}")])?;
        let t = stored.map(|r| r.text(0)).transpose()?.and_then(|v| Target::parse(&v)).unwrap_or(default);
        out.push((key, t));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn targets_read_and_count_working_days() {
        assert_eq!(Target::parse("60m"), Some(Target::Minutes(60)));
        assert_eq!(Target::parse("24h"), Some(Target::Minutes(1440)));
        assert_eq!(Target::parse("3wd"), Some(Target::WorkingDays(3)));
        for bad in ["", "m", "0m", "-5m", "60", "60s", "31d", "1.5h"] {
            assert_eq!(Target::parse(bad), None, "{bad}");
        }
        assert_eq!(Target::Minutes(1440).text(), "1d");
        assert_eq!(Target::Minutes(90).text(), "90m");
        // Friday 14:00 plus three working days is Wednesday 14:00.
        let friday = Utc.with_ymd_and_hms(2026, 12, 4, 14, 0, 0).unwrap();
        assert_eq!(Target::WorkingDays(3).due(friday), Utc.with_ymd_and_hms(2026, 12, 9, 14, 0, 0).unwrap());
        // Saturday: Monday is the first working day.
        let saturday = Utc.with_ymd_and_hms(2026, 12, 5, 9, 0, 0).unwrap();
        assert_eq!(Target::WorkingDays(1).due(saturday), Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap());
    }
}
