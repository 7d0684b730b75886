//! Companion's contracts, declared once: the commands the app's window may call
//! ([`commands`]), the device–clinic wire format ([`wire`]) and the limits both ends enforce
//! ([`limits`]).
//!
//! No I/O and no Tauri: the app's build script, the core's sync engine and the clinic server
//! all depend on it, so none of them restates what the others expect.

pub mod codes;
pub mod commands;
pub mod limits;
pub mod wire;
