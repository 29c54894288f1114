//! Organisation texts (introduction, code of conduct) are Markdown written by the
//! organisation's admin and shown to reporters. They are rendered here, on the server, into a
//! small safe subset of HTML: raw HTML in the Markdown is dropped (never passed through),
//! images are reduced to their alt text, and the result is sanitised by ammonia with a short
//! allow-list (no attributes but `href` on links, only http(s)/mailto/tel links, which get
//! `rel="noopener noreferrer nofollow"`). No script, style, event handler or `javascript:` URL
//! can come through.

use std::collections::{HashMap, HashSet};

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// Tags the rendered HTML may contain: the same list the reporter page's own re-sanitiser
/// keeps (`client-wasm/www/js/org.js`), so what the admin previews is what reporters see.
/// Headings become `h3` (levels 1 to 3) or `h4` (4 to 6) to fit under the page's own headings.
const TAGS: &[&str] = &[
    "p",
    "br",
    "strong",
    "em",
    "code",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h3",
    "h4",
];

/// Renders Markdown to sanitised HTML.
#[must_use]
pub fn render(markdown: &str) -> String {
    if markdown.trim().is_empty() {
        return String::new();
    }
    let events = Parser::new_ext(markdown, Options::empty()).filter_map(|event| match event {
        // Raw HTML is dropped (the text between inline tags stays).
        Event::Html(_) | Event::InlineHtml(_) => None,
        // No images: the alt text (the following text events) stays.
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        Event::Start(Tag::Heading { level, id, classes, attrs }) => Some(Event::Start(Tag::Heading {
            level: page_heading(level),
            id,
            classes,
            attrs,
        })),
        Event::End(TagEnd::Heading(level)) => Some(Event::End(TagEnd::Heading(page_heading(level)))),
        other => Some(other),
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    sanitise(&html)
}

fn page_heading(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 | HeadingLevel::H2 | HeadingLevel::H3 => HeadingLevel::H3,
        HeadingLevel::H4 | HeadingLevel::H5 | HeadingLevel::H6 => HeadingLevel::H4,
    }
}

fn sanitise(html: &str) -> String {
    let tags: HashSet<&str> = TAGS.iter().copied().collect();
    let mut attributes: HashMap<&str, HashSet<&str>> = HashMap::new();
    attributes.insert("a", ["href"].into_iter().collect());
    attributes.insert("ol", ["start"].into_iter().collect());
    ammonia::Builder::empty()
        .tags(tags)
        .tag_attributes(attributes)
        .url_schemes(["http", "https", "mailto", "tel"].into_iter().collect())
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer nofollow"))
        .strip_comments(true)
        .clean(html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_basics() {
        assert_eq!(
            render("**vet** en *schuin*"),
            "<p><strong>vet</strong> en <em>schuin</em></p>\n"
        );
        let h = render("[site](https://example.org)");
        assert_eq!(
            h,
            "<p><a href=\"https://example.org\" rel=\"noopener noreferrer nofollow\">site</a></p>\n"
        );
        assert_eq!(render(""), "");
    }

    #[test]
    fn hostile_input_is_neutralised() {
        for input in [
            "<script>alert(1)</script>",
            "hello <img src=x onerror=alert(1)>",
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "![alt](https://evil.example/x.png)",
            "<iframe src=https://evil.example></iframe>",
            "<div onclick=\"x()\">y</div>",
            "<style>body{}</style>",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "<svg onload=alert(1)>",
        ] {
            let out = render(input).to_lowercase();
            for bad in [
                "<script",
                "onerror=",
                "onload=",
                "onclick=",
                "javascript:",
                "<img",
                "<iframe",
                "<style",
                "<svg",
                "<div",
                "data:",
            ] {
                assert!(!out.contains(bad), "{input:?} → {out:?}");
            }
        }
        assert_eq!(render("<script>alert(1)</script>"), "");
        assert_eq!(render("a <span>b</span> c"), "<p>a b c</p>\n");
        assert_eq!(render("1 < 2 & 3"), "<p>1 &lt; 2 &amp; 3</p>\n");
        assert!(render("![alt text](https://x.example/a.png)").contains("alt text"));
    }
}
