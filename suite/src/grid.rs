//! The rule × operation grid: for every rule and every operation its `operations:` lists
//! (cases/rules.yaml), a positive case and a negative case that exercise the rule on that
//! operation, or the rule's `untestable:` reason for the side no case can show there.
//!
//! Nothing is annotated by hand: a step's kind (and, for a raw `request`, its method,
//! sub-resource and `x-cos-copy-source` header) names the operation it sends
//! ([`step_operations`]); its expectation says whether it is a refusal (every accepted
//! status 4xx or 5xx) or a success. A case covers the *positive* cell of (rule, operation)
//! when it is a positive case naming the rule with a successful step of that operation,
//! and the *negative* cell when it is a negative case naming the rule with a refused step
//! of that operation. A step that expects 404 alone is the state check after a refusal
//! (nothing was created) and refuses nothing itself. A refused `multipart` step counts for
//! no operation: its expectation applies to whichever of initiate, part or complete was
//! refused first. Two refinements ([`case_operations`]): a negative case that refuses
//! nothing (an absent echo, a leak) covers every step it checks, and a step whose
//! `expect_if` names the rule, refused under one behaviour and accepted under another,
//! covers both sides of that switchable rule.
//!
//! `cos-suite check` fails on every empty cell ([`GridGap`], with the line of the rule's
//! `operations:`), and `cos-suite rules` and the reports show the grid.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::case::{Case, Expect, Polarity, StatusItem, Step, StepKind, Template};
use crate::rules::{Catalog, Rule};

/// Every operation a step can send, in the order the grid prints them: the names a rule's
/// `operations:` may use.
pub const OPERATIONS: &[&str] = &[
    "PutObject",
    "PostObject",
    "InitiateMultipartUpload",
    "UploadPart",
    "CompleteMultipartUpload",
    "AbortMultipartUpload",
    "PutObjectCopy",
    "UploadPartCopy",
    "GetObject",
    "HeadObject",
    "RestoreObject",
    "DeleteObject",
    "DeleteMultipleObjects",
    "PutObjectAcl",
    "GetObjectAcl",
    "GetBucket",
    "ListMultipartUploads",
    "ListParts",
    "PutBucketEncryption",
    "GetBucketEncryption",
    "DeleteBucketEncryption",
];

/// The short column heading of an operation in the terminal grid.
pub fn short_name(op: &str) -> &str {
    match op {
        "PutObject" => "PUT",
        "PostObject" => "POST",
        "InitiateMultipartUpload" => "Init",
        "UploadPart" => "Part",
        "CompleteMultipartUpload" => "Compl",
        "AbortMultipartUpload" => "Abort",
        "PutObjectCopy" => "Copy",
        "UploadPartCopy" => "PCopy",
        "GetObject" => "GET",
        "HeadObject" => "HEAD",
        "RestoreObject" => "Rest",
        "DeleteObject" => "DEL",
        "DeleteMultipleObjects" => "DelM",
        "PutObjectAcl" => "PACL",
        "GetObjectAcl" => "GACL",
        "GetBucket" => "List",
        "ListMultipartUploads" => "LMPU",
        "ListParts" => "LPart",
        "PutBucketEncryption" => "PBEnc",
        "GetBucketEncryption" => "GBEnc",
        "DeleteBucketEncryption" => "DBEnc",
        other => other,
    }
}

/// The operations one step sends.
pub fn step_operations(step: &Step) -> Vec<&'static str> {
    match step.kind {
        StepKind::Put => vec!["PutObject"],
        StepKind::Get => vec!["GetObject"],
        StepKind::Head | StepKind::WaitRestored => vec!["HeadObject"],
        StepKind::Delete => vec!["DeleteObject"],
        StepKind::Copy => vec!["PutObjectCopy"],
        StepKind::List => vec!["GetBucket"],
        StepKind::PutAcl => vec!["PutObjectAcl"],
        StepKind::Initiate => vec!["InitiateMultipartUpload"],
        StepKind::UploadPart => vec!["UploadPart"],
        StepKind::UploadPartCopy => vec!["UploadPartCopy"],
        StepKind::Complete => vec!["CompleteMultipartUpload"],
        StepKind::Abort => vec!["AbortMultipartUpload"],
        StepKind::Multipart => vec![
            "InitiateMultipartUpload",
            "UploadPart",
            "CompleteMultipartUpload",
        ],
        StepKind::Restore => vec!["RestoreObject"],
        StepKind::Post => vec!["PostObject"],
        StepKind::DeleteMultiple => vec!["DeleteMultipleObjects"],
        StepKind::Request => raw_request_operation(step).into_iter().collect(),
    }
}

