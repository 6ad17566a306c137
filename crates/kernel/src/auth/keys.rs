//! Signer keys, certificates and keyrings (Inferno's model, `keytext(6)`, with today's
//! algorithms): a signer (certificate authority) holds an Ed25519 signing key; a user's
//! keyring holds the user's name, a Noise (X25519) key pair, a certificate from the signer
//! binding the name to the Noise public key until an expiry time, and the signer's public key.
//! Two peers whose keyrings trust the same signer authenticate each other with no server
//! online.
//!
//! All three are small text files of `field value` lines with hexadecimal keys (the format is
//! in `docs/auth.md`). Parsing is strict: every field once, in order, nothing else. A keyring or
//! signer key that anyone but its owner may read or change is refused, as ssh refuses such a
//! private key, before it is read ([`check_private`]).

use crate::error::{Error, Result};
use crate::proc::Ctx;
use ed25519_dalek::{Signature, SigningKey, Verifier, VerifyingKey};

/// Longest user or signer name.
const MAX_NAME: usize = 64;

/// Why a key file or certificate is not acceptable.
pub type Problem = String;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn unhex<const N: usize>(text: &str) -> Result<[u8; N], Problem> {
    if text.len() != 2 * N || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("expected {} hexadecimal digits", 2 * N));
    }
    let mut out = [0u8; N];
    for (index, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(&text[2 * index..2 * index + 2], 16)
            .map_err(|_| "bad hexadecimal".to_string())?;
    }
    Ok(out)
}

/// Checks a user or signer name: printable, no blanks, not too long.
pub fn check_name(name: &str) -> Result<(), Problem> {
    if name.is_empty()
        || name.len() > MAX_NAME
        || name
            .chars()
            .any(|ch| ch.is_whitespace() || ch.is_control() || ch == '/' || ch == '\'')
    {
        return Err(format!("bad name {name:?}"));
    }
    Ok(())
}

/// Reads `field value` lines in a fixed order after a first line `header`.
fn fields<'a>(text: &'a str, header: &str, names: &[&str]) -> Result<Vec<&'a str>, Problem> {
    let mut lines = text.lines().filter(|line| !line.trim().is_empty());
    if lines.next().map(str::trim) != Some(header) {
        return Err(format!("first line is not {header:?}"));
    }
    let mut values = Vec::with_capacity(names.len());
    for name in names {
        let line = lines.next().ok_or_else(|| format!("missing {name}"))?;
        let (field, value) = line
            .trim()
            .split_once(' ')
            .ok_or_else(|| format!("bad line {line:?}"))?;
        if field != *name {
            return Err(format!("expected {name}, found {field}"));
        }
        values.push(value.trim());
    }
    if lines.next().is_some() {
        return Err("trailing lines".into());
    }
    Ok(values)
}

/// Why a secret file (`what`, such as "keyring", at `path`) with permission bits `mode` must
/// not be used, if it must not: group or others may read or change it.
pub fn mode_problem(what: &str, path: &str, mode: u32) -> Option<Problem> {
    (mode & 0o077 != 0).then(|| {
        format!(
            "{what} {path} is open to group or others (mode {:04o}): make it private with chmod 600 {path}",
            mode & 0o777
        )
    })
}

/// Refuses the secret file `path` (a keyring or a signer key, named by `what` in the error) if
/// group or others may read or change it, checking its mode with a stat through the namespace
/// of `ctx`. A file that cannot be stat'ed passes: reading it says what is wrong.
pub fn check_private(ctx: &Ctx, what: &str, path: &str) -> Result<()> {
    match ctx.stat(path) {
        Ok(dir) => {
            mode_problem(what, path, dir.mode).map_or(Ok(()), |problem| Err(Error::Msg(problem)))
        }
        Err(_) => Ok(()),
    }
}

fn random_bytes<const N: usize>() -> Result<[u8; N], Problem> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|error| format!("no randomness: {error}"))?;
    Ok(bytes)
}

