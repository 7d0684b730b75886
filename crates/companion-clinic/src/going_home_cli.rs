//! `companion-clinic ruleset|contacts|plan`: what the clinic sends home with its patients, for
//! scripting and tests. The files are the core's formats (`assets/rules/default.json`'s for a
//! ruleset; `{"contacts": [...]}`; `{"treatment": [...], "schedules": [...], ...}`), refused
//! with the element at fault and the reason.

use clap::Subcommand;
use companion_clinic::db::{Actor, Db};
use companion_core::rules::signed::fingerprint;
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum RulesetAction {
    /// Publish a ruleset (the format of assets/rules/default.json), signed with the clinic's key;
    /// devices take it at their next sync. Refused when it breaks a floor or is not newer.
    Publish {
        #[arg(long)]
        file: PathBuf,
        /// The signing key (default DATA_DIR/ruleset-signing.key); `serve` needs only its public
        /// half, so the file can live on the machine that publishes.
        #[arg(long, value_name = "FILE")]
        signing_key: Option<PathBuf>,
    },
    /// The ruleset published, and the key's fingerprint devices pin.
    Show {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum ContactsAction {
    /// Set the care team's contacts from {"contacts": [{"role", "name", "phone", "hours"}]}.
    Set {
        #[arg(long)]
        file: PathBuf,
    },
    /// The contacts devices get.
    Show {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum PlanAction {
    /// Set a patient's going-home plan from {"treatment", "schedules", "watch_for", "advice"}.
    Set {
        #[arg(long)]
        patient: String,
        #[arg(long)]
        file: PathBuf,
    },
    /// A patient's plan.
    Show {
        #[arg(long)]
        patient: String,
        #[arg(long)]
        json: bool,
    },
}

/// Who the admin commands write as: the clinic's own administration, stamped as the clinic's.
fn admin() -> Actor {
    Actor::Staff { id: "admin".into() }
}

fn read(file: &Path) -> anyhow::Result<String> {
    let meta = std::fs::metadata(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    anyhow::ensure!(meta.len() <= 256 * 1024, "{}: larger than 256 KB", file.display());
    std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))
}

pub fn ruleset(db: &Db, dir: &Path, action: RulesetAction, out: &mut impl Write) -> anyhow::Result<()> {
    match action {
        RulesetAction::Publish { file, signing_key } => {
            let text = read(&file)?;
            let key = match signing_key {
                Some(path) => db.signing_key_at(&path)?,
                None => db.signing_key(dir)?,
            };
            let p = db.publish_ruleset(&admin(), &key, &text)?;
            writeln!(
                out,
                "ruleset {} {} published (version {} on the server); devices take it at their next sync",
                p.rules.id, p.rules.version, p.stored.version
            )?;
        }
        RulesetAction::Show { json } => {
            let key = db.clinic_key()?;
            let published = db.ruleset()?;
            if json {
                let body = match &published {
                    Some(p) => json!({ "id": p.rules.id, "version": p.rules.version, "published_at": p.stored.last_updated,
                        "key_fingerprint": key.as_deref().map(fingerprint), "rules": serde_json::to_value(&p.rules)? }),
                    None => {
                        json!({ "id": null, "version": null, "published_at": null, "key_fingerprint": key.as_deref().map(fingerprint) })
                    }
                };
                writeln!(out, "{body}")?;
            } else {
                match &published {
                    Some(p) => writeln!(out, "ruleset {} {} published {}", p.rules.id, p.rules.version, p.stored.last_updated)?,
                    None => writeln!(out, "no ruleset published: devices use the app's shipped defaults")?,
                }
                if let Some(k) = key {
                    writeln!(out, "key fingerprint {}", fingerprint(&k))?;
                }
            }
        }
    }
    Ok(())
}

pub fn contacts(db: &Db, action: ContactsAction, out: &mut impl Write) -> anyhow::Result<()> {
    let team = match action {
        ContactsAction::Set { file } => {
            let contacts = companion_core::care_team::parse(&read(&file)?)?;
            let team = db.set_care_team(&admin(), contacts)?;
            writeln!(out, "{} contact(s) set; devices take them at their next sync", team.len())?;
            return Ok(());
        }
        ContactsAction::Show { json: true } => {
            writeln!(out, "{}", json!({ "contacts": db.care_team()? }))?;
            return Ok(());
        }
        ContactsAction::Show { json: false } => db.care_team()?,
    };
    for c in team {
        let hours = if c.hours.is_empty() {
            "always staffed".to_owned()
        } else {
            c.hours.iter().map(|h| format!("{} {}-{}", h.days.join(","), h.from, h.to)).collect::<Vec<_>>().join("; ")
        };
        writeln!(out, "{}: {} {} ({hours})", c.role, c.name, c.phone)?;
    }
    Ok(())
}

pub fn plan(db: &Db, action: PlanAction, out: &mut impl Write) -> anyhow::Result<()> {
    let (patient, json, found) = match action {
        PlanAction::Set { patient, file } => {
            let plan = companion_core::plan::parse(&read(&file)?)?;
            let set = db.set_plan(&admin(), &patient, plan)?;
            writeln!(out, "plan set for patient {patient} (version {}); their devices take it at the next sync", set.2.version)?;
            return Ok(());
        }
        PlanAction::Show { patient, json } => {
            anyhow::ensure!(db.patient_exists(&patient)?, "no patient {patient}");
            let found = db.plan(&patient)?;
            (patient, json, found)
        }
    };
    let Some((plan, since, stored)) = found else {
        if json {
            writeln!(out, "{}", json!({ "patient": patient, "plan": null }))?;
        } else {
            writeln!(out, "no plan for patient {patient}")?;
        }
        return Ok(());
    };
    if json {
        writeln!(out, "{}", json!({ "patient": patient, "since": since, "version": stored.version, "plan": plan }))?;
        return Ok(());
    }
    let treatment: Vec<&str> = plan.treatment.iter().map(|t| t.as_str()).collect();
    writeln!(out, "plan for patient {patient}, in force since {since}")?;
    writeln!(out, "treatment: {}", if treatment.is_empty() { "not given".to_owned() } else { treatment.join(", ") })?;
    for s in &plan.schedules {
        let until = s.for_days.map(|d| format!(" for the first {d} days")).unwrap_or_default();
        writeln!(out, "check-in {} every {} day(s){until}", s.instrument, s.every_days)?;
    }
    for w in &plan.watch_for {
        writeln!(out, "watch for: {w}")?;
    }
    for a in &plan.advice {
        writeln!(out, "advice: {a}")?;
    }
    Ok(())
}
