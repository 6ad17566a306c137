//! Namespaces (Plan 9 `Pgrp`): a mount table, a root and a current directory, shared by a group
//! of processes, and name resolution through it (`namec`, `walk`, `domount`, `cmount`,
//! `cunmount`, `createdir`, `unionread`).
//!
//! Invariants:
//! - The mount table maps a mounted-on file, keyed by (device letter, instance, qid path), to a
//!   [`MountPoint`] whose ordered member list is the union: lookups try members in order, a
//!   directory read concatenates them, a create goes to the first member bound with MCREATE.
//! - Mount points are immutable values shared by `Arc`; a change builds a new one, so a
//!   `fork` copies only the map, and a walk never holds the table's lock while a device works.
//! - Lookup cost is a hash probe per path element, whatever the number of mounts.
//! - `..` is resolved by name before resolution starts (see `path`), so it leaves a mount
//!   point the way it was entered and never climbs above the root.
//! - Mount ids come from one kernel-wide counter; `ns` lists mounts in id order, and a fork
//!   keeps the ids, so a forked namespace prints the same.

use crate::chan::Chan;
use crate::error::{Error, Result};
use crate::path::{self, Parsed, Start};
use crate::proc::Ctx;
use ninep::{DMDIR, OREAD, OTRUNC};
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Replace: the mount point denotes only the new member.
pub const MREPL: u32 = 0;
/// Put the new member first in the union.
pub const MBEFORE: u32 = 1;
/// Put the new member last in the union.
pub const MAFTER: u32 = 2;
/// OR-able: this member accepts creates.
pub const MCREATE: u32 = 4;
/// OR-able: cache contents (accepted and ignored, as in emu).
pub const MCACHE: u32 = 16;
/// The order bits.
pub const MORDER: u32 = 3;
/// Every meaningful bit.
pub const MMASK: u32 = 0x17;

static NEXT_MOUNT_ID: AtomicU64 = AtomicU64::new(1);
static NEXT_NAMESPACE_ID: AtomicU64 = AtomicU64::new(1);

fn next_mount_id() -> u64 {
    NEXT_MOUNT_ID.fetch_add(1, Ordering::Relaxed)
}

/// How a path is being resolved, which decides what happens at its last element
/// (Plan 9's `Aopen`, `Abind`, `Amount`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Open, stat, remove, wstat: step through a mount on the last element.
    Open,
    /// The source of a bind: like `Open`, and remember the union found there.
    Bind,
    /// The target of a bind or mount: stop on the mounted-on file itself.
    Mount,
    /// A new current directory: stop on the mounted-on directory, so lookups from it see the
    /// mount.
    Chdir,
}

/// The identity of a mounted-on file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct MountKey {
    letter: char,
    devno: u64,
    path: u64,
}

impl MountKey {
    fn of(chan: &Chan) -> MountKey {
        MountKey {
            letter: chan.letter(),
            devno: chan.devno,
            path: chan.qid.path,
        }
    }
}

/// One member of a union (Plan 9 `Mount`).
#[derive(Clone)]
pub struct Mount {
    /// Kernel-wide, increasing: the order `ns` prints.
    pub id: u64,
    /// The root of what is bound or mounted here.
    pub to: Arc<Chan>,
    /// MBEFORE/MAFTER/MCREATE as given to bind.
    pub flags: u32,
    /// The attach specifier of a 9P mount (empty for a bind).
    pub spec: String,
}

/// A mounted-on file and its union (Plan 9 `Mhead`).
#[derive(Clone)]
pub struct MountPoint {
    /// The file mounted upon, named as it was reached.
    pub from: Arc<Chan>,
    /// The union, in lookup order.
    pub mounts: Vec<Mount>,
}

/// One line of a namespace listing, in mount id order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NsEntry {
    pub id: u64,
    /// A 9P mount (`mount` line) rather than a bind.
    pub mount: bool,
    pub flags: u32,
    /// Name of what is bound (`#c`, `/usr/me/bin`, ...).
    pub source: String,
    /// Name of the mount point.
    pub target: String,
    pub spec: String,
}

/// A resolved name: the chan, and, where the last element was a union, that union.
pub struct Resolved {
    pub chan: Chan,
    pub union: Option<Arc<MountPoint>>,
}

struct State {
    mounts: HashMap<MountKey, Arc<MountPoint>>,
    /// None only while the first namespace is being built at boot.
    root: Option<Arc<Chan>>,
    dot: Option<Arc<Chan>>,
    nodevs: bool,
}

/// A namespace shared by a group of processes (Plan 9 `Pgrp`).
pub struct Namespace {
    /// Group id, as `/prog/N/nsgrp` shows it.
    pub id: u64,
    state: RwLock<State>,
}

/// What an open union directory still has to read (Plan 9 `unionread`'s state).
pub struct UnionRead {
    members: Vec<Arc<Chan>>,
    index: usize,
    current: Option<Arc<Chan>>,
    member_offset: u64,
}

impl Namespace {
    /// A namespace with no mounts whose root and current directory are `root`.
    pub fn new(root: Chan) -> Namespace {
        let namespace = Namespace::unrooted();
        namespace.set_root(root);
        namespace
    }

    /// A namespace with nothing in it yet, not even a root: the first one, at boot, before
    /// `#/` is attached. Every path fails until [`Namespace::set_root`].
    pub fn unrooted() -> Namespace {
        Namespace {
            id: NEXT_NAMESPACE_ID.fetch_add(1, Ordering::Relaxed),
            state: RwLock::new(State {
                mounts: HashMap::new(),
                root: None,
                dot: None,
                nodevs: false,
            }),
        }
    }

