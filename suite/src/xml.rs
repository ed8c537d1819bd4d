//! A small XML tree for response checks (`xml:` expectations, `{{steps.S.xml.PATH}}`) and
//! COS error bodies, and the one escape of text written into XML or HTML. The suite's own
//! parser: it shares nothing with the emulator's writer. It imports nothing of the crate.

use quick_xml::events::Event;
use quick_xml::Reader;

/// One element: its local name, its direct text, and its children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// Local name (namespace prefix dropped).
    pub name: String,
    /// Concatenated text and CDATA directly inside it, unescaped.
    pub text: String,
    /// Child elements, in order.
    pub children: Vec<Element>,
}

/// Why a body is not XML.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("not well-formed XML: {0}")]
pub struct XmlError(String);

impl Element {
    /// Parses a document and returns its root element.
    pub fn parse(body: &[u8]) -> Result<Element, XmlError> {
        let mut reader = Reader::from_reader(body);
        let mut stack: Vec<Element> = Vec::new();
        let mut root = None;
        let mut buf = Vec::new();
        loop {
            let event = reader
                .read_event_into(&mut buf)
                .map_err(|e| XmlError(format!("at byte {}: {e}", reader.buffer_position())))?;
            match event {
                Event::Start(start) => stack.push(Element {
                    name: local_name(start.name().as_ref()),
                    ..Element::default()
                }),
                Event::Empty(start) => {
                    let el = Element {
                        name: local_name(start.name().as_ref()),
                        ..Element::default()
                    };
                    attach(&mut stack, &mut root, el)?;
                }
                Event::End(_) => {
                    let el = stack
                        .pop()
                        .ok_or_else(|| XmlError("closing tag without an opening one".into()))?;
                    attach(&mut stack, &mut root, el)?;
                }
                Event::Text(t) => {
                    let text = t.unescape().map_err(|e| XmlError(e.to_string()))?;
                    match stack.last_mut() {
                        Some(top) => top.text.push_str(&text),
                        None if text.trim().is_empty() => {}
                        None => return Err(XmlError("text outside the root element".into())),
                    }
                }
                Event::CData(c) => {
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(&String::from_utf8_lossy(&c));
                    }
                }
                Event::Eof => break,
                _ => {}
            }
            buf.clear();
        }
        if !stack.is_empty() {
            return Err(XmlError(format!(
                "`<{}>` is never closed",
                stack[stack.len() - 1].name
            )));
        }
        root.ok_or_else(|| XmlError("no root element".into()))
    }

    /// Every element at `path` (`A/B/C`). The first segment may be the root or any
    /// descendant; the following ones are children in turn.
    pub fn find_all(&self, path: &str) -> Vec<&Element> {
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let Some((first, rest)) = segs.split_first() else {
            return Vec::new();
        };
        let mut current = Vec::new();
        self.descendants_named(first, &mut current);
        for seg in rest {
            current = current
                .into_iter()
                .flat_map(|e| e.children.iter().filter(|c| c.name == *seg))
                .collect();
        }
        current
    }

    /// Text of the first element at `path`.
    pub fn text_at(&self, path: &str) -> Option<&str> {
        self.find_all(path).first().map(|e| e.text.as_str())
    }

    fn descendants_named<'a>(&'a self, name: &str, out: &mut Vec<&'a Element>) {
        if self.name == name {
            out.push(self);
        }
        for c in &self.children {
            c.descendants_named(name, out);
        }
    }
}

fn local_name(raw: &[u8]) -> String {
    let name = String::from_utf8_lossy(raw);
    match name.rsplit_once(':') {
        Some((_, local)) => local.to_string(),
        None => name.into_owned(),
    }
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, el: Element) -> Result<(), XmlError> {
    match stack.last_mut() {
        Some(parent) => {
            parent.children.push(el);
            Ok(())
        }
        None if root.is_none() => {
            *root = Some(el);
            Ok(())
        }
        None => Err(XmlError("more than one root element".into())),
    }
}

/// The body as XML when it looks like XML (its first non-blank byte is `<`).
pub fn parse_body(body: &[u8]) -> Option<Element> {
    let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
    if body[start] != b'<' {
        return None;
    }
    Element::parse(body).ok()
}

/// Escapes text for XML and HTML: the reports, and the XML bodies the runner writes
/// (part ETags, a restore tier).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // XML 1.0 forbids most control characters even escaped: show them as U+FFFD.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A COS error body (PROTOCOL.md, "Errors").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosError {
    /// `<Code>`.
    pub code: String,
    /// `<Message>`.
    pub message: String,
    /// `<RequestId>`, when given.
    pub request_id: Option<String>,
}

impl CosError {
    /// Reads an `<Error>` document; `None` when the body is not one.
    pub fn parse(body: &[u8]) -> Option<CosError> {
        let root = Element::parse(body).ok()?;
        if root.name != "Error" {
            return None;
        }
        Some(CosError {
            code: root.text_at("Error/Code")?.trim().to_string(),
            message: root
                .text_at("Error/Message")
                .unwrap_or_default()
                .to_string(),
            request_id: root.text_at("Error/RequestId").map(str::to_string),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_paths_anywhere_and_counts() {
        let doc = br#"<?xml version="1.0"?><ListBucketResult xmlns="x"><Contents><Key>a&amp;b</Key><Size>1</Size></Contents><Contents><Key>c</Key><Size>2</Size></Contents></ListBucketResult>"#;
        let root = Element::parse(doc).unwrap();
        assert_eq!(root.find_all("Contents").len(), 2);
        assert_eq!(root.text_at("ListBucketResult/Contents/Key"), Some("a&b"));
        assert_eq!(root.text_at("Size"), Some("1"));
        assert!(root.find_all("Nope").is_empty());
    }

    #[test]
    fn error_body_and_malformed_input() {
        let e = CosError::parse(b"<Error><Code>AccessDenied</Code><Message>m</Message></Error>")
            .unwrap();
        assert_eq!(e.code, "AccessDenied");
        assert!(CosError::parse(b"<Error><Code>x</Code>").is_none());
        assert!(Element::parse(b"<a><b></a>").is_err());
        assert!(Element::parse(b"").is_err());
    }
}
