//! What the parser tolerated: short, stable codes recorded on each record.
//!
//! Lenient parsing (as in evtx/mft parsers): damage never stops a record from
//! being produced; it is named here so examiners can filter on it.

use serde::{Deserialize, Serialize};

/// One thing the parser tolerated while reading a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anomaly {
    /// Invalid UTF-8 / UTF-16 sequences (e.g. lone surrogates) were replaced by U+FFFD.
    InvalidEncoding,
    /// Bytes before the first `<XrML` were skipped (a container header or junk).
    LeadingBytes,
    /// Bytes after the last `</XrML>` were ignored.
    TrailingBytes,
    /// Something other than white space stood between two chain documents.
    GarbageBetweenDocuments,
    /// A document was not closed with `</XrML>` before the end of the file.
    TruncatedDocument,
    /// The XML was malformed; fields after the error are missing.
    XmlError,
    /// Elements were nested deeper than any real XrML; parsing of that document stopped.
    NestingTooDeep,
    /// A DOCTYPE was present; it was ignored (entities are never expanded or fetched).
    DtdIgnored,
    /// An entity reference could not be resolved; the raw text was kept.
    UnresolvedEntity,
    /// An element that occurs once in XrML occurred again; the first was kept.
    DuplicateElement,
    /// The leaf document has no SIGNATURE digest.
    MissingSignature,
    /// The leaf document's type is not one rmsweep knows.
    UnknownDocumentType,
    /// An element under BODY that XrML does not define.
    UnknownElement,
    /// A time value did not parse; the field is empty.
    BadTime,
    /// A GUID did not parse; the raw value was kept.
    BadGuid,
    /// A value was longer than rmsweep keeps; it was cut.
    FieldTruncated,
    /// A NAME did not follow the `LCID n:NAME x:DESCRIPTION y;` grammar.
    NameGrammar,
    /// The file holds more documents than any real chain; the rest were not parsed.
    TooManyDocuments,
    /// A chain (issuer) document was damaged.
    ChainDocumentDamaged,
    /// The file name's user hash does not match the principal in the content.
    NamePrincipalMismatch,
    /// The file name's server hash does not match the issuer host in the content.
    NameServerMismatch,
    /// The file name has an escape sequence outside the known table.
    NameUnknownEscape,
    /// The file changed size between opening and reading it.
    ChangedWhileReading,
    /// The path on disk is not valid UTF-8; `path` is a lossy rendering.
    NonUtf8Path,
}
