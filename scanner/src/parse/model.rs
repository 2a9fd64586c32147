//! What the parser produces for one store file: [`Content`].
//!
//! Field names are the contract for JSON output and for index queries (see
//! the foundation issue); keep them stable.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::anomaly::Anomaly;
use super::decode::TextEncoding;
use super::filename::NameInfo;
use super::issuer::IssuerKind;
use super::names::TemplateName;
use super::time::serde_rfc3339;

/// What a store file is, from its content (never from its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Rights policy template ("Microsoft Official Rights Template" / "Microsoft Rights Template").
    Template,
    /// RMS account certificate (Group-Identity-Credential, `GIC-*`).
    Rac,
    /// Client licensor certificate (`CLC-*`).
    Clc,
    /// Use licence (Content-License, `EUL-*`).
    Eul,
    /// Machine certificate (security processor, `CERT-Machine*.drm`).
    MachineCert,
    /// Publishing licence ("Microsoft Rights Label").
    PublishingLicense,
    /// Server licensor certificate.
    Slc,
    /// The JSON client licensor certificate (`JCLC-*`); its private key is never read out.
    Jclc,
    /// Parsed, but of no kind above (e.g. a CA certificate).
    Other,
    /// Could not be read or parsed; see `error`.
    Unreadable,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Template => "template",
            Kind::Rac => "rac",
            Kind::Clc => "clc",
            Kind::Eul => "eul",
            Kind::MachineCert => "machine_cert",
            Kind::PublishingLicense => "publishing_license",
            Kind::Slc => "slc",
            Kind::Jclc => "jclc",
            Kind::Other => "other",
            Kind::Unreadable => "unreadable",
        }
    }

    pub const ALL: [Kind; 10] = [
        Kind::Template,
        Kind::Rac,
        Kind::Clc,
        Kind::Eul,
        Kind::MachineCert,
        Kind::PublishingLicense,
        Kind::Slc,
        Kind::Jclc,
        Kind::Other,
        Kind::Unreadable,
    ];
}

/// Where a licensing URL points from the client's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UrlScope {
    Intranet,
    Extranet,
    /// Referral-Info: whom to ask for access (an e-mail or a URL).
    Referral,
}

/// One DISTRIBUTIONPOINT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LicensingUrl {
    #[serde(rename = "type")]
    pub url_type: String,
    pub url: String,
    pub scope: UrlScope,
    pub host: Option<String>,
    /// Classified per URL: intranet and extranet can point at different services.
    pub issuer_kind: Option<IssuerKind>,
}

/// A template's content expiry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentExpiry {
    Never,
    Date {
        #[serde(with = "serde_rfc3339")]
        date: DateTime<Utc>,
    },
    /// N days after the content is protected.
    Days {
        days: u32,
    },
}

/// One (right, principal) grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Right {
    pub right: String,
    pub principal: Option<String>,
    pub days: Option<u32>,
}

/// The SIGNATURE digest: a template's revision fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    pub algorithm: Option<String>,
    pub value: String,
}

/// An AUTHENTICATEDDATA value (application data such as MSOTPLNAME).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppData {
    pub id: String,
    pub name: String,
    pub value: String,
}

/// What is kept of each issuer-chain document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainEntry {
    pub kind: Kind,
    pub doc_type: Option<String>,
    pub doc_id: Option<String>,
    /// Whom this document certifies (its issued principal), e.g. the cluster name.
    pub subject_name: Option<String>,
    pub issuer_id: Option<String>,
    pub issuer_name: Option<String>,
    /// The issuer's URL, where the document gives one (a CLC's RMS server
    /// or tenant).
    #[serde(default)]
    pub issuer_url: Option<String>,
    #[serde(with = "serde_rfc3339::option")]
    pub issued: Option<DateTime<Utc>>,
    #[serde(with = "serde_rfc3339::option")]
    pub valid_from: Option<DateTime<Utc>>,
    #[serde(with = "serde_rfc3339::option")]
    pub valid_until: Option<DateTime<Utc>>,
    /// True when this document was damaged (see the record's anomalies).
    pub damaged: bool,
}