    /// Makes `root` the root and current directory, naming it `/`.
    pub fn set_root(&self, mut root: Chan) {
        root.name = Arc::from("/");
        let root = Arc::new(root);
        let mut state = self.state.write();
        state.dot = Some(root.clone());
        state.root = Some(root);
    }

    fn root(&self) -> Result<Chan> {
        let state = self.state.read();
        state
            .root
            .as_ref()
            .map(|root| root.clone_unopened())
            .ok_or(Error::NotExist)
    }

    fn dot(&self) -> Result<Chan> {
        let state = self.state.read();
        state
            .dot
            .as_ref()
            .map(|dot| dot.clone_unopened())
            .ok_or(Error::NotExist)
    }

    /// A copy with the same mounts, root, current directory and NODEVS (FORKNS).
    pub fn fork(&self) -> Namespace {
        let state = self.state.read();
        Namespace {
            id: NEXT_NAMESPACE_ID.fetch_add(1, Ordering::Relaxed),
            state: RwLock::new(State {
                mounts: state.mounts.clone(),
                root: state.root.clone(),
                dot: state.dot.clone(),
                nodevs: state.nodevs,
            }),
        }
    }

    /// A namespace with no mounts whose root and current directory are this one's current
    /// directory, keeping NODEVS (NEWNS). If something is mounted on the current directory,
    /// the root is what that mount shows (its first member), so `cd /n/x; pctl newns` confines
    /// a process to the tree it was looking at.
    pub fn renew(&self) -> Namespace {
        let fresh = Namespace::unrooted();
        if let Ok(dot) = self.dot() {
            fresh.set_root(self.cross(dot).chan);
        }
        fresh.state.write().nodevs = self.nodevs();
        fresh
    }

    /// Forbids attaching devices by `#` name from now on, for every process sharing this
    /// namespace and every copy made of it (NODEVS). There is no way back.
    pub fn set_nodevs(&self) {
        self.state.write().nodevs = true;
    }

    pub fn nodevs(&self) -> bool {
        self.state.read().nodevs
    }

    /// The current directory's name.
    pub fn dot_name(&self) -> String {
        let state = self.state.read();
        state
            .dot
            .as_ref()
            .map_or_else(|| "/".to_string(), |dot| dot.name.to_string())
    }

    /// Number of mount points (for diagnostics and benchmarks).
    pub fn mount_point_count(&self) -> usize {
        self.state.read().mounts.len()
    }

    /// The names of the files of device instance (`letter`, `devno`) something is mounted on,
    /// with their qid paths, in qid path order: what a mount-point device (`#N`) lists.
    pub fn mounted_on(&self, letter: char, devno: u64) -> Vec<(u64, String)> {
        let state = self.state.read();
        let mut found: Vec<(u64, String)> = state
            .mounts
            .iter()
            .filter(|(key, _)| key.letter == letter && key.devno == devno)
            .map(|(key, point)| {
                let name = point.from.name.rsplit('/').next().unwrap_or_default();
                (key.path, name.to_string())
            })
            .collect();
        found.sort();
        found
    }

    fn mount_point(&self, chan: &Chan) -> Option<Arc<MountPoint>> {
        let state = self.state.read();
        if state.mounts.is_empty() {
            return None;
        }
        state.mounts.get(&MountKey::of(chan)).cloned()
    }

    /// Whether device `letter` may be attached by name with `spec` under NODEVS: only pipes,
    /// the process's own environment and a fresh private srv directory (Inferno's list).
    fn attach_allowed(letter: char, spec: &str) -> bool {
        matches!(letter, '|' | 'e') || (letter == 's' && spec.is_empty())
    }

    /// Attaches `#letter spec`, as a path naming it does.
    pub fn attach(&self, ctx: &Ctx, letter: char, spec: &str) -> Result<Chan> {
        if letter == 'M' || (self.nodevs() && !Self::attach_allowed(letter, spec)) {
            return Err(Error::NoAttach);
        }
        let dev = ctx.kernel().device(letter).ok_or(Error::UnknownDevice)?;
        let attached = dev.attach(ctx, spec)?;
        let name: Arc<str> = Arc::from(format!("#{letter}{spec}"));
        Ok(Chan::new(
            dev,
            attached.devno,
            attached.qid,
            attached.aux,
            name,
        ))
    }

    /// The starting chan of a parsed path and whether mounts apply along it. A relative path
    /// that climbs with `..` is rewritten against the current directory's name.
    fn start(&self, ctx: &Ctx, parsed: &Parsed) -> Result<(Chan, bool, Vec<String>)> {
        match &parsed.start {
            Start::Root => Ok((self.root()?, true, parsed.names.clone())),
            Start::Device { letter, spec } => Ok((
                self.attach(ctx, *letter, spec)?,
                false,
                parsed.names.clone(),
            )),
            Start::Dot if parsed.up == 0 => Ok((self.dot()?, true, parsed.names.clone())),
            Start::Dot => {
                let mut text = self.dot_name();
                path::push_name(&mut text, &parsed.text());
                let absolute = path::parse(&text)?;
                if absolute.start == Start::Dot {
                    // The current directory has a relative name only if something is badly
                    // wrong; refuse rather than loop.
                    return Err(Error::NotExist);
                }
                self.start(ctx, &absolute)
            }
        }
    }

