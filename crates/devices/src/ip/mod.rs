//! `#I`: the network as files over the host's sockets (Inferno `emu/port/devip.c` with
//! `ipif-posix.c`), with the connection server `cs` and the resolver `dns` (Inferno's
//! `ndb/cs` and `ndb/dns`) served by the device itself.
//!
//! ```text
//! #I/  tcp/  udp/  cs  dns  net (= #I/ itself)
//!      tcp/clone  tcp/N/{ctl data listen local remote status}   (udp likewise)
//! ```
//!
//! Opening `clone` takes a free conversation into use and the opened file *is* its `ctl`;
//! opening `listen` waits for a call and the opened file is the new conversation's `ctl`.
//! Conversations live in `conv.rs`, host sockets in `socket.rs`, `cs` and `dns` in `cs.rs`.
//!
//! Invariants:
//! - Qid paths are made and taken apart only by `IpQid`: the file kind in the low five
//!   bits, the conversation number above it, the protocol above that.
//! - Every wait (connect, listen, data read and write, name lookup) ends within one poll
//!   round of an interrupt, a kill, or a hangup of the conversation.
//! - There is one IP stack per ember: every attach of `#I` (spec empty or `0`) sees it.
//! - The root also holds `net`, which is the root itself. A machine that serves its `/net`
//!   (`export /net`) is then mounted by others as a tree that has both the files of `/net`
//!   and a `net` naming them, so `bind /n/gateway /net` and the talk's
//!   `bind /n/gateway/net /net` both give a process the gateway's network.

mod conv;
mod cs;
mod socket;

pub use conv::{HEADER_LEN, HEADER4_LEN, MAX_CONVS, OLD_HEADER_LEN, VERBS};
pub use cs::{NDB_FILES, STYX_PORT};

use conv::{Conv, NETWORK, Proto, Protocol};
use cs::Answers;
use kernel::dev::{check_open, dir_entry};
use kernel::{Attached, Chan, Ctx, Device, Dir, Error, Qid, Result};
use std::sync::Arc;

/// The kinds of file in `#I`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IpFile {
    Top,
    Cs,
    Dns,
    ProtoDir,
    Clone,
    ConvDir,
    Ctl,
    Data,
    Listen,
    Local,
    Remote,
    Status,
}

impl IpFile {
    const ALL: [IpFile; 12] = [
        IpFile::Top,
        IpFile::Cs,
        IpFile::Dns,
        IpFile::ProtoDir,
        IpFile::Clone,
        IpFile::ConvDir,
        IpFile::Ctl,
        IpFile::Data,
        IpFile::Listen,
        IpFile::Local,
        IpFile::Remote,
        IpFile::Status,
    ];

    /// The files of a conversation directory, in listing order.
    const CONV_FILES: [(&'static str, IpFile); 6] = [
        ("ctl", IpFile::Ctl),
        ("data", IpFile::Data),
        ("listen", IpFile::Listen),
        ("local", IpFile::Local),
        ("remote", IpFile::Remote),
        ("status", IpFile::Status),
    ];

    fn code(self) -> u64 {
        self as u64 + 1
    }

    fn is_dir(self) -> bool {
        matches!(self, IpFile::Top | IpFile::ProtoDir | IpFile::ConvDir)
    }

    /// Files of a conversation, which need the conversation to exist.
    fn in_conv(self) -> bool {
        matches!(
            self,
            IpFile::ConvDir
                | IpFile::Ctl
                | IpFile::Data
                | IpFile::Listen
                | IpFile::Local
                | IpFile::Remote
                | IpFile::Status
        )
    }
}

const FILE_BITS: u32 = 5;
const CONV_BITS: u32 = 16;

/// A qid path of `#I`: which protocol, which conversation, which file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct IpQid {
    proto: Protocol,
    conv: usize,
    file: IpFile,
}

impl IpQid {
    fn top(file: IpFile) -> IpQid {
        IpQid {
            proto: Protocol::Tcp,
            conv: 0,
            file,
        }
    }

    fn pack(self) -> Qid {
        let path = self.file.code()
            | (self.conv as u64) << FILE_BITS
            | (self.proto.index() as u64) << (FILE_BITS + CONV_BITS);
        if self.file.is_dir() {
            Qid::dir(path)
        } else {
            Qid::file(path)
        }
    }

