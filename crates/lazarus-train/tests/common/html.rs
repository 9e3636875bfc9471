//! An HTML page read into a small element tree with html5gum, a WHATWG-compliant tokenizer:
//! enough to find elements by attribute and read their text (the report tests).

use std::collections::BTreeMap;

use html5gum::{Token, Tokenizer};

/// One element of the page: its tag, attributes, parent and own text.
#[derive(Debug)]
pub struct Element {
    pub name: String,
    pub attrs: BTreeMap<String, String>,
    pub parent: Option<usize>,
    pub text: String,
}

/// The page as a list of elements in document order.
pub struct Page {
    pub elements: Vec<Element>,
}

/// Elements that have no end tag in HTML.
const VOID: [&str; 8] = ["meta", "link", "br", "img", "input", "hr", "source", "wbr"];

impl Page {
    /// Tokenize `html`, failing on any tokenizer error (malformed markup).
    pub fn parse(html: &str) -> Page {
        // Switch to raw text inside <script> and <style>, as a browser's tree builder would.
        let mut emitter = html5gum::DefaultEmitter::default();
        emitter.naively_switch_states(true);
        let tokens = Tokenizer::new_with_emitter(html, emitter);
        let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let mut elements: Vec<Element> = Vec::new();
        let mut open: Vec<usize> = Vec::new();
        for token in tokens {
            match token.expect("reading a string cannot fail") {
                Token::StartTag(tag) => {
                    let name = s(&tag.name);
                    let attrs = (tag.attributes.iter()).map(|(k, v)| (s(k), s(v))).collect();
                    elements.push(Element {
                        name: name.clone(),
                        attrs,
                        parent: open.last().copied(),
                        text: String::new(),
                    });
                    if !tag.self_closing && !VOID.contains(&name.as_str()) {
                        open.push(elements.len() - 1);
                    }
                }
                Token::EndTag(tag) => {
                    let name = s(&tag.name);
                    let at = open.iter().rposition(|&i| elements[i].name == name);
                    let at = at.unwrap_or_else(|| panic!("</{name}> closes nothing"));
                    open.truncate(at);
                }
                Token::String(text) => {
                    if let Some(&i) = open.last() {
                        elements[i].text.push_str(&s(&text));
                    }
                }
                Token::Error(e) => panic!("malformed HTML: {e:?}"),
                Token::Comment(_) | Token::Doctype(_) => {}
            }
        }
        assert!(
            open.is_empty(),
            "unclosed elements: {:?}",
            open.iter().map(|&i| &elements[i].name).collect::<Vec<_>>()
        );
        Page { elements }
    }

    /// Indices of the elements named `name` (any if empty) whose attribute `attr` is `value`.
    pub fn find(&self, name: &str, attr: &str, value: &str) -> Vec<usize> {
        (0..self.elements.len())
            .filter(|&i| name.is_empty() || self.elements[i].name == name)
            .filter(|&i| self.elements[i].attrs.get(attr).is_some_and(|v| v == value))
            .collect()
    }

    pub fn attr(&self, i: usize, attr: &str) -> &str {
        self.elements[i].attrs.get(attr).map_or("", String::as_str)
    }

    pub fn is_inside(&self, mut i: usize, ancestor: usize) -> bool {
        while let Some(p) = self.elements[i].parent {
            if p == ancestor {
                return true;
            }
            i = p;
        }
        false
    }

    /// The text of element `i` and all its descendants, in order.
    pub fn text(&self, i: usize) -> String {
        let inside = (i + 1..self.elements.len()).filter(|&j| self.is_inside(j, i));
        std::iter::once(i)
            .chain(inside)
            .map(|j| self.elements[j].text.as_str())
            .collect()
    }

    /// The descendants of `i` named `name`.
    pub fn within(&self, i: usize, name: &str) -> Vec<usize> {
        (i + 1..self.elements.len())
            .filter(|&j| self.elements[j].name == name && self.is_inside(j, i))
            .collect()
    }
}

/// The ids of the report page's sections, in page order.
pub const SECTIONS: [&str; 7] = [
    "summary",
    "curves",
    "heatmaps",
    "slopes",
    "gradients",
    "update-ratios",
    "warnings",
];

/// The page fetches nothing: no external element, link, script, style or font.
pub fn assert_self_contained(html: &str) {
    let page = Page::parse(html);
    for e in &page.elements {
        assert!(
            !["link", "img", "iframe", "object", "embed", "image", "use"]
                .contains(&e.name.as_str()),
            "<{}>",
            e.name
        );
        for (name, value) in &e.attrs {
            match name.as_str() {
                // Links within the page only.
                "href" => assert!(value.starts_with('#'), "<{} href={value}>", e.name),
                "src" | "xlink:href" | "action" | "srcset" | "poster" | "data" => {
                    panic!("<{} {name}={value}>", e.name)
                }
                // An SVG's namespace names a URL but fetches nothing.
                "xmlns" | "xmlns:xlink" => {}
                _ => assert!(
                    !value.contains("http:")
                        && !value.contains("https:")
                        && !value.contains("url("),
                    "<{} {name}={value}>",
                    e.name
                ),
            }
        }
        if e.name == "style" || e.name == "script" {
            for forbidden in [
                "@import",
                "url(",
                "http:",
                "https:",
                "fetch(",
                "XMLHttpRequest",
            ] {
                assert!(
                    !e.text.contains(forbidden),
                    "<{}> holds {forbidden}",
                    e.name
                );
            }
        }
    }
    assert!(
        !html.contains("url("),
        "no CSS url() anywhere, inline styles included"
    );
}