    /// Walks one name from `chan`, trying each member of a union there in order.
    fn step(&self, ctx: &Ctx, chan: &Chan, name: &str, use_mounts: bool) -> Result<Chan> {
        let union = if use_mounts {
            self.mount_point(chan)
        } else {
            None
        };
        match union {
            None => chan.dev.walk(ctx, chan, name),
            Some(union) => Self::union_step(ctx, &union, name),
        }
    }

    /// Walks one name in the members of `union`, in order; the first that has it wins. If
    /// none has it, the error is the first member's that says more than "file does not exist"
    /// (a host out of descriptors, a link refused), so a real failure in one member is not
    /// hidden behind another member's lacking the name.
    fn union_step(ctx: &Ctx, union: &MountPoint, name: &str) -> Result<Chan> {
        let mut first_error: Option<Error> = None;
        for member in &union.mounts {
            match member.to.dev.walk(ctx, &member.to, name) {
                Ok(found) => return Ok(found),
                Err(error) => {
                    if error.is_interrupt() {
                        return Err(error);
                    }
                    let says_more = match &first_error {
                        None => true,
                        Some(first) => {
                            first.root() == &Error::NotExist && error.root() != &Error::NotExist
                        }
                    };
                    if says_more {
                        first_error = Some(error);
                    }
                }
            }
        }
        Err(first_error.unwrap_or(Error::NotExist))
    }

    /// Walks `names` below `root`, a directory resolved earlier for opening: the union at the
    /// root is the one it had then, and mounts further down are the namespace's now. Returns
    /// the chan reached, before any mount on it, and the union there.
    fn walk_below(
        &self,
        ctx: &Ctx,
        root: &Resolved,
        names: &[String],
    ) -> Result<(Chan, Option<Arc<MountPoint>>)> {
        let Some((first, rest)) = names.split_first() else {
            return Ok((root.chan.clone_unopened(), root.union.clone()));
        };
        let mut name = root.chan.name.to_string();
        path::push_name(&mut name, first);
        let mut next = match &root.union {
            Some(union) => Self::union_step(ctx, union, first),
            None => self.step(ctx, &root.chan, first, true),
        }
        .map_err(|error| error.at(&name))?;
        next.name = Arc::from(name.as_str());
        let chan = self.walk_names(ctx, next, rest, true)?;
        let union = self.mount_point(&chan);
        Ok((chan, union))
    }

    /// Resolves `names` below `root` (see [`Namespace::walk_below`]). This is how an export
    /// sees its tree: a later bind onto the exported directory itself does not change what a
    /// client already has.
    pub fn resolve_below(&self, ctx: &Ctx, root: &Resolved, names: &[String]) -> Result<Resolved> {
        let (chan, union) = self.walk_below(ctx, root, names)?;
        Ok(Self::enter(chan, union))
    }

    /// Creates `names` below `root` (see [`Namespace::walk_below`] and [`Namespace::create`]).
    pub fn create_below(
        &self,
        ctx: &Ctx,
        root: &Resolved,
        names: &[String],
        mode: u8,
        perm: u32,
        exclusive: bool,
    ) -> Result<Arc<Chan>> {
        let Some((last, parents)) = names.split_last() else {
            return Err(Error::Exists.at(&root.chan.name));
        };
        let (parent, union) = self.walk_below(ctx, root, parents)?;
        self.create_at(ctx, parent, union, true, last, mode, perm, exclusive)
    }

    /// Steps into `union` on `chan` if there is one: its first member, named as `chan` is.
    fn enter(chan: Chan, union: Option<Arc<MountPoint>>) -> Resolved {
        match union {
            None => Resolved { chan, union: None },
            Some(union) => {
                let mut first = union.mounts[0].to.clone_unopened();
                first.name = chan.name.clone();
                Resolved {
                    chan: first,
                    union: Some(union),
                }
            }
        }
    }

    /// Walks `names` from `start`, naming each chan by the path walked.
    fn walk_names(
        &self,
        ctx: &Ctx,
        mut chan: Chan,
        names: &[String],
        use_mounts: bool,
    ) -> Result<Chan> {
        let mut name = chan.name.to_string();
        for element in names {
            path::push_name(&mut name, element);
            let mut next = self
                .step(ctx, &chan, element, use_mounts)
                .map_err(|error| error.at(&name))?;
            next.name = Arc::from(name.as_str());
            chan = next;
        }
        Ok(chan)
    }

    /// Steps through a mount on `chan`: the union's first member, named as `chan` is.
    fn cross(&self, chan: Chan) -> Resolved {
        let union = self.mount_point(&chan);
        Self::enter(chan, union)
    }

    /// Resolves `path` for `access` (Plan 9 `namec`).
    pub fn resolve(&self, ctx: &Ctx, path: &str, access: Access) -> Result<Resolved> {
        let parsed = path::parse(path).map_err(|error| error.at(path))?;
        let (start, use_mounts, names) = self.start(ctx, &parsed).map_err(|e| e.at(path))?;
        let chan = self.walk_names(ctx, start, &names, use_mounts)?;
        Ok(match access {
            Access::Open | Access::Bind if use_mounts => self.cross(chan),
            _ => Resolved { chan, union: None },
        })
    }

    /// Resolves and opens `path` (Plan 9 `namec` with `Aopen`). An opened union directory
    /// reads every member in turn.
    pub fn open(&self, ctx: &Ctx, path: &str, mode: u8) -> Result<Arc<Chan>> {
        let resolved = self.resolve(ctx, path, Access::Open)?;
        Self::open_resolved(ctx, resolved, mode)
    }

