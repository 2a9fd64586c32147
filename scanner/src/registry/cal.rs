//! The Remote Desktop client access licence an RDP client keeps in
//! `MSLicensing\Store\LICENSE00n\ClientLicense`: the licence server's X.509
//! certificate chain (MS-RDPELE §2.2.2.6.1; reference §3.2).
//!
//! The chain's framing is not documented, so every DER certificate found in
//! the value is read; the licence is the one carrying Microsoft's licensed
//! product extension (`1.3.6.1.4.1.311.18.5`), else the last. What is read:
//! issuer (the licence server), subject, validity, the certificate count and
//! whether the licensed product extension is present (its
//! temporary flag is not decoded: no sample has been seen to verify it on).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::parse::time::serde_rfc3339;

/// `szOID_PKIX_HYDRA_CERT_ROOT` arc: licensed product information.
const LICENSED_PRODUCT_INFO: &str = "1.3.6.1.4.1.311.18.5";

/// A client access licence, decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientLicense {
    /// The certificate issuer's common name (the licence server), else the whole name.
    pub cal_issuer: Option<String>,
    pub cal_subject: Option<String>,
    #[serde(with = "serde_rfc3339::option")]
    pub valid_from: Option<DateTime<Utc>>,
    #[serde(with = "serde_rfc3339::option")]
    pub valid_until: Option<DateTime<Utc>>,
    /// Certificates found in the value.
    pub cal_certificates: usize,
    /// Whether the licensed product extension is present.
    pub cal_product_info: bool,
}

/// Reads the licence from a `ClientLicense` value; `None` when it holds no certificate.
pub fn parse(data: &[u8]) -> Option<ClientLicense> {
    let certs = certificates(data);
    let leaf = certs
        .iter()
        .find(|c| has_product_info(c))
        .or_else(|| certs.last())?;
    let name = |n: &x509_parser::x509::X509Name<'_>| {
        n.iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok().map(str::to_string))
            .or_else(|| Some(n.to_string()).filter(|s| !s.is_empty()))
    };
    let time = |t: x509_parser::time::ASN1Time| DateTime::from_timestamp(t.timestamp(), 0);
    Some(ClientLicense {
        cal_issuer: name(leaf.issuer()),
        cal_subject: name(leaf.subject()),
        valid_from: time(leaf.validity().not_before),
        valid_until: time(leaf.validity().not_after),
        cal_certificates: certs.len(),
        cal_product_info: has_product_info(leaf),
    })
}

fn has_product_info(c: &X509Certificate<'_>) -> bool {
    c.extensions()
        .iter()
        .any(|e| e.oid.to_id_string() == LICENSED_PRODUCT_INFO)
}

/// Every DER certificate in `data`, in order: at each `SEQUENCE` with a
/// long-form length that parses as a certificate, skipping what it covers.
fn certificates(data: &[u8]) -> Vec<X509Certificate<'_>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 4 <= data.len() {
        if data[at] == 0x30 && (data[at + 1] == 0x82 || data[at + 1] == 0x81) {
            if let Ok((rest, cert)) = X509Certificate::from_der(&data[at..]) {
                at = data.len() - rest.len();
                out.push(cert);
                continue;
            }
        }
        at += 1;
    }
    out
}
