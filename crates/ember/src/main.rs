//! `ember [-r root] [-u user] [-v] [-G chip] [command [arg ...]]`: the binary (Inferno's `emu`).
//! Reads its flags, finds the root tree, builds the kernel with every device, the boot
//! namespace and the first process, runs `command` (default `sh -l`) in it, and exits when
//! the last process has, with status 0 if the first process ended with an empty status.

mod boot;
mod rootfs;

use kernel::{Ctx, Exit, Kernel};
use std::path::PathBuf;
use std::sync::Arc;

const USAGE: &str = "usage: ember [-r root] [-u user] [-v] [-G chip] [command [arg ...]]";

/// What the command line asked for.
#[derive(Debug, Default, PartialEq, Eq)]
struct Options {
    root: Option<PathBuf>,
    user: Option<String>,
    verbose: bool,
    /// `-G chip`: what `#G` attaches by default (`sim`, or a host chip's name).
    gpio: Option<String>,
    /// `-h` or `--help`: print the usage line and exit 0.
    help: bool,
    command: Vec<String>,
}

/// Parses flags as emu does: they come first, each `-r`, `-u` and `-G` with its value attached or
/// as the next argument; the first word that is not a flag starts the command.
fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut options = Options::default();
    let mut index = 0;
    while index < args.len() {
        let arg = &args[index];
        if arg == "--" {
            index += 1;
            break;
        }
        if arg == "--help" {
            options.help = true;
            index += 1;
            continue;
        }
        if !arg.starts_with('-') || arg == "-" {
            break;
        }
        for (position, letter) in arg[1..].char_indices() {
            match letter {
                'v' => options.verbose = true,
                'h' => options.help = true,
                'r' | 'u' | 'G' => {
                    let attached = &arg[1 + position + 1..];
                    let value = if !attached.is_empty() {
                        attached.to_string()
                    } else {
                        index += 1;
                        args.get(index)
                            .cloned()
                            .ok_or_else(|| format!("ember: -{letter} needs a value"))?
                    };
                    if value.is_empty() {
                        return Err(format!("ember: -{letter} needs a value"));
                    }
                    match letter {
                        'r' => options.root = Some(PathBuf::from(value)),
                        'u' => options.user = Some(check_user(&value)?),
                        _ => options.gpio = Some(value),
                    }
                    break;
                }
                other => return Err(format!("ember: unknown flag -{other}")),
            }
        }
        index += 1;
    }
    options.command = args[index..].to_vec();
    Ok(options)
}

/// A user name is checked like any file name (it names `/usr/<user>`): no `/`, no blank or
/// control character, not `.` or `..`.
fn check_user(name: &str) -> Result<String, String> {
    let plain = !name.is_empty()
        && name != "."
        && name != ".."
        && kernel::path::valid_name(name).is_ok()
        && !name
            .chars()
            .any(|ch| ch == '/' || ch.is_whitespace() || ch.is_control() || ch == '\'');
    if plain {
        Ok(name.to_string())
    } else {
        Err(format!("ember: bad user name {name:?}"))
    }
}

/// The host login name, as emu takes it for the host owner.
fn host_user() -> String {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|user| user.name)
        .or_else(|| std::env::var("USER").ok().filter(|user| !user.is_empty()))
        .unwrap_or_else(|| "inferno".to_string())
}

fn choose_root(options: &Options) -> Result<PathBuf, String> {
    if let Some(root) = &options.root {
        return Ok(root.clone());
    }
    if let Some(root) = std::env::var_os("EMBER_ROOT").filter(|root| !root.is_empty()) {
        return Ok(PathBuf::from(root));
    }
    let root = rootfs::default_root()?;
    rootfs::ensure_unpacked(&root)?;
    Ok(root)
}

