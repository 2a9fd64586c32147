//! One XrML document → the raw values rmsweep extracts from it.
//!
//! A single streaming pass with quick-xml over `&str` (zero copy). Elements
//! are matched by local name against a typed stack, so attribute order,
//! pretty-printing, `name = "X"` spacing, and `<VIEW>` vs `<RIGHT name="VIEW">`
//! do not matter. Only the values we keep are copied out; key material
//! (`ENABLINGBITS`, encrypted rights data, public keys) is skipped unread.
//! No DTD is processed and no entity is ever expanded.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::anomaly::Anomaly;

/// Deeper than any real XrML (the deepest real path is 11 elements).
const MAX_DEPTH: usize = 64;
/// Longest text value kept (40-LCID template names are about 10 KB).
const MAX_TEXT: usize = 64 * 1024;

/// An `OBJECT` element: type, ID (with its type and version), NAME, ADDRESSes.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct XObject {
    pub otype: Option<String>,
    pub id_type: Option<String>,
    pub id: Option<String>,
    pub id_version: Option<String>,
    pub name: Option<String>,
    /// `(ADDRESS@type, text)` pairs.
    pub addresses: Vec<(String, String)>,
}

impl XObject {
    pub fn address(&self, kind: &str) -> Option<&str> {
        self.addresses
            .iter()
            .find(|(t, _)| t.eq_ignore_ascii_case(kind))
            .map(|(_, v)| v.as_str())
    }
}

/// An `ISSUEDPRINCIPALS/PRINCIPAL` with its security levels.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RawPrincipal {
    pub object: XObject,
    pub security: Vec<(String, String)>,
}

/// A `DISTRIBUTIONPOINT/OBJECT`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RawDistributionPoint {
    pub dp_type: Option<String>,
    pub id: Option<String>,
    pub name: Option<String>,
    pub address: Option<String>,
}

/// One right of `WORK/RIGHTSGROUP/RIGHTSLIST`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RawRight {
    pub name: String,
    pub principals: Vec<String>,
    pub days: Option<String>,
    pub from: Option<String>,
    pub until: Option<String>,
}

/// Content expiry of a template (`WORK/PRECONDITIONLIST/TIME`).
#[derive(Debug, Clone, PartialEq)]
pub enum RawExpiry {
    Until(String),
    Days(String),
}

/// Everything extracted from one document, as text (interpreted later).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RawDoc {
    pub purpose: Option<String>,
    pub body_type: Option<String>,
    pub descriptor: XObject,
    pub issued: Option<String>,
    pub validity_from: Option<String>,
    pub validity_until: Option<String>,
    pub issuer: XObject,
    pub issuer_security: Vec<(String, String)>,
    pub principals: Vec<RawPrincipal>,
    pub federation_principals: Vec<XObject>,
    pub distribution_points: Vec<RawDistributionPoint>,
    pub work: XObject,
    pub owner: Option<String>,
    pub content_expiry: Option<RawExpiry>,
    pub rights: Vec<RawRight>,
    /// `(AUTHENTICATEDDATA@id, @name, text)`, encrypted rights data excluded.
    pub app_data: Vec<(String, String, String)>,
    pub digest_algorithm: Option<String>,
    pub digest_value: Option<String>,
    pub anomalies: Vec<Anomaly>,
    /// The XML error that stopped parsing, if any.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum El {
    Xrml,
    Body,
    IssuedTime,
    ValidityTime,
    From,
    Until,
    Descriptor,
    Object,
    Id,
    Name,
    Address,
    Issuer,
    SecurityLevel,
    DistributionPoint,
    IssuedPrincipals,
    FederationPrincipals,
    Principal,
    Work,
    Metadata,
    Owner,
    PreconditionList,
    ConditionList,
    Time,
    RangeTime,
    IntervalTime,
    RightsGroup,
    RightsList,
    Right,
    Access,
    AuthenticatedData,
    Signature,
    Digest,
    Algorithm,
    Value,
    Other,
}

