//! The builtins: the shell's own (`load`, `builtin`, `whatis`, `run`, `exit`, `@`, ...) and
//! those of Inferno's `std` module (`if`, `while`, `for`, `fn`, `~`, `rescue`, ...), with the
//! substitution builtins (`${hd}`, `${split}`, `${quote}`, ...), and Inferno's loadable
//! modules, each in its own file under `builtins/`: `file2chan`, `expr` (sh-expr(1)),
//! `string` (sh-string(1)) and `regex` (sh-regex(1)).
//!
//! Every module is built in; none is read from `/dis/sh`. `std` and `file2chan` are always
//! loaded (`load std` is accepted and does nothing). The optional modules, `expr`, `string`
//! and `regex`, are as in Inferno: their builtins exist in a shell only after `load` (or
//! `$autoload`) named them, and `unload` takes them away again. Each table entry names its
//! module, which is what `loaded` prints.
use super::context::Shell;
use super::eval::{Raise, Run, describe, raise_kernel};
use super::glob::match_pattern;
use super::value::{List, Value, quoted, texts, unquoted, words};
use kernel::Ctx;
use kernel::proc::PCTL_NAMES;

mod expr;
mod file2chan;
mod nsbuild;
mod regex;
mod string;

/// The modules whose builtins exist only once loaded.
pub const OPTIONAL_MODULES: &[&str] = &["expr", "string", "regex"];
/// The modules always loaded.
const RESIDENT_MODULES: &[&str] = &["std", "file2chan"];

/// Longest line `getlines` accepts.
const MAX_LINE: usize = 16 << 20;

/// A builtin command: the shell, the context, `argv` with the name first, and whether it is
/// the last thing the shell runs.
pub type Builtin = fn(&mut Shell, &Ctx, List, bool) -> Run;

/// A substitution builtin: `${name args}`.
pub type Substitution = fn(&mut Shell, &Ctx, List) -> Run<List>;

const BUILTINS: &[(&str, Builtin, &str)] = &[
    ("!", not, "std"),
    ("@", subshell, "builtin"),
    ("and", and, "std"),
    ("apply", apply, "std"),
    ("builtin", builtin_cmd, "builtin"),
    ("exit", exit, "builtin"),
    ("file2chan", file2chan::file2chan, "file2chan"),
    ("in", string::in_cmd, "string"),
    ("match", regex::match_cmd, "regex"),
    ("ntest", expr::ntest, "expr"),
    ("prefix", string::prefix, "string"),
    ("flag", flag, "std"),
    ("fn", define_fn, "std"),
    ("for", for_loop, "std"),
    ("getlines", getlines, "std"),
    ("if", if_cmd, "std"),
    ("load", load, "builtin"),
    ("loaded", loaded, "builtin"),
    ("no", no, "std"),
    ("nsbuild", nsbuild::nsbuild, "std"),
    ("or", or, "std"),
    ("pctl", pctl, "std"),
    ("raise", raise, "std"),
    ("rescue", rescue, "std"),
    ("run", run, "builtin"),
    ("status", status, "std"),
    ("subfn", define_subfn, "std"),
    ("syncenv", syncenv, "builtin"),
    ("unload", unload, "builtin"),
    ("whatis", whatis, "builtin"),
    ("while", while_loop, "std"),
    ("~", twiddle, "std"),
];

const SUBSTITUTIONS: &[(&str, Substitution, &str)] = &[
    ("alen", string::alen, "string"),
    ("bquote", bquote, "builtin"),
    ("builtin", builtin_subst, "builtin"),
    ("drop", string::drop, "string"),
    ("env", env, "std"),
    ("expr", expr::expr, "expr"),
    ("fields", string::fields, "string"),
    ("hd", hd, "std"),
    ("index", index, "std"),
    ("join", join, "std"),
    ("len", string::len, "string"),
    ("loaded", loaded_subst, "builtin"),
    ("padl", string::padl, "string"),
    ("padr", string::padr, "string"),
    ("parse", parse, "std"),
    ("pid", pid, "std"),
    ("quote", quote, "builtin"),
    ("re", regex::re, "regex"),
    ("slice", string::slice, "string"),
    ("split", split, "std"),
    ("splitl", string::splitl, "string"),
    ("splitr", string::splitr, "string"),
    ("splitstrl", string::splitstrl, "string"),
    ("splitstrr", string::splitstrr, "string"),
    ("take", string::take, "string"),
    ("tl", tl, "std"),
    ("tolower", string::tolower, "string"),
    ("toupper", string::toupper, "string"),
    ("unquote", unquote, "builtin"),
];

