//! Atomic replacement of a file: every file nnet writes (model files, checkpoints, learning
//! curves) goes through [`write_atomic`], so a crash in the middle of a save leaves the
//! previous file intact, never a truncated one.
//!
//! The contents go to a temporary file in the target's directory, which is flushed to disk
//! (`fsync`) and then renamed over the target; on Unix the directory is synced as well, so the
//! rename itself survives a power loss. A reader sees either the old file or the new one.
//!
//! ```
//! use std::io::Write;
//! let path = std::env::temp_dir().join(format!("nnet-atomic-doc-{}.txt", std::process::id()));
//! nnet::atomic_file::write_atomic(&path, |w| w.write_all(b"hello")).unwrap();
//! assert_eq!(std::fs::read(&path).unwrap(), b"hello");
//! std::fs::remove_file(&path).unwrap();
//! ```

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// Distinguishes the temporary files of concurrent saves within one process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The temporary file's path beside `path`: `.<name>.<pid>.<n>.tmp` in the same directory.
fn temp_path(path: &Path) -> Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        Error::Io(format!(
            "cannot write {}: the path names no file",
            path.display()
        ))
    })?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut tmp = std::ffi::OsString::from(".");
    tmp.push(name);
    tmp.push(format!(".{}.{n}.tmp", std::process::id()));
    Ok(path.with_file_name(tmp))
}

/// Syncs the directory holding `path`, so that a rename into it is durable. Only Unix allows
/// opening a directory for this; elsewhere the rename's own guarantees apply.
#[cfg(unix)]
fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_path: &Path) -> io::Result<()> {
    Ok(())
}

/// Writes the file `path` atomically: `write` fills a temporary file in the same directory,
/// which is flushed, synced to disk and renamed over `path`; then the directory is synced
/// where the platform allows. When `write` or any step fails, the temporary file is removed,
/// `path` is left as it was, and the error is an [`Error::Io`] naming `path`.
pub fn write_atomic(
    path: impl AsRef<Path>,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    let path = path.as_ref();
    let tmp = temp_path(path)?;
    let io_err = |e: io::Error| Error::Io(format!("cannot write {}: {e}", path.display()));
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(io_err)?;
    let written = (|| {
        let mut w = BufWriter::new(file);
        write(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err(e));
    }
    sync_dir(path).map_err(io_err)
}

/// [`write_atomic`] of a byte slice.
pub fn write_bytes_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    write_atomic(path, |w| w.write_all(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("nnet-atomic-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn entries(d: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let d = dir("replace");
        let p = d.join("m.bin");
        write_bytes_atomic(&p, b"first").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"first");
        write_bytes_atomic(&p, b"second, longer").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"second, longer");
        write_bytes_atomic(&p, b"").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"");
        assert_eq!(entries(&d), vec!["m.bin".to_string()]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_failing_writer_leaves_the_old_file() {
        let d = dir("fail");
        let p = d.join("m.bin");
        write_bytes_atomic(&p, b"old contents").unwrap();
        let e = write_atomic(&p, |w| {
            w.write_all(b"partial new contents")?;
            Err(io::Error::other("the writer gave up"))
        })
        .unwrap_err();
        match e {
            Error::Io(m) => {
                assert!(m.contains("the writer gave up"), "{m}");
                assert!(m.contains("m.bin"), "{m}");
            }
            other => panic!("expected an i/o error, got {other:?}"),
        }
        assert_eq!(std::fs::read(&p).unwrap(), b"old contents");
        assert_eq!(entries(&d), vec!["m.bin".to_string()]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn bad_targets_are_errors() {
        let d = dir("bad");
        // a missing directory
        let e = write_bytes_atomic(d.join("no-such-dir").join("m.bin"), b"x").unwrap_err();
        assert!(matches!(e, Error::Io(_)), "{e:?}");
        // a directory as the target: the rename fails, the temporary is removed
        std::fs::create_dir(d.join("sub")).unwrap();
        let e = write_bytes_atomic(d.join("sub"), b"x").unwrap_err();
        assert!(matches!(e, Error::Io(_)), "{e:?}");
        assert_eq!(entries(&d), vec!["sub".to_string()]);
        // no file name at all
        assert!(matches!(write_bytes_atomic("/", b"x"), Err(Error::Io(_))));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_relative_path_in_the_current_directory_works() {
        let name = format!(".nnet-atomic-relative-{}.bin", std::process::id());
        write_bytes_atomic(&name, b"here").unwrap();
        assert_eq!(std::fs::read(&name).unwrap(), b"here");
        std::fs::remove_file(&name).unwrap();
    }
}
