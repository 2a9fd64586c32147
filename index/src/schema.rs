//! The index schema: every field handle in one struct.
//!
//! Exact-match fields are keywords: the whole value one term, lower-cased by
//! the `rmsweep_keyword` tokenizer on indexing and on query, so they match
//! ignoring case (GUIDs, hosts, kinds, profiles, principals); `label` and
//! `path` stay exact (they key records); names are
//! tokenised text; times are date fast fields; the whole record is stored as
//! JSON so every query can print it. Fields the reports aggregate over are
//! also fast (columnar), so inventories over a million documents never touch
//! the document store.

use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, NumericOptions, Schema, SchemaBuilder, STORED, STRING,
    TEXT,
};

/// Bumped whenever the schema or the meaning of a field changes: an index of
/// another version is refused with instructions to rebuild it.
pub const SCHEMA_VERSION: u32 = 5;

/// The tokenizer of keyword fields: the whole value, lower-cased.
pub const KEYWORD_TOKENIZER: &str = "rmsweep_keyword";

/// Registers rmsweep's tokenizers on an opened index (before any reading
/// or writing: queries and documents of keyword fields go through it).
pub fn register_tokenizers(index: &tantivy::Index) {
    use tantivy::tokenizer::{LowerCaser, RawTokenizer, TextAnalyzer};
    index.tokenizers().register(
        KEYWORD_TOKENIZER,
        TextAnalyzer::builder(RawTokenizer::default())
            .filter(LowerCaser)
            .build(),
    );
}

/// Handles of every field.
#[derive(Debug, Clone)]
pub struct Fields {
    pub schema: Schema,
    /// xxh3-128 of `label` NUL `path`: the unit of replacement and deletion
    /// (16 bytes instead of a long path in the term dictionary).
    pub file_id: Field,
    pub label: Field,
    pub path: Field,
    /// The drive letter (`c:`), lower-cased.
    pub drive: Field,
    /// The machine ID of a machine certificate (or the machine a RAC binds to):
    /// what identifies a label's host.
    pub machine_id: Field,
    /// `label` NUL the store folder (the file's parent): counts stores.
    pub store: Field,
    /// `label` NUL the profile or SID: counts profiles (a column, not queried).
    pub holder: Field,
    /// The content owner a publishing licence or EUL names.
    pub owner: Field,
    pub content_id: Field,
    pub principal_id: Field,
    /// The name of every right granted (`view`, `edit`, `owner`…).
    pub rights: Field,
    pub valid_from: Field,
    pub kind: Field,
    pub store_mode: Field,
    pub store_area: Field,
    pub rms_client: Field,
    pub profile: Field,
    pub sid: Field,
    pub sha256: Field,
    pub template_id: Field,
    pub digest: Field,
    pub issuer_id: Field,
    pub issuer_host: Field,
    pub issuer_kind: Field,
    pub rms_service_id: Field,
    pub region: Field,
    pub tenant_id: Field,
    pub principal: Field,
    pub anomalies: Field,
    /// All names and descriptions, tokenised (query: `template_names:confidential`).
    pub template_names: Field,
    /// The best display name (LCID 1033, else the first), for reports.
    pub template_name: Field,
    /// Tokenised issuer name (query: `issuer_name:contoso`).
    pub issuer_name: Field,
    /// The exact issuer name, for reports and trust matching.
    pub issuer_name_exact: Field,
    pub error: Field,
    /// Registry records (`kind:setting`): the setting's stable name
    /// (`msipc.template_last_updated`, `hive` for a hive's own record).
    pub setting: Field,
    /// `software`, `system`, `ntuser`, `usrclass`.
    pub hive: Field,
    /// The key's path inside the hive.
    pub key: Field,
    /// The value's name (`value:LastUpdatedTime`).
    pub value: Field,
    /// The RMS server a per-server setting names.
    pub server: Field,
    /// The URL (or host) a setting names, its redirection target included.
    pub url: Field,
    /// A setting's data, tokenised (`data:contoso`).
    pub data: Field,
    /// The disk image or profile container a record was read from (exact),
    /// what it is (`fslogix_profile`, `upd`, `disk`…) and the partition.
    pub container: Field,
    pub container_kind: Field,
    pub partition: Field,
    pub issued: Field,
    pub valid_until: Field,
    pub content_expiry_date: Field,
    pub modified: Field,
    /// File size and modification time in nanoseconds: the incremental check.
    pub size: Field,
    pub mtime_ns: Field,
    /// The record as JSON.
    pub record: Field,
}

impl Fields {
    /// A field's name, for the fast-field readers that take one.
    pub fn name(&self, field: Field) -> &str {
        self.schema.get_field_name(field)
    }
}

