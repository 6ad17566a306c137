//! The devices of ember, one module per device, each named after its Plan 9 / Inferno ancestor
//! (`devcons.c` → `cons`, `devfs-posix.c` → `fs`, ...). Each implements the kernel's
//! [`kernel::Device`] trait; only the `ember` binary puts them in the device table.

pub mod cmd;
pub mod cons;
pub mod dis;
pub mod dup;
pub mod eia;
pub mod env;
pub mod fs;
pub mod gpio;
pub mod ip;
pub mod mntgen;
pub mod pipe;
pub mod prog;
pub mod root;
pub mod srv;
