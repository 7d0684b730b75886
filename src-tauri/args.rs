//! A command's arguments as the contract declares them (`companion_core::api::args`): read
//! from the whole invoke payload, so the shell, the core and the generated TypeScript agree on
//! every name and type.

use companion_core::api::Command;
use companion_core::ErrorPayload;
use tauri::ipc::{CommandArg, CommandItem, InvokeBody, InvokeError};

/// The declared arguments of command `C`.
pub struct Args<C>(pub C);

/// What command `C` answers, or the error the window translates.
pub type Reply<C> = Result<<C as Command>::Reply, ErrorPayload>;

impl<'de, R: tauri::Runtime, C: Command> CommandArg<'de, R> for Args<C> {
    fn from_command(item: CommandItem<'de, R>) -> Result<Self, InvokeError> {
        // A command registered under one name that reads another's arguments is a slip in the
        // shell: refused, so the test that calls every command finds it.
        if item.name != C::NAME {
            return Err(InvokeError::from(format!("command `{}` reads the arguments of `{}`", item.name, C::NAME)));
        }
        match item.message.payload() {
            // Arguments that do not fit: `invalid`, naming nothing that was sent (serde's own
            // text can quote a value).
            InvokeBody::Json(v) => C::deserialize(v).map(Args).map_err(|_| {
                InvokeError::from(ErrorPayload {
                    code: companion_core::ErrorCode::Invalid,
                    message: format!("the arguments do not fit the command {}", C::NAME),
                    field: None,
                    problem: None,
                    retry_after_secs: None,
                })
            }),
            InvokeBody::Raw(_) => Err(InvokeError::from(format!("command `{}` takes JSON arguments", item.name))),
        }
    }
}
