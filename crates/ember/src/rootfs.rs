//! The root tree built into the binary, and where it is unpacked: without `-r` or
//! `$EMBER_ROOT`, ember serves `$XDG_DATA_HOME/ember/root` (default
//! `~/.local/share/ember/root`), made from the built-in copy of the project's `root/` the first
//! time, so a freshly installed binary works anywhere and its root is writable.
//!
//! Invariant: unpacking never overwrites a file that is already there: the user's changes to
//! their root survive a new version of ember, which only adds what is missing.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/root_files.rs"));

/// Directories every root has even though git keeps no empty directories.
const EMPTY_DIRS: [&str; 7] = ["dis", "keydb", "mnt", "n", "tmp", "usr", "man"];

/// Marks a root as unpacked by this version.
const STAMP: &str = concat!("ember ", env!("CARGO_PKG_VERSION"), "\n");

/// The default place of the unpacked root.
pub fn default_root() -> Result<PathBuf, String> {
    let data = match std::env::var_os("XDG_DATA_HOME").filter(|value| !value.is_empty()) {
        Some(data) => PathBuf::from(data),
        None => {
            let home = std::env::var_os("HOME")
                .filter(|value| !value.is_empty())
                .ok_or("neither $XDG_DATA_HOME nor $HOME is set; give a root with -r")?;
            PathBuf::from(home).join(".local/share")
        }
    };
    Ok(data.join("ember/root"))
}

/// Unpacks the built-in root at `root` unless this version already did.
pub fn ensure_unpacked(root: &Path) -> Result<(), String> {
    let stamp = root.with_file_name("root.version");
    if std::fs::read_to_string(&stamp).is_ok_and(|text| text == STAMP) && root.is_dir() {
        return Ok(());
    }
    unpack(root).map_err(|error| format!("unpacking the root into {}: {error}", root.display()))?;
    std::fs::write(&stamp, STAMP).map_err(|error| format!("writing {}: {error}", stamp.display()))
}

/// Puts back the directories every root needs (`/tmp`, `/usr`, `/n`, ...) where a root lacks
/// them, as any root may (`-r`, `$EMBER_ROOT`, or a user who removed one): boot and the first
/// commands then find them instead of failing later. `/tmp` is writable by all, as on Unix.
/// A root that cannot be written to is left as it is.
pub fn ensure_skeleton(root: &Path) {
    for dir in EMPTY_DIRS {
        let path = root.join(dir);
        if !path.exists() && std::fs::create_dir_all(&path).is_ok() && dir == "tmp" {
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o1777));
        }
    }
}

fn unpack(root: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(root)?;
    for dir in ROOT_DIRS.iter().chain(EMPTY_DIRS.iter()) {
        std::fs::create_dir_all(root.join(dir))?;
    }
    std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o777))?;
    for (rel, contents, mode) in ROOT_FILES {
        let path = root.join(rel);
        let created = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(*mode)
            .open(&path);
        match created {
            Ok(mut file) => file.write_all(contents)?,
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpacks_once_and_keeps_user_changes() {
        let base = std::env::temp_dir().join(format!("ember-rootfs-{}", std::process::id()));
        let root = base.join("root");
        ensure_unpacked(&root).unwrap();
        let profile = root.join("lib/sh/profile");
        assert!(profile.is_file());
        assert!(root.join("tmp").is_dir());
        std::fs::write(&profile, "mine").unwrap();
        std::fs::remove_file(base.join("root.version")).unwrap();
        ensure_unpacked(&root).unwrap();
        assert_eq!(std::fs::read_to_string(&profile).unwrap(), "mine");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
