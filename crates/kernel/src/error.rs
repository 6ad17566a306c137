//! The one error type of the kernel, whose text is Plan 9's error strings (`port/error.h`,
//! Inferno `emu/port/error.h`), so the same words travel in an Rerror, in `$status` and on a
//! user's terminal.
//!
//! Invariant: `Display` of a variant is exactly the Plan 9 string; [`Error::parse`] maps such a
//! string back to its variant, so an error that crossed a 9P connection compares equal to the
//! one raised locally.

use std::fmt;

/// A kernel error. Variants carry Plan 9's wording; anything else is [`Error::Msg`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// "file does not exist"
    NotExist,
    /// "permission denied"
    Perm,
    /// "file already exists"
    Exists,
    /// "not a directory"
    NotDir,
    /// "file is a directory"
    IsDir,
    /// "directory is not empty" (fossil's wording, the one Linux's 9P client knows)
    NotEmpty,
    /// "bad arg in system call"
    BadArg,
    /// "fd out of range or not open"
    BadFd,
    /// "inappropriate use of fd"
    BadUseFd,
    /// "no free file descriptors"
    NoFd,
    /// "inconsistent mount"
    InconsistentMount,
    /// "mounted directory forbids creation"
    NoCreate,
    /// "not mounted"
    NotMounted,
    /// "not in union"
    NotInUnion,
    /// "mount/attach disallowed"
    NoAttach,
    /// "unknown device in # filename"
    UnknownDevice,
    /// "bad attach specifier"
    BadSpec,
    /// "bad character in file name"
    BadChar,
    /// "interrupted"
    Interrupted,
    /// "killed": the process was killed while in the kernel.
    Killed,
    /// "i/o on hungup channel"
    Hungup,
    /// "write on closed pipe"
    ClosedPipe,
    /// "bad process or channel control request"
    BadCtl,
    /// "seek in directory"
    DirSeek,
    /// "negative i/o offset"
    NegativeOffset,
    /// "i/o count too small"
    ShortIo,
    /// "file not open"
    NotOpen,
    /// "process exited"
    ProcDied,
    /// "no living children"
    NoChild,
    /// "read only file system" (as Linux's 9P client knows it)
    ReadOnly,
    /// "i/o error"
    Io,
    /// "cannot exec directory"
    ExecDir,
    /// "too many open files": the host ran out of descriptors (EMFILE, ENFILE).
    TooManyFiles,
    /// "out of memory": the host had no memory for the request (ENOMEM).
    NoMemory,
    /// "file system is full" (fossil's wording, the one Linux's 9P client knows; ENOSPC).
    Full,
    /// Any other message, as is.
    Msg(String),
    /// An error raised while resolving `path`: printed `'path' reason`.
    At { path: String, error: Box<Error> },
}

/// The kernel's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

const TABLE: &[(Error, &str)] = &[
    (Error::NotExist, "file does not exist"),
    (Error::Perm, "permission denied"),
    (Error::Exists, "file already exists"),
    (Error::NotDir, "not a directory"),
    (Error::IsDir, "file is a directory"),
    (Error::NotEmpty, "directory is not empty"),
    (Error::BadArg, "bad arg in system call"),
    (Error::BadFd, "fd out of range or not open"),
    (Error::BadUseFd, "inappropriate use of fd"),
    (Error::NoFd, "no free file descriptors"),
    (Error::InconsistentMount, "inconsistent mount"),
    (Error::NoCreate, "mounted directory forbids creation"),
    (Error::NotMounted, "not mounted"),
    (Error::NotInUnion, "not in union"),
    (Error::NoAttach, "mount/attach disallowed"),
    (Error::UnknownDevice, "unknown device in # filename"),
    (Error::BadSpec, "bad attach specifier"),
    (Error::BadChar, "bad character in file name"),
    (Error::Interrupted, "interrupted"),
    (Error::Killed, "killed"),
    (Error::Hungup, "i/o on hungup channel"),
    (Error::ClosedPipe, "write on closed pipe"),
    (Error::BadCtl, "bad process or channel control request"),
    (Error::DirSeek, "seek in directory"),
    (Error::NegativeOffset, "negative i/o offset"),
    (Error::ShortIo, "i/o count too small"),
    (Error::NotOpen, "file not open"),
    (Error::ProcDied, "process exited"),
    (Error::NoChild, "no living children"),
    (Error::ReadOnly, "read only file system"),
    (Error::Io, "i/o error"),
    (Error::ExecDir, "cannot exec directory"),
    (Error::TooManyFiles, "too many open files"),
    (Error::NoMemory, "out of memory"),
    (Error::Full, "file system is full"),
];

impl Error {
    /// An error with free text.
    pub fn msg(text: impl Into<String>) -> Error {
        Error::Msg(text.into())
    }

    /// Plan 9's text for a variant, or the message itself.
    pub fn text(&self) -> String {
        self.to_string()
    }

    /// Maps a Plan 9 error string back to its variant (an error that came over 9P), also
    /// accepting the other wordings servers use for the same errors.
    pub fn parse(text: &str) -> Error {
        const ALIASES: &[(Error, &str)] = &[
            (Error::NotEmpty, "directory not empty"),
            (Error::ReadOnly, "file system read only"),
            (Error::IsDir, "is a directory"),
            (Error::Exists, "file exists"),
        ];
        TABLE
            .iter()
            .chain(ALIASES)
            .find(|(_, words)| *words == text)
            .map(|(error, _)| error.clone())
            .unwrap_or_else(|| Error::Msg(text.to_string()))
    }

    /// The same error reported against `path`, as name resolution does.
    pub fn at(self, path: &str) -> Error {
        match self {
            Error::At { .. } => self,
            error => Error::At {
                path: path.to_string(),
                error: Box::new(error),
            },
        }
    }

    /// The underlying error, without any path it was reported against.
    pub fn root(&self) -> &Error {
        match self {
            Error::At { error, .. } => error.root(),
            error => error,
        }
    }

    /// True for the errors that mean an interrupt or a kill stopped the call.
    pub fn is_interrupt(&self) -> bool {
        matches!(self.root(), Error::Interrupted | Error::Killed)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Msg(text) => f.write_str(text),
            Error::At { path, error } => write!(f, "'{path}' {error}"),
            error => {
                let words = TABLE
                    .iter()
                    .find(|(variant, _)| variant == error)
                    .map(|(_, words)| *words)
                    .unwrap_or("unknown error");
                f.write_str(words)
            }
        }
    }
}

impl std::error::Error for Error {}

impl From<ninep::DecodeError> for Error {
    fn from(error: ninep::DecodeError) -> Error {
        Error::Msg(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_round_trips_through_its_text() {
        for (variant, words) in TABLE {
            assert_eq!(variant.to_string(), *words);
            assert_eq!(Error::parse(words), *variant);
        }
        assert_eq!(Error::parse("directory not empty"), Error::NotEmpty);
    }

    #[test]
    fn path_errors_read_like_plan9() {
        let error = Error::NotExist.at("/n/x");
        assert_eq!(error.to_string(), "'/n/x' file does not exist");
        assert_eq!(error.root(), &Error::NotExist);
        assert_eq!(error.clone().at("/other"), error);
    }
}
