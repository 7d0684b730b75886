//! `companion-clinic`: serve the clinic API, and administer patients, staff and devices.

use clap::{Parser, Subcommand};
use companion_clinic::db::Db;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

mod going_home_cli;
use going_home_cli::{ContactsAction, PlanAction, RulesetAction};

#[derive(Parser)]
#[command(name = "companion-clinic", version, about = "Companion's clinic server")]
struct Cli {
    /// Where the server keeps its database.
    #[arg(long, global = true, env = "COMPANION_CLINIC_DATA_DIR", default_value = "companion-clinic-data")]
    data_dir: PathBuf,
    /// A PostgreSQL database (postgres://user@host/db) instead of the embedded SQLite; the data
    /// directory still holds the high-water mark that notices restores.
    #[arg(long, global = true, env = "COMPANION_CLINIC_DATABASE_URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: String,
        /// The server's certificate chain (PEM): serve HTTPS. Without it, plain HTTP, which the
        /// app accepts only on this machine (loopback).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key (PEM).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// The server's address as clients reach it (https://clinic.example.no), for the
        /// absolute links in FHIR bundles; without it, each request's Host.
        #[arg(long)]
        public_url: Option<String>,
        /// Connections served at once; more wait in the listen queue.
        #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=65536))]
        max_connections: u32,
        /// Seconds a connection may stay silent (slow headers, a stalled body, an idle
        /// keep-alive) before it is closed.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
        idle_timeout: u64,
    },
    /// Patients.
    Patient {
        #[command(subcommand)]
        action: PatientAction,
    },
    /// Staff credentials.
    Staff {
        #[command(subcommand)]
        action: StaffAction,
    },
    /// Backups. To restore, stop the server, put the copy back as DIR/clinic.db and remove
    /// DIR/clinic.db-wal and DIR/clinic.db-shm; the server notices the database is older than
    /// what it served and gives it a new epoch, so devices send again what it lost.
    Backup {
        #[command(subcommand)]
        action: BackupAction,
    },
    /// Paired devices.
    Device {
        #[command(subcommand)]
        action: DeviceAction,
    },
    /// The clinic's settings: response targets for alerts.
    Settings {
        #[command(subcommand)]
        action: SettingsAction,
    },
    /// The clinic's safety ruleset, signed, which devices take at their next sync.
    Ruleset {
        #[command(subcommand)]
        action: RulesetAction,
    },
    /// The care team's contacts and staffed hours, on every patient's device.
    Contacts {
        #[command(subcommand)]
        action: ContactsAction,
    },
    /// A patient's going-home plan.
    Plan {
        #[command(subcommand)]
        action: PlanAction,
    },
}