/// The builtin command named `name`, if its module is loaded in `shell`.
pub fn builtin(shell: &Shell, name: &str) -> Option<Builtin> {
    BUILTINS
        .iter()
        .find(|(builtin, _, module)| *builtin == name && shell.has_module(module))
        .map(|(_, function, _)| *function)
}

/// The substitution builtin named `name`, if its module is loaded in `shell`.
pub fn substitution(shell: &Shell, name: &str) -> Option<Substitution> {
    SUBSTITUTIONS
        .iter()
        .find(|(builtin, _, module)| *builtin == name && shell.has_module(module))
        .map(|(_, function, _)| *function)
}

/// Every builtin name of the modules always loaded, for completion.
pub fn names() -> impl Iterator<Item = &'static str> {
    BUILTINS
        .iter()
        .filter(|(_, _, module)| !OPTIONAL_MODULES.contains(module))
        .map(|(name, _, _)| *name)
}

/// The module `load` is given as `name` or `/dis/sh/name.dis`, if it is one of ours.
fn module_named(path: &str) -> Option<&'static str> {
    let name = path
        .strip_prefix("/dis/sh/")
        .and_then(|rest| rest.strip_suffix(".dis"))
        .unwrap_or(path);
    RESIDENT_MODULES
        .iter()
        .chain(OPTIONAL_MODULES)
        .find(|module| **module == name)
        .copied()
}

/// The optional module named `path`, if it is one (for `$autoload`).
pub fn optional_module(path: &str) -> Option<&'static str> {
    module_named(path).filter(|module| OPTIONAL_MODULES.contains(module))
}

fn usage(shell: &Shell, ctx: &Ctx, text: &str) -> Raise {
    shell.fail(ctx, "usage", &format!("sh: usage: {text}"))
}

fn word(value: &Value) -> String {
    value.text().into_owned()
}

/// Runs `command` with `$*` as its arguments (how `if`, `and`, ... run their blocks).
fn run_with_args(shell: &mut Shell, ctx: &Ctx, command: &Value) -> Run {
    let mut call = vec![command.clone()];
    call.extend(shell.get("*"));
    shell.run_list(ctx, call, false)
}

/// A loop body raised `break` (true) or `continue` (false); anything else goes on up.
fn loop_exception(result: Run) -> Result<Option<bool>, Raise> {
    match result {
        Ok(_) => Ok(None),
        Err(Raise::Exception(name)) if name == "break" => Ok(Some(true)),
        Err(Raise::Exception(name)) if name == "continue" => Ok(Some(false)),
        Err(other) => Err(other),
    }
}

fn not(shell: &mut Shell, ctx: &Ctx, argv: List, last: bool) -> Run {
    if argv.len() < 2 {
        return Ok("false".into());
    }
    let status = shell.run_list(ctx, argv[1..].to_vec(), last)?;
    Ok(if status.is_empty() {
        "false".into()
    } else {
        String::new()
    })
}

fn subshell(shell: &mut Shell, ctx: &Ctx, argv: List, _last: bool) -> Run {
    if argv.len() < 2 {
        return Ok(String::new());
    }
    let fds = ctx.fds().keep_only(&shell.keep_fds);
    let command = argv[1..].to_vec();
    let proc = shell.spawn(ctx, "sh", fds, false, move |shell, ctx| {
        shell.run_list(ctx, command, true)
    })?;
    shell.wait_for(ctx, &[proc])
}

fn and(shell: &mut Shell, ctx: &Ctx, argv: List, _last: bool) -> Run {
    for command in &argv[1..] {
        if !command.is_block() {
            return Err(usage(shell, ctx, "and [{cmd} ...]"));
        }
        let status = run_with_args(shell, ctx, command)?;
        if !status.is_empty() {
            return Ok(status);
        }
        shell.set_status("");
    }
    Ok(String::new())
}