/// A signer's key (Inferno's `/keydb/signerkey`).
pub struct SignerKey {
    pub name: String,
    signing: SigningKey,
}

/// Shows the signer's name, never its key.
impl std::fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignerKey")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl SignerKey {
    const HEADER: &'static str = "ember-signer 1";

    /// A new signer key named `name`.
    pub fn generate(name: &str) -> Result<SignerKey, Problem> {
        check_name(name)?;
        Ok(SignerKey {
            name: name.to_string(),
            signing: SigningKey::from_bytes(&random_bytes::<32>()?),
        })
    }

    /// The public half, which keyrings carry to check certificates.
    pub fn public(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    pub fn to_text(&self) -> String {
        format!(
            "{}\nname {}\nsigning-key {}\npublic-key {}\n",
            Self::HEADER,
            self.name,
            hex(self.signing.as_bytes()),
            hex(&self.public())
        )
    }

    pub fn parse(text: &str) -> Result<SignerKey, Problem> {
        let values = fields(text, Self::HEADER, &["name", "signing-key", "public-key"])?;
        check_name(values[0])?;
        let signing = SigningKey::from_bytes(&unhex::<32>(values[1])?);
        if signing.verifying_key().to_bytes() != unhex::<32>(values[2])? {
            return Err("public key does not match the signing key".into());
        }
        Ok(SignerKey {
            name: values[0].to_string(),
            signing,
        })
    }

    /// A certificate that `user` owns the Noise key `public` until `expires` (Unix seconds).
    pub fn certify(
        &self,
        user: &str,
        public: [u8; 32],
        expires: u64,
    ) -> Result<Certificate, Problem> {
        check_name(user)?;
        let mut certificate = Certificate {
            user: user.to_string(),
            public,
            expires,
            signer: self.name.clone(),
            signature: [0u8; 64],
        };
        use ed25519_dalek::Signer;
        certificate.signature = self
            .signing
            .sign(certificate.signed_text().as_bytes())
            .to_bytes();
        Ok(certificate)
    }
}

/// A signer's statement binding a user's name to a Noise public key until a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    pub user: String,
    pub public: [u8; 32],
    pub expires: u64,
    pub signer: String,
    pub signature: [u8; 64],
}

impl Certificate {
    const HEADER: &'static str = "ember-certificate 1";

    /// The exact text the signature covers.
    fn signed_text(&self) -> String {
        format!(
            "{}\nuser {}\npublic {}\nexpires {}\nsigner {}\n",
            Self::HEADER,
            self.user,
            hex(&self.public),
            self.expires,
            self.signer
        )
    }

    /// The certificate as sent in the handshake.
    pub fn to_text(&self) -> String {
        format!("{}signature {}\n", self.signed_text(), hex(&self.signature))
    }

    pub fn parse(text: &str) -> Result<Certificate, Problem> {
        let values = fields(
            text,
            Self::HEADER,
            &["user", "public", "expires", "signer", "signature"],
        )?;
        check_name(values[0])?;
        check_name(values[3])?;
        Ok(Certificate {
            user: values[0].to_string(),
            public: unhex(values[1])?,
            expires: values[2].parse().map_err(|_| "bad expiry".to_string())?,
            signer: values[3].to_string(),
            signature: unhex(values[4])?,
        })
    }

    /// Checks that the certificate comes from the signer named `signer` whose public key is
    /// `signer_key`, and has not expired at `now`.
    pub fn verify(&self, signer: &str, signer_key: &[u8; 32], now: u64) -> Result<(), Problem> {
        if self.signer != signer {
            return Err(format!(
                "certificate of {} is from signer {}, not {signer}",
                self.user, self.signer
            ));
        }
        let key = VerifyingKey::from_bytes(signer_key).map_err(|_| "bad signer key".to_string())?;
        key.verify(
            self.signed_text().as_bytes(),
            &Signature::from_bytes(&self.signature),
        )
        .map_err(|_| {
            format!(
                "certificate of {} has a bad signature (altered, or from another signer called {signer})",
                self.user
            )
        })?;
        if self.expires <= now {
            return Err(format!(
                "certificate of {} expired {} s ago",
                self.user,
                now - self.expires
            ));
        }
        Ok(())
    }
}

