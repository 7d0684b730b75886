//! Generates the app's command permissions and reads its capabilities from `src-tauri/capabilities`.
//!
//! The commands are `companion_protocol::commands::COMMANDS`, the one list: each gets an
//! `allow-…` permission, and the window's capability grants exactly those (checked by the
//! shell's tests).

fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(companion_protocol::commands::COMMANDS));
    tauri_build::try_build(attributes).expect("tauri-build failed");
}
