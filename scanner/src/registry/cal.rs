//! The Remote Desktop client access licence an RDP client keeps in
//! `MSLicensing\Store\LICENSE00n\ClientLicense`: the licence server's X.509
//! certificate chain (MS-RDPELE §2.2.2.6.1; reference §3.2).
//!
//! The chain's framing is not documented, so every DER certificate found in
//! the value is read; the licence is the one carrying Microsoft's licensed
//! product extension, else the last. Besides issuer, subject and validity,
//! the two extensions MS-RDPELE §2.2.2.9 documents are decoded: the licensed
//! product (`1.3.6.1.4.1.311.18.5`: product ID, licence count, the Remote
//! Desktop version licensed, temporary or permanent) and the licence server
//! (`1.3.6.1.4.1.311.18.6`: its name, product ID and domain or workgroup).
//! Both are little-endian structures with offsets into themselves; what does
//! not fit is an anomaly on the licence, never a panic.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::parse::time::serde_rfc3339;

/// `szOID_PKIX_LICENSED_PRODUCT_INFO` (MS-RDPELE §2.2.2.9.1).
const LICENSED_PRODUCT_INFO: &str = "1.3.6.1.4.1.311.18.5";
/// `szOID_PKIX_MS_LICENSE_SERVER_INFO` (MS-RDPELE §2.2.2.9.2).
const LICENSE_SERVER_INFO: &str = "1.3.6.1.4.1.311.18.6";
/// `ProductLicenseFlags` bits (MS-RDPELE §2.2.2.9.1.1).
const TEMPORARY_LICENSE: u32 = 0x8000_0000;
const RTM_LICENSE: u32 = 0x0080_0000;
const LICENSE_ENFORCED: u32 = 0x0000_8000;
/// `MS_LICENSE_SERVER_INFO` versions: 1 (name, scope) and 2 (name, ID, scope).
const SERVER_INFO_V1: u32 = 0x0001000;
const SERVER_INFO_V2: u32 = 0x0003000;

/// A client access licence, decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The product ID the licence server settled on (`A02`…), else the one requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cal_product: Option<String>,
    /// The product ID the client asked for, where it differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cal_requested_product: Option<String>,
    /// The Remote Desktop Session Host version licensed (`major.minor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cal_version: Option<String>,
    /// A temporary licence (issued while no permanent one could be), else permanent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cal_temporary: Option<bool>,
    /// `ProductLicenseFlags` as stored, in hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cal_flags: Option<String>,
    /// The flags named: `temporary`/`permanent`, `rtm`/`beta`, `enforced`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cal_flag_names: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cal_license_count: Option<u32>,
    /// The client's `PlatformId` when it asked (OS and ISV bytes, build).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cal_platform_id: Option<String>,
    /// The licence server's language identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cal_language_id: Option<u32>,
    /// The licence server's name, from its own extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cal_license_server: Option<String>,
    /// The licence server's product ID (version 2 of the extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cal_license_server_id: Option<String>,
    /// The licence server's domain, or workgroup when not in a domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cal_license_server_scope: Option<String>,
    /// What could not be decoded, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cal_anomalies: Vec<String>,
}

impl ClientLicense {
    /// The licence server's name: its own extension's, else the certificate issuer.
    pub fn license_server(&self) -> Option<&str> {
        self.cal_license_server
            .as_deref()
            .or(self.cal_issuer.as_deref())
    }

    /// What a search of the setting's `data` finds the licence by, rather
    /// than its certificate's hex: product, version, the flags' names
    /// (`temporary`, `permanent`…), licence server, its scope, issuer and
    /// subject.
    pub fn words(&self) -> String {
        let mut words: Vec<&str> = [&self.cal_product, &self.cal_version]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        words.extend(self.cal_flag_names.iter().map(String::as_str));
        words.extend(
            [
                &self.cal_license_server,
                &self.cal_license_server_scope,
                &self.cal_issuer,
                &self.cal_subject,
            ]
            .into_iter()
            .flatten()
            .map(String::as_str),
        );
        words.join(" ")
    }
}