fn or(shell: &mut Shell, ctx: &Ctx, argv: List, _last: bool) -> Run {
    let mut status = String::new();
    for command in &argv[1..] {
        if !command.is_block() {
            return Err(usage(shell, ctx, "or [{cmd} ...]"));
        }
        status = run_with_args(shell, ctx, command)?;
        if status.is_empty() {
            return Ok(status);
        }
        shell.set_status(&status);
    }
    Ok(status)
}

fn if_cmd(shell: &mut Shell, ctx: &Ctx, argv: List, _last: bool) -> Run {
    const USAGE: &str = "if {cond} {action} [{cond} {action}]... [{elseaction}]";
    let args = &argv[1..];
    if args.len() < 2 {
        return Err(usage(shell, ctx, USAGE));
    }
    let mut status = String::new();
    let mut index = 0;
    while index < args.len() {
        let action = if index + 1 == args.len() {
            index += 1;
            Some(&args[index - 1])
        } else {
            if !args[index].is_block() {
                return Err(usage(shell, ctx, USAGE));
            }
            status = run_with_args(shell, ctx, &args[index])?;
            shell.set_status(&status);
            if status.is_empty() {
                let action = &args[index + 1];
                index = args.len();
                Some(action)
            } else {
                index += 2;
                None
            }
        };
        if let Some(action) = action {
            if !action.is_block() {
                return Err(usage(shell, ctx, USAGE));
            }
            status = run_with_args(shell, ctx, action)?;
        }
    }
    Ok(status)
}

fn while_loop(shell: &mut Shell, ctx: &Ctx, argv: List, _last: bool) -> Run {
    if argv.len() != 3 || !argv[1].is_block() || !argv[2].is_block() {
        return Err(usage(shell, ctx, "while {condition} {cmd}"));
    }
    let mut status = String::new();
    loop {
        let condition = run_with_args(shell, ctx, &argv[1]);
        match loop_exception(condition.clone())? {
            Some(true) => return Ok(status),
            Some(false) => continue,
            None => {}
        }
        if !condition.unwrap_or_default().is_empty() {
            return Ok(status);
        }
        let result = run_with_args(shell, ctx, &argv[2]);
        if let Ok(body) = &result {
            status = body.clone();
            shell.set_status(&status);
        }
        if loop_exception(result)? == Some(true) {
            return Ok(status);
        }
    }
}

fn for_loop(shell: &mut Shell, ctx: &Ctx, argv: List, _last: bool) -> Run {
    const USAGE: &str = "for var in [item...] {cmd}";
    if argv.len() < 4 || word(&argv[2]) != "in" {
        return Err(usage(shell, ctx, USAGE));
    }
    let var = word(&argv[1]);
    if var.is_empty() {
        return Err(shell.fail(ctx, "bad assign", "for: bad variable name"));
    }
    let command = argv[argv.len() - 1].clone();
    if !command.is_block() {
        return Err(usage(shell, ctx, USAGE));
    }
    let mut status = String::new();
    for item in &argv[3..argv.len() - 1] {
        shell.set_local(&var, vec![item.clone()]);
        let result = run_with_args(shell, ctx, &command);
        if let Ok(body) = &result {
            status = body.clone();
            shell.set_status(&status);
        }
        if loop_exception(result)? == Some(true) {
            break;
        }
    }
    Ok(status)
}

fn apply(shell: &mut Shell, ctx: &Ctx, argv: List, _last: bool) -> Run {
    if argv.len() < 2 || !argv[1].is_block() {
        return Err(usage(shell, ctx, "apply {cmd} [val...]"));
    }
    let mut status = String::new();
    for item in &argv[2..] {
        let result = shell.run_list(ctx, vec![argv[1].clone(), item.clone()], false);
        if let Ok(body) = &result {
            status = body.clone();
            shell.set_status(&status);
        }
        if loop_exception(result)? == Some(true) {
            break;
        }
    }
    Ok(status)
}

