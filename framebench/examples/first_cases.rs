//! In how many seeds framecheck's first cases find each bug: the round
//! trip's first 1, 2 and 4 cases (`snappy-42`, a truncation bug: the
//! truncation property's), over seeds 1 to `SEEDS` (default 100), and
//! whether the fixed twins pass their first 32 cases (round trip) in the
//! first 20 seeds. FrameBench's median counts all 512 cases; this looks at
//! what the default case generation puts first.
//!
//! ```sh
//! cargo run --release -p framebench --example first_cases
//! SEEDS=200 cargo run --release -p framebench --example first_cases -- rustls-2159,vegur-82
//! ```

use framebench::bugs;

fn main() {
    let seeds: u64 = std::env::var("SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let only: Vec<String> = std::env::args()
        .nth(1)
        .map(|s| s.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    println!("bug                 within 1    within 2    within 4    twin alarms");
    for bug in bugs::all() {
        if !only.is_empty() && !only.iter().any(|o| o == bug.id) {
            continue;
        }
        let truncation = bug.id == "snappy-42";
        let within = |n| {
            (1..=seeds)
                .filter(|&s| bug.subject.framecheck_within(false, s, n, truncation))
                .count()
        };
        let alarms = (1..=20)
            .filter(|&s| bug.subject.framecheck_within(true, s, 32, false))
            .count();
        println!(
            "{:<18} {:>4}/{seeds:<4}  {:>4}/{seeds:<4}  {:>4}/{seeds:<4}  {alarms}/20",
            bug.id,
            within(1),
            within(2),
            within(4),
        );
    }
}
