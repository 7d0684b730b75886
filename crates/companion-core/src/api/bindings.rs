//! `ui/src/lib/bindings/`: the TypeScript of every command's arguments and reply, and of every
//! type they reach, generated with `ts-rs` from the declarations in [`super`]. One file per Rust
//! module the types come from (`domain.ts`, `store.ts`, ...), `commands.ts` with the
//! `Commands` map, and `index.ts` re-exporting them all. The files are committed; a test fails
//! while they differ from what the declarations make, and `make bindings` (`UPDATE_BINDINGS=1`
//! on that test) writes them again.

use super::Command;
use std::collections::{BTreeMap, BTreeSet};
use ts_rs::{TypeVisitor, TS};

/// Where the bindings live, from this crate.
pub const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../ui/src/lib/bindings");

const HEADER: &str = "// Generated from `companion_core::api` by ts-rs: do not edit by hand.\n\
                      // `make bindings` writes it again after a command or a type it reaches changes.\n";

/// What [`super::each_command`] calls for every command.
pub(crate) trait Visit {
    fn command<C: Command>(&mut self);
}

#[derive(Default)]
struct Collect {
    /// Every named type reached, by its TypeScript name: its module and its declaration.
    types: BTreeMap<String, (String, String)>,
    /// `name: { args: …; reply: … }` for each command, in declared order.
    commands: Vec<String>,
}

/// The module of the core a type is declared in (`companion_core::store::advice::Advice` →
/// `store`): the file it goes in.
fn module_of<T: ?Sized>() -> String {
    let path = std::any::type_name::<T>();
    let path = path.split('<').next().unwrap_or(path);
    path.split("::").nth(1).unwrap_or("types").to_owned()
}

impl TypeVisitor for Collect {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        // Primitives and inlined types have no file of their own, so no declaration.
        if T::output_path().is_none() {
            return;
        }
        let name = T::ident();
        if self.types.contains_key(&name) {
            return;
        }
        self.types.insert(name, (module_of::<T>(), format!("export {}", numbers(T::decl()))));
        T::visit_dependencies(self);
        T::visit_generics(self);
    }
}

impl Visit for Collect {
    fn command<C: Command>(&mut self) {
        // The arguments are inlined (they are named after the command, which says it all); what
        // they reach and the reply are declared.
        C::visit_dependencies(self);
        self.visit::<C::Reply>();
        C::Reply::visit_generics(self);
        self.commands.push(numbers(format!("  {}: {{ args: {}; reply: {} }};", C::NAME, C::inline(), C::Reply::name())));
    }
}

/// ts-rs writes 64-bit integers as `bigint`, but they cross the bridge as JSON numbers, which
/// JavaScript reads as `number` (exact to 2^53, far beyond any count or day here). Nothing in
/// the contract is 128-bit.
fn numbers(ts: String) -> String {
    ts.replace("bigint", "number")
}

/// The identifiers a piece of TypeScript names, outside comments and string literals (a
/// union of literals like `'clinic' | 'patient'` names no type).
fn identifiers(ts: &str) -> BTreeSet<&str> {
    let mut out = BTreeSet::new();
    let bytes = ts.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = ts[i + 2..].find("*/").map_or(bytes.len(), |e| i + 2 + e + 2),
            b'/' if bytes.get(i + 1) == Some(&b'/') => i = ts[i..].find('\n').map_or(bytes.len(), |e| i + e),
            q @ (b'\'' | b'"') => i = ts[i + 1..].find(q as char).map_or(bytes.len(), |e| i + 1 + e + 1),
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                out.insert(&ts[start..i]);
            }
            _ => i += 1,
        }
    }
    out
}

/// One file: the header, `import type` of what it names from the other files, its body.
fn file(body: &str, own: &str, modules: &BTreeMap<&str, &str>) -> String {
    let mut imports: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for name in identifiers(body) {
        if let Some(module) = modules.get(name).filter(|m| **m != own) {
            imports.entry(module).or_default().push(name);
        }
    }
    let mut out = String::from(HEADER);
    for (module, names) in &imports {
        out.push_str(&format!("import type {{ {} }} from './{module}';\n", names.join(", ")));
    }
    out.push('\n');
    out.push_str(body);
    out
}

/// Every file, by name, as the declarations make them now.
pub fn render() -> BTreeMap<String, String> {
    let mut all = Collect::default();
    super::each_command(&mut all);
    // Errors cross the bridge too, though no command names them as a reply.
    all.visit::<crate::ErrorPayload>();
    let modules: BTreeMap<&str, &str> = all.types.iter().map(|(name, (module, _))| (name.as_str(), module.as_str())).collect();
    let mut bodies: BTreeMap<String, String> = BTreeMap::new();
    for (module, decl) in all.types.values() {
        let body = bodies.entry(module.clone()).or_default();
        body.push_str(decl);
        body.push_str("\n\n");
    }
    let mut commands = String::from("/** Every command the window may call: its arguments and its reply. */\nexport type Commands = {\n");
    for c in &all.commands {
        commands.push_str(c);
        commands.push('\n');
    }
    commands.push_str("};\n");
    let mut files: BTreeMap<String, String> =
        bodies.iter().map(|(module, body)| (format!("{module}.ts"), file(body.trim_end_matches('\n'), module, &modules) + "\n")).collect();
    files.insert("commands.ts".into(), file(&commands, "commands", &modules));
    let index: String = files.keys().map(|f| format!("export type * from './{}';\n", f.trim_end_matches(".ts"))).collect();
    files.insert("index.ts".into(), format!("{HEADER}\n{index}"));
    files
}