/// A user's keyring.
#[derive(Clone)]
pub struct Keyring {
    pub certificate: Certificate,
    /// The signer's public key, to check peers' certificates.
    pub signer_key: [u8; 32],
    /// The Noise static private key.
    pub secret: [u8; 32],
}

/// Shows who the keyring is for, never its secret.
impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("certificate", &self.certificate)
            .finish_non_exhaustive()
    }
}

impl Keyring {
    const HEADER: &'static str = "ember-keyring 1";

    /// A keyring for `user`, with a new Noise key pair certified by `signer`.
    pub fn generate(signer: &SignerKey, user: &str, expires: u64) -> Result<Keyring, Problem> {
        let secret = random_bytes::<32>()?;
        Ok(Keyring {
            certificate: signer.certify(user, x25519_public(&secret), expires)?,
            signer_key: signer.public(),
            secret,
        })
    }

    pub fn user(&self) -> &str {
        &self.certificate.user
    }

    pub fn to_text(&self) -> String {
        let certificate = &self.certificate;
        format!(
            "{}\nuser {}\nsigner {}\nsigner-key {}\nsecret {}\npublic {}\nexpires {}\nsignature {}\n",
            Self::HEADER,
            certificate.user,
            certificate.signer,
            hex(&self.signer_key),
            hex(&self.secret),
            hex(&certificate.public),
            certificate.expires,
            hex(&certificate.signature)
        )
    }

    pub fn parse(text: &str) -> Result<Keyring, Problem> {
        let values = fields(
            text,
            Self::HEADER,
            &[
                "user",
                "signer",
                "signer-key",
                "secret",
                "public",
                "expires",
                "signature",
            ],
        )?;
        check_name(values[0])?;
        check_name(values[1])?;
        Ok(Keyring {
            certificate: Certificate {
                user: values[0].to_string(),
                signer: values[1].to_string(),
                public: unhex(values[4])?,
                expires: values[5].parse().map_err(|_| "bad expiry".to_string())?,
                signature: unhex(values[6])?,
            },
            signer_key: unhex(values[2])?,
            secret: unhex(values[3])?,
        })
    }

    /// Checks that the keyring's own certificate is valid now and matches its secret.
    pub fn check(&self, now: u64) -> Result<(), Problem> {
        let certificate = &self.certificate;
        certificate.verify(&certificate.signer, &self.signer_key, now)?;
        if x25519_public(&self.secret) != self.certificate.public {
            return Err("the certificate does not match the keyring's secret key".into());
        }
        Ok(())
    }
}

/// The X25519 public key of a private key (RFC 7748 base-point multiplication, as Noise's
/// 25519 DH computes it), to check that a keyring's certificate is for its own secret.
fn x25519_public(secret: &[u8; 32]) -> [u8; 32] {
    curve25519_dalek::montgomery::MontgomeryPoint::mul_base_clamped(*secret).to_bytes()
}