/// Everything the parser extracts from one file's bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Content {
    pub kind: Kind,
    pub error: Option<String>,
    pub encoding: Option<TextEncoding>,
    /// Number of XrML documents in the file (leaf + chain).
    pub documents: usize,
    /// The leaf's DESCRIPTOR/OBJECT@type, or BODY@type when there is none.
    pub doc_type: Option<String>,
    /// The leaf's DESCRIPTOR/OBJECT/ID.
    pub doc_id: Option<String>,
    pub template_id: Option<String>,
    /// Azure template version (`ID@version`), where present.
    pub template_version: Option<String>,
    pub template_names: Vec<TemplateName>,
    pub issuer_id: Option<String>,
    pub issuer_name: Option<String>,
    pub issuer_url: Option<String>,
    pub issuer_host: Option<String>,
    pub issuer_kind: Option<IssuerKind>,
    pub rms_service_id: Option<String>,
    pub region: Option<String>,
    pub tenant_id: Option<String>,
    pub server_version: Option<String>,
    pub server_sku: Option<String>,
    pub licensing_urls: Vec<LicensingUrl>,
    #[serde(with = "serde_rfc3339::option")]
    pub issued: Option<DateTime<Utc>>,
    #[serde(with = "serde_rfc3339::option")]
    pub valid_from: Option<DateTime<Utc>>,
    #[serde(with = "serde_rfc3339::option")]
    pub valid_until: Option<DateTime<Utc>>,
    pub content_expiry: Option<ContentExpiry>,
    pub rights: Vec<Right>,
    /// The user a RAC/CLC/EUL was issued to, or a PL's author: e-mail where
    /// present, else the SID or federation ID.
    pub principal: Option<String>,
    /// The principal's SID, federation or Passport ID.
    pub principal_id: Option<String>,
    /// The protected content's ID (EUL, PL): the EUL file name's first GUID.
    pub content_id: Option<String>,
    /// The content owner (`METADATA/OWNER`).
    pub owner: Option<String>,
    /// The machine ID of a machine certificate or a RAC's bound machine.
    pub machine_id: Option<String>,
    pub digest: Option<Digest>,
    pub app_data: Vec<AppData>,
    pub chain: Vec<ChainEntry>,
    /// What the file name says (license files), decoded.
    pub file_name: Option<NameInfo>,
    pub anomalies: Vec<Anomaly>,
}

impl Content {
    /// An empty record of `kind`.
    pub fn empty(kind: Kind) -> Content {
        Content {
            kind,
            error: None,
            encoding: None,
            documents: 0,
            doc_type: None,
            doc_id: None,
            template_id: None,
            template_version: None,
            template_names: Vec::new(),
            issuer_id: None,
            issuer_name: None,
            issuer_url: None,
            issuer_host: None,
            issuer_kind: None,
            rms_service_id: None,
            region: None,
            tenant_id: None,
            server_version: None,
            server_sku: None,
            licensing_urls: Vec::new(),
            issued: None,
            valid_from: None,
            valid_until: None,
            content_expiry: None,
            rights: Vec::new(),
            principal: None,
            principal_id: None,
            content_id: None,
            owner: None,
            machine_id: None,
            digest: None,
            app_data: Vec::new(),
            chain: Vec::new(),
            file_name: None,
            anomalies: Vec::new(),
        }
    }

    /// A record for a file that could not be read or parsed.
    pub fn unreadable(error: impl Into<String>) -> Content {
        Content {
            error: Some(error.into()),
            ..Content::empty(Kind::Unreadable)
        }
    }

    pub(crate) fn add_anomaly(&mut self, a: Anomaly) {
        if !self.anomalies.contains(&a) {
            self.anomalies.push(a);
        }
    }
}