fn getlines(shell: &mut Shell, ctx: &Ctx, argv: List, _last: bool) -> Run {
    const USAGE: &str = "getlines [separators] {cmd}";
    let (separators, command) = match argv.len() {
        2 => ("\n".to_string(), argv[1].clone()),
        3 => (word(&argv[1]), argv[2].clone()),
        _ => return Err(usage(shell, ctx, USAGE)),
    };
    if separators.is_empty() || !command.is_block() {
        return Err(usage(shell, ctx, USAGE));
    }
    let mut status = String::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 8192];
    let mut finished = false;
    shell.push();
    let outcome = loop {
        let boundary = pending
            .iter()
            .position(|byte| separators.as_bytes().contains(byte));
        let line = match boundary {
            Some(end) => {
                let line = String::from_utf8_lossy(&pending[..end]).into_owned();
                pending.drain(..=end);
                line
            }
            None if finished => {
                if pending.is_empty() {
                    break Ok(status);
                }
                let line = String::from_utf8_lossy(&pending).into_owned();
                pending.clear();
                line
            }
            None if pending.len() > MAX_LINE => {
                break Err(shell.fail(ctx, "line too long", "getlines: line too long"));
            }
            None => {
                match ctx.read(0, &mut buf) {
                    Ok(0) => finished = true,
                    Ok(count) => pending.extend_from_slice(&buf[..count]),
                    Err(error) => break Err(raise_kernel(error)),
                }
                continue;
            }
        };
        shell.set_local("line", vec![Value::Word(line)]);
        let result = run_with_args(shell, ctx, &command);
        if let Ok(body) = &result {
            status = body.clone();
            shell.set_status(&status);
        }
        match loop_exception(result) {
            Ok(Some(true)) => break Ok(status),
            Ok(_) => {}
            Err(raise) => break Err(raise),
        }
    };
    shell.pop();
    outcome
}

fn twiddle(shell: &mut Shell, ctx: &Ctx, argv: List, _last: bool) -> Run {
    if argv.len() < 2 {
        return Err(usage(shell, ctx, "~ word [pattern...]"));
    }
    let subject = word(&argv[1]);
    let matched = argv[2..]
        .iter()
        .any(|pattern| match_pattern(&word(pattern), &subject));
    Ok(if matched {
        String::new()
    } else {
        "no match".into()
    })
}

fn no(_shell: &mut Shell, _ctx: &Ctx, argv: List, _last: bool) -> Run {
    Ok(if argv.len() > 1 {
        "yes".into()
    } else {
        String::new()
    })
}

fn status(_shell: &mut Shell, _ctx: &Ctx, argv: List, _last: bool) -> Run {
    Ok(argv.get(1).map(word).unwrap_or_default())
}

fn raise(shell: &mut Shell, ctx: &Ctx, argv: List, _last: bool) -> Run {
    let name = match argv.get(1) {
        Some(Value::Word(name)) => name.clone(),
        Some(Value::Block(_)) => {
            return Err(shell.fail(ctx, "bad raise context", "raise: bad exception name"));
        }
        None => match shell.get("exception").first() {
            Some(value) => word(value),
            None => return Err(shell.fail(ctx, "bad raise context", "raise: no exception found")),
        },
    };
    Err(Raise::Exception(name))
}

fn rescue(shell: &mut Shell, ctx: &Ctx, argv: List, last: bool) -> Run {
    if argv.len() != 4 || !argv[2].is_block() || !argv[3].is_block() {
        return Err(usage(shell, ctx, "rescue pattern {rescuecmd} {cmd}"));
    }
    let Value::Word(pattern) = &argv[1] else {
        return Err(shell.fail(ctx, "usage", "rescue: bad pattern"));
    };
    let caught = match run_with_args(shell, ctx, &argv[3]) {
        Err(Raise::Exception(name)) => {
            let matches = match pattern.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => name == *pattern,
            };
            if !matches {
                return Err(Raise::Exception(name));
            }
            name
        }
        other => return other,
    };
    shell.push();
    shell.set_local("exception", vec![Value::Word(caught)]);
    let mut call = vec![argv[2].clone()];
    call.extend(shell.get("*"));
    let result = shell.run_list(ctx, call, last);
    shell.pop();
    result
}

fn exit(_shell: &mut Shell, _ctx: &Ctx, argv: List, _last: bool) -> Run {
    Err(Raise::Exit(argv.get(1).map(word).unwrap_or_default()))
}

