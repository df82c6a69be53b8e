//! Loaders: bytes of an uploaded file → plain text, per page where the format has pages.
//!
//! The format is decided from the content (magic bytes) and the file name together; a mismatch
//! (an executable named `.pdf`) is refused, not guessed at. Every refusal names the file and the
//! reason. Loaders never write anything, so a refused file leaves no trace.

use scraper::{Html, Node};

use crate::{Error, Result};

/// Supported source formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Pdf,
    Text,
    Markdown,
    Html,
}

impl MediaType {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Pdf => "pdf",
            MediaType::Text => "txt",
            MediaType::Markdown => "md",
            MediaType::Html => "html",
        }
    }
}

/// One page of extracted text. `number` is 1-based for paged formats (PDF), `None` otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub number: Option<u32>,
    pub text: String,
}

/// A loaded document, ready for chunking.
#[derive(Debug, Clone)]
pub struct LoadedDocument {
    pub media_type: MediaType,
    pub title: String,
    pub pages: Vec<Page>,
}

/// Check a client-supplied file name: a bare name, no directories, no control characters.
pub fn validate_filename(name: &str) -> Result<String> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(Error::InvalidInput("the file has no name".into()));
    }
    if trimmed.len() > 255 {
        return Err(Error::InvalidInput(
            "the file name is longer than 255 bytes".into(),
        ));
    }
    if trimmed.contains('/') || trimmed.contains('\\') || trimmed == "." || trimmed.contains("..") {
        return Err(Error::InvalidInput(format!(
            "the file name {trimmed:?} contains a path (\"/\", \"\\\" or \"..\"); send a bare file name"
        )));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(Error::InvalidInput(
            "the file name contains control characters".into(),
        ));
    }
    Ok(trimmed.to_owned())
}

fn extension(name: &str) -> Option<String> {
    let (_, ext) = name.rsplit_once('.')?;
    Some(ext.to_ascii_lowercase())
}

/// What the first bytes say the content is, for formats we refuse by name.
fn sniff_binary(bytes: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"\x7fELF", "an ELF executable"),
        (b"MZ", "a Windows executable"),
        (b"\xca\xfe\xba\xbe", "a Mach-O or Java class file"),
        (b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
        (
            b"PK\x03\x04",
            "a ZIP archive (DOCX/XLSX/ODT are not supported)",
        ),
        (b"\x1f\x8b", "a gzip archive"),
        (b"\x89PNG", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"\xd0\xcf\x11\xe0", "an old Microsoft Office file"),
        (b"#!", "a script"),
    ];
    SIGNATURES
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
        .map(|(_, what)| *what)
}

fn looks_like_pdf(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    head.windows(5).any(|w| w == b"%PDF-")
}

/// Decide the format of `bytes` named `name`, or refuse with the reason.
pub fn detect(name: &str, bytes: &[u8]) -> Result<MediaType> {
    if bytes.is_empty() {
        return Err(Error::EmptyFile {
            name: name.to_owned(),
        });
    }
    let ext = extension(name);
    if let Some(what) = sniff_binary(bytes) {
        return Err(Error::UnsupportedType(format!(
            "{name} is {what}, not a document"
        )));
    }
    match ext.as_deref() {
        Some("pdf") => {
            if looks_like_pdf(bytes) {
                Ok(MediaType::Pdf)
            } else {
                Err(Error::UnsupportedType(format!(
                    "{name} is named .pdf but does not start with a PDF header"
                )))
            }
        }
        _ if looks_like_pdf(bytes) => Ok(MediaType::Pdf),
        Some("txt" | "text") => Ok(MediaType::Text),
        Some("md" | "markdown") => Ok(MediaType::Markdown),
        Some("html" | "htm" | "xhtml") => Ok(MediaType::Html),
        None => {
            let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
            if head.trim_start().starts_with("<!doctype html") || head.contains("<html") {
                Ok(MediaType::Html)
            } else {
                Ok(MediaType::Text)
            }
        }
        Some(other) => Err(Error::UnsupportedType(format!(
            "{name}: .{other} files are not supported (use PDF, TXT, MD or HTML)"
        ))),
    }
}

