//! What the CLI reads besides its flags: the diary opened with the passphrase (from the
//! environment, else the terminal without echo), and numbers and ids checked as the core names
//! their fields, before any passphrase is asked.

use crate::PASSPHRASE_ENV;
use anyhow::Context as _;
use companion_core::{Error, Store};
use std::io::IsTerminal;

pub(crate) fn open(dir: &std::path::Path, clock: companion_core::clock::SharedClock) -> anyhow::Result<Store> {
    if companion_core::store::presence(dir)? == companion_core::store::Presence::Missing {
        return Err(Error::NotInitialised.into());
    }
    let pass = secret(PASSPHRASE_ENV, "Passphrase")?;
    Ok(Store::open(dir, &pass, clock)?)
}

pub(crate) fn whole_number(field: &'static str, raw: &str) -> Result<i64, Error> {
    raw.trim().parse().map_err(|_| Error::invalid(field, companion_core::Problem::BadFormat))
}

pub(crate) fn decimal(field: &'static str, raw: &str) -> Result<f64, Error> {
    // Accept a decimal comma too, as Norwegians write it.
    let value: f64 = raw.trim().replace(',', ".").parse().map_err(|_| Error::invalid(field, companion_core::Problem::BadFormat))?;
    if !value.is_finite() {
        return Err(Error::invalid(field, companion_core::Problem::BadFormat));
    }
    Ok(value)
}

pub(crate) fn entry_id(raw: &str) -> anyhow::Result<uuid::Uuid> {
    raw.trim().parse().map_err(|_| Error::invalid("id", companion_core::Problem::BadFormat).into())
}

/// A secret from the environment, else from the terminal without echo.
pub(crate) fn secret(env: &str, prompt: &str) -> anyhow::Result<String> {
    if let Ok(value) = std::env::var(env) {
        return Ok(value);
    }
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("{prompt} needed: set {env} or run in a terminal");
    }
    rpassword::prompt_password(format!("{prompt}: ")).context("could not read from the terminal")
}

/// A new secret: from the environment, else asked twice on the terminal.
pub(crate) fn new_secret(env: &str, prompt: &str) -> anyhow::Result<String> {
    if let Ok(value) = std::env::var(env) {
        return Ok(value);
    }
    let first = secret(env, prompt)?;
    let field = if env == PASSPHRASE_ENV { "passphrase" } else { "new_passphrase" };
    companion_core::crypto::check_passphrase(field, &first).map_err(Error::from)?;
    let again = secret(env, "Type it again")?;
    if first != again {
        return Err(Error::invalid("passphrase", companion_core::Problem::Mismatch).into());
    }
    Ok(first)
}
