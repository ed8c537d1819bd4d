//! `run_all`: every case × `--repeat` gives one record, sorted; serial cases run too;
//! every repetition writes under its own prefix; bodies are the same for the same seed.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use cos_suite::case::{parse_case, LoadContext};
use cos_suite::outcome::Outcome;
use cos_suite::runner::{run_all, Quiet, RunOptions};

use super::fake::{catalog, env, keys, start, Canned};

#[test]
fn repeats_and_serial_cases_each_get_a_record_in_their_own_prefix() {
    let (catalog, keys) = (catalog(), keys());
    let ctx = LoadContext {
        catalog: &catalog,
        keys: &keys,
    };
    let make = |name: &str, serial: bool| {
        let text = format!(
            "id: sse-c/{name}\nrules: [T-RULE]\ntitle: t\npolarity: positive\nserial: {serial}\nsteps:\n  - put: {{key: \"{{{{case}}}}/o\", body: {{random: 32}}, scheme: http}}\n"
        );
        parse_case(Path::new(&format!("cases/sse-c/{name}.yaml")), &text, &ctx).expect("loads")
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (results, seen) = rt.block_on(async {
        let fake = start(Arc::new(
            |_: &super::fake::Seen, _: &[super::fake::Seen]| Canned::ok(),
        ))
        .await;
        let env = Arc::new(env(&fake, true, &[]));
        let (results, _) = run_all(
            env,
            vec![make("b", true), make("a", false)],
            RunOptions { jobs: 4, repeat: 3 },
            Arc::new(Quiet),
        )
        .await;
        let seen = fake.seen.lock().map(|l| l.clone()).unwrap_or_default();
        (results, seen)
    });
    let order: Vec<(String, u32)> = results
        .iter()
        .map(|r| (r.id.clone(), r.repetition))
        .collect();
    let expected: Vec<(String, u32)> = ["sse-c/a", "sse-c/b"]
        .iter()
        .flat_map(|id| (1..=3).map(move |k| (id.to_string(), k)))
        .collect();
    assert_eq!(order, expected);
    assert!(results.iter().all(|r| r.outcome == Outcome::Pass));
    let puts: Vec<_> = seen.iter().filter(|s| s.method == "PUT").collect();
    let paths: BTreeSet<&str> = puts.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(
        paths.len(),
        6,
        "every repetition has its own prefix: {paths:?}"
    );
    let bodies: BTreeSet<&[u8]> = puts
        .iter()
        .filter(|s| s.path.contains("/sse-c/a/"))
        .map(|s| s.body.as_ref())
        .collect();
    assert_eq!(
        bodies.len(),
        1,
        "the same seed, case and step give the same body in every repetition"
    );
}