fn element(local: &[u8]) -> El {
    match local {
        b"XrML" => El::Xrml,
        b"BODY" => El::Body,
        b"ISSUEDTIME" => El::IssuedTime,
        b"VALIDITYTIME" => El::ValidityTime,
        b"FROM" => El::From,
        b"UNTIL" => El::Until,
        b"DESCRIPTOR" => El::Descriptor,
        b"OBJECT" => El::Object,
        b"ID" => El::Id,
        b"NAME" => El::Name,
        b"ADDRESS" => El::Address,
        b"ISSUER" => El::Issuer,
        b"SECURITYLEVEL" => El::SecurityLevel,
        b"DISTRIBUTIONPOINT" => El::DistributionPoint,
        b"ISSUEDPRINCIPALS" => El::IssuedPrincipals,
        b"FEDERATIONPRINCIPALS" => El::FederationPrincipals,
        b"PRINCIPAL" => El::Principal,
        b"WORK" => El::Work,
        b"METADATA" => El::Metadata,
        b"OWNER" => El::Owner,
        b"PRECONDITIONLIST" => El::PreconditionList,
        b"CONDITIONLIST" => El::ConditionList,
        b"TIME" => El::Time,
        b"RANGETIME" => El::RangeTime,
        b"INTERVALTIME" => El::IntervalTime,
        b"RIGHTSGROUP" => El::RightsGroup,
        b"RIGHTSLIST" => El::RightsList,
        b"ACCESS" => El::Access,
        b"AUTHENTICATEDDATA" => El::AuthenticatedData,
        b"SIGNATURE" => El::Signature,
        b"DIGEST" => El::Digest,
        b"ALGORITHM" => El::Algorithm,
        b"VALUE" => El::Value,
        _ => El::Other,
    }
}

/// Elements XrML defines directly under BODY.
const BODY_CHILDREN: &[&[u8]] = &[
    b"ISSUEDTIME",
    b"VALIDITYTIME",
    b"DESCRIPTOR",
    b"ISSUER",
    b"DISTRIBUTIONPOINT",
    b"ISSUEDPRINCIPALS",
    b"FEDERATIONPRINCIPALS",
    b"WORK",
    b"AUTHENTICATEDDATA",
    b"CONDITIONLIST",
    b"REVOCATIONLIST",
];

/// Which OBJECT the ID/NAME/ADDRESS being read belong to.
#[derive(Debug, Clone, Copy)]
enum ObjTarget {
    Descriptor,
    Issuer,
    Principal,
    Federation,
    DistributionPoint,
    Work,
    Owner,
    RightPrincipal,
}

/// Where captured text goes when its element ends.
#[derive(Debug, Clone, Copy)]
enum Capture {
    Issued,
    ValidityFrom,
    ValidityUntil,
    ObjId(ObjTarget),
    ObjName(ObjTarget),
    ObjAddress(ObjTarget),
    ExpiryUntil,
    RightFrom,
    RightUntil,
    AppData,
    DigestAlgorithm,
    DigestValue,
}

struct Parser {
    doc: RawDoc,
    stack: Vec<El>,
    /// While set, everything at or below this depth is skipped.
    skip_from: Option<usize>,
    capture: Option<(Capture, usize)>,
    text: String,
    obj: Option<ObjTarget>,
    address_type: String,
    app_data_attrs: (String, String),
    right_principal: Option<(Option<String>, Option<String>)>,
    seen_body: bool,
    seen_issued: bool,
    seen_validity: bool,
    seen_descriptor: bool,
    seen_issuer: bool,
    seen_digest: bool,
}