/// The operation of a raw `request` step: method × sub-resource (from the path's query
/// and the signed or unsigned `query:` maps) × whether the bucket root or an object is
/// addressed, as the COS API routes them.
fn raw_request_operation(step: &Step) -> Option<&'static str> {
    let f = &step.fields;
    let method = f.method.as_deref()?.to_ascii_uppercase();
    let path = f.path.as_ref().map_or("", Template::source);
    let (path_part, query_part) = path.split_once('?').unwrap_or((path, ""));
    let mut params: BTreeSet<String> = query_part
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split('=').next().unwrap_or(p).to_ascii_lowercase())
        .collect();
    params.extend(f.query.keys().map(|k| k.to_ascii_lowercase()));
    params.extend(f.unsigned_query.keys().map(|k| k.to_ascii_lowercase()));
    let has = |p: &str| params.contains(p);
    let bucket_root = path_part.trim_matches('/').is_empty();
    let copy_source = f
        .headers
        .keys()
        .any(|h| h.eq_ignore_ascii_case("x-cos-copy-source"));
    let op = match (method.as_str(), bucket_root) {
        ("PUT", true) if has("encryption") => "PutBucketEncryption",
        ("GET", true) if has("encryption") => "GetBucketEncryption",
        ("DELETE", true) if has("encryption") => "DeleteBucketEncryption",
        ("GET", true) if has("uploads") => "ListMultipartUploads",
        ("POST", true) if has("delete") => "DeleteMultipleObjects",
        ("GET", true) => "GetBucket",
        ("POST", true) => "PostObject",
        ("POST", false) if has("uploads") => "InitiateMultipartUpload",
        ("POST", false) if has("restore") => "RestoreObject",
        ("POST", false) if has("uploadid") => "CompleteMultipartUpload",
        ("PUT", false) if has("uploadid") && copy_source => "UploadPartCopy",
        ("PUT", false) if has("uploadid") => "UploadPart",
        ("PUT", false) if has("acl") => "PutObjectAcl",
        ("PUT", false) if copy_source => "PutObjectCopy",
        ("PUT", false) => "PutObject",
        ("GET", false) if has("uploadid") => "ListParts",
        ("GET", false) if has("acl") => "GetObjectAcl",
        ("GET", false) => "GetObject",
        ("HEAD", false) => "HeadObject",
        ("DELETE", false) if has("uploadid") => "AbortMultipartUpload",
        ("DELETE", false) => "DeleteObject",
        _ => return None,
    };
    Some(op)
}

/// Whether an expectation accepts only refusals (every status 4xx or 5xx, but not 404
/// alone: a GET or HEAD answering 404 after a refused write shows that nothing was
/// created, a check of state rather than a refusal of the read); no `status:` means a 2xx.
fn refuses(expect: Option<&Expect>) -> bool {
    expect.and_then(|e| e.status.as_ref()).is_some_and(|s| {
        // 404 alone is the state check after a refusal (nothing was created), not one.
        !s.0.iter().all(|i| *i == StatusItem::Exact(404))
            && s.0.iter().all(|i| match i {
                StatusItem::Exact(s) => *s >= 400,
                StatusItem::Class(c) => *c >= 4,
            })
    })
}

/// Which sides a step shows: (success, refusal), over its `expect` and every `expect_if`
/// alternative (a switchable rule's step refuses under one behaviour and succeeds under
/// the other).
fn sides(step: &Step) -> (bool, bool) {
    let mut success = false;
    let mut refusal = false;
    let alternatives =
        std::iter::once(step.expect.as_ref()).chain(step.expect_if.iter().map(|e| Some(&e.expect)));
    for e in alternatives {
        if refuses(e) {
            refusal = true;
        } else {
            success = true;
        }
    }
    (success, refusal)
}

