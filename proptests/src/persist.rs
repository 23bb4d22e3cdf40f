//! Failing cases saved under `proptest-regressions/`, next to the crate of
//! the file that called the harness, keyed by property, codec and test:
//!
//! ```text
//! mycrate/tests/codec.rs  ->  mycrate/proptest-regressions/tests/codec.framecheck.txt
//!
//! # comment lines
//! <property> <decoder type> <test><TAB>case <the case, as text>
//!     roundtrip:  the chunking              (into(0,3) boundaries(-1))
//!     truncation: cut POINT reads CHUNKING  (cut into(0,4) reads whole)
//!     framed:     write SCHEDULE read SCHEDULE (write hold(3) chunk(5) read chunk(1) pending)
//! <property> <decoder type> <test><TAB>seed <proptest's seed>
//! ```
//!
//! A saved case is replayed only by the same property, on the same decoder
//! type, in the same test (the test thread's name, or `file:line` of the
//! call when the test runs on the main thread): a broken codec's case never
//! runs against a correct codec tested from the same file. The cases are
//! values ([`Chunking`]'s text form, relative to the frames), so they
//! replay against new frames even after the strategies change; the seeds
//! replay proptest's exact case while the strategies stay the same.
//! Nothing is printed (proptest's own file persistence is not used).

use std::{
    any::Any,
    fmt, fs,
    io::Write as _,
    path::{Path, PathBuf},
};

use proptest::test_runner::{FailurePersistence, PersistedSeed};

use crate::{
    chunk::{Chunking, Point},
    io::Schedule,
};

/// Where one calling file's failing cases live, for one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Store {
    file: PathBuf,
    key: String,
}

impl Store {
    /// The store for `source` (a path as `file!()` gives it), or `None` when
    /// the file or its crate cannot be found from the working directory.
    pub(crate) fn for_source(source: &str, key: String) -> Option<Store> {
        let file = absolutize(Path::new(source))?;
        let root = file
            .ancestors()
            .skip(1)
            .find(|d| d.join("Cargo.toml").is_file())?;
        let relative = file.strip_prefix(root).ok()?;
        let mut path = root.join("proptest-regressions").join(relative);
        path.set_extension("framecheck.txt");
        Some(Store { file: path, key })
    }

    /// A store in an explicit directory: `dir/<source file stem>.framecheck.txt`.
    pub(crate) fn in_dir(dir: &Path, source: &str, key: String) -> Store {
        let stem = Path::new(source)
            .file_stem()
            .map_or_else(|| "cases".into(), |s| s.to_string_lossy().into_owned());
        Store {
            file: dir.join(format!("{stem}.framecheck.txt")),
            key,
        }
    }

    /// The file.
    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.file
    }

    fn values(&self, kind: &str) -> Vec<String> {
        let Ok(text) = fs::read_to_string(&self.file) else {
            return Vec::new();
        };
        text.lines()
            .filter_map(|line| {
                let (key, value) = line.split_once('\t')?;
                (key == self.key).then_some(value)?.strip_prefix(kind)
            })
            .map(str::to_owned)
            .collect()
    }

    /// The saved cases of this key, in the order saved.
    pub(crate) fn load_lines(&self) -> Vec<String> {
        self.values("case ")
    }

    /// The saved chunkings (lines that do not parse are skipped).
    pub(crate) fn load(&self) -> Vec<Chunking> {
        self.load_lines()
            .iter()
            .filter_map(|l| l.parse().ok())
            .collect()
    }

    /// Appends a case unless it is already saved.
    pub(crate) fn save(&self, value: &str) {
        self.append("case ", value);
    }

    /// Appends `kind value` under this key unless already there. Failing
    /// to write is not the test's failure: it is reported on stderr.
    fn append(&self, kind: &str, value: &str) {
        if self.values(kind).iter().any(|l| l == value) {
            return;
        }
        let write = || -> std::io::Result<()> {
            if let Some(dir) = self.file.parent() {
                fs::create_dir_all(dir)?;
            }
            let fresh = !self.file.is_file();
            let mut file = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.file)?;
            if fresh {
                writeln!(
                    file,
                    "# framecheck: cases that made a codec fail, replayed first by the same \
                     property, codec and test.\n# Keep this file under version control."
                )?;
            }
            writeln!(file, "{}\t{kind}{value}", self.key)
        };
        if let Err(e) = write() {
            eprintln!(
                "framecheck: could not save the failing case in {}: {e}",
                self.file.display()
            );
        }
    }
}

