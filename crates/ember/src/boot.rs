//! The device table and the boot namespace (Inferno's emu configuration and `emuinit`): the
//! one place that knows every device. Before the first process runs: `#/` is the root, `#U`
//! is bound after it, `#c` before `/dev`, `#p` on `/prog`, `#d` on `/fd`, `#e` on `/env`,
//! `#s` on `/srv`, the native programs (`#x`) on `/dis` with the root tree's own `/dis` after
//! them; descriptors 0 and 1 are the console, 2 the host's standard error. `#I` goes after
//! `/net`; `#G` after `/dev` when its attach works (the host has a GPIO chip, or `-G` named
//! one), and `#t`, the serial lines, after it; `#f`, the file2chan files, on `/chan`; `#N`,
//! mount points made on demand, on `/n` and `/mnt`.

use devices::{cons::Cons, dis::Dis, fs::HostFs, root::Root};
use kernel::{Ctx, Device, Error, Kernel, MAFTER, MBEFORE, MCREATE, MREPL, Proc, Result};
use ninep::{OREAD, OWRITE};
use std::path::Path;
use std::sync::Arc;

/// Every device, in the order `/dev/drivers` lists them. `gpio` is ember's `-G`: the chip `#G`
/// attaches by default, which must exist.
pub fn register_devices(kernel: &Kernel, root: &Path, gpio: Option<&str>) -> Result<()> {
    if let Some(spec) = gpio {
        devices::gpio::probe(spec).map_err(|error| Error::msg(format!("-G {spec}: {error}")))?;
    }
    let host =
        HostFs::new(root).map_err(|error| Error::msg(format!("{}: {error}", root.display())))?;
    let table: Vec<Arc<dyn Device>> = vec![
        Arc::new(Root::new()),
        Arc::new(Cons::new()),
        Arc::new(devices::env::EnvDevice::new()),
        Arc::new(kernel::mnt::MountDriver::new()),
        Arc::new(devices::pipe::Pipe::new()),
        Arc::new(devices::prog::ProgDevice::new()),
        Arc::new(devices::srv::Srv::new()),
        Arc::new(devices::dup::Dup::new()),
        Arc::new(host),
        Arc::new(devices::ip::Ip::new()),
        Arc::new(Dis::new(shell::programs())),
        Arc::new(devices::gpio::Gpio::new(gpio.map(str::to_string))),
        Arc::new(devices::eia::Eia::new()),
        Arc::new(kernel::file2chan::FileChanDevice::new()),
        Arc::new(kernel::auth::Ssl),
        Arc::new(devices::mntgen::MntGen::new()),
        Arc::new(devices::cmd::Cmd::new(root)),
    ];
    for device in table {
        kernel.register(device)?;
    }
    Ok(())
}

/// One bind of the boot namespace: source, mount point, flags, and whether it must work.
struct BootBind(&'static str, &'static str, u32, bool);

const BOOT_BINDS: [BootBind; 14] = [
    BootBind("#U", "/", MAFTER | MCREATE, true),
    BootBind("#c", "/dev", MBEFORE, true),
    BootBind("#p", "/prog", MREPL, true),
    BootBind("#d", "/fd", MREPL, true),
    BootBind("#I", "/net", MAFTER, false),
    BootBind("#e", "/env", MREPL | MCREATE, true),
    BootBind("#G", "/dev", MAFTER, false),
    BootBind("#t", "/dev", MAFTER, false),
    BootBind("#f", "/chan", MREPL, false),
    BootBind("#s", "/srv", MREPL | MCREATE, true),
    BootBind("#x", "/dis", MREPL, true),
    BootBind("#U/dis", "/dis", MAFTER, false),
    BootBind("#N", "/n", MREPL, true),
    BootBind("#Nmnt", "/mnt", MREPL, true),
];

/// Makes the first process with the boot namespace, descriptors and environment.
pub fn first_process(
    kernel: &Arc<Kernel>,
    user: &str,
    args: &[String],
    verbose: bool,
) -> Result<Arc<Proc>> {
    let proc = kernel.first_proc("emuinit", user);
    let ctx = Ctx::new(proc.clone());
    let ns = ctx.ns();
    ns.set_root(ns.attach(&ctx, '/', "")?);
    for BootBind(source, target, flags, required) in BOOT_BINDS {
        match ctx.bind(source, target, flags) {
            Ok(_) => {}
            Err(error) if required => {
                return Err(Error::msg(format!("bind {source} {target}: {error}")));
            }
            Err(error) => {
                if verbose {
                    eprintln!("ember: boot: bind {source} {target}: {error} (skipped)");
                }
            }
        }
    }
    let stdin = ctx.open("#c/cons", OREAD)?;
    let stdout = ctx.open("#c/cons", OWRITE)?;
    let stderr = ctx.open("#c/hoststderr", OWRITE)?;
    debug_assert_eq!((stdin, stdout, stderr), (0, 1, 2));
    let home = make_home(&ctx, user);
    let env = ctx.env();
    // As a login does: who we are and where home is (sh reads both from the environment).
    env.set("user", user.as_bytes())?;
    if let Some(home) = &home {
        env.set("home", home.as_bytes())?;
    }
    // No host path goes into the environment, which every process inherits, a contained one
    // too: the root is `/` as ember's processes see it (Inferno gives the host's path of its
    // root), and Inferno's `emuwdir`, the host's working directory, is left out.
    let settings = [
        ("cputype", std::env::consts::ARCH.to_string()),
        ("emuhost", "Linux".to_string()),
        ("emuroot", "/".to_string()),
        ("emuargs", kernel::text::quote_list(args)),
    ];
    for (name, value) in settings {
        env.set(name, value.as_bytes())?;
    }
    Ok(proc)
}

/// Makes the user's home, `/usr/<user>`, in the root tree if missing (mode 0700, as it holds
/// the keyring), with `lib` (history, profile), `tmp` and `keyring`; an existing home gets
/// whichever of those it lacks. Returns the home's name, or None for a user name that cannot
/// name a directory.
fn make_home(ctx: &Ctx, user: &str) -> Option<String> {
    if kernel::path::valid_name(user).is_err()
        || user.is_empty()
        || user.contains('/')
        || user.starts_with('.')
    {
        return None;
    }
    let home = format!("/usr/{user}");
    if ctx.stat(&home).is_err() {
        let _ = ctx.mkdir(&home, 0o700);
    }
    for (dir, perm) in [("lib", 0o755), ("tmp", 0o700), ("keyring", 0o700)] {
        let path = format!("{home}/{dir}");
        if ctx.stat(&path).is_err() {
            let _ = ctx.mkdir(&path, perm);
        }
    }
    Some(home)
}
