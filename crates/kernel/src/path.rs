//! Path names: lexical cleaning and the split into a starting point and names (the parsing half
//! of Plan 9's `namec`, with `cleanname`).
//!
//! `..` is resolved here, by name, before any device is asked anything: the parent of
//! `/n/remote` is `/n` whatever is mounted where, and no name can climb above `/` or above the
//! root of a `#X` attach. This is what keeps `/../../etc/passwd` inside the namespace.

use crate::error::{Error, Result};

/// Where a path starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Start {
    /// `/...`: the namespace root.
    Root,
    /// A relative path: the current directory.
    Dot,
    /// `#Xspec/...`: a device attached directly, with no mount translation.
    Device { letter: char, spec: String },
}

/// A parsed, cleaned path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub start: Start,
    /// How many leading `..` a relative path still has after cleaning (0 otherwise).
    pub up: usize,
    pub names: Vec<String>,
}

impl Parsed {
    /// The cleaned text of the path, as a chan reached by it is named.
    pub fn text(&self) -> String {
        let mut text = match &self.start {
            Start::Root => "/".to_string(),
            Start::Dot => String::new(),
            Start::Device { letter, spec } => format!("#{letter}{spec}"),
        };
        for _ in 0..self.up {
            push_name(&mut text, "..");
        }
        for name in &self.names {
            push_name(&mut text, name);
        }
        if text.is_empty() {
            text.push('.');
        }
        text
    }
}

/// Appends `name` to a path text, with one slash between.
pub fn push_name(path: &mut String, name: &str) {
    if !path.is_empty() && !path.ends_with('/') {
        path.push('/');
    }
    path.push_str(name);
}

/// `path` joined with `name`.
pub fn join(path: &str, name: &str) -> String {
    let mut joined = String::with_capacity(path.len() + name.len() + 1);
    joined.push_str(path);
    push_name(&mut joined, name);
    joined
}

/// Checks one path element: no NUL or control characters, not too long.
pub fn valid_name(name: &str) -> Result<()> {
    if name.bytes().any(|byte| byte < 0x20 || byte == 0x7f) {
        return Err(Error::BadChar);
    }
    if name.len() > ninep::NAMEMAX {
        return Err(Error::msg("file name too long"));
    }
    Ok(())
}

/// Parses and cleans a path.
pub fn parse(path: &str) -> Result<Parsed> {
    if path.is_empty() {
        return Err(Error::NotExist);
    }
    let (start, rest) = if let Some(after) = path.strip_prefix('#') {
        let mut chars = after.chars();
        let letter = chars.next().ok_or(Error::UnknownDevice)?;
        let rest = chars.as_str();
        let (spec, rest) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, ""),
        };
        valid_name(spec)?;
        let start = Start::Device {
            letter,
            spec: spec.to_string(),
        };
        (start, rest)
    } else if path.starts_with('/') {
        (Start::Root, path)
    } else {
        (Start::Dot, path)
    };
    let mut names: Vec<String> = Vec::new();
    let mut up = 0;
    for element in rest.split('/') {
        match element {
            "" | "." => {}
            ".." => {
                if names.pop().is_none() && start == Start::Dot {
                    up += 1;
                }
            }
            name => {
                valid_name(name)?;
                names.push(name.to_string());
            }
        }
    }
    Ok(Parsed { start, up, names })
}

/// Cleans a path lexically (Plan 9 `cleanname`): `/a/./b/../c` is `/a/c`.
pub fn clean(path: &str) -> Result<String> {
    Ok(parse(path)?.text())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_like_cleanname() {
        assert_eq!(clean("/a/./b/../c").unwrap(), "/a/c");
        assert_eq!(clean("/../../etc/passwd").unwrap(), "/etc/passwd");
        assert_eq!(clean("a/../../b").unwrap(), "../b");
        assert_eq!(clean("./").unwrap(), ".");
        assert_eq!(clean("#U/../x").unwrap(), "#U/x");
        assert_eq!(clean("#scs/").unwrap(), "#scs");
        assert_eq!(clean("//usr//me/").unwrap(), "/usr/me");
    }

    #[test]
    fn device_paths() {
        let parsed = parse("#Ifoo/tcp/clone").unwrap();
        assert_eq!(
            parsed.start,
            Start::Device {
                letter: 'I',
                spec: "foo".into()
            }
        );
        assert_eq!(parsed.names, ["tcp", "clone"]);
        assert!(parse("#").is_err());
        assert_eq!(parse("#|").unwrap().names.len(), 0);
    }

    #[test]
    fn bad_names() {
        assert_eq!(parse("/a\0b"), Err(Error::BadChar));
        assert_eq!(parse(""), Err(Error::NotExist));
        assert!(parse(&format!("/{}", "x".repeat(300))).is_err());
    }
}