/// Parses one XrML document (the text from `<XrML` to `</XrML>`). Never panics;
/// problems become anomalies and, for malformed XML, `error`.
pub fn parse_document(text: &str) -> RawDoc {
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.trim_text(true);
    config.check_end_names = false;
    config.expand_empty_elements = false;
    let mut p = Parser {
        doc: RawDoc::default(),
        stack: Vec::with_capacity(16),
        skip_from: None,
        capture: None,
        text: String::new(),
        obj: None,
        address_type: String::new(),
        app_data_attrs: (String::new(), String::new()),
        right_principal: None,
        seen_body: false,
        seen_issued: false,
        seen_validity: false,
        seen_descriptor: false,
        seen_issuer: false,
        seen_digest: false,
    };
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                if !p.start(&e) {
                    break;
                }
            }
            Ok(Event::Empty(e)) => {
                if !p.start(&e) {
                    break;
                }
                p.end();
            }
            Ok(Event::End(_)) => {
                p.end();
                if p.stack.is_empty() {
                    break;
                }
            }
            Ok(Event::Text(t)) => {
                if p.wants_text() {
                    match t.unescape() {
                        Ok(s) => p.push_text(&s),
                        Err(_) => {
                            p.anomaly(Anomaly::UnresolvedEntity);
                            p.push_text(&String::from_utf8_lossy(&t));
                        }
                    }
                }
            }
            Ok(Event::CData(t)) => {
                if p.wants_text() {
                    p.push_text(&String::from_utf8_lossy(&t));
                }
            }
            Ok(Event::DocType(_)) => p.anomaly(Anomaly::DtdIgnored),
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                p.anomaly(Anomaly::XmlError);
                p.doc.error = Some(format!(
                    "malformed XML at character {} of the document: {e}",
                    reader.error_position()
                ));
                break;
            }
        }
    }
    p.doc
}

impl Parser {
    fn anomaly(&mut self, a: Anomaly) {
        if !self.doc.anomalies.contains(&a) {
            self.doc.anomalies.push(a);
        }
    }

    fn wants_text(&self) -> bool {
        self.capture.is_some()
    }

    fn push_text(&mut self, s: &str) {
        if self.text.len() + s.len() > MAX_TEXT {
            let room = MAX_TEXT.saturating_sub(self.text.len());
            let mut cut = room.min(s.len());
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            self.text.push_str(&s[..cut]);
            self.anomaly(Anomaly::FieldTruncated);
        } else {
            if !self.text.is_empty() {
                self.text.push(' ');
            }
            self.text.push_str(s);
        }
    }

    fn begin_capture(&mut self, c: Capture, depth: usize) {
        self.text.clear();
        self.capture = Some((c, depth));
    }

    /// Returns false when parsing of this document must stop.
    fn start(&mut self, e: &BytesStart<'_>) -> bool {
        let local = e.local_name();
        let el = element(local.as_ref());
        let depth = self.stack.len();
        let parent = self.stack.last().copied();
        let el = if parent == Some(El::RightsList) {
            El::Right
        } else {
            el
        };
        self.stack.push(el);
        if self.stack.len() > MAX_DEPTH {
            self.anomaly(Anomaly::NestingTooDeep);
            return false;
        }
        if self.skip_from.is_some() {
            return true;
        }
        // A document must start with XrML; anything else is not ours.
        if depth == 0 && el != El::Xrml {
            self.skip_from = Some(1);
            return true;
        }
        let stack = std::mem::take(&mut self.stack);
        let keep_going = self.dispatch(&stack, e, local.as_ref());
        self.stack = stack;
        keep_going
    }