fn define(shell: &mut Shell, ctx: &Ctx, argv: List, prefix: &str) -> Run {
    let title = word(&argv[0]);
    let form = format!("{title} [name...] [{{body}}]");
    if argv.len() < 2 {
        return Err(usage(shell, ctx, &form));
    }
    let last = argv.len() - 1;
    if argv[1..last]
        .iter()
        .any(|value| matches!(value, Value::Block(_)))
    {
        return Err(usage(shell, ctx, &form));
    }
    if matches!(argv[last], Value::Block(_)) {
        for name in &argv[1..last] {
            shell.set(&format!("{prefix}{}", word(name)), vec![argv[last].clone()]);
        }
    } else {
        for name in &argv[1..] {
            shell.set(&format!("{prefix}{}", word(name)), Vec::new());
        }
    }
    Ok(String::new())
}

fn define_fn(shell: &mut Shell, ctx: &Ctx, argv: List, _last: bool) -> Run {
    define(shell, ctx, argv, "fn-")
}

fn define_subfn(shell: &mut Shell, ctx: &Ctx, argv: List, _last: bool) -> Run {
    define(shell, ctx, argv, "sfn-")
}

fn flag(shell: &mut Shell, ctx: &Ctx, argv: List, _last: bool) -> Run {
    const USAGE: &str = "flag [vxei] [+-]";
    let letter = argv.get(1).map(word).unwrap_or_default();
    if !(2..=3).contains(&argv.len()) || letter.chars().count() != 1 {
        return Err(usage(shell, ctx, USAGE));
    }
    let setting = match letter.as_str() {
        "v" => &mut shell.flags.verbose,
        "x" => &mut shell.flags.execprint,
        "e" => &mut shell.flags.errexit,
        "i" => &mut shell.flags.interactive,
        _ => return Err(usage(shell, ctx, USAGE)),
    };
    match argv.get(2).map(word).as_deref() {
        None => Ok(if *setting {
            String::new()
        } else {
            "not set".into()
        }),
        Some("+") => {
            *setting = true;
            Ok(String::new())
        }
        Some("-") => {
            *setting = false;
            Ok(String::new())
        }
        Some(_) => Err(usage(shell, ctx, USAGE)),
    }
}

fn pctl(shell: &mut Shell, ctx: &Ctx, argv: List, _last: bool) -> Run {
    if argv.len() < 2 {
        return Err(usage(shell, ctx, "pctl option... [fdnum...]"));
    }
    let mut mask = 0;
    let mut keep = Vec::new();
    for arg in &argv[1..] {
        let arg = word(arg);
        if let Ok(fd) = arg.parse::<i32>() {
            keep.push(fd);
            continue;
        }
        match PCTL_NAMES.iter().find(|(name, _)| *name == arg) {
            Some((_, bit)) => mask |= bit,
            None => return Err(shell.fail(ctx, "usage", &format!("pctl: unknown flag {arg}"))),
        }
    }
    ctx.pctl(mask, &keep).map_err(raise_kernel)?;
    if mask & (kernel::proc::NEWENV | kernel::proc::FORKENV) != 0 {
        // The shell's variables now go to the new environment on their next change;
        // write them all so commands see what the shell sees.
        for name in shell.names() {
            let value = shell.get(&name);
            shell.set(&name, value);
        }
    }
    Ok(String::new())
}

fn load(shell: &mut Shell, ctx: &Ctx, argv: List, _last: bool) -> Run {
    if argv.len() < 2 {
        return Err(usage(shell, ctx, "load path..."));
    }
    for path in texts(&argv[1..]) {
        let Some(module) = module_named(&path) else {
            return Err(shell.fail(
                ctx,
                "bad module",
                &format!(
                    "sh: cannot load {path}: no such module (built in: std file2chan expr string regex)"
                ),
            ));
        };
        if OPTIONAL_MODULES.contains(&module) {
            shell.load_module(module);
        }
    }
    Ok(String::new())
}

fn unload(shell: &mut Shell, ctx: &Ctx, argv: List, _last: bool) -> Run {
    if argv.len() < 2 {
        return Err(usage(shell, ctx, "unload path..."));
    }
    // std and file2chan stay: the shell's own builtins need them.
    for path in texts(&argv[1..]) {
        if let Some(module) = optional_module(&path) {
            shell.modules.retain(|loaded| *loaded != module);
        }
    }
    Ok(String::new())
}

