//! No file of the suite, the emulator or its crypto crate is part of an import cycle.
//!
//! The modules are layers that import one way down (the suite: model, execution, verdicts,
//! reports, CLI; see `suite/src/lib.rs`). A cycle between files means two modules can no
//! longer be read, changed or tested one without the other, so this check fails naming the
//! files of every cycle and the line of each import that closes it.
//!
//! The graph is built from the source text, as `cargo modules dependencies --acyclic` would
//! build it but without a tool to install: every file is lexed (comments and strings
//! dropped), its `mod` declarations give the module tree, and every `use` tree and every path
//! starting with `crate::`, `super::`, `self::` or a child module's name is an edge to the file
//! that defines what it names. A name a module re-exports (`pub use inner::Thing`) resolves to
//! the file that defines it, as rust-analyzer resolves it. A module's file using its own
//! child modules (declaring, re-exporting, dispatching to them) is ownership, not an edge:
//! `ops/mod.rs` routing to `ops/put_object.rs`, which uses `super::authorize`, is one unit.
//! A child using its parent, and siblings using each other, are edges. Items under
//! `#[cfg(test)]` are not part of the graph: test code may reach across layers for its
//! fixtures.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// The crates checked, by their root files relative to the workspace.
const ROOTS: &[&str] = &[
    "suite/src/lib.rs",
    "suite/src/main.rs",
    "suite/src/bin/mutate.rs",
    "emulator/src/lib.rs",
    "emulator/src/main.rs",
    "emulator/crypto/src/lib.rs",
];

#[test]
fn no_source_file_is_part_of_an_import_cycle() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut report = String::new();
    for root in ROOTS {
        let graph = Graph::load(&workspace.join(root)).unwrap();
        report.push_str(&graph.cycles_report(workspace));
    }
    assert!(
        report.is_empty(),
        "import cycles between source files:\n{report}"
    );
}

/// The suite's layers, bottom first, by top-level module (the map of `suite/src/lib.rs`).
const SUITE_LAYERS: &[(&str, &[&str])] = &[
    (
        "model",
        &[
            "file_error",
            "xml",
            "keys",
            "dialect",
            "rules",
            "case",
            "codes",
            "profile",
            "coverage",
            "grid",
        ],
    ),
    (
        "execution",
        &[
            "client",
            "redact",
            "leak",
            "outcome",
            "expect",
            "introspect",
            "runner",
            "embedded",
        ],
    ),
    ("verdict", &["verdict"]),
    ("reports", &["report"]),
    ("front", &["app", "discover", "terminal", "mutate"]),
];

