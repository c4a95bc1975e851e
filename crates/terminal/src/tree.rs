//! A request file read as a small element tree, for the kinds whose fields the clinic programs
//! place in different spots (header or body, one name or another): fields are looked up by
//! name wherever they are. Bounded: the file is at most [`crate::folder::MAX_REQUEST`] bytes and
//! the tree holds at most [`MAX_ELEMENTS`] elements nested at most [`MAX_DEPTH`] deep.

use crate::TerminalError;
use quick_xml::events::Event;

/// Most elements read from one request.
pub const MAX_ELEMENTS: usize = 200_000;
/// Deepest nesting read.
pub const MAX_DEPTH: usize = 32;

/// An element: its name, its own text and its children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// The element's local name.
    pub name: String,
    /// Its text (trimmed), when it has any.
    pub text: String,
    /// Its child elements, in order.
    pub children: Vec<Element>,
}

impl Element {
    /// Parses a decoded document; answers its root element.
    pub fn parse(text: &str) -> Result<Element, TerminalError> {
        let mut reader = quick_xml::Reader::from_str(text);
        let mut stack: Vec<Element> = vec![];
        let mut count = 0usize;
        let xml = |e: &dyn std::fmt::Display| TerminalError::Xml(e.to_string());
        loop {
            match reader.read_event().map_err(|e| xml(&e))? {
                Event::Start(s) => {
                    count += 1;
                    if count > MAX_ELEMENTS || stack.len() >= MAX_DEPTH {
                        return Err(TerminalError::Xml(format!(
                            "more than {MAX_ELEMENTS} elements or nested deeper than {MAX_DEPTH}"
                        )));
                    }
                    stack.push(Element {
                        name: String::from_utf8_lossy(s.local_name().as_ref()).into_owned(),
                        ..Element::default()
                    });
                }
                Event::Empty(s) => {
                    count += 1;
                    let e = Element {
                        name: String::from_utf8_lossy(s.local_name().as_ref()).into_owned(),
                        ..Element::default()
                    };
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(e),
                        None => return Ok(e),
                    }
                }
                Event::Text(t) => {
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(&t.unescape().map_err(|e| xml(&e))?);
                    }
                }
                Event::CData(t) => {
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(&String::from_utf8_lossy(&t));
                    }
                }
                Event::End(_) => {
                    let mut done = stack
                        .pop()
                        .expect("quick-xml checks that ends match starts");
                    done.text = done.text.trim().to_owned();
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => return Ok(done),
                    }
                }
                Event::Eof => {
                    return Err(TerminalError::Xml(
                        "the document ends before its root element closes".into(),
                    ))
                }
                _ => {}
            }
        }
    }

    /// The first element named `name` at any depth below this one (depth first, in document
    /// order).
    pub fn find(&self, name: &str) -> Option<&Element> {
        self.children.iter().find_map(|c| {
            if c.name == name {
                Some(c)
            } else {
                c.find(name)
            }
        })
    }

    /// The text of the first non-empty element named one of `names` below this one.
    pub fn text_of(&self, names: &[&str]) -> Option<&str> {
        names
            .iter()
            .filter_map(|n| self.find(n))
            .map(|e| e.text.as_str())
            .find(|t| !t.is_empty())
    }

    /// The child elements named `name`, at any depth (not inside one another).
    pub fn all(&self, name: &str) -> Vec<&Element> {
        let mut out = vec![];
        for c in &self.children {
            if c.name == name {
                out.push(c);
            } else {
                out.extend(c.all(name));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_found_wherever_they_are() {
        let root = Element::parse(
            "<XmlMsg><MessageHeader><A>1</A></MessageHeader><MessageBody><L><I><R> 7 </R></I><I><R>8</R></I></L><E/></MessageBody></XmlMsg>",
        )
        .unwrap();
        assert_eq!(root.text_of(&["A"]), Some("1"));
        assert_eq!(root.text_of(&["X", "R"]), Some("7"));
        assert_eq!(root.all("I").len(), 2);
        assert!(root.find("E").is_some());
    }

    #[test]
    fn deep_or_unclosed_documents_are_refused() {
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(Element::parse(&deep).is_err());
        assert!(Element::parse("<a><b>x</b>").is_err());
        assert!(Element::parse("<a><b>x</c></a>").is_err());
    }
}