/// proptest's seeds, kept in a [`Store`] under its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seeds(pub(crate) Store);

impl FailurePersistence for Seeds {
    fn load_persisted_failures2(&self, _: Option<&'static str>) -> Vec<PersistedSeed> {
        self.0
            .values("seed ")
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect()
    }

    fn save_persisted_failure2(
        &mut self,
        _: Option<&'static str>,
        seed: PersistedSeed,
        _: &dyn fmt::Debug,
    ) {
        self.0.append("seed ", &seed.to_string());
    }

    fn box_clone(&self) -> Box<dyn FailurePersistence> {
        Box::new(self.clone())
    }

    fn eq(&self, other: &dyn FailurePersistence) -> bool {
        other.as_any().downcast_ref::<Seeds>() == Some(self)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `cut POINT reads CHUNKING`, as the truncation property saves it.
pub(crate) fn parse_truncation(line: &str) -> Option<(Point, Chunking)> {
    let rest = line.strip_prefix("cut ")?;
    let (cut, reads) = rest.split_once(" reads ")?;
    Some((cut.trim().parse().ok()?, reads.parse().ok()?))
}

/// `write SCHEDULE read SCHEDULE`, as the framed round trip saves it.
pub(crate) fn framed_line(write: &Schedule, read: &Schedule) -> String {
    format!("write {write} read {read}")
}

/// The two schedules of a [`framed_line`].
pub(crate) fn parse_framed(line: &str) -> Option<(Schedule, Schedule)> {
    let rest = line.strip_prefix("write ")?;
    let (write, read) = rest.split_once(" read ")?;
    Some((write.parse().ok()?, read.parse().ok()?))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_resolves_next_to_the_calling_crate() {
        let store = Store::for_source(file!(), "roundtrip".into()).expect("this file exists");
        assert!(
            store
                .path()
                .ends_with("proptest-regressions/src/persist.framecheck.txt"),
            "{:?}",
            store.path()
        );
        assert!(Store::for_source("no/such/file.rs", "roundtrip".into()).is_none());
    }

    #[test]
    fn saved_values_load_back_once_per_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = |key: &str| Store::in_dir(dir.path(), "a.rs", key.to_owned());
        let roundtrip = store("roundtrip Codec t");
        let other_codec = store("roundtrip Other t");
        let truncation = store("truncation Codec t");
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
        assert!(other_codec.load().is_empty(), "another codec's cases");
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
        let framed = store("framed Codec t");
        let (write, read) = (
            "hold(3) chunk(5)".parse::<Schedule>().unwrap(),
            "chunk(1) pending".parse::<Schedule>().unwrap(),
        );
        framed.save(&framed_line(&write, &read));
        assert_eq!(
            framed.load_lines(),
            vec!["write hold(3) chunk(5) read chunk(1) pending"]
        );
        assert_eq!(parse_framed(&framed.load_lines()[0]), Some((write, read)));
        assert_eq!(
            parse_framed("write passthrough read passthrough").map(|(w, _)| w),
            Some(Schedule::passthrough())
        );
        assert_eq!(parse_framed("write chunk(x) read pending"), None);
        let mut seeds = Seeds(roundtrip.clone());
        let seed: PersistedSeed =
            "cc 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
                .parse()
                .unwrap();
        seeds.save_persisted_failure2(None, seed, &());
        assert_eq!(seeds.load_persisted_failures2(None).len(), 1);
        assert!(Seeds(other_codec).load_persisted_failures2(None).is_empty());
    }
}
