//! `cargo xtask arch`: the architecture figures of `docs/architecture.md`, checked.
//!
//! - **Import circles.** For every crate, a graph of its module files (`src/a/b.rs` is module
//!   `a::b`; `mod.rs` and `lib.rs` name their folder) with an edge for every path that names
//!   another module file: `use` trees (braces expanded) and `crate::…`, `super::…`, `self::…`
//!   paths anywhere in the code, and `child::…` paths to a child module. A strongly connected
//!   set of two or more files is a circle. Comments and string literals are ignored; inside an
//!   inline module (`mod tests { use super::*; }`) one `super` names the file itself.
//! - **Layering of the server.** Every module of `server/src` belongs to one layer by its first
//!   path segment (see [`server_layer`]); an import may only go to a layer listed in
//!   [`allowed`], and only `http` and the composition root may use `actix_web`.
//! - **File length.** No source file (Rust, JS, CSS, HTML) outside tests has more than
//!   [`MAX_LINES`] lines.
//!
//! The check fails when a circle exists, when more than [`MAX_VIOLATIONS`] imports run against
//! the layering, or when a file is too long. `cargo xtask test` runs it first.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use crate::{Result, root};

/// The longest source file outside tests.
pub const MAX_LINES: usize = 800;
/// Imports against the server's layering that are tolerated (each named in the output). A
/// ratchet: today's count (HTTP handlers of the admin API, attachments and `handlers.rs` that
/// still call the store instead of a service function); issue 13's target is 3, so this may only
/// go down.
pub const MAX_VIOLATIONS: usize = 9;

type Module = Vec<String>;

/// `cargo xtask arch`.
pub fn arch(_args: &[String]) -> Result {
    let files = tracked_files()?;
    let report = measure(&root(), &files)?;
    print!("{}", report.text);
    let mut failures = Vec::new();
    if report.circles > 0 {
        failures.push(format!("{} import circle(s)", report.circles));
    }
    if report.violations > MAX_VIOLATIONS {
        failures.push(format!(
            "{} imports against the server's layering (at most {MAX_VIOLATIONS})",
            report.violations
        ));
    }
    if report.long_files > 0 {
        failures.push(format!("{} source file(s) over {MAX_LINES} lines", report.long_files));
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("architecture check failed: {}", failures.join("; ")))
    }
}

/// What [`measure`] found.
#[derive(Debug, Default)]
pub struct Report {
    pub circles: usize,
    pub violations: usize,
    pub long_files: usize,
    pub text: String,
}