/// Parses a lifetime: Unix seconds (`1795000000`) or a duration from now (`90d`, `12h`,
/// `30m`, `5s`).
pub fn parse_expiry(text: &str, now: u64) -> Result<u64, Problem> {
    let units = [('d', 86_400u64), ('h', 3_600), ('m', 60), ('s', 1)];
    for (suffix, seconds) in units {
        if let Some(count) = text.strip_suffix(suffix) {
            let count: u64 = count
                .parse()
                .map_err(|_| format!("bad duration {text:?}"))?;
            return count
                .checked_mul(seconds)
                .and_then(|span| now.checked_add(span))
                .ok_or_else(|| format!("duration {text:?} too long"));
        }
    }
    text.parse()
        .map_err(|_| format!("bad expiry {text:?}: give Unix seconds or a duration like 90d"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> u64 {
        1_800_000_000
    }

    #[test]
    fn keys_round_trip_through_text() {
        let signer = SignerKey::generate("ca").unwrap();
        let again = SignerKey::parse(&signer.to_text()).unwrap();
        assert_eq!(again.public(), signer.public());
        let keyring = Keyring::generate(&signer, "glenda", now() + 100).unwrap();
        let parsed = Keyring::parse(&keyring.to_text()).unwrap();
        assert_eq!(parsed.certificate, keyring.certificate);
        assert_eq!(parsed.secret, keyring.secret);
        parsed.check(now()).unwrap();
        let certificate = Certificate::parse(&keyring.certificate.to_text()).unwrap();
        assert_eq!(certificate, keyring.certificate);
    }

    #[test]
    fn bad_certificates_are_refused() {
        let signer = SignerKey::generate("ca").unwrap();
        let other = SignerKey::generate("ca").unwrap();
        let keyring = Keyring::generate(&signer, "glenda", now() + 100).unwrap();
        let certificate = &keyring.certificate;
        assert!(certificate.verify("ca", &signer.public(), now()).is_ok());
        let error = certificate
            .verify("ca", &other.public(), now())
            .unwrap_err();
        assert!(error.contains("bad signature"), "{error}");
        let error = certificate
            .verify("other", &other.public(), now())
            .unwrap_err();
        assert!(error.contains("from signer ca, not other"), "{error}");
        let error = certificate
            .verify("ca", &signer.public(), now() + 100)
            .unwrap_err();
        assert!(error.contains("expired"), "{error}");
        let mut tampered = certificate.clone();
        tampered.user = "eve".into();
        assert!(tampered.verify("ca", &signer.public(), now()).is_err());
        let mut tampered = certificate.clone();
        tampered.expires += 1;
        assert!(tampered.verify("ca", &signer.public(), now()).is_err());
        // A keyring whose secret is not the certified key's.
        let mut swapped = Keyring::parse(&keyring.to_text()).unwrap();
        swapped.secret = Keyring::generate(&signer, "glenda", now() + 100)
            .unwrap()
            .secret;
        assert!(swapped.check(now()).unwrap_err().contains("does not match"));
    }

    #[test]
    fn malformed_files_name_the_problem() {
        assert!(Keyring::parse("").unwrap_err().contains("first line"));
        assert!(SignerKey::parse("ember-signer 1\nname a b\n").is_err());
        assert!(Certificate::parse("ember-certificate 1\nuser x\npublic 00\n").is_err());
        assert!(check_name("has space").is_err());
        assert!(check_name(&"x".repeat(65)).is_err());
    }

    /// Issue 11, finding 10: key files that group or others could read were accepted.
    #[test]
    fn issue11_key_files_open_to_others_are_refused() {
        for mode in [0o600, 0o400, 0o700] {
            assert_eq!(mode_problem("keyring", "/k", mode), None, "{mode:o}");
        }
        for mode in [0o644, 0o640, 0o604, 0o620, 0o666, 0o601] {
            assert!(mode_problem("keyring", "/k", mode).is_some(), "{mode:o}");
        }
        assert_eq!(
            mode_problem("keyring", "/usr/glenda/keyring/default", 0o644).unwrap(),
            "keyring /usr/glenda/keyring/default is open to group or others (mode 0644): \
             make it private with chmod 600 /usr/glenda/keyring/default"
        );
    }

    #[test]
    fn expiries() {
        assert_eq!(parse_expiry("90d", 10).unwrap(), 10 + 90 * 86_400);
        assert_eq!(parse_expiry("5s", 10).unwrap(), 15);
        assert_eq!(parse_expiry("1795000000", 10).unwrap(), 1_795_000_000);
        assert!(parse_expiry("soon", 10).is_err());
        assert!(parse_expiry("99999999999999999999d", 10).is_err());
    }
}