/// The operations a case exercises one of its rules on, on its side: the successful steps
/// of a positive case, the refused steps of a negative case. A negative case that refuses
/// nothing (the failure it guards against is an absent header or a leak, shown on
/// successful responses) counts every step it checks with an `expect:`. A step that
/// succeeds under one behaviour of a switchable rule and is refused under another (its
/// `expect_if` names the rule) shows both sides of that rule, whatever the case's
/// polarity: which one runs is the profile's choice.
pub fn case_operations(case: &Case, rule: &str) -> BTreeSet<&'static str> {
    let refuses_something = case
        .steps
        .iter()
        .any(|s| s.kind != StepKind::Multipart && sides(s).1);
    let mut out = BTreeSet::new();
    for step in &case.steps {
        let (success, refusal) = sides(step);
        let switched = success
            && refusal
            && step.kind != StepKind::Multipart
            && step.expect_if.iter().any(|e| e.when.contains_key(rule));
        let counts = switched
            || match case.polarity {
                Polarity::Positive => success,
                Polarity::Negative if refuses_something => {
                    refusal && step.kind != StepKind::Multipart
                }
                Polarity::Negative => step.expect.is_some() || !step.expect_if.is_empty(),
            };
        if counts {
            out.extend(step_operations(step));
        }
    }
    out
}

/// The sides of `rule` one case shows: (operation, positive side?) pairs.
fn case_sides(case: &Case, rule: &str) -> BTreeSet<(&'static str, bool)> {
    let positive = case.polarity == Polarity::Positive;
    let mut out: BTreeSet<(&'static str, bool)> = case_operations(case, rule)
        .into_iter()
        .map(|op| (op, positive))
        .collect();
    // The switched steps show the other side too.
    for step in &case.steps {
        let (success, refusal) = sides(step);
        if success
            && refusal
            && step.kind != StepKind::Multipart
            && step.expect_if.iter().any(|e| e.when.contains_key(rule))
        {
            out.extend(step_operations(step).into_iter().map(|op| (op, !positive)));
        }
    }
    out
}

/// One side of one cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// These cases show it (ids, sorted).
    Cases(Vec<String>),
    /// No case can: the rule's `untestable:` reason.
    Untestable(String),
    /// Nothing shows it: a hole.
    Empty,
}

impl Side {
    /// Whether a case shows this side.
    pub fn covered(&self) -> bool {
        matches!(self, Side::Cases(_))
    }
}

/// One cell of the grid: a rule on one operation it lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    /// The operation.
    pub operation: String,
    /// The rule holding there.
    pub positive: Side,
    /// The refusal or failure it guards against there.
    pub negative: Side,
}

impl Cell {
    /// The terminal symbol: `+-` both sides, `+.` positive only, `.-` negative only, `u`
    /// standing for an untestable side, `..` empty.
    pub fn symbol(&self) -> String {
        let one = |s: &Side, c: char| match s {
            Side::Cases(_) => c,
            Side::Untestable(_) => 'u',
            Side::Empty => '.',
        };
        format!("{}{}", one(&self.positive, '+'), one(&self.negative, '-'))
    }
}

/// The grid row of one rule: a cell per listed operation, in the rule's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// The rule id.
    pub rule: String,
    /// Its cells.
    pub cells: Vec<Cell>,
}

/// An empty side of a cell, or an operation name no step sends, or an `untestable:`
/// reason a case contradicts; shown with the file and line of the rule's entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridGap {
    /// `cases/rules.yaml`.
    pub path: String,
    /// The line of the rule's `operations:` (or `untestable:`).
    pub line: usize,
    /// What is missing.
    pub message: String,
}

impl fmt::Display for GridGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

/// The id a case file has: a size matrix's runs (`<id>-<size>`) are one file, named once.
fn file_id(case: &Case) -> String {
    match case.size {
        Some(size) => case
            .id
            .strip_suffix(&format!("-{size}"))
            .unwrap_or(&case.id)
            .to_string(),
        None => case.id.clone(),
    }
}