    /// Acts on an element start, given the stack including it.
    fn dispatch(&mut self, path: &[El], e: &BytesStart<'_>, local: &[u8]) -> bool {
        let depth = path.len();
        match path {
            [El::Xrml] => {
                self.doc.purpose = attr(e, b"purpose");
            }
            [El::Xrml, El::Body] => {
                if self.seen_body {
                    return self.duplicate(depth);
                }
                self.seen_body = true;
                self.doc.body_type = attr(e, b"type");
            }
            [El::Xrml, El::Body, child] => {
                if *child == El::Other && !BODY_CHILDREN.contains(&local) {
                    self.anomaly(Anomaly::UnknownElement);
                }
                match child {
                    El::IssuedTime => {
                        if self.seen_issued {
                            return self.duplicate(depth);
                        }
                        self.seen_issued = true;
                        self.begin_capture(Capture::Issued, depth);
                    }
                    El::ValidityTime => {
                        if self.seen_validity {
                            return self.duplicate(depth);
                        }
                        self.seen_validity = true;
                    }
                    El::Descriptor => {
                        if self.seen_descriptor {
                            return self.duplicate(depth);
                        }
                        self.seen_descriptor = true;
                    }
                    El::Issuer => {
                        if self.seen_issuer {
                            return self.duplicate(depth);
                        }
                        self.seen_issuer = true;
                    }
                    El::DistributionPoint => {
                        self.doc
                            .distribution_points
                            .push(RawDistributionPoint::default());
                    }
                    El::AuthenticatedData => {
                        let id = attr(e, b"id").unwrap_or_default();
                        if id.eq_ignore_ascii_case("Encrypted-Rights-Data") {
                            // Ciphertext: never read.
                            self.skip_from = Some(depth);
                        } else {
                            self.app_data_attrs = (id, attr(e, b"name").unwrap_or_default());
                            self.begin_capture(Capture::AppData, depth);
                        }
                    }
                    _ => {}
                }
            }
            [El::Xrml, El::Body, El::ValidityTime, El::From] => {
                self.begin_capture(Capture::ValidityFrom, depth)
            }
            [El::Xrml, El::Body, El::ValidityTime, El::Until] => {
                self.begin_capture(Capture::ValidityUntil, depth)
            }
            [El::Xrml, El::Body, El::Descriptor, El::Object] => {
                self.doc.descriptor.otype = attr(e, b"type");
                self.obj = Some(ObjTarget::Descriptor);
            }
            [El::Xrml, El::Body, El::Issuer, El::Object] => {
                self.doc.issuer.otype = attr(e, b"type");
                self.obj = Some(ObjTarget::Issuer);
            }
            [El::Xrml, El::Body, El::Issuer, El::SecurityLevel] => {
                if let Some(pair) = security_level(e) {
                    self.doc.issuer_security.push(pair);
                }
            }
            [El::Xrml, El::Body, El::IssuedPrincipals, El::Principal] => {
                self.doc.principals.push(RawPrincipal::default());
            }
            [El::Xrml, El::Body, El::IssuedPrincipals, El::Principal, El::Object] => {
                if let Some(p) = self.doc.principals.last_mut() {
                    p.object.otype = attr(e, b"type");
                }
                self.obj = Some(ObjTarget::Principal);
            }
            [El::Xrml, El::Body, El::IssuedPrincipals, El::Principal, El::SecurityLevel] => {
                if let Some(pair) = security_level(e) {
                    if let Some(p) = self.doc.principals.last_mut() {
                        p.security.push(pair);
                    }
                }
            }
            [El::Xrml, El::Body, El::FederationPrincipals, El::Principal, El::Object] => {
                self.doc.federation_principals.push(XObject {
                    otype: attr(e, b"type"),
                    ..XObject::default()
                });
                self.obj = Some(ObjTarget::Federation);
            }
            [El::Xrml, El::Body, El::DistributionPoint, El::Object] => {
                if let Some(dp) = self.doc.distribution_points.last_mut() {
                    dp.dp_type = attr(e, b"type");
                }
                self.obj = Some(ObjTarget::DistributionPoint);
            }
            [El::Xrml, El::Body, El::Work, El::Object] => {
                self.doc.work.otype = attr(e, b"type");
                self.obj = Some(ObjTarget::Work);
            }
            [El::Xrml, El::Body, El::Work, El::Metadata, El::Owner, El::Object] => {
                self.obj = Some(ObjTarget::Owner);
            }
            [El::Xrml, El::Body, El::Work, El::PreconditionList, El::Time, El::RangeTime, El::Until] => {
                self.begin_capture(Capture::ExpiryUntil, depth)
            }
            [El::Xrml, El::Body, El::Work, El::PreconditionList, El::Time, El::IntervalTime] => {
                if let Some(days) = attr(e, b"days") {
                    self.doc.content_expiry = Some(RawExpiry::Days(days));
                }
            }
            [El::Xrml, El::Body, El::Work, El::RightsGroup, El::RightsList, El::Right] => {
                let name = if local == b"RIGHT" {
                    attr(e, b"name").unwrap_or_default()
                } else {
                    String::from_utf8_lossy(local).into_owned()
                };
                self.doc.rights.push(RawRight {
                    name: name.trim().to_ascii_uppercase(),
                    ..RawRight::default()
                });
            }
            [El::Xrml, El::Body, El::Work, El::RightsGroup, El::RightsList, El::Right, El::ConditionList, rest @ ..] =>
            {
                match rest {
                    [El::Time, El::IntervalTime] => {
                        if let (Some(days), Some(r)) =
                            (attr(e, b"days"), self.doc.rights.last_mut())
                        {
                            r.days = Some(days);
                        }
                    }
                    [El::Time, El::RangeTime, El::From] => {
                        self.begin_capture(Capture::RightFrom, depth)
                    }
                    [El::Time, El::RangeTime, El::Until] => {
                        self.begin_capture(Capture::RightUntil, depth)
                    }
                    [El::Access, El::Principal] => self.right_principal = Some((None, None)),
                    [El::Access, El::Principal, El::Object] => {
                        self.obj = Some(ObjTarget::RightPrincipal)
                    }
                    [El::Access, El::Principal, El::Object, field] => {
                        self.object_field(*field, e, depth)
                    }
                    [El::Access, El::Principal, El::Other, ..] => {
                        // ENABLINGBITS: sealed content keys, never read.
                        self.skip_from = Some(depth);
                    }
                    _ => {}
                }
            }
            [El::Xrml, El::Signature, El::Digest] => {
                if self.seen_digest {
                    return self.duplicate(depth);
                }
                self.seen_digest = true;
            }
            [El::Xrml, El::Signature, El::Digest, El::Algorithm] => {
                self.begin_capture(Capture::DigestAlgorithm, depth)
            }
            [El::Xrml, El::Signature, El::Digest, El::Value] => {
                self.begin_capture(Capture::DigestValue, depth)
            }
            [.., El::Object, field @ (El::Id | El::Name | El::Address)] => {
                self.object_field(*field, e, depth)
            }
            _ => {
                // ENABLINGBITS anywhere (sealed keys) and PUBLICKEY blobs are
                // skipped without reading their text.
                if is_key_material(local) {
                    self.skip_from = Some(depth);
                }
            }
        }
        true
    }