    /// Opens what [`Namespace::resolve`] (or `resolve_below`) found.
    pub fn open_resolved(ctx: &Ctx, resolved: Resolved, mode: u8) -> Result<Arc<Chan>> {
        let name = resolved.chan.name.clone();
        let chan = open_chan(ctx, resolved.chan, mode).map_err(|error| error.at(&name))?;
        if let Some(union) = resolved.union.filter(|union| union.mounts.len() > 1)
            && chan.is_dir()
        {
            let members = union.mounts.iter().map(|m| m.to.clone()).collect();
            *chan.union.lock() = Some(UnionRead::new(members));
        }
        Ok(chan)
    }

    /// Creates `path` (Plan 9 `namec` with `Acreate`): an existing file is opened truncated
    /// (or refused if `exclusive`, Plan 9's OEXCL, or if a directory was asked for); otherwise
    /// the file is made in the first MCREATE member of a union, or in the directory itself if
    /// it is no mount point.
    pub fn create(
        &self,
        ctx: &Ctx,
        path: &str,
        mode: u8,
        perm: u32,
        exclusive: bool,
    ) -> Result<Arc<Chan>> {
        let parsed = path::parse(path).map_err(|error| error.at(path))?;
        let (start, use_mounts, mut names) = self.start(ctx, &parsed).map_err(|e| e.at(path))?;
        let Some(last) = names.pop() else {
            return Err(Error::Exists.at(path));
        };
        let parent = self.walk_names(ctx, start, &names, use_mounts)?;
        let union = if use_mounts {
            self.mount_point(&parent)
        } else {
            None
        };
        self.create_at(ctx, parent, union, use_mounts, &last, mode, perm, exclusive)
    }

    /// Creates `last` in directory `parent`, on which `union` is mounted (if any); an existing
    /// file is crossed into its mounts when `use_mounts`.
    #[allow(clippy::too_many_arguments)]
    fn create_at(
        &self,
        ctx: &Ctx,
        parent: Chan,
        union: Option<Arc<MountPoint>>,
        use_mounts: bool,
        last: &str,
        mode: u8,
        perm: u32,
        exclusive: bool,
    ) -> Result<Arc<Chan>> {
        let full = path::join(&parent.name, last);
        let found = match &union {
            Some(union) => Self::union_step(ctx, union, last),
            None => parent.dev.walk(ctx, &parent, last),
        };
        match found {
            Ok(mut existing) => {
                if exclusive || perm & DMDIR != 0 {
                    return Err(Error::Exists.at(&full));
                }
                existing.name = Arc::from(full.as_str());
                let resolved = if use_mounts {
                    self.cross(existing)
                } else {
                    Resolved {
                        chan: existing,
                        union: None,
                    }
                };
                open_chan(ctx, resolved.chan, mode | OTRUNC).map_err(|error| error.at(&full))
            }
            Err(error) if error.root() != &Error::NotExist => Err(error.at(&full)),
            Err(_) => {
                let mut target = match union {
                    None => parent,
                    Some(union) => {
                        let member = union
                            .mounts
                            .iter()
                            .find(|member| member.flags & MCREATE != 0)
                            .ok_or_else(|| Error::NoCreate.at(&full))?;
                        member.to.clone_unopened()
                    }
                };
                target.name = Arc::from(parent_name(&full));
                let dev = target.dev.clone();
                dev.create(ctx, &target, last, perm, mode)
                    .map_err(|error| error.at(&full))
            }
        }
    }

    /// Binds `new` onto `old` with `flags` (Plan 9 `bind` → `cmount`); returns the mount id.
    pub fn bind(&self, ctx: &Ctx, new: &str, old: &str, flags: u32) -> Result<u64> {
        check_flags(flags)?;
        let source = self.resolve(ctx, new, Access::Bind)?;
        let target = self.resolve(ctx, old, Access::Mount)?;
        self.mount_chan(source.chan, source.union, target.chan, flags, "")
    }

    /// Adds `source` (and, if it came from a union, that union's other members) to the union
    /// at `target` (Plan 9 `cmount`). Also the last step of a 9P mount.
    pub fn mount_chan(
        &self,
        source: Chan,
        source_union: Option<Arc<MountPoint>>,
        target: Chan,
        flags: u32,
        spec: &str,
    ) -> Result<u64> {
        check_flags(flags)?;
        let order = flags & MORDER;
        if source.is_dir() != target.is_dir() || (!target.is_dir() && order != MREPL) {
            return Err(Error::InconsistentMount);
        }
        if flags & MCREATE != 0
            && let Some(union) = &source_union
            && (union.mounts.len() > 1 || union.mounts[0].flags & MCREATE == 0)
        {
            return Err(Error::InconsistentMount);
        }
        let key = MountKey::of(&target);
        let mut state = self.state.write();
        let existing = state.mounts.get(&key).cloned();
        let mut members = match &existing {
            Some(point) => point.mounts.clone(),
            None if order != MREPL => vec![Mount {
                id: next_mount_id(),
                to: Arc::new(target.clone_unopened()),
                flags: 0,
                spec: String::new(),
            }],
            None => Vec::new(),
        };
        let id = next_mount_id();
        let mut added = vec![Mount {
            id,
            to: Arc::new(source),
            flags,
            spec: spec.to_string(),
        }];
        if let Some(union) = source_union {
            let copied_order = if order == MREPL { MAFTER } else { order };
            for member in union.mounts.iter().skip(1) {
                added.push(Mount {
                    id: next_mount_id(),
                    to: member.to.clone(),
                    flags: copied_order,
                    spec: member.spec.clone(),
                });
            }
        }
        match order {
            MREPL => members = added,
            MBEFORE => {
                added.append(&mut members);
                members = added;
            }
            _ => members.append(&mut added),
        }
        let from = match existing {
            Some(point) => point.from.clone(),
            None => Arc::new(target),
        };
        state.mounts.insert(
            key,
            Arc::new(MountPoint {
                from,
                mounts: members,
            }),
        );
        Ok(id)
    }