/// None if `committed` is what the declarations make now, else the first line that differs.
pub fn stale(committed: &str, current: &str) -> Option<String> {
    if committed == current {
        return None;
    }
    let (mut a, mut b) = (committed.lines(), current.lines());
    for n in 1.. {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (x, y) => return Some(format!("line {n}: committed {:?}, declarations make {:?}", x.unwrap_or(""), y.unwrap_or(""))),
        }
    }
    unreachable!()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn the_committed_bindings_are_what_the_declarations_make() {
        let current = render();
        let dir = Path::new(DIR);
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::create_dir_all(dir).expect("make ui/src/lib/bindings");
            for old in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                if !current.contains_key(&old.file_name().to_string_lossy().into_owned()) {
                    std::fs::remove_file(old.path()).expect("remove a file no longer generated");
                }
            }
            for (name, text) in &current {
                std::fs::write(dir.join(name), text).expect("write ui/src/lib/bindings");
            }
            return;
        }
        let committed: BTreeSet<String> =
            std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        let made: BTreeSet<String> = current.keys().cloned().collect();
        assert_eq!(committed, made, "ui/src/lib/bindings/ has other files than the declarations make: run `make bindings`");
        for (name, text) in &current {
            let have = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
            if let Some(at) = stale(&have, text) {
                panic!("ui/src/lib/bindings/{name} is stale ({at}): run `make bindings`");
            }
        }
    }

    #[test]
    fn a_type_changed_in_rust_makes_the_committed_file_stale() {
        let files = render();
        let error = &files["error.ts"];
        // The drift the hand-written file had: a problem kind the UI did not know.
        assert!(error.contains("\"wrong_count\""), "the Problem type reaches the bindings");
        let without: String = error.lines().filter(|l| !l.contains("\"wrong_count\"")).map(|l| format!("{l}\n")).collect();
        assert!(stale(&without, error).is_some_and(|at| at.contains("wrong_count")));
        // And one command more, or one less, is a change too.
        let commands = &files["commands.ts"];
        let fewer = commands.replacen("  sync_now: ", "  sync_later: ", 1);
        assert!(stale(&fewer, commands).is_some_and(|at| at.contains("sync_later")));
        assert_eq!(stale(commands, commands), None);
    }

    #[test]
    fn every_command_is_in_the_bindings_with_its_reply_and_every_name_is_imported() {
        let files = render();
        let commands = &files["commands.ts"];
        for name in super::super::DECLARED {
            assert!(commands.contains(&format!("\n  {name}: {{ args: ")), "{name}");
        }
        assert!(commands.contains("  setup: { args: { name: string, passphrase: string, }; reply: SetupReply };"), "{commands}");
        assert!(commands.contains("  timeline: { args: { kind: EntryKind | null, }; reply: Array<Entry> };"));
        // A name written by hand in a `#[ts(type)]` is imported like one ts-rs wrote.
        assert!(commands.contains("import type {") && commands.contains("EntryKind") && commands.contains("QuestionState"));
        assert!(files["error.ts"].contains("export type ErrorPayload = "));
        for (name, text) in &files {
            assert!(!text.contains("bigint"), "{name}: 64-bit integers arrive as numbers");
            assert!(text.lines().count() < 600, "{name} is {} lines", text.lines().count());
            // Every type a file names is declared in it or imported into it.
            let declared: BTreeSet<&str> = files
                .values()
                .flat_map(|t| t.lines())
                .filter_map(|l| l.strip_prefix("export type "))
                .filter_map(|l| l.split([' ', '<']).next())
                .collect();
            let own_or_imported = |id: &str| {
                text.contains(&format!("export type {id} "))
                    || text.contains(&format!("export type {id}<"))
                    || text.lines().any(|l| {
                        l.starts_with("import type {") && l.contains(&format!(" {id},"))
                            || l.starts_with("import type {") && l.contains(&format!(" {id} }}"))
                    })
            };
            for id in identifiers(text).into_iter().filter(|id| declared.contains(id)) {
                assert!(name == "index.ts" || own_or_imported(id), "{name} names {id} without importing it");
            }
        }
    }

    #[test]
    fn identifiers_leave_out_comments_and_literals() {
        let names = identifiers("/** An Advice. */ x: 'Advice' | Entry; // Saved\n y: Array<Score>");
        assert_eq!(names.into_iter().collect::<Vec<_>>(), ["Array", "Entry", "Score", "x", "y"]);
    }
}
