//! `ui/src/lib/bindings.ts`: the TypeScript of every command's arguments and reply, and of
//! every type they reach, generated with `ts-rs` from the declarations in [`super`]. The file is
//! committed; a test fails while it differs from what the declarations make, and
//! `make bindings` (`UPDATE_BINDINGS=1` on that test) writes it again.

use super::Command;
use std::collections::BTreeMap;
use ts_rs::{TypeVisitor, TS};

/// Where the bindings live, from this crate.
pub const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../ui/src/lib/bindings.ts");

/// What [`super::each_command`] calls for every command.
pub(crate) trait Visit {
    fn command<C: Command>(&mut self);
}

#[derive(Default)]
struct Collect {
    /// Every named type reached, by its TypeScript name: its declaration.
    types: BTreeMap<String, String>,
    /// `name: { args: …; reply: … }` for each command, in declared order.
    commands: Vec<String>,
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
        self.types.insert(name, format!("export {}", numbers(T::decl())));
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

/// The whole file, as the declarations make it now.
pub fn render() -> String {
    let mut all = Collect::default();
    super::each_command(&mut all);
    // Errors cross the bridge too, though no command names them as a reply.
    all.visit::<crate::ErrorPayload>();
    let mut out = String::from(
        "// Generated from `companion_core::api` by ts-rs: do not edit by hand.\n\
         // `make bindings` writes it again after a command or a type it reaches changes.\n\n",
    );
    for decl in all.types.values() {
        out.push_str(decl);
        out.push_str("\n\n");
    }
    out.push_str("/** Every command the window may call: its arguments and its reply. */\nexport type Commands = {\n");
    for c in &all.commands {
        out.push_str(c);
        out.push('\n');
    }
    out.push_str("};\n");
    out
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

    #[test]
    fn the_committed_bindings_are_what_the_declarations_make() {
        let current = render();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(PATH, &current).expect("write ui/src/lib/bindings.ts");
            return;
        }
        let committed = std::fs::read_to_string(PATH).unwrap_or_default();
        if let Some(at) = stale(&committed, &current) {
            panic!("ui/src/lib/bindings.ts is stale ({at}): run `make bindings`");
        }
    }

    #[test]
    fn a_type_changed_in_rust_makes_the_committed_file_stale() {
        let current = render();
        // The drift the hand-written file had: a problem kind the UI did not know.
        assert!(current.contains("\"wrong_count\""), "the Problem type reaches the bindings");
        let without: String = current.lines().filter(|l| !l.contains("\"wrong_count\"")).map(|l| format!("{l}\n")).collect();
        assert!(stale(&without, &current).is_some_and(|at| at.contains("wrong_count")));
        // And one command more, or one less, is a change too.
        let fewer = current.replacen("  sync_now: ", "  sync_later: ", 1);
        assert!(stale(&fewer, &current).is_some_and(|at| at.contains("sync_later")));
        assert_eq!(stale(&current, &current), None);
    }

    #[test]
    fn every_command_is_in_the_bindings_with_its_reply() {
        let current = render();
        for name in super::super::DECLARED {
            assert!(current.contains(&format!("\n  {name}: {{ args: ")), "{name}");
        }
        assert!(current.contains("  setup: { args: { name: string, passphrase: string, }; reply: SetupReply };"), "{current}");
        assert!(current.contains("export type ErrorPayload = "));
        assert!(!current.contains("bigint"), "64-bit integers arrive as numbers");
        assert!(current.contains("  timeline: { args: { kind: EntryKind | null, }; reply: Array<Entry> };"));
    }
}