/// Load `bytes` (named `name`) into pages of text.
pub fn load(name: &str, bytes: &[u8]) -> Result<LoadedDocument> {
    let media_type = detect(name, bytes)?;
    let doc = match media_type {
        MediaType::Pdf => load_pdf(name, bytes)?,
        MediaType::Text => {
            let text = utf8(name, bytes)?;
            let title = first_line_title(text).unwrap_or_else(|| stem(name));
            single_page(media_type, title, normalize_newlines(text))
        }
        MediaType::Markdown => {
            let text = utf8(name, bytes)?;
            let plain = markdown_to_text(text);
            let title = markdown_title(text)
                .or_else(|| first_line_title(&plain))
                .unwrap_or_else(|| stem(name));
            single_page(media_type, title, plain)
        }
        MediaType::Html => {
            let text = utf8(name, bytes)?;
            let depth = html_nesting_bound(text);
            if depth > MAX_HTML_DEPTH {
                return Err(Error::InvalidInput(format!(
                    "{name} nests HTML elements about {depth} levels deep (the limit is \
                     {MAX_HTML_DEPTH}; browsers stop nesting at 512): it is malformed or hostile"
                )));
            }
            let (title, plain) = html_to_text(text);
            let title = title
                .or_else(|| first_line_title(&plain))
                .unwrap_or_else(|| stem(name));
            single_page(media_type, title, plain)
        }
    };
    if doc.pages.iter().all(|p| p.text.trim().is_empty()) {
        let hint = match media_type {
            MediaType::Pdf => " (it may be scanned images only; run OCR first)",
            _ => " (it is blank or contains only markup)",
        };
        return Err(Error::NoText {
            name: name.to_owned(),
            hint,
        });
    }
    Ok(doc)
}

fn single_page(media_type: MediaType, title: String, text: String) -> LoadedDocument {
    LoadedDocument {
        media_type,
        title,
        pages: vec![Page { number: None, text }],
    }
}

fn stem(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(s, _)| s)
        .unwrap_or(name)
        .to_owned()
}

fn utf8<'a>(name: &str, bytes: &'a [u8]) -> Result<&'a str> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| Error::InvalidUtf8 {
        name: name.to_owned(),
        offset: e.valid_up_to(),
    })
}

fn normalize_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

fn first_line_title(text: &str) -> Option<String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let line = line.trim_start_matches('#').trim();
    let title: String = line.chars().take(120).collect();
    (!title.is_empty()).then_some(title)
}

fn markdown_title(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with("# "))
        .map(|l| l.trim_start_matches('#').trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// Markdown → readable text: drops markup (heading marks, emphasis, link targets, fences)
/// but keeps every word.
fn markdown_to_text(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    for line in normalize_newlines(md).lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            continue;
        }
        if !trimmed.is_empty()
            && trimmed
                .chars()
                .all(|c| matches!(c, '-' | '*' | '_' | '=' | ' ' | '|' | ':'))
        {
            out.push('\n');
            continue;
        }
        let mut l = trimmed.trim_start_matches('#').trim_start();
        l = l.trim_start_matches('>').trim_start();
        if let Some(rest) = l
            .strip_prefix("- ")
            .or_else(|| l.strip_prefix("* "))
            .or_else(|| l.strip_prefix("+ "))
        {
            l = rest;
        }
        out.push_str(&strip_inline_markdown(l));
        out.push('\n');
    }
    out
}

/// Longest Markdown link text and target looked for, in characters.
const MAX_LINK_TEXT: usize = 1000;
const MAX_LINK_TARGET: usize = 4000;

