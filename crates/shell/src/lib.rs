//! `sh`, Inferno's shell, and the native programs ember serves on `/dis`.
//!
//! - `syntax`: source text to a typed tree and back (Inferno `sh.y`);
//! - `sh`: the evaluator, builtins and the `sh` program (Inferno `sh.b`, `std.b`);
//! - `commands`: the other programs (`ls`, `cat`, `bind`, ...), one function each;
//! - [`programs`]: the table the `#x` device serves.

pub mod commands;
pub mod sh;
pub mod syntax;

use kernel::Program;

/// Every native program, in name order.
pub fn programs() -> Vec<(&'static str, Program)> {
    let mut programs = commands::programs();
    programs.push(("sh", sh::main as Program));
    programs.sort_by_key(|(name, _)| *name);
    programs
}