    /// ID, NAME or ADDRESS of the OBJECT being read.
    fn object_field(&mut self, field: El, e: &BytesStart<'_>, depth: usize) {
        let Some(t) = self.obj else { return };
        match field {
            El::Id => {
                let (id_type, version) = (attr(e, b"type"), attr(e, b"version"));
                if let Some(o) = self.object_mut(t) {
                    o.id_type = id_type;
                    o.id_version = version;
                }
                self.begin_capture(Capture::ObjId(t), depth);
            }
            El::Name => self.begin_capture(Capture::ObjName(t), depth),
            El::Address => {
                self.address_type = attr(e, b"type").unwrap_or_default();
                self.begin_capture(Capture::ObjAddress(t), depth);
            }
            _ => {}
        }
    }

    fn duplicate(&mut self, depth: usize) -> bool {
        self.anomaly(Anomaly::DuplicateElement);
        self.skip_from = Some(depth);
        true
    }

    fn end(&mut self) {
        let depth = self.stack.len();
        if let Some(from) = self.skip_from {
            if depth > from {
                self.stack.pop();
                return;
            }
            if depth == from {
                self.skip_from = None;
                self.stack.pop();
                return;
            }
        }
        if let Some((c, at)) = self.capture {
            if at == depth {
                self.capture = None;
                let text = std::mem::take(&mut self.text);
                self.commit(c, text);
            }
        }
        let el = self.stack.pop();
        match (el, self.stack.as_slice()) {
            (Some(El::Object), _) => self.obj = None,
            (Some(El::Principal), [.., El::Right, El::ConditionList, El::Access]) => {
                if let Some((id, name)) = self.right_principal.take() {
                    if let (Some(p), Some(r)) = (name.or(id), self.doc.rights.last_mut()) {
                        r.principals.push(p);
                    }
                }
            }
            _ => {}
        }
    }