#[derive(Subcommand)]
enum SettingsAction {
    /// Set response targets: --target call_now=60m --target contact_24h=24h --target tell_team=3wd
    /// (minutes m, hours h, days d, working days wd; at most 30 days). Alerts received from now
    /// on get the new targets.
    Set {
        #[arg(long = "target", value_name = "NAME=TIME", required = true)]
        targets: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// The settings in force.
    Show {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum PatientAction {
    /// Register a patient; prints the id and a one-time pairing code (72 hours).
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// A new one-time pairing code for a registered patient (another device).
    Code {
        #[arg(long)]
        patient: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum StaffAction {
    /// Create a staff bearer token (shown once), valid for --hours (default 12); or, with
    /// --role and --password-stdin, an account that signs in to the care team's web app.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long, default_value_t = companion_clinic::db::STAFF_HOURS, conflicts_with = "password_stdin")]
        hours: i64,
        /// nurse, coordinator or admin (with --password-stdin).
        #[arg(long, requires = "password_stdin")]
        role: Option<String>,
        /// Read the account's password from standard input (one line).
        #[arg(long, requires = "role")]
        password_stdin: bool,
        #[arg(long)]
        json: bool,
    },
    /// The staff tokens: name, created, expires, last used, revoked; never the token.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a staff token by its id, or every token with a name.
    Revoke {
        #[arg(long, conflicts_with = "id", required_unless_present = "id")]
        name: Option<String>,
        #[arg(long)]
        id: Option<String>,
    },
}

#[derive(Subcommand)]
enum BackupAction {
    /// Write a consistent copy of the database to a file.
    Create {
        #[arg(long)]
        to: PathBuf,
    },
}

#[derive(Subcommand)]
enum DeviceAction {
    /// Revoke every device of a patient.
    Revoke {
        #[arg(long)]
        patient: String,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let text = e.to_string();
            eprintln!("companion-clinic: {}", text.lines().next().unwrap_or("bad arguments").trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("companion-clinic: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

fn print_targets(out: &mut impl Write, targets: &[(&str, companion_clinic::db::triage::Target)], json: bool) -> anyhow::Result<()> {
    if json {
        let map: serde_json::Map<String, serde_json::Value> = targets.iter().map(|(k, t)| (k.to_string(), t.text().into())).collect();
        writeln!(out, "{}", serde_json::json!({ "targets": map }))?;
    } else {
        for (k, t) in targets {
            writeln!(out, "target {k} = {}", t.text())?;
        }
    }
    Ok(())
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let out = &mut std::io::stdout().lock();
    match cli.command {
        Command::Serve { listen, tls_cert, tls_key, public_url, max_connections, idle_timeout } => {
            companion_core::logging::init();
            if let Some(url) = &public_url {
                anyhow::ensure!(url.starts_with("https://") || url.starts_with("http://"), "--public-url must start with https://");
            }
            let db = Db::open_with(&cli.data_dir, cli.database_url.as_deref())?;
            // The ruleset key exists before the first device pairs, so every device pins it.
            if db.clinic_key()?.is_none() {
                db.signing_key(&cli.data_dir)?;
            }
            companion_clinic::structure::warm_up();
            let mut state = companion_clinic::AppState::new(db);
            state.public_url = public_url.map(|u| u.trim_end_matches('/').into());
            state.body_idle = std::time::Duration::from_secs(idle_timeout);
            let app = companion_clinic::app(state);
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some(companion_clinic::serve::tls_config(&cert, &key)?),
                _ => None,
            };
            let limits = companion_clinic::serve::Limits {
                max_connections: max_connections as usize,
                idle: std::time::Duration::from_secs(idle_timeout),
                ..Default::default()
            };
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind(&listen).await?;
                let address = listener.local_addr()?;
                let scheme = if tls.is_some() { " (https)" } else { "" };
                tracing::info!(%address, tls = tls.is_some(), "serving");
                // The actual address, for scripts that asked for port 0.
                println!("listening on {address}{scheme}");
                companion_clinic::serve::serve(listener, app, tls, limits, async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?;
                anyhow::Ok(())
            })?;
        }
        Command::Patient { action: PatientAction::Add { name, json } } => {
            let name = name.trim();
            anyhow::ensure!(
                !name.is_empty() && name.chars().count() <= companion_protocol::limits::MAX_NAME,
                "--name must be 1 to {} characters",
                companion_protocol::limits::MAX_NAME
            );
            let (id, code) = Db::open_with(&cli.data_dir, cli.database_url.as_deref())?.add_patient(name).map_err(anyhow::Error::new)?;
            if json {
                writeln!(out, "{}", serde_json::json!({ "patient": id, "code": code }))?;
            } else {
                writeln!(out, "patient {id}\npairing code {code} (single use, valid for 72 hours)")?;
            }
        }
        Command::Patient { action: PatientAction::Code { patient, json } } => {
            let code = Db::open_with(&cli.data_dir, cli.database_url.as_deref())?.new_code(&patient).map_err(anyhow::Error::new)?;
            if json {
                writeln!(out, "{}", serde_json::json!({ "patient": patient, "code": code }))?;
            } else {
                writeln!(out, "pairing code {code} (single use, valid for 72 hours)")?;
            }
        }
        Command::Staff { action: StaffAction::Add { name, role: Some(role), password_stdin: true, json, .. } } => {
            let role =
                companion_clinic::db::Role::parse(&role).ok_or_else(|| anyhow::anyhow!("--role must be nurse, coordinator or admin"))?;
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let password = password.trim_end_matches(['\n', '\r']);
            let account = Db::open_with(&cli.data_dir, cli.database_url.as_deref())?
                .add_account(&name, role, password)
                .map_err(anyhow::Error::new)?;
            if json {
                writeln!(out, "{}", serde_json::to_string(&account)?)?;
            } else {
                writeln!(out, "account {} ({}) can sign in at /care", account.name, account.role.as_str())?;
            }
        }
        Command::Settings { action: SettingsAction::Set { targets, json } } => {
            let given = targets
                .iter()
                .map(|t| t.split_once('=').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| anyhow::anyhow!("--target must be NAME=TIME, for example call_now=60m"))?;
            let now =
                Db::open_with(&cli.data_dir, cli.database_url.as_deref())?.set_targets("admin", &given).map_err(anyhow::Error::new)?;
            print_targets(out, &now, json)?;
        }
        Command::Settings { action: SettingsAction::Show { json } } => {
            let now = Db::open_with(&cli.data_dir, cli.database_url.as_deref())?.targets().map_err(anyhow::Error::new)?;
            print_targets(out, &now, json)?;
        }
        Command::Staff { action: StaffAction::Add { name, hours, json, .. } } => {
            let token =
                Db::open_with(&cli.data_dir, cli.database_url.as_deref())?.add_staff(name.trim(), hours).map_err(anyhow::Error::new)?;
            if json {
                writeln!(out, "{}", serde_json::json!({ "token": token }))?;
            } else {
                writeln!(out, "{token}")?;
            }
        }
        Command::Staff { action: StaffAction::List { json } } => {
            let tokens = Db::open_with(&cli.data_dir, cli.database_url.as_deref())?.staff_tokens().map_err(anyhow::Error::new)?;
            if json {
                writeln!(out, "{}", serde_json::to_string(&tokens)?)?;
            } else {
                let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                for t in tokens {
                    let state = match (&t.revoked_at, &t.expires_at) {
                        (Some(_), _) => "revoked",
                        (None, Some(e)) if *e < now => "expired",
                        _ => "valid",
                    };
                    writeln!(
                        out,
                        "{}  {}  {state}  created {}  expires {}  last used {}",
                        t.id,
                        t.name,
                        t.created_at,
                        t.expires_at.as_deref().unwrap_or("-"),
                        t.last_used_at.as_deref().unwrap_or("never")
                    )?;
                }
            }
        }
        Command::Staff { action: StaffAction::Revoke { name, id } } => {
            let n = Db::open_with(&cli.data_dir, cli.database_url.as_deref())?
                .revoke_staff(id.as_deref(), name.as_deref())
                .map_err(anyhow::Error::new)?;
            anyhow::ensure!(n > 0, "no valid staff token matches");
            writeln!(out, "{n} staff token(s) revoked")?;
        }
        Command::Backup { action: BackupAction::Create { to } } => {
            Db::open_with(&cli.data_dir, cli.database_url.as_deref())?.backup_to(&to).map_err(anyhow::Error::new)?;
            writeln!(out, "backup written to {}", to.display())?;
        }
        Command::Ruleset { action } => {
            going_home_cli::ruleset(&Db::open_with(&cli.data_dir, cli.database_url.as_deref())?, &cli.data_dir, action, out)?
        }
        Command::Contacts { action } => going_home_cli::contacts(&Db::open_with(&cli.data_dir, cli.database_url.as_deref())?, action, out)?,
        Command::Plan { action } => going_home_cli::plan(&Db::open_with(&cli.data_dir, cli.database_url.as_deref())?, action, out)?,
        Command::Device { action: DeviceAction::Revoke { patient } } => {
            let n = Db::open_with(&cli.data_dir, cli.database_url.as_deref())?.revoke_devices(&patient).map_err(anyhow::Error::new)?;
            writeln!(out, "{n} device(s) revoked")?;
        }
    }
    Ok(())
}