/// Runs the first command: a native program found in `/dis` (or by its own path), or a
/// script, which `sh` runs.
fn run_first(ctx: &Ctx, argv: &[String]) -> Exit {
    let name = &argv[0];
    let direct = ["/", "#", "./", "../"]
        .iter()
        .any(|prefix| name.starts_with(prefix));
    let path = if direct {
        name.clone()
    } else {
        format!("/dis/{name}")
    };
    ctx.proc.set_name(name.rsplit('/').next().unwrap_or(name));
    match ctx.program(&path) {
        Ok(Some(program)) => program(ctx, argv),
        Ok(None) => {
            let shell = ctx
                .program("/dis/sh")
                .ok()
                .flatten()
                .ok_or_else(|| format!("{name}: not a program, and no /dis/sh to run it"))?;
            let mut script = vec!["sh".to_string(), path];
            script.extend(argv[1..].iter().cloned());
            ctx.proc.set_name("sh");
            shell(ctx, &script)
        }
        Err(error) => Err(format!("{name}: {error}")),
    }
}

fn run(options: Options) -> Result<i32, String> {
    let root = choose_root(&options)?;
    let root = root
        .canonicalize()
        .map_err(|error| format!("root {}: {error}", root.display()))?;
    rootfs::ensure_skeleton(&root);
    let user = options.user.clone().unwrap_or_else(host_user);
    let sysname = nix::unistd::gethostname()
        .ok()
        .and_then(|name| name.into_string().ok())
        .unwrap_or_else(|| "ember".to_string());
    if options.verbose {
        eprintln!(
            "ember: root {} user {user} sysname {sysname}",
            root.display()
        );
    }
    let kernel = Kernel::new(&user, &sysname);
    catch_interrupts(kernel.clone());
    boot::register_devices(&kernel, &root, options.gpio.as_deref())
        .map_err(|error| error.to_string())?;
    let argv = if options.command.is_empty() {
        vec!["sh".to_string(), "-l".to_string()]
    } else {
        options.command.clone()
    };
    let first = boot::first_process(&kernel, &user, &argv, options.verbose)
        .map_err(|error| format!("boot: {error}"))?;
    let running = first.clone();
    kernel
        .spawn_thread("first", kernel::limits::PROC_STACK, move || {
            running.run(|ctx| run_first(ctx, &argv))
        })
        .map_err(|error| format!("cannot start the first process: {error}"))?;
    let status = first.wait_exit_uninterruptibly();
    drop(first);
    wait_for_the_rest(&kernel);
    if status.is_empty() {
        Ok(0)
    } else {
        eprintln!("ember: {status}");
        Ok(1)
    }
}

/// Waits, as emu does, until no process is left. At a terminal it says so first, naming what
/// it waits for (a background job, a listener), so end of file does not seem to hang.
fn wait_for_the_rest(kernel: &Arc<Kernel>) {
    let waiting: Vec<String> = kernel
        .procs()
        .iter()
        .filter(|proc| !proc.is_daemon())
        .map(|proc| format!("{} {}", proc.pid, proc.name()))
        .collect();
    if !waiting.is_empty() && nix::unistd::isatty(std::io::stdin()).unwrap_or(false) {
        eprintln!(
            "ember: waiting for {} to end (the interrupt key ends ember now)",
            waiting.join(", ")
        );
    }
    kernel.wait_all();
}

/// Blocks the interrupt signal in every thread (so it must run before any thread starts) and
/// starts the one thread that takes it: the interrupt key then interrupts the console's
/// target (an interactive shell's command) instead of killing ember, which exits as any
/// host program would when there is no target.
fn catch_interrupts(kernel: Arc<Kernel>) {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    let _ = std::thread::Builder::new()
        .name("signals".into())
        .stack_size(64 << 10)
        .spawn(move || {
            while let Ok(signal) = set.wait() {
                if signal == Signal::SIGINT && !kernel.console_interrupt() {
                    devices::cons::restore_terminal();
                    std::process::exit(130);
                }
            }
        });
}

fn block_interrupts() {
    use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    let _ = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None);
}

