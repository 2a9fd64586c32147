//! The one place that knows the hive library (`notatin`): a hive opened from
//! bytes already read through a volume (never from a path: the library's own
//! file access would bypass the evidence rules), its transaction logs replayed
//! in memory, deleted cells recovered, and keys and values handed out as plain
//! data.
//!
//! A hive is opened without the library's deleted-cell recovery pass (it
//! costs 13 times the plain parse: 14 ms against 1.1 ms for a 3 MiB hive);
//! the pass runs only when free space holds a key cell below a key rmsweep
//! reads ([`Hive::has_deleted_keys_below`], a walk over cell headers). A log
//! replay that fails is retried without the logs, a recovery pass that
//! fails is given up, each with a note, so a damaged hive still yields what
//! it holds (reference §4.2). A panic inside the library is caught and
//! becomes an error.

use std::collections::HashSet;
use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use chrono::{DateTime, Utc};
use notatin::cell_key_node::CellKeyNode;
use notatin::cell_key_value::{CellKeyValue, CellKeyValueDataTypes};
use notatin::cell_value::CellValue;
use notatin::parser::Parser;
use notatin::parser_builder::ParserBuilder;

/// Subkeys walked below one key at most (a damaged list cannot make a walk endless).
const MAX_SUBKEYS: usize = 4096;

/// An opened hive.
pub struct Hive<'a> {
    parser: Parser,
    /// The primary file's bytes, to find free cells and place recovered
    /// values (see [`Hive::values`]).
    primary: &'a [u8],
    /// The transaction logs in use (none when their replay failed).
    logs: &'a [Vec<u8>],
    /// Deleted values the library found but could not place, by cell offset.
    orphans: Option<Vec<CellKeyValue>>,
    /// The root key's name (`CsiTool-CreateHive-{…}`, `<SID>_Classes`).
    pub root_name: String,
    /// What opening it found or gave up (dirty, logs replayed, recovery retried).
    pub notes: Vec<String>,
}

/// One key, with its values read.
pub struct Key {
    node: CellKeyNode,
    /// The key's name as stored.
    pub name: String,
    /// The key's path inside the hive as stored, the root key left out.
    pub path: String,
    pub last_write: Option<DateTime<Utc>>,
    /// Found in deleted space or only in a transaction log.
    pub recovered: bool,
    /// The key cell's file offset, and its parent's (what places a deleted key).
    pub offset: usize,
    pub parent_offset: usize,
}

/// Where the first hive bin starts: cell offsets in a hive are relative to it.
const HBIN_START: usize = 4096;

/// A value's data, as the registry types it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawData {
    Text(String),
    Number(u64),
    List(Vec<String>),
    Bytes(Vec<u8>),
    None,
}

/// One value.
#[derive(Debug, Clone)]
pub struct Value {
    /// `(default)` for the default value.
    pub name: String,
    /// `REG_SZ`, `REG_DWORD`…
    pub value_type: String,
    pub data: RawData,
    /// The data's bytes as stored (hashed for values that are never shown).
    pub raw: Vec<u8>,
    pub recovered: bool,
}

fn caught<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
        let what = crate::panic_message(panic.as_ref());
        format!("the hive library failed on this hive ({what})")
    })
}

fn build(primary: &[u8], logs: &[Vec<u8>], recover: bool) -> Result<Parser, String> {
    caught(|| {
        let mut b = ParserBuilder::from_file(Cursor::new(primary.to_vec()));
        b.recover_deleted(recover);
        for log in logs {
            b.with_transaction_log(Cursor::new(log.clone()));
        }
        b.build().map_err(|e| e.to_string())
    })?
}