/// Reads the licence from a `ClientLicense` value; `None` when it holds no certificate.
pub fn parse(data: &[u8]) -> Option<ClientLicense> {
    let certs = certificates(data);
    let leaf = certs
        .iter()
        .find(|c| extension(c, LICENSED_PRODUCT_INFO).is_some())
        .or_else(|| certs.last())?;
    let name = |n: &x509_parser::x509::X509Name<'_>| {
        n.iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok().map(str::to_string))
            .or_else(|| Some(n.to_string()).filter(|s| !s.is_empty()))
    };
    let time = |t: x509_parser::time::ASN1Time| DateTime::from_timestamp(t.timestamp(), 0);
    let mut cal = ClientLicense {
        cal_issuer: name(leaf.issuer()),
        cal_subject: name(leaf.subject()),
        valid_from: time(leaf.validity().not_before),
        valid_until: time(leaf.validity().not_after),
        cal_certificates: certs.len(),
        ..ClientLicense::default()
    };
    if let Some(product) = extension(leaf, LICENSED_PRODUCT_INFO) {
        cal.cal_product_info = true;
        if let Err(why) = read_product_info(product, &mut cal) {
            cal.cal_anomalies
                .push(format!("licensed product extension: {why}"));
        }
    }
    if let Some(server) = extension(leaf, LICENSE_SERVER_INFO) {
        if let Err(why) = read_server_info(server, &mut cal) {
            cal.cal_anomalies
                .push(format!("licence server extension: {why}"));
        }
    }
    Some(cal)
}

/// An extension's value (the bytes inside its `OCTET STRING`).
fn extension<'c>(c: &'c X509Certificate<'_>, oid: &str) -> Option<&'c [u8]> {
    c.extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == oid)
        .map(|e| e.value)
}

/// Little-endian reads at an offset, failing with what was out of range.
struct Le<'a>(&'a [u8]);

