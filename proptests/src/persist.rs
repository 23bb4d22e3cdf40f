//! Failing cases saved under `proptest-regressions/`, next to the crate of
//! the file that called the harness:
//!
//! ```text
//! mycrate/tests/codec.rs  ->  mycrate/proptest-regressions/tests/codec.txt            proptest seeds
//!                             mycrate/proptest-regressions/tests/codec.framecheck.txt  chunkings, as text
//! ```
//!
//! Seeds replay the exact case while the strategies stay the same. The
//! chunkings are saved as values ([`Chunking`]'s text form, relative to the
//! frames), so they replay against new frames even after the strategies
//! change: each saved chunking is run first, with a few fresh frame lists.

use std::{
    collections::HashMap,
    fs,
    io::Write as _,
    path::{Path, PathBuf},
    sync::{Mutex, OnceLock},
};

use crate::chunk::{Chunking, Point};

/// Where one calling file's failing cases live, for one property.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    seeds: &'static str,
    values: PathBuf,
    tag: &'static str,
}

impl Store {
    /// The store for `source` (a path as `file!()` gives it), or `None` when
    /// the file or its crate cannot be found from the working directory.
    pub(crate) fn for_source(source: &'static str, tag: &'static str) -> Option<Store> {
        let file = absolutize(Path::new(source))?;
        let root = file
            .ancestors()
            .skip(1)
            .find(|d| d.join("Cargo.toml").is_file())?;
        let relative = file.strip_prefix(root).ok()?;
        let mut seeds = root.join("proptest-regressions").join(relative);
        seeds.set_extension("txt");
        let mut values = seeds.clone();
        values.set_extension("framecheck.txt");
        Some(Store {
            seeds: leak_once(seeds),
            values,
            tag,
        })
    }

    /// A store in an explicit directory (tests).
    #[cfg(test)]
    pub(crate) fn in_dir(dir: &Path, tag: &'static str) -> Store {
        Store {
            seeds: leak_once(dir.join("seeds.txt")),
            values: dir.join("values.framecheck.txt"),
            tag,
        }
    }

    /// The proptest seed file, for `FileFailurePersistence::Direct`.
    pub(crate) fn seeds_path(&self) -> &'static str {
        self.seeds
    }

    /// The saved values of this property, in the order saved.
    pub(crate) fn load_lines(&self) -> Vec<String> {
        let Ok(text) = fs::read_to_string(&self.values) else {
            return Vec::new();
        };
        text.lines()
            .filter_map(|line| line.strip_prefix(self.tag)?.strip_prefix(' '))
            .map(str::to_owned)
            .collect()
    }

    /// The saved chunkings of this property (lines that do not parse are
    /// skipped).
    pub(crate) fn load(&self) -> Vec<Chunking> {
        self.load_lines()
            .iter()
            .filter_map(|l| l.parse().ok())
            .collect()
    }

    /// Appends a value unless it is already saved. Failing to write is not
    /// the test's failure: it is reported on stderr.
    pub(crate) fn save(&self, value: &str) {
        if self.load_lines().iter().any(|l| l == value) {
            return;
        }
        let write = || -> std::io::Result<()> {
            if let Some(dir) = self.values.parent() {
                fs::create_dir_all(dir)?;
            }
            let fresh = !self.values.is_file();
            let mut file = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.values)?;
            if fresh {
                writeln!(
                    file,
                    "# framecheck: chunkings that made a codec fail, replayed first against \
                     new frames.\n# Keep this file under version control."
                )?;
            }
            writeln!(file, "{} {value}", self.tag)
        };
        if let Err(e) = write() {
            eprintln!(
                "framecheck: could not save the failing case in {}: {e}",
                self.values.display()
            );
        }
    }
}

/// `cut POINT reads CHUNKING`, as the truncation property saves it.
pub(crate) fn parse_truncation(line: &str) -> Option<(Point, Chunking)> {
    let rest = line.strip_prefix("cut ")?;
    let (cut, reads) = rest.split_once(" reads ")?;
    Some((cut.trim().parse().ok()?, reads.parse().ok()?))
}

/// `source` made absolute: as is, or joined to the working directory or
/// one of its ancestors (cargo passes paths relative to the workspace root
/// and runs tests in the crate's directory).
fn absolutize(source: &Path) -> Option<PathBuf> {
    if source.is_absolute() {
        return Some(source.to_owned());
    }
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .map(|dir| dir.join(source))
        .find(|p| p.is_file())
}

/// One `&'static str` per distinct path, for proptest's `Direct`
/// persistence: bounded by the number of calling files.
fn leak_once(path: PathBuf) -> &'static str {
    static PATHS: OnceLock<Mutex<HashMap<PathBuf, &'static str>>> = OnceLock::new();
    let mut paths = PATHS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    paths
        .entry(path)
        .or_insert_with_key(|p| Box::leak(p.to_string_lossy().into_owned().into_boxed_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_resolves_next_to_the_calling_crate() {
        let store = Store::for_source(file!(), "roundtrip").expect("this file exists");
        let seeds = Path::new(store.seeds_path());
        assert!(
            seeds.ends_with("proptest-regressions/src/persist.txt"),
            "{seeds:?}"
        );
        assert!(store
            .values
            .ends_with("proptest-regressions/src/persist.framecheck.txt"));
        assert!(Store::for_source("no/such/file.rs", "roundtrip").is_none());
    }

    #[test]
    fn saved_values_load_back_once_per_tag() {
        let dir = tempfile::tempdir().unwrap();
        let roundtrip = Store::in_dir(dir.path(), "roundtrip");
        let truncation = Store::in_dir(dir.path(), "truncation");
        roundtrip.save("every(1)");
        roundtrip.save("every(1)");
        roundtrip.save("into(2,3) boundaries(-1)");
        truncation.save("cut into(0,4) reads whole");
        assert_eq!(
            roundtrip.load(),
            vec![
                "every(1)".parse().unwrap(),
                "into(2,3) boundaries(-1)".parse().unwrap()
            ]
        );
        let lines = truncation.load_lines();
        assert_eq!(lines, vec!["cut into(0,4) reads whole"]);
        assert_eq!(
            parse_truncation(&lines[0]),
            Some((
                Point::IntoFrame {
                    frame: 0,
                    offset: 4
                },
                Chunking::whole()
            ))
        );
    }
}