    /// Removes what is mounted on `old`: everything, or just the member that `name` opens to
    /// (Plan 9 `unmount` → `cunmount`).
    pub fn unmount(&self, ctx: &Ctx, name: Option<&str>, old: &str) -> Result<()> {
        let target = self.resolve(ctx, old, Access::Mount)?.chan;
        let key = MountKey::of(&target);
        let member = match name {
            None => None,
            Some(name) => {
                let resolved = self.resolve(ctx, name, Access::Open)?;
                // Opening reaches the real file behind names such as /fd/3 or /srv/x;
                // files that cannot be opened for reading are compared as resolved.
                let probe = resolved.chan.clone_unopened();
                Some(match open_chan(ctx, probe, OREAD) {
                    Ok(opened) => opened,
                    Err(_) => Arc::new(resolved.chan),
                })
            }
        };
        let mut state = self.state.write();
        let point = state
            .mounts
            .get(&key)
            .cloned()
            .ok_or(Error::NotMounted.at(old))?;
        let Some(member) = member else {
            state.mounts.remove(&key);
            return Ok(());
        };
        let position = point
            .mounts
            .iter()
            .position(|mount| {
                mount.to.same_file(&member)
                    || crate::mnt::connection_of(&mount.to)
                        .is_some_and(|connection| connection.same_file(&member))
            })
            .ok_or(Error::NotInUnion)?;
        let mut mounts = point.mounts.clone();
        mounts.remove(position);
        if mounts.is_empty() {
            state.mounts.remove(&key);
        } else {
            state.mounts.insert(
                key,
                Arc::new(MountPoint {
                    from: point.from.clone(),
                    mounts,
                }),
            );
        }
        Ok(())
    }

    /// Changes the current directory (Plan 9 `chdir`, `Atodir`).
    pub fn chdir(&self, ctx: &Ctx, path: &str) -> Result<()> {
        let resolved = self.resolve(ctx, path, Access::Chdir)?;
        let crossed = self.cross(resolved.chan.clone_unopened());
        if !crossed.chan.is_dir() {
            return Err(Error::NotDir.at(path));
        }
        self.state.write().dot = Some(Arc::new(resolved.chan));
        Ok(())
    }

    /// Every mount, in id order (what `/prog/N/ns` prints, before its final `cd`).
    pub fn entries(&self) -> Vec<NsEntry> {
        let state = self.state.read();
        let mut entries: Vec<NsEntry> = state
            .mounts
            .values()
            .flat_map(|point| {
                point.mounts.iter().map(|mount| NsEntry {
                    id: mount.id,
                    mount: mount.to.letter() == 'M',
                    flags: mount.flags,
                    source: crate::mnt::mount_source(&mount.to)
                        .unwrap_or_else(|| mount.to.name.to_string()),
                    target: point.from.name.to_string(),
                    spec: mount.spec.clone(),
                })
            })
            .collect();
        entries.sort_by_key(|entry| entry.id);
        entries
    }

    /// The namespace in Inferno's textual form: `bind` lines in mount order, then `cd`.
    pub fn describe(&self) -> String {
        let mut text = String::new();
        for entry in self.entries() {
            text.push_str(&entry.line());
            text.push('\n');
        }
        text.push_str("cd ");
        text.push_str(&crate::text::quote(&self.dot_name()));
        text.push('\n');
        text
    }
}

impl NsEntry {
    /// `bind -b '#c' /dev`, `mount -a '#M' /n/x spec`, ...
    pub fn line(&self) -> String {
        let mut line = String::from(if self.mount { "mount" } else { "bind" });
        let flags = flag_letters(self.flags);
        if !flags.is_empty() {
            line.push_str(" -");
            line.push_str(&flags);
        }
        line.push(' ');
        line.push_str(&crate::text::quote(&self.source));
        line.push(' ');
        line.push_str(&crate::text::quote(&self.target));
        if !self.spec.is_empty() {
            line.push(' ');
            line.push_str(&crate::text::quote(&self.spec));
        }
        line
    }
}

/// The letters of `bind`'s flags: `a`, `b`, `c`, `C`.
pub fn flag_letters(flags: u32) -> String {
    let mut letters = String::new();
    match flags & MORDER {
        MAFTER => letters.push('a'),
        MBEFORE => letters.push('b'),
        _ => {}
    }
    if flags & MCREATE != 0 {
        letters.push('c');
    }
    if flags & MCACHE != 0 {
        letters.push('C');
    }
    letters
}

fn check_flags(flags: u32) -> Result<()> {
    if flags & !MMASK != 0 || flags & MORDER == MORDER {
        return Err(Error::BadArg);
    }
    Ok(())
}

fn parent_name(full: &str) -> String {
    match full.rfind('/') {
        Some(0) => "/".to_string(),
        Some(index) => full[..index].to_string(),
        None => ".".to_string(),
    }
}

/// Opens a resolved chan with the device's `open`.
pub(crate) fn open_chan(ctx: &Ctx, chan: Chan, mode: u8) -> Result<Arc<Chan>> {
    let dev = chan.dev.clone();
    dev.open(ctx, chan, mode)
}

impl UnionRead {
    fn new(members: Vec<Arc<Chan>>) -> UnionRead {
        UnionRead {
            members,
            index: 0,
            current: None,
            member_offset: 0,
        }
    }

