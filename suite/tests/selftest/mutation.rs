//! The mutation harness (`cos_suite::mutate`): its catalog covers every
//! rule family with at least 40 mutations, the score is computed from the runs, and a
//! broken server is killed while the same cases pass through the identity proxy. The
//! whole harness is `cargo run -p cos-suite --bin mutate` (its `--quick` subset runs in
//! `.ci/run`); these tests run two mutations on a handful of cases.

use std::collections::BTreeSet;
use std::path::Path;

use cos_suite::app;
use cos_suite::mutate::{self, Run, Score};
use cos_suite::profile::Profile;

fn loaded() -> app::Loaded {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cases");
    app::load(&dir).unwrap_or_else(|e| panic!("{}", e.join("\n")))
}

#[test]
fn at_least_40_mutations_cover_every_rule_family() {
    let loaded = loaded();
    let all = mutate::all();
    assert!(all.len() >= 40, "only {} mutations", all.len());
    let names: BTreeSet<&str> = all.iter().map(|m| m.name).collect();
    assert_eq!(names.len(), all.len(), "mutation names must be unique");
    let mut covered = BTreeSet::new();
    for m in &all {
        covered.extend(mutate::families(&loaded, m).expect("known rules"));
        assert!(
            !mutate::relevant_cases(&loaded, m).unwrap().is_empty(),
            "{} selects no case",
            m.name
        );
    }
    let families: BTreeSet<String> = loaded
        .catalog
        .rules()
        .iter()
        .map(|r| r.family.clone())
        .collect();
    let missing: Vec<_> = families.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "families no mutation breaks: {missing:?}"
    );
    // Every behaviour switch of the emulator is flipped by one mutation.
    for (rule, _) in cos_emulator::behaviour::SWITCHES {
        assert!(
            all.iter()
                .any(|m| matches!(m.how, mutate::How::Switch { rule: r, .. } if r == *rule)),
            "no mutation flips {rule}"
        );
    }
    // Every lie of the emulator is used.
    for (rule, _) in cos_emulator::introspect::lies::ALL {
        assert!(
            all.iter()
                .any(|m| matches!(m.how, mutate::How::Lie(r) if r == *rule)),
            "no mutation uses the {rule} lie"
        );
    }
}

#[test]
fn the_score_is_computed_from_the_runs() {
    let run = |failed: usize, documented: bool, error: Option<&str>| Run {
        name: "m".into(),
        breaks: vec![],
        documented,
        ran: 3,
        failed: (0..failed).map(|i| format!("c{i}")).collect(),
        errored: vec![],
        why: vec![],
        error: error.map(str::to_string),
    };
    let runs = [
        run(2, true, None),
        run(0, true, None),
        run(1, false, None),
        run(1, false, Some("emulator did not start")),
    ];
    let s = Score::of(&runs);
    assert_eq!(
        (s.killed, s.total, s.documented_killed, s.documented_total),
        (2, 4, 1, 2)
    );
    assert!((s.percent() - 50.0).abs() < 1e-9);
}

/// A lie only introspection sees: the context-bound case passes on an honest emulator
/// behind the identity proxy, and fails against the emulator that drops the context.
#[test]
fn a_lying_server_is_killed_and_the_baseline_is_not() {
    let loaded = loaded();
    let cases = app::select(
        &loaded.cases,
        &["sse-kms/introspect-context-bound".to_string()],
    );
    assert_eq!(cases.len(), 1);
    let lie = mutate::all()
        .into_iter()
        .find(|m| m.name == "lie-kms-context-unbound")
        .expect("the lie");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let profile = Profile::emulator().expect("profile");
    let base = rt.block_on(mutate::run_one(
        &loaded,
        &profile,
        &mutate::identity(),
        cases.clone(),
        2,
    ));
    assert_eq!(base.error, None);
    assert!(base.failed.is_empty(), "baseline failed: {:?}", base.failed);
    let killed = rt.block_on(mutate::run_one(&loaded, &profile, &lie, cases, 2));
    assert!(killed.killed(), "the lie survived: {killed:?}");
}
