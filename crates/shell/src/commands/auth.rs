//! `auth/createsignerkey`, `auth/keygen` and `auth/keyinfo`: making and checking the keys of
//! Inferno's certificate model (`createsignerkey(8)`, `getauthinfo(8)`), with the formats of
//! `kernel::auth`. Keys are files of the caller's namespace, written mode 0600.

use super::clock::Tm;
use super::{fail, parse_or_usage, usage_error};
use kernel::auth::{self, Keyring, SignerKey};
use kernel::{Ctx, Exit, Program};
use ninep::{Dir, OWRITE};

/// The default signer key, as in Inferno.
const SIGNER_KEY: &str = "/keydb/signerkey";
/// A keyring's default lifetime.
const DEFAULT_LIFETIME: &str = "365d";

/// Writes `text` to `path`, readable and writable by its owner only, replacing any file there.
fn write_secret(ctx: &Ctx, path: &str, text: &str) -> kernel::Result<()> {
    let chan = ctx.create_chan(path, OWRITE, 0o600, false)?;
    // An existing file keeps its mode through create: make it private.
    let mut dir = Dir::null();
    dir.mode = 0o600;
    ctx.wstat(path, &dir)?;
    let mut written = 0;
    while written < text.len() {
        written += ctx.write_chan(&chan, &text.as_bytes()[written..], written as u64)?;
    }
    Ok(())
}

fn read_text(ctx: &Ctx, path: &str) -> Result<String, String> {
    let bytes = ctx
        .read_file(path, 64 * 1024)
        .map_err(|error| format!("cannot read {path}: {error}"))?;
    String::from_utf8(bytes).map_err(|_| format!("{path}: not text"))
}

/// Makes each missing directory above `path`; the one holding it is private.
fn make_parents(ctx: &Ctx, path: &str) {
    let Some(last) = path.rfind('/') else {
        return;
    };
    let mut at = 0;
    while let Some(slash) = path[at + 1..].find('/') {
        at += 1 + slash;
        let dir = &path[..at];
        if ctx.stat(dir).is_err() {
            let _ = ctx.mkdir(dir, if at == last { 0o700 } else { 0o775 });
        }
    }
}

/// `auth/createsignerkey [-f file] name`: makes the signer's key, which certifies keyrings.
/// An existing key is never overwritten: every keyring it certified depends on it.
pub fn createsignerkey(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "auth/createsignerkey [-f file] name";
    let opts = parse_or_usage(ctx, argv, "f:", USAGE)?;
    let [name] = opts.args.as_slice() else {
        return Err(usage_error(ctx, USAGE));
    };
    let file = opts.value('f').unwrap_or(SIGNER_KEY).to_string();
    if ctx.stat(&file).is_ok() {
        return fail(
            ctx,
            argv,
            format!(
                "{file} exists: remove it first (every keyring it certified would stop working)"
            ),
        );
    }
    let key = match SignerKey::generate(name) {
        Ok(key) => key,
        Err(problem) => return fail(ctx, argv, problem),
    };
    make_parents(ctx, &file);
    write_secret(ctx, &file, &key.to_text())
        .or_else(|error| fail(ctx, argv, format!("cannot write {file}: {error}")))
}

/// `auth/keygen [-s signerkey] [-e expiry] [-o file] name`: makes a key pair for `name`, has
/// the signer certify it until `expiry`, and writes the keyring.
pub fn keygen(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "auth/keygen [-s signerkey] [-e expiry] [-o file] name";
    let opts = parse_or_usage(ctx, argv, "s:e:o:", USAGE)?;
    let [name] = opts.args.as_slice() else {
        return Err(usage_error(ctx, USAGE));
    };
    if let Err(problem) = auth::check_name(name) {
        return fail(ctx, argv, problem);
    }
    let now = auth::now();
    let expiry = opts.value('e').unwrap_or(DEFAULT_LIFETIME);
    let expires = match auth::parse_expiry(expiry, now) {
        Ok(expires) if expires > now => expires,
        Ok(_) => return fail(ctx, argv, format!("expiry {expiry} is in the past")),
        Err(problem) => return fail(ctx, argv, problem),
    };
    let signer_file = opts.value('s').unwrap_or(SIGNER_KEY);
    if let Err(error) = auth::check_private(ctx, "signer key", signer_file) {
        return fail(ctx, argv, error);
    }
    let signer = match read_text(ctx, signer_file).and_then(|text| {
        SignerKey::parse(&text).map_err(|problem| format!("{signer_file}: {problem}"))
    }) {
        Ok(signer) => signer,
        Err(problem) if ctx.stat(signer_file).is_err() => {
            return fail(
                ctx,
                argv,
                format!("{problem}: make the signer's key with auth/createsignerkey"),
            );
        }
        Err(problem) => return fail(ctx, argv, problem),
    };
    let keyring = match Keyring::generate(&signer, name, expires) {
        Ok(keyring) => keyring,
        Err(problem) => return fail(ctx, argv, problem),
    };
    let file = match opts.value('o') {
        Some(file) => file.to_string(),
        None => format!("/usr/{name}/keyring/default"),
    };
    make_parents(ctx, &file);
    write_secret(ctx, &file, &keyring.to_text())
        .or_else(|error| fail(ctx, argv, format!("cannot write {file}: {error}")))
}

/// `auth/keyinfo [-k keyfile]`: shows whose keyring it is, its signer and expiry, and checks
/// that it is sound: the signature, the expiry, and that the certificate is for its own key.
pub fn keyinfo(ctx: &Ctx, argv: &[String]) -> Exit {
    const USAGE: &str = "auth/keyinfo [-k keyfile]";
    let opts = parse_or_usage(ctx, argv, "k:", USAGE)?;
    if !opts.args.is_empty() {
        return Err(usage_error(ctx, USAGE));
    }
    let (path, keyring) = match auth::load_keyring(ctx, opts.value('k')) {
        Ok(loaded) => loaded,
        Err(error) => return fail(ctx, argv, error),
    };
    let certificate = &keyring.certificate;
    let expires = i64::try_from(certificate.expires).unwrap_or(i64::MAX);
    let report = format!(
        "{path}\n\tuser {}\n\tsigner {}\n\texpires {}\n",
        certificate.user,
        certificate.signer,
        Tm::from_epoch(expires).text()
    );
    ctx.write_all(1, report.as_bytes())
        .map_err(|error| error.to_string())?;
    match keyring.check(auth::now()) {
        Ok(()) => ctx
            .write_all(1, b"\tok\n")
            .map_err(|error| error.to_string()),
        Err(problem) => fail(ctx, argv, format!("{path}: {problem}")),
    }
}

/// The programs of this file.
pub fn programs() -> Vec<(&'static str, Program)> {
    vec![
        ("auth/createsignerkey", createsignerkey as Program),
        ("auth/keygen", keygen as Program),
        ("auth/keyinfo", keyinfo as Program),
    ]
}