/// The grid row of every rule, in catalog order.
pub fn grid(rules: &[Rule], cases: &[Case]) -> Vec<Row> {
    rules
        .iter()
        .map(|rule| {
            let mut shown: BTreeMap<(&str, bool), BTreeSet<String>> = BTreeMap::new();
            for case in cases.iter().filter(|c| c.rules.contains(&rule.id)) {
                for side in case_sides(case, &rule.id) {
                    // A matrix case expanded per size is one case file: name it once.
                    shown.entry(side).or_default().insert(file_id(case));
                }
            }
            let side = |op: &str, positive: bool, reason: Option<&String>| match (
                shown.get(&(op, positive)),
                reason,
            ) {
                (Some(ids), _) => Side::Cases(ids.iter().cloned().collect()),
                (None, Some(r)) => Side::Untestable(r.trim().to_string()),
                (None, None) => Side::Empty,
            };
            let cells = rule
                .operations
                .iter()
                .map(|op| {
                    let u = rule.untestable.get(op);
                    Cell {
                        operation: op.clone(),
                        positive: side(op, true, u.and_then(|u| u.positive.as_ref())),
                        negative: side(op, false, u.and_then(|u| u.negative.as_ref())),
                    }
                })
                .collect();
            Row {
                rule: rule.id.clone(),
                cells,
            }
        })
        .collect()
}

/// Every hole of the grid: an operation name no step sends, an empty side, and an
/// `untestable:` reason for a side a case does show (the reason is stale).
pub fn gaps(catalog: &Catalog, rows: &[Row]) -> Vec<GridGap> {
    let mut out = Vec::new();
    for (rule, row) in catalog.rules().iter().zip(rows) {
        let at = |field: &str, message: String| GridGap {
            path: catalog.path().to_string(),
            line: catalog.line_of_field(&rule.id, field),
            message,
        };
        for cell in &row.cells {
            let op = cell.operation.as_str();
            if !OPERATIONS.contains(&op) {
                out.push(at(
                    "operations",
                    format!(
                        "rule {} lists operation `{op}`, which no step sends (the suite maps steps to: {})",
                        rule.id,
                        OPERATIONS.join(", ")
                    ),
                ));
                continue;
            }
            let untestable = rule.untestable.get(op).cloned().unwrap_or_default();
            for (polarity, side, reason) in [
                ("positive", &cell.positive, &untestable.positive),
                ("negative", &cell.negative, &untestable.negative),
            ] {
                if *side == Side::Empty {
                    let what = if polarity == "positive" {
                        "a positive case naming it with a successful"
                    } else {
                        "a negative case naming it with a refused"
                    };
                    out.push(at(
                        "operations",
                        format!(
                            "rule {} on {op}: no {polarity} case ({what} {op} step), and no `untestable: {{{op}: {{{polarity}: <reason>}}}}`",
                            rule.id
                        ),
                    ));
                } else if let (Side::Cases(ids), Some(_)) = (side, reason) {
                    out.push(at(
                        "untestable",
                        format!(
                            "rule {} on {op}: the {polarity} side is marked untestable but {} shows it; remove the reason",
                            rule.id,
                            ids.join(", ")
                        ),
                    ));
                }
            }
        }
    }
    out
}

/// Counts over the grid: (cells, both sides covered or untestable, empty sides).
pub fn totals(rows: &[Row]) -> (usize, usize, usize) {
    let cells: Vec<&Cell> = rows.iter().flat_map(|r| &r.cells).collect();
    let full = cells
        .iter()
        .filter(|c| c.positive != Side::Empty && c.negative != Side::Empty)
        .count();
    let empty = cells
        .iter()
        .map(|c| usize::from(c.positive == Side::Empty) + usize::from(c.negative == Side::Empty))
        .sum();
    (cells.len(), full, empty)
}