impl Fields {
    pub fn new() -> Fields {
        let mut b = SchemaBuilder::new();
        let fast_string = STRING | tantivy::schema::FAST;
        let date = DateOptions::default()
            .set_indexed()
            .set_fast()
            .set_precision(DateTimePrecision::Seconds);
        let fast_num = NumericOptions::default().set_fast();
        // Columns only (no inverted index): read by reports, never queried.
        let column = tantivy::schema::TextOptions::from(tantivy::schema::FAST);
        // Keyword fields: one term per value, matched ignoring case (`kind:EUL`,
        // `issuer_host:DC1.AIP.COM`); the fast column keeps the value as written.
        let keyword_indexing = tantivy::schema::TextFieldIndexing::default()
            .set_tokenizer(KEYWORD_TOKENIZER)
            .set_index_option(tantivy::schema::IndexRecordOption::Basic);
        let keyword =
            tantivy::schema::TextOptions::default().set_indexing_options(keyword_indexing);
        let fast_keyword = keyword.clone().set_fast(None);
        let file_id = b.add_bytes_field("file_id", tantivy::schema::INDEXED);
        let label = b.add_text_field("label", fast_string.clone());
        let path = b.add_text_field("path", fast_string.clone());
        let drive = b.add_text_field("drive", keyword.clone());
        let machine_id = b.add_text_field("machine_id", fast_keyword.clone());
        let store = b.add_text_field("store", column.clone());
        let holder = b.add_text_field("holder", column.clone());
        let owner = b.add_text_field("owner", keyword.clone());
        let content_id = b.add_text_field("content_id", keyword.clone());
        let principal_id = b.add_text_field("principal_id", keyword.clone());
        let rights = b.add_text_field("rights", keyword.clone());
        let kind = b.add_text_field("kind", fast_keyword.clone());
        let store_mode = b.add_text_field("store_mode", fast_keyword.clone());
        let store_area = b.add_text_field("store_area", fast_keyword.clone());
        let rms_client = b.add_text_field("rms_client", fast_keyword.clone());
        let profile = b.add_text_field("profile", fast_keyword.clone());
        let sid = b.add_text_field("sid", fast_keyword.clone());
        let sha256 = b.add_text_field("sha256", keyword.clone());
        let template_id = b.add_text_field("template_id", fast_keyword.clone());
        let digest = b.add_text_field("digest", fast_keyword.clone());
        let issuer_id = b.add_text_field("issuer_id", fast_keyword.clone());
        let issuer_host = b.add_text_field("issuer_host", fast_keyword.clone());
        let issuer_kind = b.add_text_field("issuer_kind", fast_keyword.clone());
        let rms_service_id = b.add_text_field("rms_service_id", fast_keyword.clone());
        let region = b.add_text_field("region", fast_keyword.clone());
        let tenant_id = b.add_text_field("tenant_id", fast_keyword.clone());
        let principal = b.add_text_field("principal", keyword.clone());
        let anomalies = b.add_text_field("anomalies", keyword.clone());
        let template_names = b.add_text_field("template_names", TEXT);
        let template_name = b.add_text_field("template_name", column.clone());
        let issuer_name = b.add_text_field("issuer_name", TEXT);
        let issuer_name_exact = b.add_text_field("issuer_name_exact", column);
        let error = b.add_text_field("error", TEXT);
        let setting = b.add_text_field("setting", fast_keyword.clone());
        let hive = b.add_text_field("hive", keyword.clone());
        let key = b.add_text_field("key", keyword.clone());
        let value = b.add_text_field("value", keyword.clone());
        let server = b.add_text_field("server", keyword.clone());
        let url = b.add_text_field("url", keyword.clone());
        let data = b.add_text_field("data", TEXT);
        let container = b.add_text_field("container", STRING);
        let container_kind = b.add_text_field("container_kind", fast_keyword.clone());
        let partition = b.add_u64_field("partition", NumericOptions::default().set_indexed());
        let issued = b.add_date_field("issued", date.clone());
        let valid_from = b.add_date_field("valid_from", date.clone());
        let valid_until = b.add_date_field("valid_until", date.clone());
        let content_expiry_date = b.add_date_field("content_expiry_date", date.clone());
        let modified = b.add_date_field("modified", date);
        let size = b.add_u64_field("size", fast_num.clone());
        let mtime_ns = b.add_i64_field("mtime_ns", fast_num);
        let record = b.add_text_field("record", STORED);
        Fields {
            schema: b.build(),
            file_id,
            label,
            path,
            drive,
            machine_id,
            store,
            holder,
            owner,
            content_id,
            principal_id,
            rights,
            valid_from,
            kind,
            store_mode,
            store_area,
            rms_client,
            profile,
            sid,
            sha256,
            template_id,
            digest,
            issuer_id,
            issuer_host,
            issuer_kind,
            rms_service_id,
            region,
            tenant_id,
            principal,
            anomalies,
            template_names,
            template_name,
            issuer_name,
            issuer_name_exact,
            error,
            setting,
            hive,
            key,
            value,
            server,
            url,
            data,
            container,
            container_kind,
            partition,
            issued,
            valid_until,
            content_expiry_date,
            modified,
            size,
            mtime_ns,
            record,
        }
    }

    /// The fields a query may name, for error messages.
    pub fn queryable(&self) -> Vec<&str> {
        self.schema
            .fields()
            .map(|(_, e)| e.name())
            .filter(|n| {
                !matches!(
                    *n,
                    "record"
                        | "file_id"
                        | "mtime_ns"
                        | "store"
                        | "holder"
                        | "template_name"
                        | "issuer_name_exact"
                )
            })
            .collect()
    }

    /// Fields searched when a query names none.
    pub fn default_search(&self) -> Vec<Field> {
        vec![self.template_names, self.issuer_name]
    }
}

impl Default for Fields {
    fn default() -> Self {
        Fields::new()
    }
}

/// The key under which a file's record lives.
pub fn file_id(label: &str, path: &str) -> [u8; 16] {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(label.as_bytes());
    h.update(&[0]);
    h.update(path.as_bytes());
    h.digest128().to_le_bytes()
}