fn tracked_files() -> Result<Vec<String>> {
    let out = Command::new("git")
        .args(["ls-files", "--cached", "--others", "--exclude-standard"])
        .current_dir(root())
        .output()
        .map_err(|e| format!("cannot run git ls-files: {e}"))?;
    if !out.status.success() {
        return Err("git ls-files failed".into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect())
}

/// Measures the tree at `root` whose files (relative paths) are `files`.
pub fn measure(root: &Path, files: &[String]) -> Result<Report> {
    let mut report = Report::default();
    let mut crates: BTreeMap<String, BTreeMap<Module, String>> = BTreeMap::new();
    for f in files.iter().filter(|f| f.ends_with(".rs")) {
        if let Some((krate, module)) = module_of(f) {
            crates.entry(krate).or_default().insert(module, f.clone());
        }
    }
    for (krate, modules) in &crates {
        let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
        let mut actix: BTreeSet<Module> = BTreeSet::new();
        for (module, file) in modules {
            let text = std::fs::read_to_string(root.join(file))
                .map_err(|e| format!("cannot read {file}: {e}"))?;
            let code = strip(&text);
            if code.contains("actix_web") {
                actix.insert(module.clone());
            }
            let is_dir_module = file.ends_with("mod.rs") || file.ends_with("lib.rs");
            let targets = imports(&code, module, is_dir_module, modules);
            edges.insert(module.clone(), targets);
        }
        let circles = circles(&edges);
        let count: usize = edges.values().map(BTreeSet::len).sum();
        report.text += &format!(
            "{krate}: {} module files, {count} imports, {} circle(s)\n",
            modules.len(),
            circles.len()
        );
        for c in &circles {
            let names: Vec<String> = c.iter().map(name).collect();
            report.text += &format!("  circle of {}: {}\n", c.len(), names.join(", "));
        }
        report.circles += circles.len();
        if krate == "server" {
            let mut against = Vec::new();
            for (m, targets) in &edges {
                let from = server_layer(m);
                for t in targets {
                    let to = server_layer(t);
                    if !allowed(from).contains(&to) {
                        against.push(format!("{} ({from}) -> {} ({to})", name(m), name(t)));
                    }
                }
                if actix.contains(m) && !matches!(from, "http" | "root") {
                    against.push(format!("{} ({from}) uses actix_web", name(m)));
                }
            }
            report.text += &format!("  imports against the layering: {}\n", against.len());
            for a in &against {
                report.text += &format!("    {a}\n");
            }
            report.violations += against.len();
        }
    }
    let mut long = Vec::new();
    for f in files.iter().filter(|f| counts_for_length(f)) {
        let Ok(text) = std::fs::read_to_string(root.join(f)) else { continue };
        let lines = text.lines().count();
        if lines > MAX_LINES {
            long.push(format!("  {f}: {lines} lines\n"));
        }
    }
    report.text += &format!("source files over {MAX_LINES} lines outside tests: {}\n", long.len());
    for l in &long {
        report.text += l;
    }
    report.long_files = long.len();
    Ok(report)
}

/// The crate folder and module path of a Rust file under some `src/` (binaries' own files and
/// `main.rs` are left out: nothing imports them).
fn module_of(file: &str) -> Option<(String, Module)> {
    let parts: Vec<&str> = file.split('/').collect();
    let i = parts.iter().position(|p| *p == "src")?;
    let rel = parts.get(i + 1..)?;
    if rel.first() == Some(&"bin") || rel.last() == Some(&"main.rs") || rel.is_empty() {
        return None;
    }
    let krate = parts.get(..i)?.join("/");
    let (last, dirs) = rel.split_last()?;
    let mut module: Module = dirs.iter().map(|s| (*s).to_owned()).collect();
    match *last {
        "lib.rs" if dirs.is_empty() => {}
        "mod.rs" => {}
        other => module.push(other.strip_suffix(".rs")?.to_owned()),
    }
    Some((krate, module))
}

/// Source text without comments and with empty string and char literals.
fn strip(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while b.get(i).is_some_and(|&c| c != '\n') {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while let Some(&c) = b.get(i) {
                if c == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 1;
                } else if c == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 1;
                    if depth == 0 {
                        i += 1;
                        break;
                    }
                }
                i += 1;
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_char(b.get(i.wrapping_sub(1))) {
            // raw string r"…" / r#"…"#
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            'raw: while j < b.len() {
                if b.get(j) == Some(&'"') && (1..=hashes).all(|k| b.get(j + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break 'raw;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while let Some(&c) = b.get(i) {
                i += 1;
                if c == '\\' {
                    i += 1;
                } else if c == '"' {
                    break;
                }
            }
            out.push_str("\"\"");
        } else if c == '\'' && b.get(i + 2) == Some(&'\'') {
            out.push_str("' '");
            i += 3;
        } else if c == '\'' && next == Some('\\') {
            // '\n', '\u{…}'
            let mut j = i + 2;
            while b.get(j).is_some_and(|&c| c != '\'') {
                j += 1;
            }
            out.push_str("' '");
            i = j + 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_char(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || *c == '_')
}

/// The module files that `code` (of `module`) names.
fn imports(
    code: &str,
    module: &Module,
    _is_dir_module: bool,
    modules: &BTreeMap<Module, String>,
) -> BTreeSet<Module> {
    // Paths after the first inline `mod x {` are inside it: there `super` is this file.
    let inline_at = find_inline_mod(code).unwrap_or(code.len());
    let mut paths: Vec<(usize, String)> = Vec::new();
    let mut rest = code;
    let mut offset = 0;
    while let Some(at) = find_word(rest, "use") {
        let start = at + 3;
        let Some(end) = rest.get(start..).and_then(|r| r.find(';')) else { break };
        let tree: String = rest
            .get(start..start + end)
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        for p in expand(&tree) {
            paths.push((offset + at, p));
        }
        offset += start + end;
        rest = rest.get(start + end..).unwrap_or_default();
    }
    for head in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(at) = code.get(from..).and_then(|r| r.find(head)) {
            let pos = from + at;
            from = pos + head.len();
            if ident_char(code.get(..pos).and_then(|s| s.chars().last()).as_ref()) {
                continue;
            }
            let path: String = code
                .get(pos..)
                .unwrap_or_default()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            paths.push((pos, path));
        }
    }
    let mut targets = BTreeSet::new();
    for (pos, path) in paths {
        let mut segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        if pos > inline_at && segs.first() == Some(&"super") {
            segs.remove(0);
            if segs.first() != Some(&"super") {
                segs.insert(0, "self");
            }
        }
        let Some(first) = segs.first().copied() else { continue };
        let mut base: Module = match first {
            "crate" => Vec::new(),
            "self" => module.clone(),
            "super" => module.get(..module.len().saturating_sub(1)).unwrap_or_default().to_vec(),
            child => {
                let mut m = module.clone();
                m.push(child.to_owned());
                if !modules.contains_key(&m) {
                    continue;
                }
                module.clone()
            }
        };
        let mut segs: Vec<&str> = match first {
            "crate" | "self" | "super" => segs.get(1..).unwrap_or_default().to_vec(),
            _ => segs,
        };
        while segs.first() == Some(&"super") {
            base.pop();
            segs.remove(0);
        }
        for k in (0..=segs.len()).rev() {
            let mut cand = base.clone();
            cand.extend(segs.iter().take(k).map(|s| (*s).to_owned()));
            if modules.contains_key(&cand) {
                if &cand != module {
                    targets.insert(cand);
                }
                break;
            }
        }
    }
    targets
}

fn find_inline_mod(code: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = code.get(from..).and_then(|r| find_word(r, "mod")) {
        let pos = from + at;
        let after = code.get(pos + 3..).unwrap_or_default();
        let name_len = after.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').count();
        let ws = after.len() - after.trim_start().len();
        let tail = after.get(ws + name_len..).unwrap_or_default().trim_start();
        if name_len > 0 && tail.starts_with('{') {
            return Some(pos);
        }
        from = pos + 3;
    }
    None
}

/// The position of `word` as a whole word in `s`.
fn find_word(s: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = s.get(from..).and_then(|r| r.find(word)) {
        let pos = from + at;
        let before = s.get(..pos).and_then(|p| p.chars().last());
        let after = s.get(pos + word.len()..).and_then(|p| p.chars().next());
        if !ident_char(before.as_ref()) && !ident_char(after.as_ref()) {
            return Some(pos);
        }
        from = pos + word.len();
    }
    None
}

/// `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let Some(open) = tree.find('{') else { return vec![tree.to_owned()] };
    let Some(close) = tree.rfind('}') else { return vec![tree.to_owned()] };
    let prefix = tree.get(..open).unwrap_or_default();
    let inner = tree.get(open + 1..close).unwrap_or_default();
    let mut items = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in inner.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if c == ',' && depth == 0 {
            items.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    items.push(cur);
    items
        .iter()
        .filter(|i| !i.is_empty())
        .flat_map(|i| expand(&format!("{prefix}{i}")))
        .collect()
}

/// Strongly connected sets of two or more modules (Tarjan).
fn circles(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct State<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        on: BTreeSet<&'a Module>,
        next: usize,
        out: Vec<Vec<Module>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a Module) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on.insert(v);
        let edges = s.edges;
        for w in edges.get(v).into_iter().flatten() {
            let Some((w, _)) = edges.get_key_value(w) else { continue };
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.entry(v).or_default();
                *lv = (*lv).min(lw);
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low.entry(v).or_default();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on.remove(w);
                comp.push(w.clone());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

fn name(m: &Module) -> String {
    if m.is_empty() { "lib".into() } else { m.join("::") }
}

/// The server's layers, named by a module's first path segment:
/// - `root`: the crate root, `serve`, `cli` (the composition root: may import anything);
/// - `http`: routes, guards, handlers, the error answer (`http/`);
/// - `wire`: the JSON wire types (`api`, until they live in the `meldpunt-api` crate);
/// - `service`: what happens (everything not named here);
/// - `store`: the storage trait and its SQLite implementation (`store/`);
/// - `base`: settings and helpers every layer may use.
pub fn server_layer(m: &Module) -> &'static str {
    match m.first().map(String::as_str) {
        None | Some("serve" | "cli") => "root",
        Some("http" | "error") => "http",
        Some("api") => "wire",
        Some("store") => "store",
        Some("config" | "day" | "markdown" | "tls" | "private_file" | "dblock") => "base",
        Some(_) => "service",
    }
}

/// The layers a layer may import.
pub fn allowed(layer: &str) -> &'static [&'static str] {
    match layer {
        "root" => &["root", "http", "wire", "service", "store", "base"],
        "http" => &["http", "wire", "service", "base"],
        "wire" => &["wire", "base"],
        "service" => &["service", "wire", "store", "base"],
        "store" => &["store", "base"],
        _ => &["base"],
    }
}

/// Source files whose length counts: Rust, JS, CSS and HTML outside tests, fixtures, fuzz
/// corpora, built output and vendored code.
fn counts_for_length(f: &str) -> bool {
    let source = [".rs", ".js", ".mjs", ".css", ".html"].iter().any(|e| f.ends_with(e));
    let parts: Vec<&str> = f.split('/').collect();
    let in_tests = parts.iter().enumerate().any(|(i, p)| {
        // `tests/src` is the test kit library, counted; `*/tests/` folders are tests.
        (*p == "tests" && !(i == 0 && parts.get(1) == Some(&"src"))) || *p == "benches"
    }) || f.ends_with(".test.js");
    let generated = parts.iter().any(|p| matches!(*p, "pkg" | "vendor" | "node_modules" | "target"));
    source && !in_tests && !generated
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Module {
        if s.is_empty() { Vec::new() } else { s.split("::").map(str::to_owned).collect() }
    }

    fn graph(files: &[(&str, &str)]) -> (Report, tempdir::Dir) {
        let dir = tempdir::Dir::new();
        let mut names = Vec::new();
        for (path, text) in files {
            let p = dir.0.join(path);
            std::fs::create_dir_all(p.parent().unwrap_or(&dir.0)).unwrap_or(());
            std::fs::write(&p, text).unwrap_or(());
            names.push((*path).to_owned());
        }
        (measure(&dir.0, &names).unwrap_or_default(), dir)
    }

    mod tempdir {
        /// A folder removed on drop (xtask has no dependencies).
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Self {
                use std::sync::atomic::{AtomicU32, Ordering};
                static N: AtomicU32 = AtomicU32::new(0);
                let p = std::env::temp_dir().join(format!(
                    "xtask-arch-{}-{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::Relaxed)
                ));
                let _ = std::fs::remove_dir_all(&p);
                Dir(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn modules_are_named_by_their_files() {
        assert_eq!(module_of("server/src/lib.rs"), Some(("server".into(), m(""))));
        assert_eq!(module_of("server/src/http/mod.rs"), Some(("server".into(), m("http"))));
        assert_eq!(module_of("server/src/store/sqlite/admin.rs"), Some(("server".into(), m("store::sqlite::admin"))));
        assert_eq!(module_of("server/src/main.rs"), None);
        assert_eq!(module_of("server/src/bin/x.rs"), None);
    }

    #[test]
    fn use_trees_expand() {
        assert_eq!(expand("crate::{a,b::{c,d}}"), vec!["crate::a", "crate::b::c", "crate::b::d"]);
    }

    #[test]
    fn a_circle_is_found_and_a_line_is_not() {
        let (r, _d) = graph(&[
            ("k/src/lib.rs", "mod a; mod b; mod c;"),
            ("k/src/a.rs", "use crate::b::X;"),
            ("k/src/b.rs", "fn f() { crate::c::g() }"),
            ("k/src/c.rs", "// use crate::a;\nconst S: &str = \"crate::a\";"),
        ]);
        assert_eq!(r.circles, 0, "{}", r.text);
        let (r, _d) = graph(&[
            ("k/src/lib.rs", "mod a; mod b; mod c;"),
            ("k/src/a.rs", "use crate::b::X;"),
            ("k/src/b.rs", "fn f() { crate::c::g() }"),
            ("k/src/c.rs", "use crate::{a::Y, b};"),
        ]);
        assert_eq!(r.circles, 1, "{}", r.text);
    }

    #[test]
    fn super_in_an_inline_test_module_is_the_file_itself() {
        let (r, _d) = graph(&[
            ("k/src/lib.rs", "mod a;\npub use a::X;"),
            ("k/src/a.rs", "pub struct X;\n#[cfg(test)]\nmod tests { use super::*; }"),
        ]);
        assert_eq!(r.circles, 0, "{}", r.text);
        let (r, _d) = graph(&[
            ("k/src/lib.rs", "mod a;\npub use a::X;\npub struct Y;"),
            ("k/src/a.rs", "pub struct X;\nuse super::Y;"),
        ]);
        assert_eq!(r.circles, 1, "{}", r.text);
    }

    #[test]
    fn the_server_store_may_not_import_the_service_or_http() {
        let (r, _d) = graph(&[
            ("server/src/lib.rs", "mod store; mod service; mod http;"),
            ("server/src/store/mod.rs", "use crate::service::Thing;"),
            ("server/src/service.rs", "use crate::store::Store;"),
            ("server/src/http/mod.rs", "use crate::service::S; use actix_web::App;"),
        ]);
        assert_eq!(r.violations, 1, "{}", r.text);
        assert!(r.text.contains("store (store) -> service (service)"), "{}", r.text);
        let (r, _d) = graph(&[
            ("server/src/lib.rs", "mod service;"),
            ("server/src/service.rs", "fn f() { actix_web::web::block(|| ()); }"),
        ]);
        assert_eq!(r.violations, 1, "{}", r.text);
    }

    #[test]
    fn long_files_count_outside_tests_only() {
        assert!(counts_for_length("server/src/service.rs"));
        assert!(counts_for_length("tests/src/relay.rs"));
        assert!(counts_for_length("client-wasm/www/js/advisor.js"));
        assert!(!counts_for_length("server/tests/bad_input.rs"));
        assert!(!counts_for_length("tests/browser/admin.test.js"));
        assert!(!counts_for_length("client-wasm/www/pkg/meldpunt_client_wasm.js"));
        assert!(!counts_for_length("docs/protocol.md"));
        let long = "x\n".repeat(MAX_LINES + 1);
        let (r, _d) = graph(&[("k/src/lib.rs", long.as_str())]);
        assert_eq!(r.long_files, 1, "{}", r.text);
    }
}