impl<'a> Hive<'a> {
    /// Opens a hive from its bytes and those of its transaction logs (in
    /// `.LOG1`, `.LOG2` order), without the deleted-cell recovery pass
    /// (see [`Hive::recover`]). Fails only when not even the plain hive can
    /// be read.
    pub fn open(primary: &'a [u8], logs: &'a [Vec<u8>]) -> Result<Hive<'a>, String> {
        if primary.get(..4) != Some(b"regf") {
            return Err("not a registry hive (no `regf` signature)".into());
        }
        let mut notes = Vec::new();
        let given = !logs.is_empty();
        let (mut parser, logs) = match build(primary, logs, false) {
            Ok(p) => (p, logs),
            Err(e) if !given => return Err(format!("the hive cannot be read: {e}")),
            Err(e) => {
                let p = build(primary, &[], false)
                    .map_err(|e| format!("the hive cannot be read: {e}"))?;
                notes.push(format!(
                    "transaction logs not replayed: the replay failed ({e})"
                ));
                (p, &[][..])
            }
        };
        let dirty = parser
            .get_parse_logs()
            .get()
            .into_iter()
            .flatten()
            .any(|log| format!("{log:?}").contains("requires recovery"));
        if dirty {
            notes.push(match (given, logs.is_empty()) {
                (false, _) => "dirty hive (its base block says it needs its transaction logs), and no logs were found beside it",
                (true, true) => "dirty hive, read without its logs (see the replay note)",
                (true, false) => "dirty hive: transaction logs replayed in memory",
            }.to_string());
        }
        let declared = primary
            .get(40..44)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize + HBIN_START);
        if let Some(declared) = declared.filter(|&d| d > primary.len()) {
            notes.push(format!(
                "truncated: the file holds {} of the {declared} bytes its header declares",
                primary.len()
            ));
        }
        notes.sort();
        notes.dedup();
        let root_name = caught(|| parser.get_root_key())?
            .ok()
            .flatten()
            .map(|k| k.key_name)
            .unwrap_or_default();
        Ok(Hive {
            parser,
            primary,
            logs,
            orphans: None,
            root_name,
            notes,
        })
    }

    /// Whether the primary file's free space holds a key cell whose parent
    /// is one of `keys` (cell offsets), or a key that hangs below one:
    /// only then is the (slow) recovery pass worth running. A walk over the
    /// bins' cell headers, at memory speed.
    pub fn has_deleted_keys_below(&self, keys: &HashSet<usize>) -> bool {
        let free = free_key_cells(self.primary);
        let mut below: HashSet<usize> = keys.clone();
        loop {
            let before = below.len();
            let found: Vec<usize> = free
                .iter()
                .filter(|(at, parent)| below.contains(parent) && !below.contains(at))
                .map(|(at, _)| *at)
                .collect();
            below.extend(found);
            if below.len() == before {
                return below.len() > keys.len();
            }
        }
    }

    /// Opens the hive again with the library's recovery pass, so that
    /// [`Hive::recovered`] and [`Hive::values`] see deleted keys. A pass that
    /// fails leaves the hive as it was, with a note.
    pub fn recover(&mut self) {
        match build(self.primary, self.logs, true) {
            Ok(p) => {
                self.parser = p;
                self.orphans = None;
            }
            Err(e) => self.notes.push(format!(
                "deleted keys and values not recovered: the recovery pass failed ({e})"
            )),
        }
    }

    /// The key at `path` (root-relative, `\`-separated), names compared
    /// ignoring ASCII case (every name rmsweep looks up is ASCII).
    pub fn key(&mut self, path: &str) -> Option<Key> {
        let parser = &mut self.parser;
        let node = caught(|| parser.get_key(path, false)).ok()?.ok()??;
        let path = node.get_pretty_path().trim_start_matches('\\').to_string();
        Some(Key::from(node, path, false))
    }

    /// Keys recovered from the hive's free space. The library hands them
    /// over unplaced (their path is their name only): callers place them
    /// by [`Key::parent_offset`].
    pub fn recovered(&mut self) -> Vec<Key> {
        let parser = &mut self.parser;
        let Ok(Ok(Some(root))) = caught(|| parser.get_root_key()) else {
            return Vec::new();
        };
        root.deleted_keys
            .into_iter()
            .map(|n| {
                let name = n.key_name.clone();
                Key::from(n, name, true)
            })
            .collect()
    }

    /// The values of `key`. A key recovered from free space has its values
    /// found through its own (freed) value list: the library hands deleted
    /// values over unplaced.
    pub fn values(&mut self, key: &Key) -> Vec<Value> {
        let mut out = key.values();
        if !key.recovered || !out.is_empty() {
            return out;
        }
        let offsets = value_list(self.primary, &key.node);
        if offsets.is_empty() {
            return out;
        }
        let parser = &mut self.parser;
        let orphans = self.orphans.get_or_insert_with(|| {
            caught(|| parser.get_root_key())
                .ok()
                .and_then(|r| r.ok().flatten())
                .map(|root| {
                    root.value_iter()
                        .filter(|v| v.cell_state.is_deleted())
                        .collect()
                })
                .unwrap_or_default()
        });
        out.extend(
            orphans
                .iter()
                .filter(|v| offsets.contains(&v.file_offset_absolute))
                .map(|v| value(v, true)),
        );
        sort_values(&mut out);
        out
    }

    /// The subkeys of `key`, deleted ones (recovered) after the live ones.
    pub fn subkeys(&mut self, key: &mut Key) -> Vec<Key> {
        let parser = &mut self.parser;
        let node = &mut key.node;
        let live = caught(|| node.read_sub_keys(parser)).unwrap_or_default();
        let (recovered, parent) = (key.recovered, &key.path);
        let child = |n: CellKeyNode, recovered| {
            let path = format!("{parent}\\{}", n.key_name);
            Key::from(n, path, recovered)
        };
        let mut out: Vec<Key> = live
            .into_iter()
            .take(MAX_SUBKEYS)
            .map(|n| child(n, recovered))
            .collect();
        let deleted = key.node.deleted_keys.clone();
        out.extend(
            deleted
                .into_iter()
                .take(MAX_SUBKEYS)
                .map(|n| child(n, true)),
        );
        out
    }
}

impl Key {
    fn from(node: CellKeyNode, path: String, parent_recovered: bool) -> Key {
        let recovered = parent_recovered || node.cell_state.is_deleted();
        let ft = node.detail.last_key_written_date_and_time();
        let parent = node.detail.parent_key_offset_relative();
        Key {
            offset: node.file_offset_absolute,
            parent_offset: usize::try_from(parent).map_or(0, |p| p + HBIN_START),
            name: node.key_name.clone(),
            path,
            last_write: (ft != 0).then(|| node.last_key_written_date_and_time()),
            recovered,
            node,
        }
    }