/// Raises the soft limit on host descriptors to the hard one, as servers do: every open file,
/// pipe end and connection of every process inside ember is one of them.
fn raise_descriptor_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE)
        && soft < hard
    {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
    }
}

/// Makes glibc give every allocation of 128 KiB or more (an export's full-size read
/// buffers, a 9P message at the largest msize) its own mapping, returned to the host when
/// freed. By default glibc raises that threshold after the first such free, and buffers freed
/// by hundreds of threads then stay in its per-thread arenas: a burst of large reads left
/// ember holding memory it no longer used (issue 11). musl always maps large allocations.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_allocations() {
    const THRESHOLD: nix::libc::c_int = 128 << 10;
    // Safety: mallopt only sets a tunable of the allocator; it is called once, at the start
    // of main, before any other thread exists, and its arguments are valid constants.
    #[allow(unsafe_code)]
    unsafe {
        nix::libc::mallopt(nix::libc::M_MMAP_THRESHOLD, THRESHOLD);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_allocations() {}

fn main() {
    return_large_allocations();
    block_interrupts();
    raise_descriptor_limit();
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    let code = match parse_args(&args) {
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            2
        }
        Ok(options) if options.help => {
            println!("{USAGE}");
            0
        }
        Ok(options) => match run(options) {
            Ok(code) => code,
            Err(message) => {
                eprintln!("ember: {message}");
                1
            }
        },
    };
    devices::cons::restore_terminal();
    std::process::exit(code);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|word| word.to_string()).collect()
    }

    #[test]
    fn flags_then_command() {
        let options =
            parse_args(&args(&["-r", "/tmp/r", "-uglenda", "-v", "sh", "-c", "x"])).unwrap();
        assert_eq!(options.root, Some(PathBuf::from("/tmp/r")));
        assert_eq!(options.user.as_deref(), Some("glenda"));
        assert!(options.verbose);
        assert_eq!(options.command, args(&["sh", "-c", "x"]));
        let options = parse_args(&args(&["-vr/x", "ls"])).unwrap();
        assert_eq!(options.root, Some(PathBuf::from("/x")));
        assert_eq!(options.command, args(&["ls"]));
        assert_eq!(
            parse_args(&args(&["--", "-v"])).unwrap().command,
            args(&["-v"])
        );
    }

    #[test]
    fn gpio_flag_names_the_default_chip() {
        let options = parse_args(&args(&["-G", "sim", "sh"])).unwrap();
        assert_eq!(options.gpio.as_deref(), Some("sim"));
        assert_eq!(options.command, args(&["sh"]));
        let options = parse_args(&args(&["-vGgpiochip4"])).unwrap();
        assert_eq!(options.gpio.as_deref(), Some("gpiochip4"));
        assert!(
            parse_args(&args(&["-G"]))
                .unwrap_err()
                .contains("-G needs a value")
        );
    }

    #[test]
    fn bad_flags_are_refused() {
        assert!(
            parse_args(&args(&["-z"]))
                .unwrap_err()
                .contains("unknown flag -z")
        );
        assert!(
            parse_args(&args(&["-r"]))
                .unwrap_err()
                .contains("-r needs a value")
        );
        assert!(parse_args(&args(&["-u", ""])).is_err());
        for bad in ["bad user", "a/b", "..", ".", "tab\there", "quo'te"] {
            assert!(
                parse_args(&args(&["-u", bad]))
                    .unwrap_err()
                    .contains("bad user name"),
                "{bad}"
            );
        }
    }

    #[test]
    fn help_is_not_an_unknown_flag() {
        assert!(parse_args(&args(&["-h"])).unwrap().help);
        assert!(parse_args(&args(&["--help"])).unwrap().help);
        assert!(parse_args(&args(&["-vh"])).unwrap().help);
        assert!(!parse_args(&args(&["sh", "-h"])).unwrap().help);
    }
}
