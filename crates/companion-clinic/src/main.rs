//! `companion-clinic`: serve the clinic API, and administer patients, staff and devices.

use clap::{Parser, Subcommand};
use companion_clinic::db::Db;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Create a staff bearer token (shown once).
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        json: bool,
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

fn run(cli: Cli) -> anyhow::Result<()> {
    let out = &mut std::io::stdout().lock();
    match cli.command {
        Command::Serve { listen, tls_cert, tls_key } => {
            companion_core::logging::init();
            let db = Db::open_with(&cli.data_dir, cli.database_url.as_deref())?;
            let app = companion_clinic::app(companion_clinic::AppState { db });
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async move {
                let listener = std::net::TcpListener::bind(&listen)?;
                listener.set_nonblocking(true)?;
                let address = listener.local_addr()?;
                match (tls_cert, tls_key) {
                    (Some(cert), Some(key)) => {
                        let _ = rustls::crypto::ring::default_provider().install_default();
                        let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                            .await
                            .map_err(|e| anyhow::anyhow!("cannot use --tls-cert/--tls-key: {e}"))?;
                        tracing::info!(%address, "serving https");
                        // The actual address, for scripts that asked for port 0.
                        println!("listening on {address} (https)");
                        let handle = axum_server::Handle::new();
                        let stop = handle.clone();
                        tokio::spawn(async move {
                            let _ = tokio::signal::ctrl_c().await;
                            stop.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
                        });
                        axum_server::from_tcp_rustls(listener, config)?.handle(handle).serve(app.into_make_service()).await?;
                    }
                    _ => {
                        tracing::info!(%address, "serving http");
                        println!("listening on {address}");
                        axum::serve(tokio::net::TcpListener::from_std(listener)?, app)
                            .with_graceful_shutdown(async {
                                let _ = tokio::signal::ctrl_c().await;
                            })
                            .await?;
                    }
                }
                anyhow::Ok(())
            })?;
        }
        Command::Patient { action: PatientAction::Add { name, json } } => {
            let name = name.trim();
            anyhow::ensure!(!name.is_empty() && name.chars().count() <= 100, "--name must be 1 to 100 characters");
            let (id, code) =
                Db::open_with(&cli.data_dir, cli.database_url.as_deref())?.add_patient(name).map_err(|e| anyhow::anyhow!(e.message))?;
            if json {
                writeln!(out, "{}", serde_json::json!({ "patient": id, "code": code }))?;
            } else {
                writeln!(out, "patient {id}\npairing code {code} (single use, valid for 72 hours)")?;
            }
        }
        Command::Patient { action: PatientAction::Code { patient, json } } => {
            let code =
                Db::open_with(&cli.data_dir, cli.database_url.as_deref())?.new_code(&patient).map_err(|e| anyhow::anyhow!(e.message))?;
            if json {
                writeln!(out, "{}", serde_json::json!({ "patient": patient, "code": code }))?;
            } else {
                writeln!(out, "pairing code {code} (single use, valid for 72 hours)")?;
            }
        }
        Command::Staff { action: StaffAction::Add { name, json } } => {
            let token = Db::open_with(&cli.data_dir, cli.database_url.as_deref())?
                .add_staff(name.trim())
                .map_err(|e| anyhow::anyhow!(e.message))?;
            if json {
                writeln!(out, "{}", serde_json::json!({ "token": token }))?;
            } else {
                writeln!(out, "{token}")?;
            }
        }
        Command::Backup { action: BackupAction::Create { to } } => {
            Db::open_with(&cli.data_dir, cli.database_url.as_deref())?.backup_to(&to).map_err(|e| anyhow::anyhow!(e.message))?;
            writeln!(out, "backup written to {}", to.display())?;
        }
        Command::Device { action: DeviceAction::Revoke { patient } } => {
            let n = Db::open_with(&cli.data_dir, cli.database_url.as_deref())?
                .revoke_devices(&patient)
                .map_err(|e| anyhow::anyhow!(e.message))?;
            writeln!(out, "{n} device(s) revoked")?;
        }
    }
    Ok(())
}