    /// Whether the key is named `name`, ignoring ASCII case.
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// The key's values as the library read them, sorted by name (deleted
    /// ones marked recovered). [`Hive::values`] also places recovered ones.
    pub fn values(&self) -> Vec<Value> {
        let mut out: Vec<Value> = self
            .node
            .value_iter()
            .map(|v| value(&v, self.recovered))
            .collect();
        sort_values(&mut out);
        out
    }
}

fn sort_values(values: &mut [Value]) {
    values.sort_by(|a, b| {
        (a.name.to_ascii_lowercase(), a.recovered).cmp(&(b.name.to_ascii_lowercase(), b.recovered))
    });
}

/// Free cells that hold a key (`nk`): (cell offset, parent's cell offset),
/// found by walking every bin's cell headers. Stops at the first bin or cell
/// that does not add up, or at the file's end (a damaged or truncated hive
/// yields what precedes it).
fn free_key_cells(primary: &[u8]) -> Vec<(usize, usize)> {
    let u32_at = |at: usize| {
        primary
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let declared = u32_at(40).map_or(0, |n| n as usize);
    let end = primary.len().min(HBIN_START.saturating_add(declared));
    let mut out = Vec::new();
    let mut bin = HBIN_START;
    while bin + 32 <= end && primary.get(bin..bin + 4) == Some(b"hbin") {
        let size = u32_at(bin + 8).unwrap_or(0) as usize;
        if size < 4096 {
            break;
        }
        // A bin cut short by the file's end is read as far as it goes.
        let bin_end = (bin + size).min(end);
        let mut cell = bin + 32;
        while cell + 8 <= bin_end {
            let raw = u32_at(cell).unwrap_or(0) as i32;
            let len = raw.unsigned_abs() as usize;
            if len < 8 || cell + len > bin_end {
                break;
            }
            if raw > 0 && len >= 24 && primary.get(cell + 4..cell + 6) == Some(b"nk") {
                if let Some(parent) = u32_at(cell + 20) {
                    out.push((cell, parent as usize + HBIN_START));
                }
            }
            cell += len;
        }
        bin += size;
    }
    out
}

/// The cell offsets (in the file) a key's value list names, read from the
/// primary file; empty when the list is out of the file or implausible.
fn value_list(primary: &[u8], node: &CellKeyNode) -> Vec<usize> {
    let count = node.detail.number_of_key_values() as usize;
    let Ok(list) = usize::try_from(node.detail.key_values_list_offset_relative()) else {
        return Vec::new();
    };
    let start = HBIN_START + list + 4; // past the cell's size
    if count == 0 || count > 4096 {
        return Vec::new();
    }
    let Some(bytes) = primary.get(start..start + count * 4) else {
        return Vec::new();
    };
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as usize + HBIN_START)
        .collect()
}

fn value(v: &CellKeyValue, key_recovered: bool) -> Value {
    let name = match v.detail.value_name() {
        n if n.is_empty() => "(default)".to_string(),
        n => n,
    };
    let (content, _) = v.get_content();
    let data = match content {
        CellValue::String(s) => RawData::Text(s),
        CellValue::MultiString(l) => RawData::List(l),
        CellValue::U32(n) => RawData::Number(n.into()),
        CellValue::U64(n) => RawData::Number(n),
        CellValue::I32(n) => RawData::Number(n as u32 as u64),
        CellValue::I64(n) => RawData::Number(n as u64),
        CellValue::Binary(b) => RawData::Bytes(b),
        CellValue::None | CellValue::Error => RawData::None,
    };
    Value {
        name,
        value_type: type_name(v.data_type),
        data,
        raw: v.detail.value_bytes().unwrap_or_default(),
        recovered: key_recovered || v.cell_state.is_deleted(),
    }
}

fn type_name(t: CellKeyValueDataTypes) -> String {
    use CellKeyValueDataTypes::*;
    match t {
        REG_NONE => "REG_NONE",
        REG_SZ => "REG_SZ",
        REG_EXPAND_SZ => "REG_EXPAND_SZ",
        REG_BIN => "REG_BINARY",
        REG_DWORD => "REG_DWORD",
        REG_DWORD_BIG_ENDIAN => "REG_DWORD_BIG_ENDIAN",
        REG_LINK => "REG_LINK",
        REG_MULTI_SZ => "REG_MULTI_SZ",
        REG_RESOURCE_LIST => "REG_RESOURCE_LIST",
        REG_FULL_RESOURCE_DESCRIPTOR => "REG_FULL_RESOURCE_DESCRIPTOR",
        REG_RESOURCE_REQUIREMENTS_LIST => "REG_RESOURCE_REQUIREMENTS_LIST",
        REG_QWORD => "REG_QWORD",
        REG_FILETIME => "REG_FILETIME",
        other => return format!("{other:?}"),
    }
    .to_string()
}
