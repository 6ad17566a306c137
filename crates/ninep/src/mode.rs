//! Permission checks and the text form of a mode (Plan 9 `devpermcheck`, `dirmodefmt`).

use crate::{DMAPPEND, DMAUTH, DMDIR, DMEXCL, OEXEC, ORDWR, OREAD, OWRITE};

/// The `ls -l` form of a mode: `d-rwxr-xr-x`, `--rw-r--r--`, `a-rw-------`, ...
pub fn mode_string(mode: u32) -> String {
    let mut text = String::with_capacity(11);
    text.push(if mode & DMDIR != 0 {
        'd'
    } else if mode & DMAPPEND != 0 {
        'a'
    } else if mode & DMAUTH != 0 {
        'A'
    } else {
        '-'
    });
    text.push(if mode & DMEXCL != 0 { 'l' } else { '-' });
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        text.push(if bits & 4 != 0 { 'r' } else { '-' });
        text.push(if bits & 2 != 0 { 'w' } else { '-' });
        text.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    text
}

/// Whether a file with permission bits `perm` may be opened with `omode` by a user who is
/// (`is_owner`) its owner and (`in_group`) a member of its group.
pub fn perm_allows(perm: u32, omode: u8, is_owner: bool, in_group: bool) -> bool {
    let wanted = match omode & 3 {
        OREAD => 4,
        OWRITE => 2,
        ORDWR => 6,
        OEXEC => 1,
        _ => unreachable!("omode & 3 has four values"),
    };
    (is_owner && (perm >> 6) & wanted == wanted)
        || (in_group && (perm >> 3) & wanted == wanted)
        || perm & wanted == wanted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_strings() {
        assert_eq!(mode_string(DMDIR | 0o755), "d-rwxr-xr-x");
        assert_eq!(mode_string(0o644), "--rw-r--r--");
        assert_eq!(mode_string(DMAPPEND | DMEXCL | 0o600), "alrw-------");
    }

    #[test]
    fn permissions() {
        assert!(perm_allows(0o600, OREAD, true, false));
        assert!(!perm_allows(0o600, OREAD, false, true));
        assert!(perm_allows(0o604, OREAD, false, false));
        assert!(!perm_allows(0o444, ORDWR, true, true));
        assert!(perm_allows(0o111, OEXEC, false, false));
    }
}
