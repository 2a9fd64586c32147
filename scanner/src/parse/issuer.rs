//! Who issued a document: AD RMS cluster, Azure RMS tenant (and which cloud),
//! or Microsoft's own activation/CA hierarchy.
//!
//! Classified per URL, not per document: a migrated tenant can carry an
//! on-premises intranet URL beside an Azure extranet URL (reference §4).

use serde::{Deserialize, Serialize};

/// The kind of service behind an issuer or URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssuerKind {
    /// An on-premises AD RMS cluster (any host that is not Azure RMS).
    Adrms,
    /// Azure RMS / Purview in the commercial cloud (`*.aadrm.com`).
    AzureRms,
    /// Azure RMS for US government clouds (`*.aadrm.us`).
    AzureRmsGov,
    /// Azure RMS operated by 21Vianet (`*.aadrm.cn`).
    AzureRmsChina,
    /// Microsoft's DRM certificate authorities and activation service: issue
    /// machine certificates and the CA chain by design.
    MicrosoftCa,
    /// No URL or host to classify.
    Unknown,
}

impl IssuerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IssuerKind::Adrms => "adrms",
            IssuerKind::AzureRms => "azure_rms",
            IssuerKind::AzureRmsGov => "azure_rms_gov",
            IssuerKind::AzureRmsChina => "azure_rms_china",
            IssuerKind::MicrosoftCa => "microsoft_ca",
            IssuerKind::Unknown => "unknown",
        }
    }
}

/// What a host name says about its service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostClass {
    pub kind: IssuerKind,
    /// The GUID in `<guid>.rms.<region>.aadrm.com`: the RightsManagementServiceId,
    /// not the tenant ID.
    pub rms_service_id: Option<String>,
    pub region: Option<String>,
}

/// The lower-case host of a URL, without user info or port. `None` for URLs
/// with no host (`file:///…`, `mailto:…`).
pub fn url_host(url: &str) -> Option<String> {
    let url = url.trim();
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        host_port.split(':').next()?
    };
    let host = host.trim_end_matches('.');
    if host.is_empty() {
        None
    } else {
        Some(host.to_ascii_lowercase())
    }
}

/// Classifies a (lower-case) host.
pub fn classify_host(host: &str) -> HostClass {
    let labels: Vec<&str> = host.split('.').collect();
    let cloud = match labels.as_slice() {
        [.., "aadrm", "com"] => Some(IssuerKind::AzureRms),
        [.., "aadrm", "us"] => Some(IssuerKind::AzureRmsGov),
        [.., "aadrm", "cn"] => Some(IssuerKind::AzureRmsChina),
        _ => None,
    };
    let Some(kind) = cloud else {
        return HostClass {
            kind: IssuerKind::Adrms,
            rms_service_id: None,
            region: None,
        };
    };
    // <svc>.rms[.<region>].aadrm.<tld>
    let (rms_service_id, region) = match labels.as_slice() {
        [svc, "rms", region, "aadrm", _] => (super::guid::normalize(svc), Some(region.to_string())),
        [svc, "rms", "aadrm", _] => (super::guid::normalize(svc), None),
        _ => (None, None),
    };
    HostClass {
        kind,
        rms_service_id,
        region,
    }
}

/// Issuer object types that belong to Microsoft's CA / activation hierarchy.
pub fn is_microsoft_ca_type(object_type: &str) -> bool {
    matches!(
        object_type,
        "DRM-Certificate-Authority"
            | "MS-DRM-Desktop-Security-Processor"
            | "DRM-Desktop-Security-Processor-Certificate-Authority"
    )
}

/// The enrollment service that signs self-enrolled server licensor certificates.
pub const SELF_ENROLLMENT_SERVICE: &str = "Microsoft DRM Server Self Enrollment Service";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(
            url_host("HTTP://dc1.aip.com/_wmcs").as_deref(),
            Some("dc1.aip.com")
        );
        assert_eq!(url_host("http://rms:80/_wmcs").as_deref(), Some("rms"));
        assert_eq!(
            url_host("https://u:p@Rms.Contoso.com:443").as_deref(),
            Some("rms.contoso.com")
        );
        assert_eq!(url_host("file:///ipcactivate.exe"), None);
        assert_eq!(url_host("mailto:x@y"), None);
    }

    #[test]
    fn clouds() {
        let c = classify_host("d527de2a-b7c1-4a64-9900-1433176c4a84.rms.eu.aadrm.com");
        assert_eq!(c.kind, IssuerKind::AzureRms);
        assert_eq!(
            c.rms_service_id.as_deref(),
            Some("d527de2a-b7c1-4a64-9900-1433176c4a84")
        );
        assert_eq!(c.region.as_deref(), Some("eu"));
        let g = classify_host("d527de2a-b7c1-4a64-9900-1433176c4a84.rms.aadrm.us");
        assert_eq!((g.kind, g.region), (IssuerKind::AzureRmsGov, None));
        assert_eq!(
            classify_host("x.rms.aadrm.cn").kind,
            IssuerKind::AzureRmsChina
        );
        assert_eq!(classify_host("rms.contoso.com").kind, IssuerKind::Adrms);
    }
}
