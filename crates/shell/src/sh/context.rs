//! The state of one shell (Inferno sh's `Context` and `Localenv`): variables in a stack of
//! scopes, the option flags, and which descriptors commands inherit.
//!
//! Variables live in the shell; the environment group (`/env`) is how they reach other
//! processes. As in Inferno, a new shell starts from the environment, a changed variable is
//! written back before an external command runs (locals included, since the command sees the
//! shell's current view), and `0`, `*` and `status` are never exported.

use super::value::{List, Value, quoted, unquoted};
use kernel::Ctx;
use std::collections::HashMap;

#[derive(Clone, Debug)]
struct Var {
    value: List,
    changed: bool,
}

/// The shell's option flags (`flag` builtin letters).
#[derive(Clone, Copy, Debug, Default)]
pub struct Flags {
    /// `i`: prompt and survive errors.
    pub interactive: bool,
    /// `v`: print diagnostics (always on, as in Inferno).
    pub verbose: bool,
    /// `e`: a command that fails ends the shell.
    pub errexit: bool,
    /// `x`: print each simple command before running it.
    pub execprint: bool,
}

/// One shell's state.
#[derive(Clone, Debug)]
pub struct Shell {
    scopes: Vec<HashMap<String, Var>>,
    pub flags: Flags,
    /// Descriptors commands inherit: 0, 1, 2 and those redirected.
    pub keep_fds: Vec<i32>,
    /// How deeply blocks are nested, to refuse runaway recursion cleanly.
    pub depth: usize,
    /// The optional modules `load` has loaded (`expr`, `string`, `regex`): their builtins
    /// exist only in a shell that has them. Copies of the shell keep them.
    pub modules: Vec<&'static str>,
}

fn noexport(name: &str) -> bool {
    matches!(name, "0" | "*" | "status")
        || name.is_empty()
        || name.contains('/')
        || name == "."
        || name == ".."
        || kernel::path::valid_name(name).is_err()
}

impl Shell {
    /// A shell whose variables come from the caller's environment.
    pub fn new(ctx: &Ctx) -> Shell {
        let mut globals = HashMap::new();
        for (name, var) in ctx.env().list() {
            let text = String::from_utf8_lossy(&var.value);
            globals.insert(
                name,
                Var {
                    value: unquoted(&text),
                    changed: false,
                },
            );
        }
        let mut shell = Shell {
            scopes: vec![globals],
            flags: Flags {
                verbose: true,
                ..Flags::default()
            },
            keep_fds: vec![0, 1, 2],
            depth: 0,
            modules: Vec::new(),
        };
        // As in Inferno, a new shell loads the modules `$autoload` names.
        for name in shell.get_texts("autoload") {
            if let Some(module) = super::builtins::optional_module(&name) {
                shell.load_module(module);
            }
        }
        shell
    }

    /// A copy for a new process: every visible variable, flattened into one scope.
    pub fn child(&self) -> Shell {
        let mut flat: HashMap<String, Var> = HashMap::new();
        for scope in self.scopes.iter().rev() {
            for (name, var) in scope {
                flat.entry(name.clone()).or_insert_with(|| var.clone());
            }
        }
        Shell {
            scopes: vec![flat],
            flags: self.flags,
            keep_fds: self.keep_fds.clone(),
            depth: self.depth,
            modules: self.modules.clone(),
        }
    }

    fn find(&self, name: &str) -> Option<&Var> {
        self.scopes.iter().rev().find_map(|scope| scope.get(name))
    }

    /// The value of `name`; `$1`, `$2`, ... index `$*`.
    pub fn get(&self, name: &str) -> List {
        let numeric = name.bytes().all(|byte| byte.is_ascii_digit())
            && !name.is_empty()
            && !name.starts_with('0');
        if numeric {
            let index = name.parse::<usize>().unwrap_or(usize::MAX);
            return self
                .find("*")
                .and_then(|var| var.value.get(index - 1).cloned())
                .into_iter()
                .collect();
        }
        self.find(name)
            .map(|var| var.value.clone())
            .unwrap_or_default()
    }

    /// The value of `name` as one string per element.
    pub fn get_texts(&self, name: &str) -> Vec<String> {
        self.get(name)
            .iter()
            .map(|v| v.text().into_owned())
            .collect()
    }

    /// Sets `name` in the innermost scope that has it, else in the global scope.
    pub fn set(&mut self, name: &str, value: List) {
        let scope = self
            .scopes
            .iter()
            .rposition(|scope| scope.contains_key(name))
            .unwrap_or(0);
        self.scopes[scope].insert(
            name.to_string(),
            Var {
                value,
                changed: true,
            },
        );
    }

    /// Sets `name` in the innermost scope (`:=`).
    pub fn set_local(&mut self, name: &str, value: List) {
        let scope = self.scopes.len() - 1;
        self.scopes[scope].insert(
            name.to_string(),
            Var {
                value,
                changed: true,
            },
        );
    }

    /// Enters a block's scope.
    pub fn push(&mut self) {
        self.scopes.push(HashMap::new());
    }

    /// Leaves a block's scope. Variables it hid become visible again and will be exported
    /// anew; variables only it had are unset.
    pub fn pop(&mut self) {
        if self.scopes.len() <= 1 {
            return;
        }
        let popped = self.scopes.pop().unwrap_or_default();
        for name in popped.into_keys() {
            let position = self
                .scopes
                .iter()
                .rposition(|scope| scope.contains_key(&name));
            match position {
                Some(index) => {
                    if let Some(var) = self.scopes[index].get_mut(&name) {
                        var.changed = true;
                    }
                }
                None => self.set(&name, Vec::new()),
            }
        }
    }

    /// Writes changed variables to the environment group, so commands see them.
    pub fn export(&mut self, ctx: &Ctx) {
        let env = ctx.env();
        let mut done: Vec<String> = Vec::new();
        for index in (0..self.scopes.len()).rev() {
            for (name, var) in self.scopes[index].iter_mut() {
                if done.contains(name) {
                    continue;
                }
                done.push(name.clone());
                if !var.changed || noexport(name) {
                    continue;
                }
                var.changed = false;
                if var.value.is_empty() {
                    let _ = env.remove(name);
                } else {
                    let _ = env.set(name, quoted(&var.value, true).as_bytes());
                }
            }
        }
    }

    /// Every variable name with a non-empty value (`${env}`).
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for scope in &self.scopes {
            for (name, var) in scope {
                if !var.value.is_empty() && !names.contains(name) {
                    names.push(name.clone());
                }
            }
        }
        names.retain(|name| self.find(name).is_some_and(|var| !var.value.is_empty()));
        names.sort();
        names
    }

    /// Makes an optional module's builtins available (`load`).
    pub fn load_module(&mut self, module: &'static str) {
        if !self.modules.contains(&module) {
            self.modules.push(module);
        }
    }

    /// Whether the builtins of `module` are available: the shell's own, `std` and
    /// `file2chan` always are, the optional ones once loaded.
    pub fn has_module(&self, module: &str) -> bool {
        !super::builtins::OPTIONAL_MODULES.contains(&module) || self.modules.contains(&module)
    }

    /// The `$status` value.
    pub fn set_status(&mut self, status: &str) {
        let value = if status.is_empty() {
            Vec::new()
        } else {
            vec![Value::word(status)]
        };
        self.set("status", value);
    }
}