    fn object_mut(&mut self, t: ObjTarget) -> Option<&mut XObject> {
        match t {
            ObjTarget::Descriptor => Some(&mut self.doc.descriptor),
            ObjTarget::Issuer => Some(&mut self.doc.issuer),
            ObjTarget::Principal => self.doc.principals.last_mut().map(|p| &mut p.object),
            ObjTarget::Federation => self.doc.federation_principals.last_mut(),
            ObjTarget::Work => Some(&mut self.doc.work),
            ObjTarget::DistributionPoint | ObjTarget::Owner | ObjTarget::RightPrincipal => None,
        }
    }

    fn commit(&mut self, c: Capture, text: String) {
        let text = if text.is_empty() { None } else { Some(text) };
        match c {
            Capture::Issued => self.doc.issued = text,
            Capture::ValidityFrom => self.doc.validity_from = text,
            Capture::ValidityUntil => self.doc.validity_until = text,
            Capture::ExpiryUntil => self.doc.content_expiry = text.map(RawExpiry::Until),
            Capture::RightFrom => {
                if let Some(r) = self.doc.rights.last_mut() {
                    r.from = text;
                }
            }
            Capture::RightUntil => {
                if let Some(r) = self.doc.rights.last_mut() {
                    r.until = text;
                }
            }
            Capture::AppData => {
                let (id, name) = std::mem::take(&mut self.app_data_attrs);
                self.doc.app_data.push((id, name, text.unwrap_or_default()));
            }
            Capture::DigestAlgorithm => self.doc.digest_algorithm = text,
            Capture::DigestValue => self.doc.digest_value = text,
            Capture::ObjId(t) => match t {
                ObjTarget::DistributionPoint => {
                    if let Some(dp) = self.doc.distribution_points.last_mut() {
                        dp.id = text;
                    }
                }
                ObjTarget::RightPrincipal => {
                    if let Some(rp) = self.right_principal.as_mut() {
                        rp.0 = text;
                    }
                }
                ObjTarget::Owner => {}
                _ => {
                    if let Some(o) = self.object_mut(t) {
                        o.id = text;
                    }
                }
            },
            Capture::ObjName(t) => match t {
                ObjTarget::DistributionPoint => {
                    if let Some(dp) = self.doc.distribution_points.last_mut() {
                        dp.name = text;
                    }
                }
                ObjTarget::RightPrincipal => {
                    if let Some(rp) = self.right_principal.as_mut() {
                        rp.1 = text;
                    }
                }
                ObjTarget::Owner => self.doc.owner = text,
                _ => {
                    if let Some(o) = self.object_mut(t) {
                        o.name = text;
                    }
                }
            },
            Capture::ObjAddress(t) => {
                let kind = std::mem::take(&mut self.address_type);
                match t {
                    ObjTarget::DistributionPoint => {
                        if let Some(dp) = self.doc.distribution_points.last_mut() {
                            dp.address = text;
                        }
                    }
                    _ => {
                        if let (Some(text), Some(o)) = (text, self.object_mut(t)) {
                            o.addresses.push((kind, text));
                        }
                    }
                }
            }
        }
    }
}