fn strip_inline_markdown(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' | '`' => {}
            '_' if i == 0
                || i + 1 == chars.len()
                || !chars[i - 1].is_alphanumeric()
                || !chars[i + 1].is_alphanumeric() => {}
            '!' if chars.get(i + 1) == Some(&'[') => {}
            '[' => {
                // [text](url) → text. The look-ahead is bounded so a line of a million `[`
                // stays linear.
                let window = |from: usize, len: usize| &chars[from..(from + len).min(chars.len())];
                if let Some(close) = window(i, MAX_LINK_TEXT)
                    .iter()
                    .position(|&c| c == ']')
                    .map(|p| p + i)
                    && chars.get(close + 1) == Some(&'(')
                    && let Some(end) = window(close, MAX_LINK_TARGET)
                        .iter()
                        .position(|&c| c == ')')
                        .map(|p| p + close)
                {
                    out.extend(&chars[i + 1..close]);
                    i = end + 1;
                    continue;
                }
                out.push(c);
            }
            '|' => out.push(' '),
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// Deepest element nesting accepted in HTML. The parser's cost grows with the square of the
/// depth (200k nested `<div>`s take minutes of CPU), so a hostile page is refused up front.
const MAX_HTML_DEPTH: usize = 4096;

/// Elements that never have content.
const VOID_ELEMENTS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// Elements a sibling start tag closes implicitly (`<p>a<p>b`), so they do not nest by repetition.
const SELF_CLOSING_BY_SIBLING: &[&str] = &[
    "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot", "rb",
    "rt", "rp", "colgroup", "caption",
];

/// Elements whose content is raw text: tags inside them are not tags.
const RAW_TEXT_ELEMENTS: &[&str] = &["script", "style", "textarea", "title", "xmp", "plaintext"];

/// An upper estimate of how deep `html` nests elements, from one linear scan of its tags:
/// start tags open, end tags close; void and sibling-closed elements do not count, and `/>`
/// closes only inside SVG or MathML (in HTML proper, `<div/>` stays open — as the parser sees it).
/// Cheap enough to run before the real parser, whose cost is quadratic in the depth.
fn html_nesting_bound(html: &str) -> usize {
    let bytes = html.as_bytes();
    let lower = |b: u8| b.to_ascii_lowercase();
    let find = |from: usize, needle: &[u8]| -> Option<usize> {
        bytes
            .get(from..)?
            .windows(needle.len())
            .position(|w| w.eq_ignore_ascii_case(needle))
            .map(|p| from + p)
    };
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    let mut foreign = 0usize; // open <svg>/<math> elements
    while let Some(offset) = bytes
        .get(i..)
        .and_then(|rest| rest.iter().position(|&b| b == b'<'))
    {
        let open = i + offset;
        let rest = &bytes[open + 1..];
        if rest.starts_with(b"!--") {
            i = find(open + 4, b"-->").map_or(bytes.len(), |p| p + 3);
            continue;
        }
        let closing = rest.first() == Some(&b'/');
        let name_start = open + 1 + usize::from(closing);
        let name_len = bytes[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
            .count();
        let tag_end = bytes[name_start..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(bytes.len(), |p| name_start + p);
        i = (tag_end + 1).min(bytes.len());
        if name_len == 0 || !bytes[name_start].is_ascii_alphabetic() {
            continue;
        }
        let name: String = bytes[name_start..name_start + name_len]
            .iter()
            .map(|&b| char::from(lower(b)))
            .collect();
        let counted = !VOID_ELEMENTS.contains(&name.as_str())
            && !SELF_CLOSING_BY_SIBLING.contains(&name.as_str());
        let is_foreign_root = name == "svg" || name == "math";
        if closing {
            if counted {
                depth = depth.saturating_sub(1);
            }
            if is_foreign_root {
                foreign = foreign.saturating_sub(1);
            }
            continue;
        }
        let self_closed = (foreign > 0 || is_foreign_root)
            && tag_end > 0
            && bytes.get(tag_end - 1) == Some(&b'/');
        if is_foreign_root && !self_closed {
            foreign += 1;
        }
        if RAW_TEXT_ELEMENTS.contains(&name.as_str()) && !self_closed {
            let end_tag = format!("</{name}");
            i = find(i, end_tag.as_bytes()).unwrap_or(bytes.len());
            continue;
        }
        if counted && !self_closed {
            depth += 1;
            deepest = deepest.max(depth);
        }
    }
    deepest
}

/// Inline elements that render as separate items (a row of links in a menu bar), so their
/// text must not run into the next word.
const SEPARATE_INLINE_ELEMENTS: &[&str] = &["a", "button", "label", "option"];

const SKIPPED_ELEMENTS: &[&str] = &[
    "script", "style", "noscript", "template", "head", "svg", "canvas", "iframe", "object",
];
const BLOCK_ELEMENTS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "td",
    "th",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "nav",
    "aside",
    "main",
    "blockquote",
    "pre",
    "hr",
    "dd",
    "dt",
    "figcaption",
    "address",
];

/// HTML → (title, visible text). Script, style and other non-rendered content is skipped.
fn html_to_text(html: &str) -> (Option<String>, String) {
    let doc = Html::parse_document(html);
    let title = scraper::Selector::parse("title").ok().and_then(|sel| {
        doc.select(&sel)
            .next()
            .map(|t| {
                t.text()
                    .collect::<String>()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .filter(|t| !t.is_empty())
    });
    let mut out = String::new();
    walk(doc.tree.root(), &mut out);
    // Collapse runs of blank lines and spaces left by markup.
    let mut text = String::with_capacity(out.len());
    let mut blank = 0;
    for line in out.lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            blank += 1;
            if blank == 1 && !text.is_empty() {
                text.push('\n');
            }
        } else {
            blank = 0;
            text.push_str(&line);
            text.push('\n');
        }
    }
    (title, text)
}

/// Visible text of the tree, depth-first. Iterative: a hostile page nested 100k levels deep
/// must not overflow the stack.
fn walk(root: ego_tree::NodeRef<'_, Node>, out: &mut String) {
    use ego_tree::iter::Edge;
    let mut skipping = 0usize;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(e) => {
                    if skipping > 0 || SKIPPED_ELEMENTS.contains(&e.name()) {
                        skipping += 1;
                    } else if BLOCK_ELEMENTS.contains(&e.name()) {
                        out.push('\n');
                    }
                }
                Node::Text(t) if skipping == 0 => out.push_str(t),
                _ => {}
            },
            Edge::Close(node) => {
                if let Node::Element(e) = node.value() {
                    if skipping > 0 {
                        skipping -= 1;
                    } else if BLOCK_ELEMENTS.contains(&e.name()) {
                        out.push('\n');
                    } else if SEPARATE_INLINE_ELEMENTS.contains(&e.name()) {
                        out.push(' ');
                    }
                }
            }
        }
    }
}

fn load_pdf(name: &str, bytes: &[u8]) -> Result<LoadedDocument> {
    let corrupt = |reason: String| Error::CorruptPdf {
        name: name.to_owned(),
        reason,
    };
    let doc = match lopdf::Document::load_mem(bytes) {
        Ok(doc) => doc,
        Err(lopdf::Error::Decryption(_)) => {
            return Err(Error::EncryptedPdf {
                name: name.to_owned(),
            });
        }
        Err(e) => {
            if bytes.windows(8).any(|w| w == b"/Encrypt") {
                return Err(Error::EncryptedPdf {
                    name: name.to_owned(),
                });
            }
            return Err(corrupt(e.to_string()));
        }
    };
    if doc.is_encrypted() || doc.trailer.get(b"Encrypt").is_ok() {
        return Err(Error::EncryptedPdf {
            name: name.to_owned(),
        });
    }
    let page_count = doc.get_pages().len();
    if page_count == 0 {
        return Err(corrupt("it has no pages".into()));
    }
    check_form_xobjects(&doc).map_err(corrupt)?;
    let title = pdf_title(&doc);
    // pdf-extract can panic on malformed content streams; a bad file must not take a worker down.
    let extracted = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem_by_pages(bytes))
        .map_err(|_| corrupt("its content streams could not be decoded".into()))?
        .map_err(|e| corrupt(e.to_string()))?;
    let pages: Vec<Page> = extracted
        .into_iter()
        .enumerate()
        .map(|(i, text)| Page {
            number: Some(i as u32 + 1),
            text: tidy_pdf_text(&text),
        })
        .collect();
    let title = title
        .or_else(|| pages.iter().find_map(|p| first_line_title(&p.text)))
        .unwrap_or_else(|| stem(name));
    Ok(LoadedDocument {
        media_type: MediaType::Pdf,
        title,
        pages,
    })
}

/// Deepest nesting of Form XObjects we accept.
const MAX_FORM_DEPTH: usize = 32;

/// pdf-extract follows Form XObjects (`/Name Do`) recursively without a depth limit, so a form
/// that draws itself would overflow the stack and abort the process — which `catch_unwind`
/// cannot stop. Refuse cycles and absurd nesting before extraction.
fn check_form_xobjects(doc: &lopdf::Document) -> std::result::Result<(), String> {
    fn xobjects(doc: &lopdf::Document, resources: &lopdf::Object) -> Vec<lopdf::ObjectId> {
        let resources = match resources {
            lopdf::Object::Reference(id) => doc.get_object(*id).ok(),
            other => Some(other),
        };
        let Some(dict) = resources.and_then(|r| r.as_dict().ok()) else {
            return Vec::new();
        };
        let xobjects = match dict.get(b"XObject") {
            Ok(lopdf::Object::Reference(id)) => doc.get_object(*id).ok(),
            Ok(other) => Some(other),
            Err(_) => None,
        };
        xobjects
            .and_then(|x| x.as_dict().ok())
            .map(|d| {
                d.iter()
                    .filter_map(|(_, v)| v.as_reference().ok())
                    .collect()
            })
            .unwrap_or_default()
    }
    fn visit(
        doc: &lopdf::Document,
        id: lopdf::ObjectId,
        path: &mut Vec<lopdf::ObjectId>,
    ) -> std::result::Result<(), String> {
        if path.contains(&id) {
            return Err(format!(
                "Form XObject {} {} draws itself (a cycle)",
                id.0, id.1
            ));
        }
        if path.len() >= MAX_FORM_DEPTH {
            return Err(format!(
                "Form XObjects nested deeper than {MAX_FORM_DEPTH} levels"
            ));
        }
        let Ok(lopdf::Object::Stream(stream)) = doc.get_object(id) else {
            return Ok(());
        };
        let is_form = stream
            .dict
            .get(b"Subtype")
            .and_then(|s| s.as_name())
            .is_ok_and(|n| n == b"Form");
        if !is_form {
            return Ok(());
        }
        path.push(id);
        if let Ok(resources) = stream.dict.get(b"Resources") {
            for child in xobjects(doc, resources) {
                visit(doc, child, path)?;
            }
        }
        path.pop();
        Ok(())
    }
    for page_id in doc.get_pages().values() {
        let Ok(page) = doc.get_dictionary(*page_id) else {
            continue;
        };
        if let Ok(resources) = page.get(b"Resources") {
            for id in xobjects(doc, resources) {
                visit(doc, id, &mut Vec::new())?;
            }
        }
    }
    Ok(())
}

fn pdf_title(doc: &lopdf::Document) -> Option<String> {
    let info = doc.trailer.get(b"Info").ok()?;
    let info = match info {
        lopdf::Object::Reference(id) => doc.get_object(*id).ok()?,
        other => other,
    };
    let title = info.as_dict().ok()?.get(b"Title").ok()?;
    let bytes = title.as_str().ok()?;
    let text = lopdf::decode_text_string(title)
        .ok()
        .unwrap_or_else(|| String::from_utf8_lossy(bytes).into_owned());
    let text = text.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

/// pdf-extract output has ragged whitespace; keep line structure, drop trailing spaces and
/// collapse runs of blank lines.
fn tidy_pdf_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in normalize_newlines(text).lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank += 1;
            if blank == 1 && !out.is_empty() {
                out.push('\n');
            }
        } else {
            blank = 0;
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_directory_names() {
        assert!(validate_filename("../etc/passwd").is_err());
        assert!(validate_filename("a/b.txt").is_err());
        assert!(validate_filename("..").is_err());
        assert_eq!(
            validate_filename(" report.pdf ").ok().as_deref(),
            Some("report.pdf")
        );
    }

    #[test]
    fn executable_named_pdf_is_unsupported() {
        let err = detect("x.pdf", b"\x7fELF\x02\x01\x01rest");
        assert!(matches!(err, Err(Error::UnsupportedType(m)) if m.contains("ELF")));
    }

    #[test]
    fn invalid_utf8_reports_the_offset() {
        let err = load("x.txt", b"hello \xff\xfe world");
        assert!(matches!(err, Err(Error::InvalidUtf8 { offset: 6, .. })));
    }

    #[test]
    fn html_keeps_visible_text_only() -> Result<()> {
        let html = "<html><head><title>T</title><style>.a{}</style></head><body><script>var x=1;</script>\
                    <nav>Menu</nav><p>Mayor <b>Lund</b> spoke.</p></body></html>";
        let doc = load("a.html", html.as_bytes())?;
        assert_eq!(doc.title, "T");
        let menu = load(
            "m.html",
            b"<div><a href=/>Home</a><a href=/news>News</a></div><p>Body text here.</p>",
        )?;
        assert!(
            menu.pages[0].text.starts_with("Home News\n"),
            "{:?}",
            menu.pages[0].text
        );
        assert!(doc.pages[0].text.contains("Mayor Lund spoke."));
        assert!(!doc.pages[0].text.contains("var x"));
        assert!(!doc.pages[0].text.contains(".a{}"));
        Ok(())
    }

    #[test]
    fn markdown_drops_markup_keeps_words() -> Result<()> {
        let doc = load(
            "a.md",
            b"# Council vote\n\nThe **council** backed [the plan](http://x).\n",
        )?;
        assert_eq!(doc.title, "Council vote");
        assert!(doc.pages[0].text.contains("The council backed the plan."));
        Ok(())
    }

    fn nested(depth: usize) -> String {
        format!(
            "{}deep text{}",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        )
    }

    /// Regression: 200k nested `<div>`s kept the HTML parser busy for about three minutes.
    #[test]
    fn absurdly_nested_html_is_refused_before_parsing() {
        let err = load("deep.html", nested(200_000).as_bytes());
        assert!(
            matches!(&err, Err(Error::InvalidInput(m)) if m.contains("200000 levels deep")),
            "{err:?}"
        );
    }

    #[test]
    fn nesting_bound_ignores_void_sibling_closed_and_raw_text_tags() {
        let flat = "<p>a<p>b<br><img src=x><li>c<li>d<input/>";
        assert_eq!(html_nesting_bound(flat), 0);
        // `/>` closes in SVG, not in HTML.
        let svg = "<svg><path d='M0'/><path/><g><circle/></g></svg><div/><div/>";
        assert_eq!(html_nesting_bound(svg), 2);
        let raw = "<script>if (a<b) { x = '<div><div>'; }</script><div><span>t</span></div>";
        assert_eq!(html_nesting_bound(raw), 2);
        let commented = "<!-- <div><div><div> --><section><b>x</b></section>";
        assert_eq!(html_nesting_bound(commented), 2);
        let unclosed = "<div><div><font><font>text";
        assert_eq!(html_nesting_bound(unclosed), 4);
    }

    #[test]
    fn html_nested_to_the_limit_loads_without_overflowing_the_stack() -> Result<()> {
        let html = nested(MAX_HTML_DEPTH);
        let handle = std::thread::Builder::new()
            .stack_size(2 << 20) // tokio's blocking-thread stack size
            .spawn(move || {
                load("deep.html", html.as_bytes()).map(|d| d.pages[0].text.contains("deep text"))
            })
            .map_err(|e| Error::Internal(e.to_string()))?;
        let found = handle
            .join()
            .map_err(|_| Error::Internal("loader thread panicked".into()))??;
        assert!(found);
        Ok(())
    }

    /// Regression: every `[` scanned the rest of the line for `]`, so one long line of
    /// brackets was quadratic.
    #[test]
    fn a_long_line_of_brackets_keeps_every_character() -> Result<()> {
        let md = format!(
            "Opening words {} closing words\nSee [a link](http://x).\n",
            "[".repeat(300_000)
        );
        let doc = load("brackets.md", md.as_bytes())?;
        let text = &doc.pages[0].text;
        assert_eq!(text.matches('[').count(), 300_000);
        assert!(text.contains(" closing words\nSee a link."));
        Ok(())
    }

    #[test]
    fn blank_text_is_refused() {
        assert!(matches!(
            load("a.txt", b"   \n\n  "),
            Err(Error::NoText { .. })
        ));
        assert!(matches!(load("a.txt", b""), Err(Error::EmptyFile { .. })));
    }
}
