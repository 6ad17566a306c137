//! An in-memory file tree device, for testing and measuring the namespace without a host.
//! Each attach specifier names a separate tree (`#Ta`, `#Tb`, ... under the letter given).
//! Not in ember's device table: tests and benchmarks register it under a letter of their own.

use crate::chan::Chan;
use crate::dev::{Attached, Device, dir_entry};
use crate::error::{Error, Result};
use crate::proc::Ctx;
use ninep::{DMDIR, Dir, OTRUNC, Qid};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

struct Node {
    name: String,
    is_dir: bool,
    data: Vec<u8>,
    children: Vec<usize>,
    perm: u32,
    removed: bool,
}

/// A device whose files live in memory.
pub struct MemFs {
    letter: char,
    nodes: Mutex<Vec<Node>>,
    roots: Mutex<HashMap<String, usize>>,
}

impl MemFs {
    pub fn new(letter: char) -> Arc<MemFs> {
        Arc::new(MemFs {
            letter,
            nodes: Mutex::new(Vec::new()),
            roots: Mutex::new(HashMap::new()),
        })
    }

    fn qid(index: usize, node: &Node) -> Qid {
        if node.is_dir {
            Qid::dir(index as u64)
        } else {
            Qid::file(index as u64)
        }
    }

    /// Adds a file or directory under the tree named `spec` (made if new); `path` is
    /// slash-separated, and missing directories on the way are made.
    pub fn add(&self, spec: &str, path: &str, data: Option<&str>) {
        let mut index = self.root_of(spec);
        let names: Vec<&str> = path.split('/').filter(|n| !n.is_empty()).collect();
        let mut nodes = self.nodes.lock();
        for (position, name) in names.iter().enumerate() {
            let last = position + 1 == names.len();
            let found = nodes[index]
                .children
                .iter()
                .copied()
                .find(|&child| nodes[child].name == *name && !nodes[child].removed);
            index = match found {
                Some(child) => child,
                None => {
                    let is_dir = !last || data.is_none();
                    nodes.push(Node {
                        name: name.to_string(),
                        is_dir,
                        data: if is_dir {
                            Vec::new()
                        } else {
                            data.unwrap_or("").as_bytes().to_vec()
                        },
                        children: Vec::new(),
                        perm: if is_dir { 0o775 } else { 0o664 },
                        removed: false,
                    });
                    let child = nodes.len() - 1;
                    nodes[index].children.push(child);
                    child
                }
            };
        }
    }

    fn root_of(&self, spec: &str) -> usize {
        let mut roots = self.roots.lock();
        *roots.entry(spec.to_string()).or_insert_with(|| {
            let mut nodes = self.nodes.lock();
            nodes.push(Node {
                name: format!("#{}{}", self.letter, spec),
                is_dir: true,
                data: Vec::new(),
                children: Vec::new(),
                perm: 0o775,
                removed: false,
            });
            nodes.len() - 1
        })
    }
}

impl Device for MemFs {
    fn letter(&self) -> char {
        self.letter
    }