fn is_key_material(local: &[u8]) -> bool {
    matches!(local, b"ENABLINGBITS" | b"PUBLICKEY")
}

/// An attribute's value by local name. Attribute syntax errors are tolerated:
/// the attributes before the error are still seen.
fn attr(e: &BytesStart<'_>, key: &[u8]) -> Option<String> {
    for a in e.attributes().with_checks(false).flatten() {
        if a.key.local_name().as_ref() == key {
            return Some(match a.unescape_value() {
                Ok(v) => v.into_owned(),
                Err(_) => String::from_utf8_lossy(&a.value).into_owned(),
            });
        }
    }
    None
}

fn security_level(e: &BytesStart<'_>) -> Option<(String, String)> {
    Some((attr(e, b"name")?, attr(e, b"value").unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_in_both_forms_with_spaced_equals() {
        let d = parse_document(
            r#"<XrML><BODY type="Microsoft Official Rights Template"><WORK><RIGHTSGROUP><RIGHTSLIST>
            <VIEW><CONDITIONLIST><TIME><INTERVALTIME days="7"/></TIME><ACCESS><PRINCIPAL><OBJECT><ID type="Internal">ANYONE</ID></OBJECT></PRINCIPAL></ACCESS></CONDITIONLIST></VIEW>
            <RIGHT name = "PRINT"><CONDITIONLIST><ACCESS><PRINCIPAL><OBJECT><ID type="Unspecified"/><NAME>g@contoso.com</NAME></OBJECT></PRINCIPAL></ACCESS></CONDITIONLIST></RIGHT>
            </RIGHTSLIST></RIGHTSGROUP></WORK></BODY></XrML>"#,
        );
        assert_eq!(d.error, None);
        assert_eq!(d.rights.len(), 2);
        assert_eq!(d.rights[0].name, "VIEW");
        assert_eq!(d.rights[0].principals, vec!["ANYONE"]);
        assert_eq!(d.rights[0].days.as_deref(), Some("7"));
        assert_eq!(d.rights[1].name, "PRINT");
        assert_eq!(d.rights[1].principals, vec!["g@contoso.com"]);
    }

    #[test]
    fn duplicate_issuedtime_keeps_first() {
        let d = parse_document(
            "<XrML><BODY type=\"LICENSE\"><ISSUEDTIME>2020-01-01T00:00</ISSUEDTIME><ISSUEDTIME>2030-01-01T00:00</ISSUEDTIME></BODY></XrML>",
        );
        assert_eq!(d.issued.as_deref(), Some("2020-01-01T00:00"));
        assert_eq!(d.anomalies, vec![Anomaly::DuplicateElement]);
    }

    #[test]
    fn entities_are_not_expanded() {
        let d = parse_document(
            "<!DOCTYPE x [<!ENTITY a \"AAAA\">]><XrML><BODY type=\"LICENSE\"><ISSUEDTIME>&a;</ISSUEDTIME></BODY></XrML>",
        );
        assert_eq!(d.issued.as_deref(), Some("&a;"));
        assert_eq!(
            d.anomalies,
            vec![Anomaly::DtdIgnored, Anomaly::UnresolvedEntity]
        );
    }

    #[test]
    fn deep_nesting_stops() {
        let mut s = String::from("<XrML><BODY type=\"LICENSE\">");
        for _ in 0..10_000 {
            s.push_str("<A>");
        }
        let d = parse_document(&s);
        assert_eq!(d.body_type.as_deref(), Some("LICENSE"));
        assert_eq!(
            d.anomalies,
            vec![Anomaly::UnknownElement, Anomaly::NestingTooDeep]
        );
    }
}
