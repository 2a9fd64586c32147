//! Times the phases of a term query on the bench index (development aid).
use std::time::Instant;
fn main() {
    let idx = rmsweep_benches::large_index(1_000_000);
    let searcher = rmsweep_index::searcher(&idx).unwrap();
    println!("segments: {}", searcher.segment_readers().len());
    let parser = tantivy::query::QueryParser::for_index(&idx.index, idx.fields.default_search());
    for _ in 0..3 {
        let t = Instant::now();
        let q = parser
            .parse_query("principal:user00042@contoso.com")
            .unwrap();
        let t1 = t.elapsed();
        let docs = rmsweep_index::rows::matching(&searcher, &*q).unwrap();
        let t2 = t.elapsed();
        let n: usize = docs.values().map(Vec::len).sum();
        let mut bytes = 0;
        for (&s, ids) in &docs {
            for &d in ids {
                let v = rmsweep_index::rows::stored_record(
                    &idx,
                    &searcher,
                    tantivy::DocAddress::new(s, d),
                )
                .unwrap();
                bytes += v.to_string().len();
            }
        }
        let t3 = t.elapsed();
        let mut raw = 0;
        for (&s, ids) in &docs {
            for &d in ids {
                let doc: tantivy::TantivyDocument =
                    searcher.doc(tantivy::DocAddress::new(s, d)).unwrap();
                raw += doc.field_values().count();
            }
        }
        println!("raw fetch only {:?} ({raw})", t.elapsed() - t3);
        let t4 = Instant::now();
        let sorted = rmsweep_index::rows::sort_by_label_path(&searcher, &docs, Some(100));
        println!("sort {:?} ({})", t4.elapsed(), sorted.len());
        let t5 = Instant::now();
        for (&s, _) in &docs {
            let seg = searcher.segment_reader(s);
            let _ = rmsweep_index::rows::StrLookup::new(seg, "path");
        }
        println!("open path columns {:?}", t5.elapsed());
        println!(
            "parse {t1:?} match {:?} ({n} docs in {} segments) fetch {:?} ({bytes} bytes)",
            t2 - t1,
            docs.len(),
            t3 - t2
        );
    }
}