    fn unpack(qid: Qid) -> Option<IpQid> {
        let code = qid.path & ((1 << FILE_BITS) - 1);
        let file = *IpFile::ALL.iter().find(|file| file.code() == code)?;
        let conv = ((qid.path >> FILE_BITS) & ((1 << CONV_BITS) - 1)) as usize;
        let proto = Protocol::from_index((qid.path >> (FILE_BITS + CONV_BITS)) as usize)?;
        Some(IpQid { proto, conv, file })
    }
}

/// The IP device.
pub struct Ip {
    protos: [Proto; 2],
}

impl Ip {
    pub fn new() -> Ip {
        Ip {
            protos: Protocol::ALL.map(Proto::new),
        }
    }

    fn proto(&self, proto: Protocol) -> &Proto {
        &self.protos[proto.index()]
    }

    fn conv(&self, qid: IpQid) -> Result<Arc<Conv>> {
        self.proto(qid.proto).conv(qid.conv).ok_or(Error::NotExist)
    }

    /// The directory entry of the file `qid` names.
    fn dir(&self, chan: &Chan, qid: IpQid) -> Result<Dir> {
        let packed = qid.pack();
        let entry =
            |name: &str, owner: &str, perm: u32| dir_entry(chan, packed, name, 0, owner, perm);
        Ok(match qid.file {
            IpFile::Top => entry("#I", NETWORK, 0o555),
            IpFile::Cs => entry("cs", NETWORK, 0o666),
            IpFile::Dns => entry("dns", NETWORK, 0o666),
            IpFile::ProtoDir => entry(qid.proto.name(), NETWORK, 0o555),
            IpFile::Clone => entry("clone", NETWORK, 0o666),
            file => {
                let info = self.conv(qid)?.info();
                match file {
                    IpFile::ConvDir => entry(&qid.conv.to_string(), &info.owner, 0o555),
                    _ => {
                        let (name, _) = IpFile::CONV_FILES
                            .iter()
                            .find(|(_, known)| *known == file)
                            .ok_or(Error::NotExist)?;
                        let perm = match file {
                            IpFile::Ctl | IpFile::Data | IpFile::Listen => info.perm,
                            _ => 0o444,
                        };
                        entry(name, &info.owner, perm)
                    }
                }
            }
        })
    }

    /// The `ctl` of conversation `index`, reached through `chan` (a `clone` or a `listen`):
    /// named as a walk to it would name it.
    fn ctl_chan(chan: Chan, file: IpFile, proto: Protocol, index: usize) -> Chan {
        let qid = IpQid {
            proto,
            conv: index,
            file: IpFile::Ctl,
        };
        let mut dir = parent(&chan.name);
        if file == IpFile::Listen {
            dir = parent(dir);
        }
        let name = kernel::path::join(dir, &format!("{index}/ctl"));
        let mut ctl = chan.walked(qid.pack());
        ctl.name = Arc::from(name);
        ctl
    }
}

impl Default for Ip {
    fn default() -> Ip {
        Ip::new()
    }
}

/// The path `name` without its last element.
fn parent(name: &str) -> &str {
    match name.rfind('/') {
        Some(0) => "/",
        Some(index) => &name[..index],
        None => name,
    }
}

fn qid_of(chan: &Chan) -> Result<IpQid> {
    IpQid::unpack(chan.qid).ok_or(Error::NotExist)
}

/// A conversation number as a directory name: decimal, without leading zeros.
fn conv_number(name: &str) -> Option<usize> {
    let canonical = !name.is_empty()
        && name.bytes().all(|byte| byte.is_ascii_digit())
        && (name == "0" || !name.starts_with('0'));
    if canonical { name.parse().ok() } else { None }
}

impl Device for Ip {
    fn letter(&self) -> char {
        'I'
    }

