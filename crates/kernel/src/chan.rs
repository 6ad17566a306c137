//! Channels: a reference to one file of one device instance (Plan 9 `Chan`).
//!
//! A `Chan` names a file by (device, instance, qid) and remembers the path it was reached by,
//! which is how `..`, `pwd`, `fd2path` and `ns` work. An unopened chan is a position in a tree
//! and can be cloned freely; an opened chan is shared through `Arc` by every descriptor that
//! refers to it (so `dup`ed descriptors share the offset, as in Plan 9) and is closed, by the
//! device's `close`, when the last reference goes.

use crate::dev::Device;
use crate::namespace::UnionRead;
use ninep::Qid;
use parking_lot::Mutex;
use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// Device-private state carried by a chan (Plan 9 `c->aux`): which pipe, which host path, ...
pub type Aux = Option<Arc<dyn Any + Send + Sync>>;

/// The open-mode bits a chan was opened with (ninep OREAD..OEXEC plus OTRUNC/ORCLOSE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenMode(pub u8);

impl OpenMode {
    /// Whether reads are allowed (OREAD, ORDWR, OEXEC).
    pub fn readable(self) -> bool {
        matches!(self.0 & 3, ninep::OREAD | ninep::ORDWR | ninep::OEXEC)
    }

    /// Whether writes are allowed (OWRITE, ORDWR).
    pub fn writable(self) -> bool {
        matches!(self.0 & 3, ninep::OWRITE | ninep::ORDWR)
    }

    /// Two-letter form used by `/prog/N/fd`: `r`, `w`, `rw`, `x`.
    pub fn letters(self) -> &'static str {
        match self.0 & 3 {
            ninep::OREAD => "r",
            ninep::OWRITE => "w",
            ninep::ORDWR => "rw",
            _ => "x",
        }
    }
}

/// Where a directory read stopped: byte offset and the index of the next entry.
#[derive(Clone, Copy, Debug, Default)]
pub struct DirCursor {
    pub offset: u64,
    pub index: usize,
}

/// A reference to one file of one device instance.
pub struct Chan {
    /// The device serving this file.
    pub dev: Arc<dyn Device>,
    /// Which instance of the device (each pipe, each 9P connection, ...).
    pub devno: u64,
    pub qid: Qid,
    /// Device-private state.
    pub aux: Aux,
    /// The path this chan was reached by (Plan 9 `Cname`).
    pub name: Arc<str>,
    /// Set once opened; a chan is opened at most once.
    pub mode: Option<OpenMode>,
    /// The file offset, shared by every descriptor of this chan.
    pub offset: Mutex<u64>,
    /// Position of a directory read, for devices that list with `entry`.
    pub dir_cursor: Mutex<DirCursor>,
    /// For an opened union directory: the members still to read.
    pub(crate) union: Mutex<Option<UnionRead>>,
    /// Device-private per-open state that may change while open (a listing snapshot, ...).
    pub open_state: Mutex<Option<Box<dyn Any + Send>>>,
}

impl Chan {
    /// A fresh, unopened chan (the root of an attach, or a walk's result).
    pub fn new(dev: Arc<dyn Device>, devno: u64, qid: Qid, aux: Aux, name: Arc<str>) -> Chan {
        Chan {
            dev,
            devno,
            qid,
            aux,
            name,
            mode: None,
            offset: Mutex::new(0),
            dir_cursor: Mutex::new(DirCursor::default()),
            union: Mutex::new(None),
            open_state: Mutex::new(None),
        }
    }

    /// An unopened copy naming the same file (Plan 9 `cclone`).
    pub fn clone_unopened(&self) -> Chan {
        Chan::new(
            self.dev.clone(),
            self.devno,
            self.qid,
            self.aux.clone(),
            self.name.clone(),
        )
    }

    /// A walk's result: same device, instance and aux, a new qid. The kernel sets the name.
    pub fn walked(&self, qid: Qid) -> Chan {
        Chan::new(
            self.dev.clone(),
            self.devno,
            qid,
            self.aux.clone(),
            self.name.clone(),
        )
    }

    /// A walk's result carrying new device-private state.
    pub fn walked_with(&self, qid: Qid, aux: Aux) -> Chan {
        Chan::new(self.dev.clone(), self.devno, qid, aux, self.name.clone())
    }

    /// A file just created in directory `self`: named `self`'s name joined with `name`.
    pub fn child(&self, qid: Qid, aux: Aux, name: &str) -> Chan {
        let name = crate::path::join(&self.name, name);
        Chan::new(self.dev.clone(), self.devno, qid, aux, Arc::from(name))
    }

    /// Marks the chan open with `mode` and shares it. Devices call this last in `open`, after
    /// anything that can fail, since an opened chan is closed when dropped.
    pub fn opened(mut self, mode: u8) -> Arc<Chan> {
        self.mode = Some(OpenMode(mode));
        Arc::new(self)
    }

    /// The device letter.
    pub fn letter(&self) -> char {
        self.dev.letter()
    }

    pub fn is_dir(&self) -> bool {
        self.qid.is_dir()
    }

    /// Whether two chans name the same file (Plan 9 `eqchan` with pathonly): device, instance
    /// and qid path; the qid version is ignored.
    pub fn same_file(&self, other: &Chan) -> bool {
        self.letter() == other.letter()
            && self.devno == other.devno
            && self.qid.path == other.qid.path
    }

    /// The device-private state as a concrete type.
    pub fn aux<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.aux.as_deref().and_then(|aux| aux.downcast_ref::<T>())
    }

    /// The last element of the chan's name (what stat reports for a mounted root).
    pub fn base_name(&self) -> &str {
        match self.name.rfind('/') {
            Some(index) if index + 1 < self.name.len() => &self.name[index + 1..],
            _ => &self.name,
        }
    }
}

impl Drop for Chan {
    fn drop(&mut self) {
        if self.mode.is_some() {
            let dev = self.dev.clone();
            dev.close(self);
        }
    }
}

impl fmt::Debug for Chan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Chan(#{}{} {} {:?} {:?})",
            self.letter(),
            self.devno,
            self.qid,
            self.name,
            self.mode
        )
    }
}
