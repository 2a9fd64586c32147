//! A bounded walk of a volume that reads every file it lists.
use rmsweep_scanner::volume::{EntryKind, ReadOptions, VPath, Volume};

pub fn walk(vol: &dyn Volume) {
    let opts = ReadOptions {
        max_file_size: 1 << 20,
        mmap_threshold: None,
    };
    let mut buf = Vec::new();
    let mut stack = vec![(VPath::root(), 0)];
    let mut seen = 0;
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = vol.list(&dir) else {
            continue;
        };
        for e in entries {
            seen += 1;
            if seen > 500 {
                return;
            }
            let _ = vol.stat(&e.path);
            match e.kind {
                EntryKind::Dir if depth < 8 => stack.push((e.path, depth + 1)),
                EntryKind::File => {
                    let _ = vol.read(&e.path, &opts, &mut buf);
                }
                _ => {}
            }
        }
    }
}