    fn name(&self) -> &'static str {
        "memfs"
    }

    fn attach(&self, _ctx: &Ctx, spec: &str) -> Result<Attached> {
        let index = self.root_of(spec);
        Ok(Attached::root(Qid::dir(index as u64)))
    }

    fn walk(&self, _ctx: &Ctx, chan: &Chan, name: &str) -> Result<Chan> {
        let nodes = self.nodes.lock();
        let node = nodes.get(chan.qid.path as usize).ok_or(Error::NotExist)?;
        if !node.is_dir {
            return Err(Error::NotDir);
        }
        node.children
            .iter()
            .copied()
            .find(|&child| nodes[child].name == name && !nodes[child].removed)
            .map(|child| chan.walked(Self::qid(child, &nodes[child])))
            .ok_or(Error::NotExist)
    }

    fn entry(&self, _ctx: &Ctx, dir: &Chan, index: usize) -> Result<Option<Dir>> {
        let nodes = self.nodes.lock();
        let node = nodes.get(dir.qid.path as usize).ok_or(Error::NotExist)?;
        let mut live = node
            .children
            .iter()
            .copied()
            .filter(|&child| !nodes[child].removed);
        Ok(live.nth(index).map(|child| {
            let node = &nodes[child];
            dir_entry(
                dir,
                Self::qid(child, node),
                &node.name,
                node.data.len() as u64,
                "test",
                node.perm,
            )
        }))
    }

    fn stat(&self, _ctx: &Ctx, chan: &Chan) -> Result<Dir> {
        let nodes = self.nodes.lock();
        let index = chan.qid.path as usize;
        let node = nodes
            .get(index)
            .filter(|node| !node.removed)
            .ok_or(Error::NotExist)?;
        Ok(dir_entry(
            chan,
            Self::qid(index, node),
            &node.name,
            node.data.len() as u64,
            "test",
            node.perm,
        ))
    }

    fn read(&self, _ctx: &Ctx, chan: &Chan, buf: &mut [u8], offset: u64) -> Result<usize> {
        let nodes = self.nodes.lock();
        let node = nodes.get(chan.qid.path as usize).ok_or(Error::NotExist)?;
        Ok(crate::dev::read_bytes(&node.data, buf, offset))
    }

    fn write(&self, _ctx: &Ctx, chan: &Chan, data: &[u8], offset: u64) -> Result<usize> {
        let mut nodes = self.nodes.lock();
        let node = nodes
            .get_mut(chan.qid.path as usize)
            .ok_or(Error::NotExist)?;
        let offset = offset as usize;
        if node.data.len() < offset + data.len() {
            node.data.resize(offset + data.len(), 0);
        }
        node.data[offset..offset + data.len()].copy_from_slice(data);
        Ok(data.len())
    }

    fn open(&self, ctx: &Ctx, chan: Chan, mode: u8) -> Result<Arc<Chan>> {
        let dir = self.stat(ctx, &chan)?;
        crate::dev::check_open(ctx, &dir, mode)?;
        if mode & OTRUNC != 0 {
            self.nodes.lock()[chan.qid.path as usize].data.clear();
        }
        Ok(chan.opened(mode))
    }

    fn create(&self, _ctx: &Ctx, dir: &Chan, name: &str, perm: u32, mode: u8) -> Result<Arc<Chan>> {
        let mut nodes = self.nodes.lock();
        let parent = dir.qid.path as usize;
        if nodes[parent].perm & 0o200 == 0 {
            return Err(Error::Perm);
        }
        if nodes[parent]
            .children
            .iter()
            .any(|&child| nodes[child].name == name && !nodes[child].removed)
        {
            return Err(Error::Exists);
        }
        let is_dir = perm & DMDIR != 0;
        nodes.push(Node {
            name: name.to_string(),
            is_dir,
            data: Vec::new(),
            children: Vec::new(),
            perm: perm & 0o777,
            removed: false,
        });
        let index = nodes.len() - 1;
        nodes[parent].children.push(index);
        let qid = Self::qid(index, &nodes[index]);
        Ok(dir.child(qid, None, name).opened(mode))
    }

    fn remove(&self, _ctx: &Ctx, chan: &Chan) -> Result<()> {
        let mut nodes = self.nodes.lock();
        let index = chan.qid.path as usize;
        let live_children = nodes[index]
            .children
            .iter()
            .any(|&child| !nodes[child].removed);
        if live_children {
            return Err(Error::NotEmpty);
        }
        nodes[index].removed = true;
        Ok(())
    }

    fn wstat(&self, _ctx: &Ctx, chan: &Chan, dir: &Dir) -> Result<()> {
        let mut nodes = self.nodes.lock();
        let node = &mut nodes[chan.qid.path as usize];
        if dir.mode != !0 {
            node.perm = dir.mode & 0o777;
        }
        if !dir.name.is_empty() {
            node.name = dir.name.clone();
        }
        Ok(())
    }
}