    fn name(&self) -> &'static str {
        "ip"
    }

    fn attach(&self, _ctx: &Ctx, spec: &str) -> Result<Attached> {
        if !spec.is_empty() && spec != "0" {
            return Err(Error::BadSpec);
        }
        Ok(Attached::root(IpQid::top(IpFile::Top).pack()))
    }

    fn walk(&self, _ctx: &Ctx, chan: &Chan, name: &str) -> Result<Chan> {
        let here = qid_of(chan)?;
        let next = match here.file {
            IpFile::Top => match name {
                "cs" => IpQid::top(IpFile::Cs),
                "dns" => IpQid::top(IpFile::Dns),
                // The root again: see the module comment.
                "net" => IpQid::top(IpFile::Top),
                name => IpQid {
                    proto: Protocol::from_name(name).ok_or(Error::NotExist)?,
                    conv: 0,
                    file: IpFile::ProtoDir,
                },
            },
            IpFile::ProtoDir if name == "clone" => IpQid {
                file: IpFile::Clone,
                ..here
            },
            IpFile::ProtoDir => {
                let conv = conv_number(name).ok_or(Error::NotExist)?;
                if conv >= self.proto(here.proto).count() {
                    return Err(Error::NotExist);
                }
                IpQid {
                    conv,
                    file: IpFile::ConvDir,
                    ..here
                }
            }
            IpFile::ConvDir => {
                let (_, file) = IpFile::CONV_FILES
                    .iter()
                    .find(|(known, _)| *known == name)
                    .ok_or(Error::NotExist)?;
                IpQid {
                    file: *file,
                    ..here
                }
            }
            _ => return Err(Error::NotDir),
        };
        Ok(chan.walked(next.pack()))
    }

    fn entry(&self, _ctx: &Ctx, dir: &Chan, index: usize) -> Result<Option<Dir>> {
        let here = qid_of(dir)?;
        let qid = match here.file {
            IpFile::Top => match index {
                0 | 1 => IpQid {
                    proto: Protocol::ALL[index],
                    conv: 0,
                    file: IpFile::ProtoDir,
                },
                2 => IpQid::top(IpFile::Cs),
                3 => IpQid::top(IpFile::Dns),
                4 => {
                    let mut itself = self.dir(dir, IpQid::top(IpFile::Top))?;
                    itself.name = "net".into();
                    return Ok(Some(itself));
                }
                _ => return Ok(None),
            },
            IpFile::ProtoDir => {
                let count = self.proto(here.proto).count();
                match index {
                    index if index < count => IpQid {
                        conv: index,
                        file: IpFile::ConvDir,
                        ..here
                    },
                    index if index == count => IpQid {
                        file: IpFile::Clone,
                        ..here
                    },
                    _ => return Ok(None),
                }
            }
            IpFile::ConvDir => match IpFile::CONV_FILES.get(index) {
                Some((_, file)) => IpQid {
                    file: *file,
                    ..here
                },
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        self.dir(dir, qid).map(Some)
    }

    fn stat(&self, _ctx: &Ctx, chan: &Chan) -> Result<Dir> {
        self.dir(chan, qid_of(chan)?)
    }

    fn open(&self, ctx: &Ctx, chan: Chan, mode: u8) -> Result<Arc<Chan>> {
        let qid = qid_of(&chan)?;
        if qid.file.in_conv() {
            // A stale chan of a conversation that no longer exists.
            self.conv(qid)?;
        }
        let user = ctx.user();
        match qid.file {
            IpFile::Cs | IpFile::Dns => {
                check_open(ctx, &self.dir(&chan, qid)?, mode)?;
                *chan.open_state.lock() = Some(Box::new(Answers::default()));
                Ok(chan.opened(mode))
            }
            IpFile::Clone => {
                check_open(ctx, &self.dir(&chan, qid)?, mode)?;
                let conv = self.proto(qid.proto).clone_conv(&user, None)?;
                Ok(Ip::ctl_chan(chan, qid.file, qid.proto, conv.index).opened(mode))
            }
            IpFile::Ctl | IpFile::Data => {
                let entry = self.dir(&chan, qid)?;
                self.conv(qid)?.open(&user, |info| {
                    let mut entry = entry.clone();
                    entry.uid = info.owner.clone();
                    entry.gid = info.owner.clone();
                    entry.mode = info.perm;
                    check_open(ctx, &entry, mode)
                })?;
                Ok(chan.opened(mode))
            }
            IpFile::Listen => {
                check_open(ctx, &self.dir(&chan, qid)?, mode)?;
                let call = self.conv(qid)?.accept(ctx)?;
                let conv = self.proto(qid.proto).clone_conv(&user, Some(call))?;
                Ok(Ip::ctl_chan(chan, qid.file, qid.proto, conv.index).opened(mode))
            }
            _ => {
                check_open(ctx, &self.dir(&chan, qid)?, mode)?;
                Ok(chan.opened(mode))
            }
        }
    }

    fn close(&self, chan: &Chan) {
        let Some(qid) = IpQid::unpack(chan.qid) else {
            return;
        };
        if matches!(qid.file, IpFile::Ctl | IpFile::Data)
            && let Ok(conv) = self.conv(qid)
        {
            conv.close();
        }
    }

    fn read(&self, ctx: &Ctx, chan: &Chan, buf: &mut [u8], offset: u64) -> Result<usize> {
        let qid = qid_of(chan)?;
        let text = match qid.file {
            IpFile::Cs | IpFile::Dns => {
                let mut state = chan.open_state.lock();
                let answers = state
                    .as_mut()
                    .and_then(|state| state.downcast_mut::<Answers>())
                    .ok_or(Error::NotOpen)?;
                return Ok(answers.read(buf));
            }
            IpFile::Data => return self.conv(qid)?.read(ctx, buf),
            IpFile::Ctl => qid.conv.to_string(),
            IpFile::Local => self.conv(qid)?.local_text(),
            IpFile::Remote => self.conv(qid)?.remote_text(),
            IpFile::Status => self.conv(qid)?.status_text(),
            IpFile::Clone | IpFile::Listen => return Err(Error::Perm),
            IpFile::Top | IpFile::ProtoDir | IpFile::ConvDir => return Err(Error::IsDir),
        };
        Ok(kernel::dev::read_str(&text, buf, offset))
    }

    fn write(&self, ctx: &Ctx, chan: &Chan, data: &[u8], _offset: u64) -> Result<usize> {
        let qid = qid_of(chan)?;
        match qid.file {
            IpFile::Cs | IpFile::Dns => {
                let request = cs::request_text(data)?;
                // Whatever happens, the answers of an earlier request are gone.
                let clear = |lines| {
                    if let Some(answers) = chan
                        .open_state
                        .lock()
                        .as_mut()
                        .and_then(|state| state.downcast_mut::<Answers>())
                    {
                        answers.set(lines);
                    }
                };
                clear(Vec::new());
                let lines = if qid.file == IpFile::Cs {
                    cs::cs_query(ctx, request)?
                } else {
                    cs::dns_query(ctx, request)?
                };
                clear(lines);
                Ok(data.len())
            }
            IpFile::Ctl => {
                let text = std::str::from_utf8(data)
                    .map_err(|_| Error::msg("control request is not text"))?;
                self.conv(qid)?.ctl(ctx, text)?;
                Ok(data.len())
            }
            IpFile::Data => self.conv(qid)?.write(ctx, data),
            IpFile::Top | IpFile::ProtoDir | IpFile::ConvDir => Err(Error::IsDir),
            _ => Err(Error::Perm),
        }
    }

    fn wstat(&self, ctx: &Ctx, chan: &Chan, dir: &Dir) -> Result<()> {
        let qid = qid_of(chan)?;
        if !matches!(qid.file, IpFile::Ctl | IpFile::Data) {
            return Err(Error::Perm);
        }
        let conv = self.conv(qid)?;
        let user = ctx.user();
        if conv.info().owner != user && user != ctx.kernel().eve() {
            return Err(Error::Perm);
        }
        let owner = (!dir.uid.is_empty()).then_some(dir.uid.as_str());
        let perm = (dir.mode != !0).then_some(dir.mode);
        conv.set_owner(owner, perm);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qid_paths_round_trip() {
        for proto in Protocol::ALL {
            for file in IpFile::ALL {
                for conv in [0, 1, 77, MAX_CONVS - 1] {
                    let qid = IpQid { proto, conv, file };
                    let packed = qid.pack();
                    assert_eq!(IpQid::unpack(packed), Some(qid));
                    assert_eq!(packed.is_dir(), file.is_dir());
                }
            }
        }
        assert_eq!(IpQid::unpack(Qid::file(0)), None);
        assert_eq!(IpQid::unpack(Qid::file(31)), None);
        assert_eq!(IpQid::unpack(Qid::file(1 << 40 | 1)), None);
    }

    #[test]
    fn conversation_names_are_canonical_numbers() {
        assert_eq!(conv_number("0"), Some(0));
        assert_eq!(conv_number("12"), Some(12));
        assert_eq!(conv_number("012"), None);
        assert_eq!(conv_number("-1"), None);
        assert_eq!(conv_number(""), None);
        assert_eq!(conv_number("clone"), None);
    }

    #[test]
    fn clone_and_listen_name_the_new_ctl() {
        assert_eq!(parent("/net/tcp/clone"), "/net/tcp");
        assert_eq!(parent(parent("/net/tcp/3/listen")), "/net/tcp");
        assert_eq!(parent("#I"), "#I");
    }
}
