//! The store-file parser: `&[u8]` in, [`Content`] out. No I/O, never panics.
//!
//! Flow: [`decode`] sniffs and decodes → JSON goes to [`jclc`] → otherwise
//! [`chain::split_chain`] cuts the XrML documents → the leaf is parsed fully
//! ([`xrml`] then [`fields`]) → chain documents go through the shared
//! [`ChainCache`] → the file name is decoded and cross-checked ([`filename`]).

pub mod anomaly;
pub mod chain;
pub mod decode;
pub mod fields;
pub mod filename;
pub mod guid;
pub mod issuer;
pub mod jclc;
pub mod model;
pub mod names;
pub mod time;
pub mod xrml;

pub use anomaly::Anomaly;
pub use chain::ChainCache;
pub use filename::{NameInfo, NameTable};
pub use model::{Content, Kind};

/// Parses one store file's bytes.
///
/// `file_name` (the last path component) is decoded when it is a license-store
/// name, using the escape table of `table`, and checked against the content.
pub fn parse_store_file(
    bytes: &[u8],
    cache: &ChainCache,
    file_name: Option<&str>,
    table: NameTable,
) -> Content {
    let mut c = parse_content(bytes, cache);
    if let Some(name) = file_name {
        if let Some((info, unknown_escape)) = filename::decode_file_name(name, table) {
            if unknown_escape {
                c.add_anomaly(Anomaly::NameUnknownEscape);
            }
            cross_check_name(&mut c, &info);
            c.file_name = Some(info);
        }
    }
    c
}

fn parse_content(bytes: &[u8], cache: &ChainCache) -> Content {
    if bytes.is_empty() {
        return Content::unreadable("empty file (0 bytes)");
    }
    let decoded = decode::decode(bytes);
    let text = decoded.text.as_ref();
    let mut c = if text.trim_start().starts_with('{') {
        match jclc::parse_jclc(text) {
            Some(c) => c,
            None => Content::unreadable("JSON that is not a JSON client licensor certificate"),
        }
    } else {
        parse_xrml_chain(text, cache)
    };
    c.encoding = Some(decoded.encoding);
    for a in decoded.anomalies {
        c.add_anomaly(a);
    }
    c.anomalies.sort();
    c
}

fn parse_xrml_chain(text: &str, cache: &ChainCache) -> Content {
    let split = chain::split_chain(text);
    let Some(leaf_text) = split.docs.first() else {
        return Content::unreadable("no XrML document found: not an RMS license or template file");
    };
    let leaf = xrml::parse_document(leaf_text);
    let mut c = if leaf.body_type.is_none() {
        let why = match &leaf.error {
            Some(e) => format!("the first XrML document is unreadable: {e}"),
            None => "the first XrML document has no BODY".to_string(),
        };
        let mut c = Content::unreadable(why);
        for a in &leaf.anomalies {
            c.add_anomaly(*a);
        }
        c
    } else {
        let mut c = Content::empty(model::Kind::Other);
        fields::fill_leaf(&mut c, &leaf);
        c
    };
    c.documents = split.docs.len();
    for doc in &split.docs[1..] {
        let entry = cache.entry(doc);
        if entry.damaged {
            c.add_anomaly(Anomaly::ChainDocumentDamaged);
        }
        c.chain.push((*entry).clone());
    }
    fields::issuer_from_licensor(&mut c);
    for (flag, a) in [
        (split.truncated, Anomaly::TruncatedDocument),
        (split.leading, Anomaly::LeadingBytes),
        (split.between, Anomaly::GarbageBetweenDocuments),
        (split.trailing, Anomaly::TrailingBytes),
        (split.too_many, Anomaly::TooManyDocuments),
    ] {
        if flag {
            c.add_anomaly(a);
        }
    }
    c
}

/// The name's hashes must match the e-mail and server host in the content; a
/// mismatch suggests a renamed or planted file.
fn cross_check_name(c: &mut Content, info: &NameInfo) {
    if let (Some(hash), Some(principal)) = (&info.user_hash, &c.principal) {
        if principal.contains('@')
            && filename::name_hash(principal) != *hash
            && filename::name_hash(&principal.to_lowercase()) != *hash
        {
            c.add_anomaly(Anomaly::NamePrincipalMismatch);
        }
    }
    if let (Some(hash), Some(host)) = (&info.server_hash, &c.issuer_host) {
        if filename::name_hash(host) != *hash {
            c.add_anomaly(Anomaly::NameServerMismatch);
        }
    }
    c.anomalies.sort();
}
