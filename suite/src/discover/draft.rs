//! The draft profile: the given profile's text with its `capabilities:`, `regions:` and
//! `behaviour:` replaced by what was found, each finding preceded by the exchange or the
//! cases that showed it (as YAML comments), and the error codes observed per situation of
//! `cases/codes.yaml` as a commented section at the end (a profile's `codes:` map is for
//! overrides a vendor declares on purpose, so the draft only suggests them).

use std::fmt::Write as _;

use crate::outcome::StepExchange;

use super::Discovery;

/// Top-level keys the draft replaces.
const REPLACED: &[&str] = &["capabilities", "regions", "behaviour"];

/// Writes the draft from the given profile's text.
pub fn profile(given: &str, d: &Discovery) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Draft written by `cos-suite discover` against {} ({} dialect): {} of {} capabilities\n\
         # offered, {} region(s) probed, {} of {} rules with behaviours decided;\n\
         # {}.\n\
         # Every finding below is preceded by the exchange or the cases that showed it;\n\
         # secrets are redacted.",
        d.label,
        d.dialect,
        d.capabilities
            .capabilities
            .iter()
            .filter(|c| c.offered)
            .count(),
        d.capabilities.capabilities.len(),
        d.capabilities.regions.len(),
        d.behaviours.found.len(),
        d.behaviours.rules.len(),
        d.codes.summary()
    );
    let blocks = [
        ("capabilities", capabilities_block(d)),
        ("regions", regions_block(d)),
        ("behaviour", behaviour_block(d)),
    ];
    let mut placed = [false; 3];
    let mut skipping = false;
    let lines: Vec<&str> = given.lines().collect();
    // (text, whether it is a line of the given profile)
    let mut kept: Vec<(String, bool)> = Vec::new();
    for line in &lines {
        let key = REPLACED
            .iter()
            .position(|k| line.starts_with(&format!("{k}:")));
        if let Some(k) = key {
            // The comment lines right above the old value described it: drop them too.
            while kept
                .last()
                .is_some_and(|(l, given)| *given && l.starts_with('#'))
            {
                kept.pop();
            }
            kept.push((blocks[k].1.trim_end().to_string(), false));
            placed[k] = true;
            // A block value continues on indented lines; an inline one is one line.
            skipping = line.trim_end() == format!("{}:", REPLACED[k]);
            continue;
        }
        if skipping && (line.starts_with(' ') || line.starts_with('#') || line.is_empty()) {
            continue;
        }
        skipping = false;
        kept.push((line.to_string(), true));
    }
    for (k, (_, block)) in blocks.iter().enumerate() {
        if !placed[k] {
            kept.push((block.trim_end().to_string(), false));
        }
    }
    for (l, _) in kept {
        out.push_str(&l);
        out.push('\n');
    }
    out.push_str(&codes_block(d));
    out
}

/// An exchange as comment lines: the request (redacted `curl`), the status line, the
/// headers that say something about SSE or the error, and the error code.
fn exchange_lines(x: &StepExchange, indent: &str) -> String {
    let mut s = String::new();
    for l in x.request.lines() {
        let _ = writeln!(s, "{indent}#     {l}");
    }
    match (x.status, &x.error) {
        (Some(st), _) => {
            let _ = write!(s, "{indent}#     -> {st}");
            if let Some(c) = &x.code {
                let _ = write!(s, " {c}");
            }
            for (k, v) in &x.headers {
                let k = k.to_ascii_lowercase();
                if k.contains("server-side-encryption") || k.contains("storage-class") {
                    let _ = write!(s, "; {k}: {v}");
                }
            }
            s.push('\n');
        }
        (None, Some(e)) => {
            let _ = writeln!(s, "{indent}#     -> no answer: {}", e.replace('\n', " "));
        }
        (None, None) => {}
    }
    s
}