    /// Starts again from the first member (a read or seek at offset 0).
    pub(crate) fn rewind(&mut self) {
        self.index = 0;
        self.current = None;
        self.member_offset = 0;
    }

    /// Reads the next packed stat records: the current member to its end, then the next.
    /// A member that cannot be opened or read is skipped, as in Inferno.
    pub(crate) fn read(&mut self, ctx: &Ctx, buf: &mut [u8]) -> Result<usize> {
        loop {
            let Some(member) = self.members.get(self.index) else {
                return Ok(0);
            };
            if self.current.is_none() {
                match open_chan(ctx, member.clone_unopened(), OREAD) {
                    Ok(opened) => {
                        self.current = Some(opened);
                        self.member_offset = 0;
                    }
                    Err(error) if error.is_interrupt() => return Err(error),
                    Err(_) => {
                        self.index += 1;
                        continue;
                    }
                }
            }
            let Some(current) = &self.current else {
                continue;
            };
            match current.dev.dirread(ctx, current, buf, self.member_offset) {
                Ok(0) => {}
                Ok(count) => {
                    self.member_offset += count as u64;
                    return Ok(count);
                }
                Err(error) if error.is_interrupt() || error == Error::ShortIo => {
                    return Err(error);
                }
                Err(_) => {}
            }
            self.index += 1;
            self.current = None;
        }
    }
}

#[cfg(test)]
mod tests {
    //! Namespace logic against the in-memory device: no threads, no host.

    use super::*;
    use crate::Kernel;
    use crate::memfs::MemFs;
    use ninep::{Dir, ORDWR, OREAD, OWRITE};

    fn setup() -> (Arc<MemFs>, Ctx) {
        let kernel = Kernel::new("test", "testhost");
        let fs = MemFs::new('T');
        kernel.register(fs.clone()).unwrap();
        let ctx = Ctx::new(kernel.first_proc("test", "test"));
        let root = ctx.ns().attach(&ctx, 'T', "root").unwrap();
        ctx.ns().set_root(root);
        for dir in ["dev", "n", "tmp", "usr/glenda"] {
            fs.add("root", dir, None);
        }
        fs.add("a", "x", Some("a's x"));
        fs.add("a", "only-a", Some("only in a"));
        fs.add("b", "x", Some("b's x"));
        fs.add("b", "only-b", Some("only in b"));
        fs.add("b", "sub/deep", Some("deep in b"));
        (fs, ctx)
    }

    fn cat(ctx: &Ctx, path: &str) -> String {
        String::from_utf8(ctx.read_file(path, 1 << 16).unwrap()).unwrap()
    }

    fn names(ctx: &Ctx, path: &str) -> Vec<String> {
        ctx.read_dir(path)
            .unwrap()
            .into_iter()
            .map(|dir| dir.name)
            .collect()
    }

    #[test]
    fn bind_replaces() {
        let (_, ctx) = setup();
        ctx.bind("#Ta", "/n", MREPL).unwrap();
        assert_eq!(cat(&ctx, "/n/x"), "a's x");
        assert_eq!(names(&ctx, "/n"), ["x", "only-a"]);
        ctx.bind("#Tb", "/n", MREPL).unwrap();
        assert_eq!(names(&ctx, "/n"), ["x", "only-b", "sub"]);
    }

    #[test]
    fn union_lookup_follows_order_both_ways() {
        let (_, ctx) = setup();
        ctx.bind("#Ta", "/n", MREPL).unwrap();
        ctx.bind("#Tb", "/n", MAFTER).unwrap();
        assert_eq!(cat(&ctx, "/n/x"), "a's x");
        assert_eq!(cat(&ctx, "/n/only-b"), "only in b");

        let (_, ctx) = setup();
        ctx.bind("#Ta", "/n", MREPL).unwrap();
        ctx.bind("#Tb", "/n", MBEFORE).unwrap();
        assert_eq!(cat(&ctx, "/n/x"), "b's x");
        assert_eq!(cat(&ctx, "/n/only-a"), "only in a");
        assert_eq!(cat(&ctx, "/n/sub/deep"), "deep in b");
    }

    #[test]
    fn union_directory_read_concatenates_members_in_order() {
        let (_, ctx) = setup();
        ctx.bind("#Ta", "/n", MREPL).unwrap();
        ctx.bind("#Tb", "/n", MAFTER).unwrap();
        assert_eq!(names(&ctx, "/n"), ["x", "only-a", "x", "only-b", "sub"]);
        ctx.bind("#Tb", "/tmp", MBEFORE).unwrap();
        // The directory bound on keeps its place after the new member.
        assert_eq!(names(&ctx, "/tmp"), ["x", "only-b", "sub"]);
        // Reading again from offset 0 starts over.
        let fd = ctx.open("/n", OREAD).unwrap();
        let first = ctx.dirread(fd).unwrap();
        ctx.seek(fd, 0, crate::sys::Whence::Start).unwrap();
        assert_eq!(ctx.dirread(fd).unwrap(), first);
    }