#[test]
fn the_suite_imports_one_way_down_its_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = Graph::load(&src.join("lib.rs")).unwrap();
    let layer_of = |file: usize| -> Option<(usize, &str)> {
        let top = graph.file_modules[file].first()?;
        SUITE_LAYERS
            .iter()
            .position(|(_, modules)| modules.contains(&top.as_str()))
            .map(|i| (i, SUITE_LAYERS[i].0))
    };
    let mut upward = String::new();
    for (from, edges) in graph.edges.iter().enumerate() {
        let name = |f: usize| {
            graph.files[f]
                .strip_prefix(&src)
                .unwrap()
                .display()
                .to_string()
        };
        if graph.file_modules[from].is_empty() {
            continue; // lib.rs declares every module
        }
        let Some((from_layer, from_name)) = layer_of(from) else {
            upward.push_str(&format!(
                "- {} is in no layer of SUITE_LAYERS\n",
                name(from)
            ));
            continue;
        };
        for (&to, evidence) in edges {
            let (to_layer, to_name) = layer_of(to).unwrap_or((usize::MAX, "no layer"));
            if to_layer > from_layer {
                upward.push_str(&format!(
                    "- {} ({from_name}) imports {} ({to_name}) at line {}: {}\n",
                    name(from),
                    name(to),
                    evidence.line,
                    evidence.path
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports up the suite's layers:\n{upward}"
    );
}

#[test]
fn the_check_finds_a_cycle_through_a_re_export_and_ignores_owned_children_and_tests() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "lib.rs",
        "pub mod model;\npub mod run;\npub mod report;\npub mod ops;\n",
    );
    // A facade: ops/mod.rs dispatches to its child, which uses the parent's helper.
    write(
        "ops/mod.rs",
        "mod put;\npub fn authorize() {}\npub fn route() { put::handle() }\n",
    );
    write("ops/put.rs", "pub fn handle() { super::authorize() }\n");
    write(
        "model/mod.rs",
        "mod sizes;\npub use sizes::Size;\npub struct Case;\n",
    );
    // `sizes` reaches up to `report`, which reads the model's `Size` through the
    // re-export of model/mod.rs: sizes → report → sizes.
    write(
        "model/sizes.rs",
        "// use crate::run; (a comment)\npub struct Size(crate::report::Format);\n",
    );
    write(
        "report.rs",
        "use crate::model::{Case, Size};\n/// \"crate::run::x\" in a doc string is no edge.\npub struct Format;\n\
         #[cfg(test)]\nmod tests { use crate::run::Runner; }\n",
    );
    // `run` uses `Size` through the re-export: the edge goes to sizes.rs, not model/mod.rs.
    write(
        "run.rs",
        "use crate::{model::{Size, self}, report as r};\npub struct Runner;\n",
    );
    let graph = Graph::load(&dir.path().join("lib.rs")).unwrap();
    let report = graph.cycles_report(dir.path());
    assert!(
        report.contains("2 files in one cycle: model/sizes.rs, report.rs"),
        "{report}"
    );
    assert!(
        report.contains("report.rs → model/sizes.rs (report.rs:1: crate::model::Size)"),
        "{report}"
    );
    assert!(
        !report.contains("model/mod.rs"),
        "model/mod.rs only owns sizes.rs:\n{report}"
    );
    assert!(
        !report.contains("run.rs"),
        "run.rs is in no cycle (its test-free imports only go down):\n{report}"
    );
    assert!(
        !report.contains("ops/"),
        "a module owns its children:\n{report}"
    );
    let run = graph.file_index(&dir.path().join("run.rs"));
    let targets: BTreeSet<String> = graph.edges[run]
        .keys()
        .map(|&to| {
            graph.files[to]
                .strip_prefix(dir.path())
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    let expected: BTreeSet<String> = ["model/sizes.rs", "model/mod.rs", "report.rs"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    assert_eq!(targets, expected);
}

/// Where an edge comes from: the line and the path as written.
#[derive(Clone, Debug)]
struct Evidence {
    line: usize,
    path: String,
}

/// A module: the file that holds it, its child modules and the names its `use` items bring
/// into scope (local name → the path as written).
#[derive(Default, Debug)]
struct Module {
    file: usize,
    children: BTreeSet<String>,
    imports: BTreeMap<String, Vec<String>>,
}

/// The file-level import graph of one crate.
#[derive(Default)]
struct Graph {
    files: Vec<PathBuf>,
    /// Per file: the module path it holds (`[]` for the crate root).
    file_modules: Vec<Vec<String>>,
    modules: BTreeMap<Vec<String>, Module>,
    /// Per file: the files it imports, with the first import's evidence.
    edges: Vec<BTreeMap<usize, Evidence>>,
    /// Paths found in each module, resolved once every module's imports are known.
    pending: Vec<(Vec<String>, Vec<String>, Evidence)>,
}

impl Graph {
    /// Lexes the crate from its root file, following `mod name;` declarations.
    fn load(root: &Path) -> Result<Self, String> {
        let mut graph = Self::default();
        graph.load_file(root, &[], root.parent().unwrap())?;
        let pending = std::mem::take(&mut graph.pending);
        graph.edges = vec![BTreeMap::new(); graph.files.len()];
        for (module, path, evidence) in pending {
            let Some(absolute) = graph.absolute(&module, &path) else {
                continue;
            };
            let from = graph.modules[&module].file;
            if let Some(to) = graph.resolve(&absolute, 0) {
                // A module owns its children: its file declaring, re-exporting or
                // dispatching to them is not a dependency that can close a cycle.
                let owned = graph.file_modules[to].starts_with(&graph.file_modules[from]);
                if to != from && !owned {
                    graph.edges[from].entry(to).or_insert(evidence);
                }
            }
        }
        Ok(graph)
    }

    fn file_index(&self, path: &Path) -> usize {
        self.files.iter().position(|f| f == path).unwrap()
    }

    /// Reads one file as module `module`; `children_dir` is where its `mod name;` files live.
    fn load_file(
        &mut self,
        path: &Path,
        module: &[String],
        children_dir: &Path,
    ) -> Result<(), String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let tokens =
            TokenStream::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let file = self.files.len();
        self.files.push(path.to_owned());
        self.file_modules.push(module.to_vec());
        let mut declared = Vec::new();
        self.scan(tokens, module, file, &mut declared);
        for (parent, name) in declared {
            let dir = children_dir.join(parent.iter().skip(module.len()).collect::<PathBuf>());
            let flat = dir.join(format!("{name}.rs"));
            let (child_path, child_dir) = if flat.exists() {
                (flat, dir.join(&name))
            } else {
                (dir.join(&name).join("mod.rs"), dir.join(&name))
            };
            let mut child = parent.clone();
            child.push(name);
            self.load_file(&child_path, &child, &child_dir)?;
        }
        Ok(())
    }

    /// Walks one module's tokens: records child modules, `use` trees and other paths.
    fn scan(
        &mut self,
        tokens: TokenStream,
        module: &[String],
        file: usize,
        declared: &mut Vec<(Vec<String>, String)>,
    ) {
        self.modules.entry(module.to_vec()).or_default().file = file;
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < tokens.len() {
            // `#[cfg(test)]` (and `#[cfg(all(test, …))]`) items are left out: skip to the end
            // of the item (its `;` or its braces).
            if is_punct(&tokens[i], '#') {
                if let Some(TokenTree::Group(attribute)) = tokens.get(i + 1) {
                    let text = attribute.stream().to_string().replace(' ', "");
                    if text.starts_with("cfg(")
                        && !text.starts_with("cfg(not")
                        && text.contains("test")
                    {
                        i = skip_item(&tokens, i + 2);
                        continue;
                    }
                    i += 2;
                    continue;
                }
            }
            match &tokens[i] {
                TokenTree::Ident(word) if word == "mod" => {
                    if let Some(TokenTree::Ident(name)) = tokens.get(i + 1) {
                        let name = name.to_string();
                        self.modules
                            .get_mut(module)
                            .unwrap()
                            .children
                            .insert(name.clone());
                        match tokens.get(i + 2) {
                            Some(TokenTree::Group(body))
                                if body.delimiter() == Delimiter::Brace =>
                            {
                                let mut inner = module.to_vec();
                                inner.push(name);
                                self.scan(body.stream(), &inner, file, declared);
                                i += 3;
                                continue;
                            }
                            _ => declared.push((module.to_vec(), name)),
                        }
                        i += 2;
                        continue;
                    }
                }
                TokenTree::Ident(word) if word == "use" => {
                    let line = word.span().start().line;
                    let end = (i + 1..tokens.len())
                        .find(|&j| is_punct(&tokens[j], ';'))
                        .unwrap_or(tokens.len());
                    let mut paths = Vec::new();
                    use_tree(&tokens[i + 1..end], &mut Vec::new(), &mut paths);
                    for (path, local) in paths {
                        if let Some(local) = local {
                            self.modules
                                .get_mut(module)
                                .unwrap()
                                .imports
                                .insert(local, path.clone());
                        }
                        let evidence = Evidence {
                            line,
                            path: path.join("::"),
                        };
                        self.pending.push((module.to_vec(), path, evidence));
                    }
                    i = end + 1;
                    continue;
                }
                TokenTree::Ident(word) if !follows_path_separator(&tokens, i) => {
                    let path = path_at(&tokens, i);
                    if path.len() > 1 {
                        let line = word.span().start().line;
                        let evidence = Evidence {
                            line,
                            path: path.join("::"),
                        };
                        self.pending.push((module.to_vec(), path.clone(), evidence));
                        i += 3 * (path.len() - 1);
                        continue;
                    }
                }
                TokenTree::Group(group) => self.scan(group.stream(), module, file, declared),
                _ => {}
            }
            i += 1;
        }
    }

    /// The absolute module path of `path` written in `module`, by its first segment alone
    /// (`crate`, `super`, `self`); `None` for a path that starts elsewhere.
    fn absolute_syntactic(&self, module: &[String], path: &[String]) -> Option<Vec<String>> {
        let mut absolute = module.to_vec();
        let mut rest = path;
        match path.first()?.as_str() {
            "crate" => {
                absolute.clear();
                rest = &path[1..];
            }
            "self" => rest = &path[1..],
            "super" => {
                while rest.first().is_some_and(|s| s == "super") {
                    absolute.pop()?;
                    rest = &rest[1..];
                }
            }
            _ => return None,
        }
        absolute.extend(rest.iter().cloned());
        Some(absolute)
    }

    /// The absolute path of `path` written in `module`: as [`Self::absolute_syntactic`], or
    /// through a child module or a name the module imports (the 2018 edition's uniform
    /// paths); `None` for an external crate, a local item or a std path.
    fn absolute(&self, module: &[String], path: &[String]) -> Option<Vec<String>> {
        if let Some(absolute) = self.absolute_syntactic(module, path) {
            return Some(absolute);
        }
        let first = path.first()?;
        let scope = &self.modules[module];
        if scope.children.contains(first) {
            let mut absolute = module.to_vec();
            absolute.extend(path.iter().cloned());
            return Some(absolute);
        }
        let imported = scope.imports.get(first)?;
        if imported.first() == Some(first) {
            return None; // `use foo;` of an external crate `foo`
        }
        let mut absolute = self.absolute(module, imported)?;
        absolute.extend(path[1..].iter().cloned());
        Some(absolute)
    }

    /// The file that defines what the absolute `path` names: its longest module prefix, or,
    /// when the next segment is a name that module imports, wherever that name comes from.
    fn resolve(&self, path: &[String], depth: usize) -> Option<usize> {
        let known = (0..=path.len())
            .rev()
            .find(|&n| self.modules.contains_key(&path[..n]))?;
        let module = &self.modules[&path[..known]];
        if depth < 16 {
            if let Some(name) = path.get(known) {
                let target = module
                    .imports
                    .get(name)
                    .and_then(|written| self.absolute(&path[..known], written));
                if let Some(mut next) = target {
                    next.extend(path[known + 1..].iter().cloned());
                    if let Some(file) = self.resolve(&next, depth + 1) {
                        return Some(file);
                    }
                }
            }
        }
        Some(module.file)
    }

    /// Every strongly connected set of more than one file, with one cycle through it spelled
    /// out import by import; empty when the graph has none.
    fn cycles_report(&self, base: &Path) -> String {
        let name = |file: usize| {
            self.files[file]
                .strip_prefix(base)
                .unwrap_or(&self.files[file])
                .display()
                .to_string()
        };
        let mut report = String::new();
        for component in strongly_connected(&self.edges) {
            if component.len() < 2 {
                continue;
            }
            let members: BTreeSet<usize> = component.iter().copied().collect();
            let names: Vec<String> = component.iter().map(|&f| name(f)).collect();
            let _ = writeln!(
                report,
                "- {} files in one cycle: {}",
                component.len(),
                names.join(", ")
            );
            // One cycle: from the first file, walk inside the component back to it (BFS).
            let start = component[0];
            let mut previous: BTreeMap<usize, usize> = BTreeMap::new();
            let mut queue = std::collections::VecDeque::from([start]);
            let mut closing = None;
            while let Some(at) = queue.pop_front() {
                for &to in self.edges[at].keys().filter(|to| members.contains(to)) {
                    if to == start {
                        closing = Some(at);
                        queue.clear();
                        break;
                    }
                    if let std::collections::btree_map::Entry::Vacant(slot) = previous.entry(to) {
                        slot.insert(at);
                        queue.push_back(to);
                    }
                }
            }
            let mut path = vec![start];
            let mut at = closing.unwrap();
            while at != start {
                path.push(at);
                at = previous[&at];
            }
            path[1..].reverse();
            path.push(start);
            for pair in path.windows(2) {
                let evidence = &self.edges[pair[0]][&pair[1]];
                let _ = writeln!(
                    report,
                    "    {} → {} ({}:{}: {})",
                    name(pair[0]),
                    name(pair[1]),
                    name(pair[0]),
                    evidence.line,
                    evidence.path
                );
            }
        }
        report
    }
}

/// Tarjan's strongly connected components, each listed in ascending file order.
fn strongly_connected(edges: &[BTreeMap<usize, Evidence>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        edges: &'a [BTreeMap<usize, Evidence>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        components: Vec<Vec<usize>>,
    }
    fn visit(state: &mut State<'_>, v: usize) {
        state.index[v] = Some(state.next);
        state.low[v] = state.next;
        state.next += 1;
        state.stack.push(v);
        state.on_stack[v] = true;
        for &w in state.edges[v].keys() {
            match state.index[w] {
                None => {
                    visit(state, w);
                    state.low[v] = state.low[v].min(state.low[w]);
                }
                Some(index) if state.on_stack[w] => state.low[v] = state.low[v].min(index),
                Some(_) => {}
            }
        }
        if Some(state.low[v]) == state.index[v] {
            let mut component = Vec::new();
            while let Some(w) = state.stack.pop() {
                state.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            component.sort_unstable();
            state.components.push(component);
        }
    }
    let n = edges.len();
    let mut state = State {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        components: Vec::new(),
    };
    for v in 0..n {
        if state.index[v].is_none() {
            visit(&mut state, v);
        }
    }
    state.components
}

fn is_punct(token: &TokenTree, c: char) -> bool {
    matches!(token, TokenTree::Punct(p) if p.as_char() == c)
}

/// Whether the token at `i` is preceded by `::` (so it is not the start of a path).
fn follows_path_separator(tokens: &[TokenTree], i: usize) -> bool {
    i >= 2 && is_punct(&tokens[i - 1], ':') && is_punct(&tokens[i - 2], ':')
}

/// The path `a::b::c` starting at ident `i` (one segment if no `::` follows).
fn path_at(tokens: &[TokenTree], mut i: usize) -> Vec<String> {
    let mut path = Vec::new();
    while let Some(TokenTree::Ident(segment)) = tokens.get(i) {
        path.push(segment.to_string());
        if tokens.get(i + 1).is_some_and(|t| is_punct(t, ':'))
            && tokens.get(i + 2).is_some_and(|t| is_punct(t, ':'))
        {
            i += 3;
        } else {
            break;
        }
    }
    path
}

/// The index after the item starting at `i`: past its first `;` or brace group at depth 0.
fn skip_item(tokens: &[TokenTree], mut i: usize) -> usize {
    while i < tokens.len() {
        match &tokens[i] {
            TokenTree::Punct(p) if p.as_char() == ';' => return i + 1,
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// Expands a `use` tree into its paths, each with the local name it binds (none for a glob).
fn use_tree(
    tokens: &[TokenTree],
    prefix: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, Option<String>)>,
) {
    let depth = prefix.len();
    let mut i = 0;
    // A leading `::` (`use ::std::…`) names an external crate: nothing of ours.
    if tokens.first().is_some_and(|t| is_punct(t, ':')) {
        return;
    }
    while i < tokens.len() {
        match &tokens[i] {
            TokenTree::Ident(word) if word == "as" => {
                if let Some(TokenTree::Ident(alias)) = tokens.get(i + 1) {
                    if let Some(last) = out.last_mut() {
                        last.1 = Some(alias.to_string()).filter(|a| a != "_");
                    }
                }
                i += 2;
                continue;
            }
            TokenTree::Ident(word) => {
                prefix.push(word.to_string());
                let ends = !tokens.get(i + 1).is_some_and(|t| is_punct(t, ':'));
                if ends {
                    let local = if word == "self" {
                        prefix[..prefix.len() - 1].last().cloned()
                    } else {
                        Some(word.to_string())
                    };
                    let path = if word == "self" {
                        prefix[..prefix.len() - 1].to_vec()
                    } else {
                        prefix.clone()
                    };
                    out.push((path, local));
                    prefix.truncate(depth);
                    i += 1;
                    continue;
                }
                i += 3;
                continue;
            }
            TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => {
                let inner: Vec<TokenTree> = group.stream().into_iter().collect();
                for part in inner.split(|t| is_punct(t, ',')) {
                    use_tree(part, prefix, out);
                }
                prefix.truncate(depth);
            }
            TokenTree::Punct(p) if p.as_char() == '*' => {
                out.push((prefix.clone(), None));
                prefix.truncate(depth);
            }
            _ => {}
        }
        i += 1;
    }
    prefix.truncate(depth);
}