fn capabilities_block(d: &Discovery) -> String {
    let mut s = String::from(
        "# Capabilities found by `cos-suite discover`: each probe is a small case of its own\n\
         # (suite/src/discover/capabilities.rs) that passes only when the capability works end\n\
         # to end; the exchange that decided it is quoted.\ncapabilities:\n",
    );
    for f in &d.capabilities.capabilities {
        let verdict = if f.offered { "offered" } else { "not offered" };
        let _ = writeln!(s, "  # {}: {verdict}: {}", f.name, one_line(&f.why));
        if let Some(x) = &f.exchange {
            s.push_str(&exchange_lines(x, "  "));
        }
        if f.offered {
            let _ = writeln!(s, "  - {}", f.name);
        }
    }
    for n in &d.capabilities.notes {
        let _ = writeln!(s, "  # {n}");
    }
    for k in &d.capabilities.kept {
        let _ = writeln!(s, "  - {k}");
    }
    if d.capability_set().is_empty() {
        s = s.replace("capabilities:\n", "capabilities: []\n");
    }
    s
}

fn regions_block(d: &Discovery) -> String {
    let mut s = String::from(
        "# Regions: the given profile's, in its order; per region one PUT per SSE mode and\n\
         # algorithm. A mode is offered where a PUT is stored (2xx) or fails with a server\n\
         # error other than 501 (the endpoint took the mode and broke: the cases show it); a\n\
         # refusal (4xx) or 501 means not offered. SM4: some offered mode takes it.\nregions:\n",
    );
    for r in &d.capabilities.regions {
        for p in &r.probes {
            let _ = writeln!(
                s,
                "  # {} {}/{}: {}: {}",
                r.name,
                p.mode,
                p.algorithm,
                if p.offered { "offered" } else { "not offered" },
                one_line(&p.why)
            );
        }
        let _ = writeln!(s, "  - {{name: {}, sse: [{}]}}", r.name, r.sse.join(", "));
    }
    s
}

fn behaviour_block(d: &Discovery) -> String {
    let mut s = String::from(
        "# Behaviours found by `cos-suite discover`: each rule's cases ran once per behaviour,\n\
         # the other rules at what was found so far; the behaviour under which all of them\n\
         # passed is the endpoint's. Per behaviour: cases passed, failed, not applicable.\n",
    );
    let b = &d.behaviours;
    if b.found.is_empty() {
        s.push_str("behaviour: {}\n");
    } else {
        s.push_str("behaviour:\n");
    }
    for rule in &b.rules {
        if let Some(trials) = b.evidence.get(rule) {
            let summary: Vec<String> = trials
                .iter()
                .map(|t| {
                    format!(
                        "{}: {} passed, {} failed, {} n/a{}",
                        t.behaviour,
                        t.passed.len(),
                        t.failed.len(),
                        t.not_applicable.len(),
                        t.failed
                            .first()
                            .map(|(id, _)| format!(" (e.g. {id})"))
                            .unwrap_or_default()
                    )
                })
                .collect();
            let _ = writeln!(s, "  # {rule}: {}", summary.join("; "));
        }
        match (b.found.get(rule), b.why_undecided(rule)) {
            (Some(v), _) => {
                let _ = writeln!(s, "  {rule}: {v}");
            }
            (None, Some(why)) => {
                let _ = writeln!(s, "  # {rule}: undecided: {}", one_line(&why));
            }
            (None, None) => {}
        }
    }
    s
}