    #[test]
    fn create_goes_to_the_first_mcreate_member() {
        let (fs, ctx) = setup();
        ctx.bind("#Ta", "/n", MREPL).unwrap();
        ctx.bind("#Tb", "/n", MAFTER).unwrap();
        assert_eq!(
            ctx.create("/n/new", OWRITE, 0o664).unwrap_err().root(),
            &Error::NoCreate
        );
        ctx.bind("#Tb", "/n", MAFTER | MCREATE).unwrap();
        let fd = ctx.create("/n/new", OWRITE, 0o664).unwrap();
        ctx.write(fd, b"hello").unwrap();
        ctx.close(fd).unwrap();
        assert_eq!(cat(&ctx, "#Tb/new"), "hello");
        assert!(ctx.stat("#Ta/new").is_err());
        // A file that exists anywhere in the union is truncated, not made again.
        let fd = ctx.create("/n/only-a", OWRITE, 0o664).unwrap();
        ctx.close(fd).unwrap();
        assert_eq!(cat(&ctx, "#Ta/only-a"), "");
        // A member bound with -c that refuses does not fall through to the next.
        fs.add("c", "", None);
        ctx.wstat(
            "#Tc",
            &Dir {
                mode: 0o555,
                ..Dir::null()
            },
        )
        .unwrap();
        ctx.bind("#Tc", "/n", MBEFORE | MCREATE).unwrap();
        assert_eq!(
            ctx.create("/n/other", OWRITE, 0o664).unwrap_err().root(),
            &Error::Perm
        );
    }

    #[test]
    fn mkdir_of_an_existing_name_fails() {
        let (_, ctx) = setup();
        ctx.mkdir("/usr/new", 0o775).unwrap();
        assert_eq!(
            ctx.mkdir("/usr/new", 0o775).unwrap_err().root(),
            &Error::Exists
        );
    }

    #[test]
    fn dotdot_leaves_a_mount_point_by_name() {
        let (_, ctx) = setup();
        ctx.bind("#Tb", "/n", MREPL).unwrap();
        ctx.chdir("/n/sub").unwrap();
        assert_eq!(ctx.getwd(), "/n/sub");
        assert_eq!(cat(&ctx, "deep"), "deep in b");
        assert_eq!(cat(&ctx, "../x"), "b's x");
        ctx.chdir("../..").unwrap();
        assert_eq!(ctx.getwd(), "/");
        assert_eq!(names(&ctx, "n/.."), names(&ctx, "/"));
        // Climbing above the root stays at the root.
        assert_eq!(cat(&ctx, "/../../../n/x"), "b's x");
        assert_eq!(cat(&ctx, "#Tb/../../x"), "b's x");
    }

    #[test]
    fn chdir_onto_a_mount_point_sees_the_mount() {
        let (_, ctx) = setup();
        ctx.chdir("/n").unwrap();
        ctx.bind("#Ta", ".", MREPL).unwrap();
        assert_eq!(cat(&ctx, "x"), "a's x");
        assert_eq!(ctx.getwd(), "/n");
    }

    #[test]
    fn forked_namespace_does_not_see_later_binds() {
        let (_, ctx) = setup();
        let original = ctx.ns();
        ctx.pctl(crate::proc::FORKNS, &[]).unwrap();
        ctx.bind("#Ta", "/n", MREPL).unwrap();
        assert_eq!(cat(&ctx, "/n/x"), "a's x");
        assert!(original.mount_point_count() == 0);
        let other = ctx.kernel().first_proc("other", "test");
        other.set_ns(original.clone());
        let other = Ctx::new(other);
        assert!(other.read_file("/n/x", 10).is_err());
    }

    #[test]
    fn newns_roots_at_the_current_directory() {
        let (_, ctx) = setup();
        ctx.bind("#Tb", "/n", MREPL).unwrap();
        ctx.chdir("/n").unwrap();
        ctx.pctl(crate::proc::NEWNS, &[]).unwrap();
        assert_eq!(cat(&ctx, "/x"), "b's x");
        assert_eq!(ctx.ns().mount_point_count(), 0);
    }

    #[test]
    fn unmount_one_member_or_all() {
        let (_, ctx) = setup();
        ctx.bind("#Ta", "/n", MREPL).unwrap();
        ctx.bind("#Tb", "/n", MAFTER).unwrap();
        ctx.unmount(Some("#Ta"), "/n").unwrap();
        assert_eq!(cat(&ctx, "/n/x"), "b's x");
        assert_eq!(
            ctx.unmount(Some("#Ta"), "/n").unwrap_err(),
            Error::NotInUnion
        );
        ctx.unmount(None, "/n").unwrap();
        assert!(ctx.read_dir("/n").unwrap().is_empty());
        assert_eq!(
            ctx.unmount(None, "/n").unwrap_err().root(),
            &Error::NotMounted
        );
    }

    #[test]
    fn binding_a_union_copies_it() {
        let (_, ctx) = setup();
        ctx.bind("#Ta", "/n", MREPL).unwrap();
        ctx.bind("#Tb", "/n", MAFTER).unwrap();
        ctx.bind("/n", "/tmp", MREPL).unwrap();
        assert_eq!(cat(&ctx, "/tmp/only-b"), "only in b");
        assert_eq!(names(&ctx, "/tmp").len(), 5);
    }

    #[test]
    fn files_bind_onto_files_only_by_replacement() {
        let (_, ctx) = setup();
        ctx.bind("#Tb", "/n", MREPL).unwrap();
        ctx.bind("#Ta/x", "/n/x", MREPL).unwrap();
        assert_eq!(cat(&ctx, "/n/x"), "a's x");
        assert_eq!(
            ctx.bind("#Ta/x", "/n/only-b", MAFTER).unwrap_err(),
            Error::InconsistentMount
        );
        assert_eq!(
            ctx.bind("#Ta/x", "/n/sub", MREPL).unwrap_err(),
            Error::InconsistentMount
        );
        assert_eq!(
            ctx.bind("#Ta", "/n", MBEFORE | MAFTER).unwrap_err(),
            Error::BadArg
        );
    }