fn loaded(shell: &mut Shell, ctx: &Ctx, _argv: List, _last: bool) -> Run {
    let mut text = String::new();
    for (name, _, module) in BUILTINS {
        if shell.has_module(module) {
            text.push_str(&format!("{name}\t{module}\n"));
        }
    }
    for (name, _, module) in SUBSTITUTIONS {
        if shell.has_module(module) {
            text.push_str(&format!("${{{name}}}\t{module}\n"));
        }
    }
    ctx.write_all(1, text.as_bytes()).map_err(raise_kernel)?;
    Ok(String::new())
}

fn builtin_cmd(shell: &mut Shell, ctx: &Ctx, argv: List, last: bool) -> Run {
    if argv.len() < 2 {
        return Err(usage(shell, ctx, "builtin command [args ...]"));
    }
    let name = word(&argv[1]);
    match builtin(shell, &name) {
        Some(function) => function(shell, ctx, argv[1..].to_vec(), last),
        None => Err(shell.fail(
            ctx,
            "builtin not found",
            &format!("sh: builtin {name} not found"),
        )),
    }
}

fn syncenv(shell: &mut Shell, ctx: &Ctx, _argv: List, _last: bool) -> Run {
    shell.export(ctx);
    Ok(String::new())
}

fn run(shell: &mut Shell, ctx: &Ctx, argv: List, _last: bool) -> Run {
    if argv.len() < 2 {
        return Err(usage(shell, ctx, "run path"));
    }
    let path = word(&argv[1]);
    let interactive = shell.flags.interactive;
    shell.flags.interactive = false;
    let result = super::run_script_file(shell, ctx, &path, argv[2..].to_vec(), true);
    shell.flags.interactive = interactive;
    match result {
        Err(Raise::Exception(name)) => Ok(name),
        other => other,
    }
}

fn whatis(shell: &mut Shell, ctx: &Ctx, argv: List, _last: bool) -> Run {
    if argv.len() < 2 {
        return Err(usage(shell, ctx, "whatis name ..."));
    }
    let mut status = String::new();
    let mut out = String::new();
    for value in &argv[1..] {
        if value.is_block() {
            out.push_str(&describe(value));
            out.push('\n');
            continue;
        }
        let name = word(value);
        let mut found = String::new();
        let val = shell.get(&name);
        if !val.is_empty() {
            found.push_str(&format!(
                "{}={}\n",
                kernel::text::quote(&name),
                quoted(&val, false)
            ));
        }
        if let Some(body) = shell.get(&format!("sfn-{name}")).first() {
            found.push_str(&format!("subfn {name} {}\n", describe(body)));
        } else if substitution(shell, &name).is_some() {
            found.push_str(&format!("${{builtin {name}}}\n"));
        }
        if let Some(body) = shell.get(&format!("fn-{name}")).first() {
            found.push_str(&format!("fn {name} {}\n", describe(body)));
        } else if builtin(shell, &name).is_some() {
            found.push_str(&format!("builtin {name}\n"));
        } else if let Some(path) = find_program(shell, ctx, &name) {
            found.push_str(&path);
            found.push('\n');
        }
        if found.is_empty() {
            let _ = ctx.write_all(2, format!("{name}: not found\n").as_bytes());
            status = "not found".into();
        }
        out.push_str(&found);
    }
    ctx.write_all(1, out.as_bytes()).map_err(raise_kernel)?;
    Ok(status)
}

/// Where `$path` finds program `name`, if anywhere.
pub fn find_program(shell: &Shell, ctx: &Ctx, name: &str) -> Option<String> {
    let absolute = ["/", "#", "./", "../"]
        .iter()
        .any(|prefix| name.starts_with(prefix));
    let dirs = if absolute {
        vec![String::new()]
    } else {
        let path = shell.get_texts("path");
        if path.is_empty() {
            vec!["/dis".into(), ".".into()]
        } else {
            path
        }
    };
    dirs.into_iter()
        .map(|dir| {
            if dir.is_empty() {
                name.to_string()
            } else {
                format!("{dir}/{name}")
            }
        })
        .find(|path| {
            ctx.stat(path)
                .is_ok_and(|dir| !dir.is_dir() && dir.mode & 0o111 != 0)
        })
}

