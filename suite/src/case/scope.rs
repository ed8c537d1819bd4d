//! What a case file may refer to while it is being loaded.
//!
//! Names are checked as they are read (inside serde's visitors), so an unknown key name or
//! a reference to a later step is reported at its own line and column, not at the file.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

/// The names a case may use: keys, rules and their behaviours, and the steps read so far.
#[derive(Debug, Default, Clone)]
pub(crate) struct Scope {
    pub keys: BTreeSet<String>,
    /// rule id -> behaviour names (empty for rules without behaviours)
    pub rules: BTreeMap<String, Vec<String>>,
    /// names of the steps already read, by index (`None` for unnamed steps)
    pub steps: Vec<Option<String>>,
}

thread_local! {
    static SCOPE: RefCell<Option<Scope>> = const { RefCell::new(None) };
}

/// Runs `f` with `scope` installed for this thread, then removes it.
pub(crate) fn with_scope<T>(scope: Scope, f: impl FnOnce() -> T) -> T {
    SCOPE.with(|s| *s.borrow_mut() = Some(scope));
    let out = f();
    SCOPE.with(|s| *s.borrow_mut() = None);
    out
}

/// Reads the installed scope; without one (a value built outside a case load) every name
/// is accepted, so nothing here can fail spuriously.
fn read<T>(f: impl FnOnce(&Scope) -> Result<T, String>, otherwise: T) -> Result<T, String> {
    SCOPE.with(|s| match s.borrow().as_ref() {
        Some(scope) => f(scope),
        None => Ok(otherwise),
    })
}

pub(crate) fn check_key(name: &str) -> Result<(), String> {
    read(
        |s| {
            if s.keys.contains(name) {
                Ok(())
            } else {
                Err(format!(
                    "unknown key name `{name}` (fixtures/keys.yaml has: {})",
                    s.keys.iter().cloned().collect::<Vec<_>>().join(", ")
                ))
            }
        },
        (),
    )
}

pub(crate) fn check_rule(id: &str) -> Result<(), String> {
    read(
        |s| {
            if s.rules.contains_key(id) {
                Ok(())
            } else {
                Err(format!("unknown rule id `{id}` (not in cases/rules.yaml)"))
            }
        },
        (),
    )
}

pub(crate) fn check_behaviour(rule: &str, behaviour: &str) -> Result<(), String> {
    read(
        |s| match s.rules.get(rule) {
            None => Err(format!(
                "unknown rule id `{rule}` (not in cases/rules.yaml)"
            )),
            Some(names) if names.iter().any(|n| n == behaviour) => Ok(()),
            Some(names) if names.is_empty() => Err(format!(
                "rule `{rule}` has no behaviours (only unspecified/superseded rules do)"
            )),
            Some(names) => Err(format!(
                "rule `{rule}` has no behaviour `{behaviour}` (one of: {})",
                names.join(", ")
            )),
        },
        (),
    )
}

/// Resolves a step reference (a name or a 0-based index) to the index of an earlier step.
pub(crate) fn resolve_step(reference: &str) -> Result<usize, String> {
    read(
        |s| {
            let found = match reference.parse::<usize>() {
                Ok(i) if i < s.steps.len() => Some(i),
                Ok(i) => {
                    return Err(format!(
                    "step reference `{i}` is not an earlier step (only {} step(s) come before it)",
                    s.steps.len()
                ))
                }
                Err(_) => s.steps.iter().position(|n| n.as_deref() == Some(reference)),
            };
            found.ok_or_else(|| {
                let names: Vec<&str> = s.steps.iter().flatten().map(String::as_str).collect();
                format!(
                    "step reference `{reference}` names no earlier step (earlier named steps: {})",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                )
            })
        },
        0,
    )
}

/// Records that a step was read; a duplicate name is an error.
pub(crate) fn push_step(name: Option<&str>) -> Result<(), String> {
    SCOPE.with(|s| {
        let mut guard = s.borrow_mut();
        let Some(scope) = guard.as_mut() else {
            return Ok(());
        };
        if let Some(n) = name {
            if scope.steps.iter().any(|m| m.as_deref() == Some(n)) {
                return Err(format!("two steps are named `{n}`"));
            }
        }
        scope.steps.push(name.map(str::to_string));
        Ok(())
    })
}