/// The grid as terminal lines: a row per rule, a column per operation some rule lists
/// (in [`OPERATIONS`] order, unknown names last), each cell's [`Cell::symbol`] (blank
/// where the rule does not apply), then the legend, every untestable side with its reason,
/// and the totals.
pub fn table(rows: &[Row]) -> Vec<String> {
    let listed: BTreeSet<&str> = rows
        .iter()
        .flat_map(|r| r.cells.iter().map(|c| c.operation.as_str()))
        .collect();
    let mut columns: Vec<&str> = OPERATIONS
        .iter()
        .copied()
        .filter(|op| listed.contains(op))
        .collect();
    columns.extend(listed.iter().filter(|op| !OPERATIONS.contains(op)));
    let width = rows.iter().map(|r| r.rule.len()).max().unwrap_or(4).max(4);
    let mut lines = Vec::new();
    let head: Vec<String> = columns
        .iter()
        .map(|op| format!("{:>6}", short_name(op)))
        .collect();
    lines.push(format!("{:<width$}{}", "rule", head.concat()));
    for row in rows {
        let cells: Vec<String> = columns
            .iter()
            .map(|op| {
                let sym = row
                    .cells
                    .iter()
                    .find(|c| c.operation == *op)
                    .map(Cell::symbol)
                    .unwrap_or_default();
                format!("{sym:>6}")
            })
            .collect();
        lines.push(format!("{:<width$}{}", row.rule, cells.concat()));
    }
    lines.push(
        "cells: +- both sides, +. positive only, .- negative only, u an untestable side, .. empty, blank: not listed"
            .into(),
    );
    let legend: Vec<String> = columns
        .iter()
        .map(|op| format!("{} {op}", short_name(op)))
        .collect();
    lines.push(format!("columns: {}", legend.join(", ")));
    for row in rows {
        for cell in &row.cells {
            for (side, s) in [("positive", &cell.positive), ("negative", &cell.negative)] {
                if let Side::Untestable(reason) = s {
                    lines.push(format!(
                        "untestable: {} {} {side}: {reason}",
                        row.rule, cell.operation
                    ));
                }
            }
        }
    }
    let (cells, full, empty) = totals(rows);
    lines.push(format!(
        "grid: {cells} cells, {full} with both sides covered or untestable, {empty} empty side(s)"
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(extra: &str) -> Catalog {
        let text = format!(
            "rules:\n  - id: R\n    family: sse-c\n    title: t\n    status: documented\n    operations: [PutObject, UploadPart, GetObject]\n    s3: applies\n{extra}"
        );
        Catalog::parse("cases/rules.yaml", &text).unwrap()
    }

    fn case(yaml: &str) -> Case {
        let catalog = catalog("");
        let keys = crate::keys::KeyRing::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/keys.yaml"),
        )
        .unwrap();
        let ctx = crate::case::LoadContext {
            catalog: &catalog,
            keys: &keys,
        };
        let id = yaml
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("id: "))
            .unwrap_or("sse-c/x");
        let file = format!("cases/{id}.yaml");
        crate::case::parse_case(std::path::Path::new(&file), yaml, &ctx).unwrap()
    }

    const POSITIVE: &str = "id: sse-c/p\nrules: [R]\ntitle: t\npolarity: positive\nsteps:\n  - put: {key: a, body: \"x\", sse_c: py_1}\n  - get: {key: a, sse_c: py_1}\n  - get: {key: a}\n    expect: {status: 400}\n";
    const NEGATIVE: &str = "id: sse-c/n\nrules: [R]\ntitle: t\npolarity: negative\nsteps:\n  - put: {key: a, body: \"x\", sse_c: py_1}\n  - get: {key: a}\n    expect: {status: 400}\n  - request: {method: PUT, path: \"/a?partNumber=1&uploadId=x\"}\n    expect: {status: 4xx}\n  - head: {key: b}\n    expect: {status: 404}\n";

    #[test]
    fn steps_name_their_operations_and_polarity_picks_the_side() {
        // A positive case counts its successes only; a negative case its refusals only
        // (the setup put of a negative case shows nothing about the refusal, and a HEAD
        // answering 404 only checks that nothing was created).
        assert_eq!(
            case_operations(&case(POSITIVE), "R"),
            BTreeSet::from(["PutObject", "GetObject"])
        );
        assert_eq!(
            case_operations(&case(NEGATIVE), "R"),
            BTreeSet::from(["GetObject", "UploadPart"])
        );
    }

    #[test]
    fn an_empty_side_is_a_gap_at_the_operations_line_unless_a_reason_says_why() {
        let cases = [case(POSITIVE)];
        let c = catalog("");
        let rows = grid(c.rules(), &cases);
        assert_eq!(
            rows[0].cells.iter().map(Cell::symbol).collect::<Vec<_>>(),
            ["+.", "..", "+."]
        );
        let found: Vec<String> = gaps(&c, &rows).iter().map(ToString::to_string).collect();
        assert_eq!(found.len(), 4, "{found:#?}");
        assert!(
            found[0].starts_with("cases/rules.yaml:6: rule R on PutObject: no negative case"),
            "{found:#?}"
        );

        let c = catalog(
            "    untestable:\n      UploadPart: {positive: \"p\", negative: \"n\"}\n      PutObject: {negative: \"why\"}\n      GetObject: {negative: \"stale\"}\n",
        );
        let cases = [case(POSITIVE), case(NEGATIVE)];
        let rows = grid(c.rules(), &cases);
        assert_eq!(
            rows[0].cells.iter().map(Cell::symbol).collect::<Vec<_>>(),
            ["+u", "u-", "+-"]
        );
        let found: Vec<String> = gaps(&c, &rows).iter().map(ToString::to_string).collect();
        // UploadPart's negative is shown by the raw request, so its reason is stale too.
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(
            found
                .iter()
                .all(|g| g.starts_with("cases/rules.yaml:8: ") && g.contains("marked untestable")),
            "{found:#?}"
        );
    }

    #[test]
    fn a_step_switched_by_the_rules_behaviour_shows_both_sides() {
        let text = "rules:\n  - id: R\n    family: sse-c\n    title: t\n    status: unspecified\n    operations: [PutObject]\n    s3: applies\n    behaviours:\n      - {name: refused, default: true}\n      - {name: accepted}\n  - id: S\n    family: sse-c\n    title: t\n    status: documented\n    operations: [PutObject]\n    s3: applies\n";
        let c = Catalog::parse("cases/rules.yaml", text).unwrap();
        let keys = crate::keys::KeyRing::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/keys.yaml"),
        )
        .unwrap();
        let ctx = crate::case::LoadContext {
            catalog: &c,
            keys: &keys,
        };
        let yaml = "id: sse-c/s\nrules: [R, S]\ntitle: t\npolarity: positive\nsteps:\n  - put: {key: a, body: \"x\", sse_c: py_1}\n    expect: {status: 400}\n    expect_if:\n      - when: {R: accepted}\n        expect: {status: 200}\n";
        let case = crate::case::parse_case(std::path::Path::new("cases/sse-c/s.yaml"), yaml, &ctx)
            .unwrap();
        let rows = grid(c.rules(), &[case]);
        // R's behaviour picks the side; S is shown on the case's side only.
        assert_eq!(rows[0].cells[0].symbol(), "+-");
        assert_eq!(rows[1].cells[0].symbol(), "+.");
    }

    #[test]
    fn the_catalog_has_no_empty_cell() {
        // Every rule is shown on every operation it lists, on both sides, or says why not.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../cases");
        let loaded = crate::app::load(&dir)
            .unwrap_or_else(|e| panic!("the catalog does not load:\n{}", e.join("\n")));
        let rows = grid(loaded.catalog.rules(), &loaded.cases);
        let found: Vec<String> = gaps(&loaded.catalog, &rows)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(found.is_empty(), "grid gaps:\n{}", found.join("\n"));
    }

    #[test]
    fn an_unknown_operation_is_a_clear_gap_not_a_crash() {
        let text = "rules:\n  - id: R\n    family: sse-c\n    title: t\n    status: documented\n    operations: [PutBucketLifecycle]\n    s3: applies\n";
        let c = Catalog::parse("cases/rules.yaml", text).unwrap();
        let rows = grid(c.rules(), &[]);
        let gaps = gaps(&c, &rows);
        assert_eq!(gaps.len(), 1);
        assert!(
            gaps[0].to_string().starts_with(
                "cases/rules.yaml:6: rule R lists operation `PutBucketLifecycle`, which no step sends"
            ),
            "{}",
            gaps[0]
        );
        assert!(table(&rows)
            .iter()
            .any(|l| l.contains("PutBucketLifecycle")));
    }

    #[test]
    fn an_untestable_reason_must_name_a_listed_operation_and_say_something() {
        let text = "rules:\n  - id: R\n    family: sse-c\n    title: t\n    status: documented\n    operations: [PutObject]\n    s3: applies\n    untestable:\n      GetObject: {negative: x}\n";
        let err = Catalog::parse("cases/rules.yaml", text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not in its `operations`"), "{err}");
        let text = text.replace("GetObject: {negative: x}", "PutObject: {negative: \" \"}");
        let err = Catalog::parse("cases/rules.yaml", &text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("non-empty"), "{err}");
    }
}
