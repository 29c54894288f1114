//! The web client's files (`client-wasm/www`, set as `static_dir`), served with the same
//! security headers as everything else. `/` is `index.html`; `/o/{slug}` is the organisation
//! page (`o/index.html`, `org.html` or `index.html`, whichever exists first; the page reads the
//! slug from its URL); `/o/{slug}/case` is its mailbox (`case.html`, as `/case`). Paths with `..`, hidden files and unknown types are refused.

use std::path::{Component, Path, PathBuf};

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::{ApiError, ApiResult};
use crate::limits::Class;
use crate::service::AppState;

pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.default_service(web::to(serve));
}

fn content_type(path: &Path) -> Option<&'static str> {
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

/// Maps a request path to candidate files under `root`.
fn candidates(root: &Path, path: &str) -> Option<Vec<PathBuf>> {
    let rel = path.trim_start_matches('/');
    if rel.is_empty() {
        return Some(vec![root.join("index.html")]);
    }
    let parts: Vec<&str> = rel.split('/').collect();
    if let ["o", slug] | ["o", slug, ""] = parts.as_slice()
        && !slug.is_empty()
        && slug
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Some(vec![
            root.join("o").join("index.html"),
            root.join("org.html"),
            root.join("index.html"),
        ]);
    }
    // The organisation's mailbox: the same page as the instance-wide `/case`.
    if let ["o", slug, "case"] | ["o", slug, "case", ""] = parts.as_slice()
        && !slug.is_empty()
        && slug
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Some(vec![root.join("case.html")]);
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

async fn serve(req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let not_found = || ApiError::not_found("no such resource");
    if req.path().starts_with("/api/") {
        return Err(not_found());
    }
    let Some(root) = state.settings.static_dir.clone() else {
        return Err(not_found());
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Err(ApiError::new(
            actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "method not allowed on this resource",
        ));
    }
    state.limits.check(Class::Public, &req, &state.metrics)?;
    let candidates = candidates(&root, req.path()).ok_or_else(not_found)?;
    let found = web::block(move || {
        for c in candidates {
            if let Some(t) = content_type(&c)
                && c.is_file()
                && let Ok(bytes) = std::fs::read(&c)
            {
                return Some((t, bytes));
            }
        }
        None
    })
    .await?;
    let (content_type, bytes) = found.ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().content_type(content_type).body(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_traversal_and_hidden_files() {
        let root = Path::new("/www");
        assert!(candidates(root, "/../etc/passwd").is_none());
        assert!(candidates(root, "/a/../../x").is_none());
        assert!(candidates(root, "/.git/config").is_none());
        assert_eq!(
            candidates(root, "/").unwrap(),
            vec![PathBuf::from("/www/index.html")]
        );
        assert_eq!(
            candidates(root, "/pkg/app.js").unwrap(),
            vec![PathBuf::from("/www/pkg/app.js")]
        );
        assert_eq!(
            candidates(root, "/o/acme").unwrap()[0],
            PathBuf::from("/www/o/index.html")
        );
        assert_eq!(
            candidates(root, "/o/acme/case").unwrap(),
            vec![PathBuf::from("/www/case.html")]
        );
    }
}
