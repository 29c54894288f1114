//! What the Meldpunt server and the advisor's local app (`meldpunt advisor app`) serve alike,
//! kept in one place so the two cannot drift apart: the security headers of every answer
//! (with the Content-Security-Policy of the pages) and the web pages from a folder.
//!
//! The pages are the files of one folder (`client-wasm/www`). `/` is `index.html`;
//! `/o/{slug}` is the organisation page (`o/index.html`, `org.html` or `index.html`, whichever
//! exists first; the page reads the slug from its URL); `/o/{slug}/case` is its mailbox
//! (`case.html`, as `/case`). Paths with `..`, hidden files, backslashes or percent signs,
//! files of unknown types and files that lead out of the folder (symbolic links) are refused.

use std::path::{Component, Path, PathBuf};

use actix_web::HttpResponse;
use actix_web::error::BlockingError;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::web;

/// Content-Security-Policy of every answer.
pub const CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; form-action 'self'; \
base-uri 'none'; frame-ancestors 'none'";

/// Permissions-Policy: the pages need none of these features.
pub const PERMISSIONS: &str = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), \
magnetometer=(), microphone=(), payment=(), usb=(), interest-cohort=(), browsing-topics=()";

/// Strict-Transport-Security, for answers that went over HTTPS (the server decides when).
pub const HSTS: &str = "max-age=63072000; includeSubDomains";

/// The headers set on every answer, whatever a handler (or, in the advisor's app, the
/// instance) sent: the CSP, no sniffing, no referrer, no framing, no cross-origin use, no
/// device features, and nothing is ever cached. Nothing outlives the tab (design): no answer,
/// page or asset may be kept in the disk cache, where it would show later that this device
/// visited the reporting service.
pub const SECURITY_HEADERS: [(&str, &str); 8] = [
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("permissions-policy", PERMISSIONS),
    ("x-frame-options", "DENY"),
    ("cache-control", "no-store"),
];

/// Sets [`SECURITY_HEADERS`] on `headers`, replacing what was there.
pub fn set_security_headers(headers: &mut HeaderMap) {
    for (name, value) in SECURITY_HEADERS {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
}

/// The content type of a page file, by its extension; `None` for types that are not served.
#[must_use]
pub fn content_type(path: &Path) -> Option<&'static str> {
    Some(match path.extension()?.to_str()? {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

/// Whether `slug` is an organisation slug as the page routes accept it.
fn is_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Maps a request path to the candidate files under `root`, the first existing one wins;
/// `None` for a path that is refused.
#[must_use]
pub fn candidates(root: &Path, path: &str) -> Option<Vec<PathBuf>> {
    let rel = path.trim_start_matches('/');
    if rel.is_empty() {
        return Some(vec![root.join("index.html")]);
    }
    let parts: Vec<&str> = rel.split('/').collect();
    match parts.as_slice() {
        ["o", slug] | ["o", slug, ""] if is_slug(slug) => {
            return Some(vec![
                root.join("o").join("index.html"),
                root.join("org.html"),
                root.join("index.html"),
            ]);
        }
        // The organisation's mailbox: the same page as the instance-wide `/case`.
        ["o", slug, "case"] | ["o", slug, "case", ""] if is_slug(slug) => {
            return Some(vec![root.join("case.html")]);
        }
        _ => {}
    }
    if parts
        .iter()
        .any(|seg| seg.contains('\\') || seg.contains('%'))
    {
        return None;
    }
    let rel_path = Path::new(rel);
    for c in rel_path.components() {
        match c {
            Component::Normal(s) if !s.to_string_lossy().starts_with('.') => {}
            _ => return None,
        }
    }
    let file = root.join(rel_path);
    let mut out = vec![file.clone()];
    if rel.ends_with('/') {
        out = vec![file.join("index.html")];
    } else if file.extension().is_none() {
        out.push(file.with_extension("html"));
        out.push(file.join("index.html"));
    }
    Some(out)
}

/// A page file found for a request.
#[derive(Debug)]
pub struct StaticFile {
    /// Its content type.
    pub content_type: &'static str,
    /// Its content.
    pub bytes: Vec<u8>,
}

impl StaticFile {
    /// A `200 OK` answer with the file (the security headers are set by the caller's
    /// middleware on every answer).
    #[must_use]
    pub fn response(self) -> HttpResponse {
        HttpResponse::Ok()
            .content_type(self.content_type)
            .body(self.bytes)
    }
}

/// The first candidate of `candidates` that is a file of a served type inside `root`.
fn read_first(root: &Path, candidates: Vec<PathBuf>) -> Option<StaticFile> {
    // Stay inside the folder, symbolic links included.
    let root = root.canonicalize().ok()?;
    candidates.into_iter().find_map(|c| {
        let content_type = content_type(&c)?;
        let inside = c.canonicalize().is_ok_and(|p| p.starts_with(&root));
        if !inside || !c.is_file() {
            return None;
        }
        let bytes = std::fs::read(&c).ok()?;
        Some(StaticFile {
            content_type,
            bytes,
        })
    })
}

/// Finds the page file for the request path `path` under `root` (on actix's blocking
/// thread pool); `Ok(None)` when there is none or the path is refused.
///
/// # Errors
/// When the blocking thread pool is gone (the server is shutting down).
pub async fn find(root: PathBuf, path: &str) -> Result<Option<StaticFile>, BlockingError> {
    let Some(candidates) = candidates(&root, path) else {
        return Ok(None);
    };
    web::block(move || read_first(&root, candidates)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_traversal_and_hidden_files() {
        let root = Path::new("/www");
        for bad in [
            "/../etc/passwd",
            "/a/../../x",
            "/.git/config",
            "/%2e%2e/x.txt",
            "/a\\..\\x.txt",
        ] {
            assert_eq!(candidates(root, bad), None, "{bad}");
        }
        // The first candidate of each path.
        for (path, first) in [
            ("/", "/www/index.html"),
            ("/pkg/app.js", "/www/pkg/app.js"),
            ("/o/acme", "/www/o/index.html"),
            ("/o/acme/case", "/www/case.html"),
            ("/advisor/", "/www/advisor/index.html"),
            ("/advisor", "/www/advisor"),
        ] {
            let found = candidates(root, path).and_then(|c| c.first().cloned());
            assert_eq!(found, Some(PathBuf::from(first)), "{path}");
        }
        assert_eq!(candidates(root, "/o/acme/case").map(|c| c.len()), Some(1));
    }

    #[test]
    fn unknown_types_are_not_served() {
        assert_eq!(
            content_type(Path::new("a/b.wasm")),
            Some("application/wasm")
        );
        assert_eq!(content_type(Path::new("a/b.exe")), None);
        assert_eq!(content_type(Path::new("a/b")), None);
    }

    #[test]
    fn symbolic_links_out_of_the_folder_are_refused() -> std::io::Result<()> {
        let dir = std::env::temp_dir().join(format!("meldpunt-web-{}", std::process::id()));
        let www = dir.join("www");
        std::fs::create_dir_all(&www)?;
        std::fs::write(dir.join("outside.txt"), "outside")?;
        std::fs::write(www.join("inside.txt"), "inside")?;
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.join("outside.txt"), www.join("link.txt"))?;
        let read = |p: &str| read_first(&www, candidates(&www, p).unwrap_or_default());
        assert_eq!(
            read("/inside.txt").map(|f| f.bytes),
            Some(b"inside".to_vec())
        );
        assert!(read("/link.txt").is_none());
        assert!(read("/nope.txt").is_none());
        std::fs::remove_dir_all(&dir)
    }
}