    #[test]
    fn describe_prints_inferno_lines_in_mount_order() {
        let (_, ctx) = setup();
        ctx.bind("#Ta", "/n", MBEFORE).unwrap();
        ctx.bind("#Tb", "/n", MAFTER | MCREATE).unwrap();
        ctx.bind("#Tb", "/tmp", MREPL).unwrap();
        ctx.chdir("/usr/glenda").unwrap();
        assert_eq!(
            ctx.ns().describe(),
            "bind /n /n\nbind -b '#Ta' /n\nbind -ac '#Tb' /n\nbind '#Tb' /tmp\ncd /usr/glenda\n"
        );
        let forked = ctx.ns().fork();
        assert_eq!(forked.describe(), ctx.ns().describe());
    }

    #[test]
    fn nodevs_refuses_device_names_but_keeps_bound_ones() {
        let (_, ctx) = setup();
        ctx.bind("#Ta", "/n", MREPL).unwrap();
        ctx.pctl(crate::proc::FORKNS | crate::proc::NODEVS, &[])
            .unwrap();
        assert_eq!(
            ctx.open("#Tb/x", OREAD).unwrap_err().root(),
            &Error::NoAttach
        );
        assert_eq!(cat(&ctx, "/n/x"), "a's x");
        // Sticky: a copy of the namespace keeps it.
        ctx.pctl(crate::proc::FORKNS, &[]).unwrap();
        assert!(ctx.ns().nodevs());
        // NEWNS keeps it too.
        ctx.pctl(crate::proc::NEWNS, &[]).unwrap();
        assert!(ctx.ns().nodevs());
    }

    #[test]
    fn the_mount_driver_is_never_named() {
        let (_, ctx) = setup();
        assert_eq!(ctx.open("#M", OREAD).unwrap_err().root(), &Error::NoAttach);
        assert_eq!(
            ctx.open("#Q", OREAD).unwrap_err().root(),
            &Error::UnknownDevice
        );
    }

    #[test]
    fn errors_name_the_path() {
        let (_, ctx) = setup();
        let error = ctx.open("/n/missing/deeper", OREAD).unwrap_err();
        assert_eq!(error.to_string(), "'/n/missing' file does not exist");
        let error = ctx.open("/n", ORDWR).unwrap_err();
        assert_eq!(error.to_string(), "'/n' file is a directory");
    }

    #[test]
    fn stat_through_a_mount_point_reports_the_path_name() {
        let (_, ctx) = setup();
        ctx.bind("#Ta", "/n", MREPL).unwrap();
        assert_eq!(ctx.stat("/n").unwrap().name, "n");
        assert_eq!(ctx.stat("/").unwrap().name, "/");
    }

    #[test]
    fn ten_thousand_mounts_still_resolve() {
        let (fs, ctx) = setup();
        for index in 0..10_000 {
            fs.add("many", &format!("d{index}"), None);
            ctx.bind("#Ta", &format!("#Tmany/d{index}"), MREPL).unwrap();
        }
        assert_eq!(ctx.ns().mount_point_count(), 10_000);
        ctx.bind("#Tmany", "/n", MREPL).unwrap();
        assert_eq!(cat(&ctx, "/n/d9999/x"), "a's x");
    }

    /// A device whose host has run out of descriptors: every walk fails so.
    struct Exhausted;

    impl crate::dev::Device for Exhausted {
        fn letter(&self) -> char {
            'Z'
        }
        fn name(&self) -> &'static str {
            "exhausted"
        }
        fn attach(&self, _ctx: &Ctx, _spec: &str) -> Result<crate::dev::Attached> {
            Ok(crate::dev::Attached::root(ninep::Qid::dir(0)))
        }
        fn entry(&self, _ctx: &Ctx, _dir: &Chan, _index: usize) -> Result<Option<Dir>> {
            Ok(None)
        }
        fn stat(&self, _ctx: &Ctx, chan: &Chan) -> Result<Dir> {
            Ok(crate::dev::dir_entry(
                chan,
                chan.qid,
                "/",
                0,
                "test",
                DMDIR | 0o555,
            ))
        }
        fn read(&self, _ctx: &Ctx, _chan: &Chan, _buf: &mut [u8], _offset: u64) -> Result<usize> {
            Err(Error::TooManyFiles)
        }
        fn write(&self, _ctx: &Ctx, _chan: &Chan, _data: &[u8], _offset: u64) -> Result<usize> {
            Err(Error::TooManyFiles)
        }
        fn walk(&self, _ctx: &Ctx, _chan: &Chan, _name: &str) -> Result<Chan> {
            Err(Error::TooManyFiles)
        }
    }

    /// Issue 11, finding 10: with the host out of descriptors, a name in the boot union on `/`
    /// read "file does not exist", the first member's answer, hiding the real one.
    #[test]
    fn issue11_a_union_reports_a_real_failure_over_a_missing_name() {
        let (_fs, ctx) = setup();
        ctx.kernel().register(Arc::new(Exhausted)).unwrap();
        ctx.bind("#Z", "/", MAFTER).unwrap();
        let error = ctx.stat("/lib").unwrap_err();
        assert_eq!(error.root(), &Error::TooManyFiles, "{error}");
        // A name the first member has is still found.
        assert!(ctx.stat("/tmp").is_ok());
        // With no real failure, the error is still "file does not exist".
        let (_fs, ctx) = setup();
        ctx.bind("#Ta", "/", MAFTER).unwrap();
        assert_eq!(ctx.stat("/lib").unwrap_err().root(), &Error::NotExist);
    }
}