fn bquote(_shell: &mut Shell, _ctx: &Ctx, argv: List) -> Run<List> {
    Ok(vec![Value::Word(quoted(&argv[1..], false))])
}

fn quote(_shell: &mut Shell, _ctx: &Ctx, argv: List) -> Run<List> {
    Ok(vec![Value::Word(quoted(&argv[1..], true))])
}

fn unquote(shell: &mut Shell, ctx: &Ctx, argv: List) -> Run<List> {
    if argv.len() != 2 {
        return Err(usage(shell, ctx, "unquote arg"));
    }
    Ok(unquoted(&word(&argv[1])))
}

fn builtin_subst(shell: &mut Shell, ctx: &Ctx, argv: List) -> Run<List> {
    if argv.len() < 2 {
        return Err(usage(shell, ctx, "builtin command [args ...]"));
    }
    let name = word(&argv[1]);
    match substitution(shell, &name) {
        Some(function) => function(shell, ctx, argv[1..].to_vec()),
        None => Err(shell.fail(
            ctx,
            "builtin not found",
            &format!("sh: builtin {name} not found"),
        )),
    }
}

fn loaded_subst(shell: &mut Shell, _ctx: &Ctx, _argv: List) -> Run<List> {
    let mut modules = vec!["builtin", "std", "file2chan"];
    modules.extend(shell.modules.iter().copied());
    Ok(words(modules))
}

fn env(shell: &mut Shell, _ctx: &Ctx, _argv: List) -> Run<List> {
    Ok(words(shell.names()))
}

fn hd(_shell: &mut Shell, _ctx: &Ctx, argv: List) -> Run<List> {
    Ok(argv.into_iter().skip(1).take(1).collect())
}

fn tl(_shell: &mut Shell, _ctx: &Ctx, argv: List) -> Run<List> {
    Ok(argv.into_iter().skip(2).collect())
}

fn index(shell: &mut Shell, ctx: &Ctx, argv: List) -> Run<List> {
    let position = argv.get(1).map(word).and_then(|n| n.parse::<usize>().ok());
    let Some(position) = position.filter(|_| argv.len() >= 2) else {
        return Err(usage(shell, ctx, "index num list"));
    };
    Ok(position
        .checked_sub(1)
        .and_then(|index| argv.get(2 + index).cloned())
        .into_iter()
        .collect())
}

fn split(shell: &mut Shell, ctx: &Ctx, argv: List) -> Run<List> {
    let (separators, value) = match argv.len() {
        2 => {
            let ifs = shell.get_texts("ifs").concat();
            if ifs.is_empty() {
                return Err(shell.fail(ctx, "usage", "split: $ifs not set"));
            }
            (ifs, word(&argv[1]))
        }
        3 => (word(&argv[1]), word(&argv[2])),
        _ => return Err(usage(shell, ctx, "split [separators] value")),
    };
    Ok(value
        .split(|ch| separators.contains(ch))
        .filter(|piece| !piece.is_empty())
        .map(Value::word)
        .collect())
}

fn join(shell: &mut Shell, ctx: &Ctx, argv: List) -> Run<List> {
    if argv.len() < 2 {
        return Err(usage(shell, ctx, "join separator [arg...]"));
    }
    let separator = word(&argv[1]);
    Ok(vec![Value::Word(texts(&argv[2..]).join(&separator))])
}

fn pid(_shell: &mut Shell, ctx: &Ctx, _argv: List) -> Run<List> {
    Ok(vec![Value::Word(ctx.pid().to_string())])
}

fn parse(shell: &mut Shell, ctx: &Ctx, argv: List) -> Run<List> {
    if argv.len() != 2 {
        return Err(usage(shell, ctx, "parse arg"));
    }
    match &argv[1] {
        Value::Block(script) => Ok(vec![Value::Block(script.clone())]),
        Value::Word(text) if text.starts_with('{') => {
            let script = shell.parse_block(ctx, text)?;
            Ok(vec![Value::Block(script)])
        }
        Value::Word(_) => {
            Err(shell.fail(ctx, "parse error", "parse: argument must be a braced block"))
        }
    }
}
