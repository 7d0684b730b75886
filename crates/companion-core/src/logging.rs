//! One way to start logging for every Companion program: to standard error, at the level in
//! `COMPANION_LOG` (default `info`). What is logged never carries health data (see lib.rs).

pub fn init() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("COMPANION_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
