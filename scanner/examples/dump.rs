//! Prints the parsed record of each file given on the command line (development aid).
use rmsweep_scanner::parse::{parse_store_file, ChainCache, NameTable};

fn main() {
    let cache = ChainCache::new();
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).expect("read");
        let name = std::path::Path::new(&path)
            .file_name()
            .and_then(|n| n.to_str());
        let c = parse_store_file(&bytes, &cache, name, NameTable::Msipc);
        println!("{}", serde_json::to_string_pretty(&c).unwrap());
    }
}
