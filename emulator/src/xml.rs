//! XML on the wire: a tiny writer for response documents and a checked reader for the few
//! request documents the emulator accepts (ACL policies, bucket configuration).

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::error::{Error, ErrorCode};

/// Builds an XML document with the COS declaration; text is always escaped.
#[derive(Debug)]
pub struct XmlWriter {
    out: String,
}

impl Default for XmlWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl XmlWriter {
    /// A document with the `<?xml ...?>` declaration written.
    pub fn new() -> Self {
        XmlWriter {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
        }
    }

    /// `<name>`.
    pub fn open(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
    }

    /// `</name>`.
    pub fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// `<name>text</name>` with `text` escaped.
    pub fn leaf(&mut self, name: &str, text: &str) {
        self.open(name);
        self.out.push_str(&quick_xml::escape::escape(text));
        self.close(name);
    }

    /// A raw fragment (an element with attributes); the caller escapes.
    pub fn raw(&mut self, fragment: &str) {
        self.out.push_str(fragment);
    }

    /// The finished document.
    pub fn finish(self) -> String {
        self.out
    }
}

/// An element of a parsed request document: name, text and children, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// Local name (namespace prefix removed).
    pub name: String,
    /// Concatenated text content, trimmed.
    pub text: String,
    /// Concatenated text content as sent, untrimmed (object keys may begin or end with
    /// spaces: Delete Multiple Objects must delete exactly the key named).
    pub raw_text: String,
    /// Attributes as (local name, value).
    pub attrs: Vec<(String, String)>,
    /// Child elements.
    pub children: Vec<Element>,
}

impl Element {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The value of attribute `name` (local name, any prefix).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Request documents are small; anything larger is refused before parsing.
pub const MAX_DOCUMENT: usize = 64 * 1024;

/// Nesting deeper than this is not a COS document (and could exhaust the stack).
const MAX_DEPTH: usize = 32;

fn malformed(detail: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::MalformedXml,
        format!("the XML you provided was not well-formed: {detail}"),
    )
}

fn local(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name);
    match s.rsplit_once(':') {
        Some((_, l)) => l.to_string(),
        None => s.into_owned(),
    }
}

/// Parses a whole document into its root element; any syntax error, a second root, or
/// text outside the root is `MalformedXML`.
pub fn parse(doc: &[u8]) -> Result<Element, Error> {
    let text = std::str::from_utf8(doc).map_err(malformed)?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        match reader.read_event().map_err(malformed)? {
            Event::Start(e) => {
                if root.is_some() || stack.len() >= MAX_DEPTH {
                    return Err(malformed("unexpected element"));
                }
                stack.push(element_from(&e)?);
            }
            Event::Empty(e) => {
                if root.is_some() {
                    return Err(malformed("second root element"));
                }
                let el = element_from(&e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                let el = stack.pop().ok_or_else(|| malformed("unbalanced end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                let s = t.unescape().map_err(malformed)?;
                match stack.last_mut() {
                    Some(el) => {
                        el.text.push_str(s.trim());
                        el.raw_text.push_str(&s);
                    }
                    None if s.trim().is_empty() => {}
                    None => return Err(malformed("text outside the root element")),
                }
            }
            Event::CData(c) => match stack.last_mut() {
                Some(el) => {
                    let c = String::from_utf8_lossy(&c);
                    el.text.push_str(&c);
                    el.raw_text.push_str(&c);
                }
                None => return Err(malformed("CDATA outside the root element")),
            },
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(malformed("document ends inside an element"));
    }
    root.ok_or_else(|| malformed("empty document"))
}

fn element_from(e: &quick_xml::events::BytesStart<'_>) -> Result<Element, Error> {
    let mut el = Element {
        name: local(e.name().as_ref()),
        ..Element::default()
    };
    for a in e.attributes() {
        let a = a.map_err(malformed)?;
        let v = a.unescape_value().map_err(malformed)?;
        el.attrs.push((local(a.key.as_ref()), v.into_owned()));
    }
    Ok(el)
}

/// The COS error document for a refusal (`PROTOCOL.md`, "Errors"). It lives with the
/// writer, below `error`, so that the error type and the XML reader's refusals
/// (`MalformedXML`) do not depend on each other.
pub fn error_document(err: &Error, resource: &str, request_id: &str) -> String {
    error_document_in(crate::dialect::Dialect::Cos, err, resource, request_id)
}

/// The error document for a request of `dialect` (S3-ERROR-CODES): COS's shape
/// (`Code`, `Message`, `Resource`, `RequestId`, `TraceId`) with COS's code, or S3's
/// (`Code`, `Message`, `Resource`, `RequestId`, `HostId`) with the code AWS S3 answers
/// for the same refusal ([`crate::error::ErrorCode::wire`]).
pub fn error_document_in(
    dialect: crate::dialect::Dialect,
    err: &Error,
    resource: &str,
    request_id: &str,
) -> String {
    let mut w = XmlWriter::new();
    w.open("Error");
    w.leaf("Code", err.code.wire(dialect).1);
    w.leaf("Message", &err.message);
    w.leaf("Resource", resource);
    w.leaf("RequestId", request_id);
    match dialect {
        crate::dialect::Dialect::Cos => w.leaf("TraceId", request_id),
        crate::dialect::Dialect::S3 => w.leaf("HostId", request_id),
    }
    w.close("Error");
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_document_escapes_and_names_everything() {
        let e = Error::new(ErrorCode::NoSuchKey, "no key <a&b>");
        let xml = error_document(&e, "/k", "req1");
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>"));
        assert!(xml.contains("<Code>NoSuchKey</Code>"));
        assert!(xml.contains("<Message>no key &lt;a&amp;b&gt;</Message>"));
        assert!(xml.contains("<RequestId>req1</RequestId>"));
    }

    #[test]
    fn s3_error_document_has_s3_code_and_host_id() {
        let e = Error::new(ErrorCode::AuthorizationMalformed, "bad");
        let xml = error_document_in(crate::dialect::Dialect::S3, &e, "/k", "req1");
        assert!(
            xml.contains("<Code>AuthorizationHeaderMalformed</Code>"),
            "{xml}"
        );
        assert!(xml.contains("<HostId>req1</HostId>") && !xml.contains("TraceId"));
    }

    #[test]
    fn parses_nested_document() {
        let el =
            parse(b"<?xml version=\"1.0\"?><A><B x:type=\"t\">hi &amp; bye</B><B/></A>").unwrap();
        assert_eq!(el.name, "A");
        assert_eq!(el.children_named("B").count(), 2);
        assert_eq!(el.child("B").unwrap().text, "hi & bye");
        assert_eq!(el.child("B").unwrap().attr("type"), Some("t"));
    }

    #[test]
    fn refuses_broken_documents() {
        for doc in [
            &b""[..],
            b"<A>",
            b"<A></B>",
            b"<A/><B/>",
            b"text",
            b"<A>\xff</A>",
        ] {
            let e = parse(doc).unwrap_err();
            assert_eq!(e.code, ErrorCode::MalformedXml, "{doc:?}");
        }
    }

    #[test]
    fn writer_escapes_text() {
        let mut w = XmlWriter::new();
        w.leaf("K", "a<b>&\"c\"");
        assert!(w.finish().ends_with("<K>a&lt;b&gt;&amp;&quot;c&quot;</K>"));
    }
}
