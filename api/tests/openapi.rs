//! The OpenAPI document derived from the wire types (`meldpunt_api::openapi::document()`) is
//! the committed `docs/api/openapi.json`, keeps every operation and schema of the hand-kept
//! document it replaced, and is internally consistent.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use meldpunt_api::ErrorCode;
use meldpunt_api::openapi::{document, unused_descriptions};
use serde_json::Value;

const BLESS: &str = "MELDPUNT_BLESS=1 cargo nextest run --workspace --all-targets --profile xtask -E 'binary(openapi)'";

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/api/openapi.json")
}

fn doc() -> Value {
    serde_json::from_str(&document()).expect("the document is JSON")
}

/// `docs/api/openapi.json` is exactly `document()`; `MELDPUNT_BLESS=1` writes it.
#[test]
fn committed_document_is_the_derived_one() {
    let path = committed_path();
    let derived = document();
    if std::env::var_os("MELDPUNT_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &derived).expect("write docs/api/openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != derived {
        let line = committed
            .lines()
            .zip(derived.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || committed.lines().count().min(derived.lines().count()) + 1,
                |i| i + 1,
            );
        panic!(
            "docs/api/openapi.json is not the document derived from the wire types (first \
             difference at line {line}). Regenerate it with\n    {BLESS}\nand commit it."
        );
    }
}

/// Every operation (method and path) and every schema name of the hand-kept document is in
/// the derived one (`openapi-v1-names.txt` lists them).
#[test]
fn every_operation_and_schema_of_the_hand_kept_document_is_kept() {
    let doc = doc();
    let mut missing = Vec::new();
    for line in include_str!("openapi-v1-names.txt").lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (kind, name) = line.split_once(' ').unwrap();
        let found = if kind == "schema" {
            doc["components"]["schemas"].get(name).is_some()
        } else {
            doc["paths"]
                .get(name)
                .and_then(|item| item.get(kind.to_lowercase()))
                .is_some()
        };
        if !found {
            missing.push(line);
        }
    }
    assert!(
        missing.is_empty(),
        "missing from the derived document: {missing:?}"
    );
}

fn refs(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key == "$ref" {
                    out.insert(v.as_str().unwrap_or_default().to_owned());
                } else {
                    refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// Every `$ref` names a component that exists, and every schema is used.
#[test]
fn every_reference_resolves() {
    let doc = doc();
    let mut all = BTreeSet::new();
    refs(&doc, &mut all);
    for r in &all {
        let path = r
            .strip_prefix("#/")
            .unwrap_or_else(|| panic!("not local: {r}"));
        let mut at = &doc;
        for part in path.split('/') {
            at = at.get(part).unwrap_or_else(|| panic!("{r} names nothing"));
        }
    }
    let unused: Vec<_> = doc["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|name| !all.contains(&format!("#/components/schemas/{name}")))
        .collect();
    assert!(unused.is_empty(), "schemas no operation uses: {unused:?}");
}

/// Every `{parameter}` of a path is declared by each of its operations, and nothing else is.
#[test]
fn path_parameters_are_declared() {
    let doc = doc();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let in_path: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        for (method, op) in item.as_object().unwrap() {
            let declared: BTreeSet<&str> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .map(|p| p["name"].as_str().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            assert_eq!(declared, in_path, "{method} {path}");
        }
    }
}

/// The `error` of the error body is the `ErrorCode` enum, with every code.
#[test]
fn error_body_carries_every_error_code() {
    let doc = doc();
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["Error"]["properties"]["error"]["$ref"],
        "#/components/schemas/ErrorCode"
    );
    assert_eq!(
        schemas["Error"]["required"],
        serde_json::json!(["error", "message"])
    );
    let codes: Vec<&str> = schemas["ErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let all: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(codes, all);
}

/// Every entry of the description table names a schema or property that exists.
#[test]
fn description_table_names_existing_properties() {
    assert_eq!(unused_descriptions(), Vec::<String>::new());
}
