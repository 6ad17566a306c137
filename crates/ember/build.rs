//! Builds the copy of the project's `root/` tree that goes inside the binary: a table of every
//! file (path, contents, mode) and directory, written to `$OUT_DIR/root_files.rs`.

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn walk(base: &Path, dir: &Path, files: &mut Vec<(String, PathBuf, u32)>, dirs: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("reading {}: {error}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let rel = path
            .strip_prefix(base)
            .expect("below the root")
            .to_str()
            .expect("root/ holds only UTF-8 names")
            .to_string();
        let meta = std::fs::metadata(&path).expect("metadata");
        if meta.is_dir() {
            dirs.push(rel);
            walk(base, &path, files, dirs);
        } else {
            files.push((rel, path.clone(), meta.permissions().mode() & 0o777));
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let root = manifest
        .join("../../root")
        .canonicalize()
        .expect("root/ exists");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    walk(&root, &root, &mut files, &mut dirs);
    // The command pages of docs/ are the manual: /man/1/<name>, and the device pages
    // /man/3/<name>, as Inferno's sections are numbered.
    for (section, source) in [("1", "docs/commands"), ("3", "docs/devices")] {
        let source = manifest
            .join("../..")
            .join(source)
            .canonicalize()
            .expect("docs exist");
        println!("cargo:rerun-if-changed={}", source.display());
        dirs.push("man".to_string());
        dirs.push(format!("man/{section}"));
        let mut pages: Vec<PathBuf> = std::fs::read_dir(&source)
            .expect("reading docs")
            .map(|entry| entry.expect("entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
            .collect();
        pages.sort();
        for page in pages {
            let name = page
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("UTF-8 page name");
            files.push((format!("man/{section}/{name}"), page.clone(), 0o644));
        }
    }
    dirs.sort();
    dirs.dedup();
    let mut code = String::from("/// Every file of root/: path, contents, mode.\n");
    code.push_str("pub static ROOT_FILES: &[(&str, &[u8], u32)] = &[\n");
    for (rel, path, mode) in &files {
        writeln!(
            code,
            "    ({rel:?}, include_bytes!({:?}), 0o{mode:o}),",
            path.display().to_string()
        )
        .unwrap();
    }
    code.push_str("];\n/// Every directory of root/.\npub static ROOT_DIRS: &[&str] = &[\n");
    for rel in &dirs {
        writeln!(code, "    {rel:?},").unwrap();
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("out dir")).join("root_files.rs");
    std::fs::write(out, code).expect("writing root_files.rs");
}