fn codes_block(d: &Discovery) -> String {
    let c = &d.codes;
    let (total, reached, agree) = c.counts();
    let mut s = String::new();
    if !c.were_read() {
        s.push_str("# Error codes: not read (`--no-codes`).\n");
        return s;
    }
    let _ = writeln!(
        s,
        "# Error codes answered, per situation of cases/codes.yaml ({} dialect): {reached} of\n\
         # {total} reached, {agree} agree with the table, {} differ, {} not reached (the reason\n\
         # is given). For a vendor endpoint this section is the contribution: each `differs` or\n\
         # newly confirmed row goes to cases/codes.yaml (and ERROR-CODES.md) in a pull request\n\
         # with its exchange (docs/profiles.md, \"Discovering a profile\"). A code this endpoint\n\
         # answers on purpose may become a `codes:` override (suggested, commented out).",
        c.dialect,
        reached - agree,
        total - reached
    );
    let mut overrides = Vec::new();
    for f in &c.situations {
        let expected = match &f.expected {
            Some((code, st)) => format!("{code} {st}"),
            None => "nothing (cannot arise here)".into(),
        };
        let _ = writeln!(
            s,
            "# {} row {} [{}] ({}): expected {expected}: {}{}",
            f.code,
            f.row,
            f.rules.join(", "),
            f.confidence,
            f.verdict,
            f.reason
                .as_ref()
                .map(|r| format!(": {}", one_line(r)))
                .unwrap_or_default()
        );
        if let Some(o) = &f.exchange {
            let _ = writeln!(s, "#   {} step {}:", o.case, o.step);
            for l in o.request.lines() {
                let _ = writeln!(s, "#     {l}");
            }
            let _ = writeln!(
                s,
                "#     -> {} {}",
                o.status.map_or("no answer".into(), |x| x.to_string()),
                o.code.clone().unwrap_or_default()
            );
        }
        if f.verdict == "differs" {
            if let Some((_, Some(code), _)) = f.answered.first() {
                if f.answered.len() == 1 {
                    overrides.push(format!("#   \"{}\": {code}   # {}", f.row, f.code));
                }
            }
        }
    }
    if !overrides.is_empty() {
        s.push_str(
            "# Suggested overrides (uncomment those the endpoint answers on purpose):\n# codes:\n",
        );
        overrides.sort();
        overrides.dedup();
        for o in overrides {
            s.push_str(&o);
            s.push('\n');
        }
    }
    s
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::capabilities::{Finding, RegionFinding};
    use crate::discover::{behaviours, capabilities, codes};

    /// The draft replaces the three found blocks wherever the given profile has them (the
    /// comments describing the old values go, the others stay), and loads as a profile.
    #[test]
    fn the_draft_replaces_the_found_blocks_and_loads() {
        let given = "# about the endpoint\nname: x\ndialect: cos\nendpoint: \"https://{bucket}.cos.{region}.myqcloud.com\"\nappid: \"1250000000\"\nbuckets: {create: true}\n# old capabilities\ncapabilities: [archive]\n# old regions\nregions:\n  - {name: ap-beijing, sse: [sm4]}\n# old behaviours\nbehaviour:\n  REGION-SSE: all-regions\nrequest_timeout_secs: 60\n";
        let mut behaviours = behaviours::Findings::default();
        behaviours.rules.push("REGION-SSE".into());
        behaviours
            .found
            .insert("REGION-SSE".into(), "enforced".into());
        let d = Discovery {
            label: "test".into(),
            dialect: "cos".into(),
            capabilities: capabilities::Findings {
                capabilities: vec![
                    Finding {
                        name: "https".into(),
                        offered: true,
                        why: "get -> 200".into(),
                        exchange: None,
                    },
                    Finding {
                        name: "archive".into(),
                        offered: false,
                        why: "put -> 400 InvalidStorageClass".into(),
                        exchange: None,
                    },
                ],
                kept: Vec::new(),
                regions: vec![RegionFinding {
                    name: "ap-beijing".into(),
                    sse: vec!["sse-cos".into()],
                    probes: Vec::new(),
                }],
                notes: Vec::new(),
            },
            behaviours,
            codes: codes::Findings::default(),
        };
        let text = profile(given, &d);
        let p = crate::profile::Profile::parse("draft.yaml", &text).expect(&text);
        assert_eq!(p.capabilities.iter().collect::<Vec<_>>(), ["https"]);
        assert_eq!(p.regions[0].sse, ["sse-cos"]);
        assert_eq!(p.behaviour["REGION-SSE"], "enforced");
        assert_eq!(p.request_timeout_secs, 60);
        assert!(text.contains("# about the endpoint"), "{text}");
        assert!(text.contains("# archive: not offered: put -> 400 InvalidStorageClass"));
        for old in [
            "# old capabilities",
            "# old regions",
            "# old behaviours",
            "all-regions",
        ] {
            assert!(!text.contains(old), "{old}: {text}");
        }
    }
}