impl Le<'_> {
    fn u16(&self, at: usize) -> Result<u16, String> {
        self.bytes(at, 2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&self, at: usize) -> Result<u32, String> {
        self.bytes(at, 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn bytes(&self, at: usize, len: usize) -> Result<&[u8], String> {
        at.checked_add(len)
            .and_then(|end| self.0.get(at..end))
            .ok_or_else(|| {
                format!(
                    "{len} bytes at offset {at} lie outside its {} bytes",
                    self.0.len()
                )
            })
    }
    /// A NUL-terminated UTF-16LE string from `at` (to the end when unterminated).
    fn utf16z(&self, at: usize) -> Result<String, String> {
        let rest = self.0.get(at..).ok_or_else(|| {
            format!(
                "a string at offset {at} lies outside its {} bytes",
                self.0.len()
            )
        })?;
        utf16(rest)
    }
}

/// UTF-16LE text up to its first NUL.
fn utf16(bytes: &[u8]) -> Result<String, String> {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16(&units).map_err(|_| "a string is not UTF-16".to_string())
}

/// `LICENSED_PRODUCT_INFO` (MS-RDPELE §2.2.2.9.1): four 32-bit fields, then
/// offset and size pairs (16-bit) of the two product IDs and the version
/// information, all offsets from the structure's start.
fn read_product_info(data: &[u8], cal: &mut ClientLicense) -> Result<(), String> {
    let s = Le(data);
    cal.cal_license_count = Some(s.u32(4)?);
    cal.cal_platform_id = Some(format!("0x{:08x}", s.u32(8)?));
    cal.cal_language_id = Some(s.u32(12)?);
    let product = |at: usize| -> Result<String, String> {
        utf16(s.bytes(s.u16(at)? as usize, s.u16(at + 2)? as usize)?)
    };
    let requested = product(16)?;
    let adjusted = product(20)?;
    let (version_at, versions) = (s.u16(24)? as usize, s.u16(26)?);
    if versions != 1 {
        cal.cal_anomalies.push(format!(
            "licensed product extension: {versions} version entries (the specification says 1); the first is read"
        ));
    }
    if versions > 0 {
        let (major, minor, flags) = (
            s.u16(version_at)?,
            s.u16(version_at + 2)?,
            s.u32(version_at + 4)?,
        );
        cal.cal_version = Some(format!("{major}.{minor}"));
        cal.cal_temporary = Some(flags & TEMPORARY_LICENSE != 0);
        cal.cal_flags = Some(format!("0x{flags:08x}"));
        cal.cal_flag_names = flag_names(flags);
    }
    if adjusted.is_empty() {
        cal.cal_product = Some(requested).filter(|p| !p.is_empty());
    } else {
        cal.cal_requested_product = Some(requested).filter(|r| !r.is_empty() && *r != adjusted);
        cal.cal_product = Some(adjusted);
    }
    Ok(())
}

fn flag_names(flags: u32) -> Vec<String> {
    let mut names = vec![
        if flags & TEMPORARY_LICENSE != 0 {
            "temporary"
        } else {
            "permanent"
        },
        if flags & RTM_LICENSE != 0 {
            "rtm"
        } else {
            "beta"
        },
    ];
    if flags & LICENSE_ENFORCED != 0 {
        names.push("enforced");
    }
    names.into_iter().map(str::to_string).collect()
}

/// `MS_LICENSE_SERVER_INFO` (MS-RDPELE §2.2.2.9.2): a version, then 16-bit
/// offsets into the strings that follow the header (version 1: name and
/// scope; version 2: name, product ID and scope).
fn read_server_info(data: &[u8], cal: &mut ClientLicense) -> Result<(), String> {
    let s = Le(data);
    let version = s.u32(0)?;
    let (name_at, id_at, scope_at, start) = match version {
        SERVER_INFO_V1 => (s.u16(4)?, None, s.u16(6)?, 8),
        SERVER_INFO_V2 => (s.u16(4)?, Some(s.u16(6)?), s.u16(8)?, 10),
        v => {
            return Err(format!(
                "version 0x{v:x} is not one the specification describes"
            ))
        }
    };
    let text = |at: u16| {
        s.utf16z(start + at as usize)
            .map(|t| Some(t).filter(|t| !t.is_empty()))
    };
    cal.cal_license_server = text(name_at)?;
    cal.cal_license_server_id = id_at.map(text).transpose()?.flatten();
    cal.cal_license_server_scope = text(scope_at)?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16z(s: &str) -> Vec<u8> {
        s.encode_utf16()
            .chain([0])
            .flat_map(u16::to_le_bytes)
            .collect()
    }

    /// A `LICENSED_PRODUCT_INFO` whose version entry lies at `version_at`.
    fn product_info(versions: u16, version_at: Option<u16>) -> Vec<u8> {
        let (requested, adjusted) = (utf16z("A02"), utf16z("A02"));
        let at = 28 + requested.len() + adjusted.len();
        let mut b = Vec::new();
        for v in [1u32, 3, 0x0401_0000, 1033] {
            b.extend(v.to_le_bytes());
        }
        for v in [28, requested.len(), 28 + requested.len(), adjusted.len()] {
            b.extend((v as u16).to_le_bytes());
        }
        b.extend(version_at.unwrap_or(at as u16).to_le_bytes());
        b.extend(versions.to_le_bytes());
        b.extend(requested);
        b.extend(adjusted);
        b.extend([6, 0, 3, 0]);
        b.extend(0x8000_0000u32.to_le_bytes());
        b
    }

    #[test]
    fn a_product_extension_is_read_field_by_field() {
        let mut cal = ClientLicense::default();
        read_product_info(&product_info(1, None), &mut cal).unwrap();
        assert_eq!(cal.cal_product.as_deref(), Some("A02"));
        assert_eq!(cal.cal_requested_product, None);
        assert_eq!(cal.cal_license_count, Some(3));
        assert_eq!(cal.cal_platform_id.as_deref(), Some("0x04010000"));
        assert_eq!(cal.cal_language_id, Some(1033));
        assert_eq!(cal.cal_version.as_deref(), Some("6.3"));
        assert_eq!(cal.cal_temporary, Some(true));
        assert_eq!(cal.cal_flags.as_deref(), Some("0x80000000"));
        assert_eq!(cal.cal_flag_names, ["temporary", "beta"]);
        assert!(cal.cal_anomalies.is_empty());
    }

    #[test]
    fn a_product_extension_that_does_not_fit_keeps_what_was_read_and_says_why() {
        let mut cal = ClientLicense::default();
        let err = read_product_info(&product_info(1, Some(500)), &mut cal).unwrap_err();
        assert_eq!(err, "2 bytes at offset 500 lie outside its 52 bytes");
        assert_eq!(cal.cal_license_count, Some(3));
        assert_eq!(cal.cal_version, None);
        let mut cal = ClientLicense::default();
        read_product_info(&product_info(2, None), &mut cal).unwrap();
        assert_eq!(cal.cal_anomalies, ["licensed product extension: 2 version entries (the specification says 1); the first is read"]);
        assert_eq!(cal.cal_version.as_deref(), Some("6.3"));
        let mut cal = ClientLicense::default();
        let err = read_product_info(&[1, 0, 0], &mut cal).unwrap_err();
        assert_eq!(err, "4 bytes at offset 4 lie outside its 3 bytes");
    }

    /// Every truncation, and every byte set to 0xff, of both structures:
    /// an error or a value, never a panic.
    #[test]
    fn damaged_extensions_never_panic() {
        let server = [
            &0x0003000u32.to_le_bytes()[..],
            &[0, 0, 8, 0, 18, 0],
            &utf16z("LS1"),
            &utf16z("0049"),
            &utf16z("X"),
        ]
        .concat();
        for good in [product_info(1, None), server] {
            for cut in 0..good.len() {
                let mut cal = ClientLicense::default();
                let _ = read_product_info(&good[..cut], &mut cal);
                let _ = read_server_info(&good[..cut], &mut cal);
            }
            for at in 0..good.len() {
                let mut bad = good.clone();
                bad[at] = 0xff;
                let mut cal = ClientLicense::default();
                let _ = read_product_info(&bad, &mut cal);
                let _ = read_server_info(&bad, &mut cal);
            }
        }
    }

    #[test]
    fn both_versions_of_the_server_extension_are_read_and_others_named() {
        let (name, id, scope) = (utf16z("LS1"), utf16z("00490"), utf16z("CONTOSO"));
        let mut v1 = 0x0001000u32.to_le_bytes().to_vec();
        v1.extend([0, 0]);
        v1.extend((name.len() as u16).to_le_bytes());
        v1.extend(name.iter().chain(&scope));
        let mut cal = ClientLicense::default();
        read_server_info(&v1, &mut cal).unwrap();
        assert_eq!(
            (
                cal.cal_license_server.as_deref(),
                cal.cal_license_server_id.as_deref(),
                cal.cal_license_server_scope.as_deref()
            ),
            (Some("LS1"), None, Some("CONTOSO"))
        );
        let mut v2 = 0x0003000u32.to_le_bytes().to_vec();
        v2.extend([0, 0]);
        v2.extend((name.len() as u16).to_le_bytes());
        v2.extend(((name.len() + id.len()) as u16).to_le_bytes());
        v2.extend(name.iter().chain(&id).chain(&scope));
        let mut cal = ClientLicense::default();
        read_server_info(&v2, &mut cal).unwrap();
        assert_eq!(
            (
                cal.cal_license_server.as_deref(),
                cal.cal_license_server_id.as_deref(),
                cal.cal_license_server_scope.as_deref()
            ),
            (Some("LS1"), Some("00490"), Some("CONTOSO"))
        );
        let mut v9 = v2.clone();
        v9[..4].copy_from_slice(&9u32.to_le_bytes());
        assert_eq!(
            read_server_info(&v9, &mut ClientLicense::default()).unwrap_err(),
            "version 0x9 is not one the specification describes"
        );
        // An offset past the end.
        v2[8] = 200;
        assert_eq!(
            read_server_info(&v2, &mut ClientLicense::default()).unwrap_err(),
            format!("a string at offset 210 lies outside its {} bytes", v2.len())
        );
    }
}
