//! Metamorphic properties of S3's Block Public Access gate, over every
//! acceptance scenario and every place a setting lives (each bucket, each
//! account, each access point): a setting that is not known never gives `allowed` where
//! knowing it could refuse, and turning a setting on never makes a verdict
//! better (S3 User Guide, "Blocking public access to your Amazon S3
//! storage": the settings only ever restrict; S3 applies the most
//! restrictive combination of bucket and account settings).

use kms_s3_doctor::diagnosis::Verdict;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::support::scenario::{Scenario, judgeable, verdict};

const SETTINGS: [&str; 4] = [
    "block_public_acls",
    "ignore_public_acls",
    "block_public_policy",
    "restrict_public_buckets",
];

/// What one setting is made to be.
#[derive(Debug, Clone, Copy)]
enum State {
    On,
    Off,
    /// The setting is missing from a configuration that was read.
    Missing,
    /// The whole configuration at that place was not read.
    Unread,
}

/// Every place of a snapshot that holds Block Public Access settings, as a
/// JSON pointer to the object holding `public_access_block`.
fn places(snapshot: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let buckets = snapshot["buckets"].as_array().map_or(0, Vec::len);
    out.extend((0..buckets).map(|index| format!("/buckets/{index}")));
    let points = snapshot["access_points"].as_array().map_or(0, Vec::len);
    out.extend((0..points).map(|index| format!("/access_points/{index}")));
    let accounts = snapshot["accounts"].as_object();
    out.extend(
        accounts
            .into_iter()
            .flat_map(Map::keys)
            .map(|account| format!("/accounts/{account}")),
    );
    out
}

/// `snapshot` with `setting` at `place` made `state`; the place's other
/// settings are kept as they were (missing when there was no configuration).
fn with_setting(snapshot: &Value, place: &str, setting: &str, state: State) -> Option<Value> {
    let mut out = snapshot.clone();
    let holder = out.pointer_mut(place)?.as_object_mut()?;
    if let State::Unread = state {
        holder.remove("public_access_block");
        return Some(out);
    }
    let mut config = match holder.get("public_access_block") {
        Some(Value::Object(config)) => config.clone(),
        _ => Map::new(),
    };
    match state {
        State::On => {
            config.insert(setting.to_string(), json!(true));
        }
        State::Off => {
            config.insert(setting.to_string(), json!(false));
        }
        State::Missing => {
            config.remove(setting);
        }
        State::Unread => {}
    }
    holder.insert("public_access_block".to_string(), Value::Object(config));
    Some(out)
}

/// The verdicts with the setting on, off, missing and unread.
fn verdicts(scenario: &Scenario, place: &str, setting: &str) -> Option<[Verdict; 4]> {
    let mut out = [Verdict::Allowed; 4];
    for (slot, state) in out
        .iter_mut()
        .zip([State::On, State::Off, State::Missing, State::Unread])
    {
        let mutated = with_setting(&scenario.snapshot, place, setting, state)?;
        *slot = verdict(&mutated, &scenario.request)?;
    }
    Some(out)
}

fn check(scenario: &Scenario, place: &str, setting: &str) -> Result<bool, String> {
    let Some([on, off, missing, unread]) = verdicts(scenario, place, setting) else {
        return Ok(false);
    };
    let name = &scenario.name;
    if on < off {
        return Err(format!(
            "{name}: turning {setting} on at {place} made {off:?} into {on:?}"
        ));
    }
    for (what, unknown) in [("missing", missing), ("unread", unread)] {
        if unknown == Verdict::Allowed && (on != Verdict::Allowed || off != Verdict::Allowed) {
            return Err(format!(
                "{name}: {setting} {what} at {place} is allowed though on gives {on:?} and off {off:?}"
            ));
        }
    }
    Ok(true)
}

/// Every setting at every place of every scenario once.
#[test]
fn every_scenario_keeps_the_gate_monotone_and_unknown_never_allowed() {
    let mut checked = 0;
    for scenario in judgeable() {
        for place in places(&scenario.snapshot) {
            for setting in SETTINGS {
                if check(scenario, &place, setting).unwrap_or_else(|why| panic!("{why}")) {
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 500, "only {checked} settings were judged");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Every setting turned on at once, everywhere, never turns a verdict
    /// that is not `allowed` into `allowed`.
    #[test]
    fn turning_every_setting_on_never_allows(scenario in 0usize..1000, places_on in 1usize..8) {
        let all = judgeable();
        let scenario = &all[scenario % all.len()];
        let Some(before) = verdict(&scenario.snapshot, &scenario.request) else {
            return Ok(());
        };
        let mut mutated = scenario.snapshot.clone();
        for place in places(&scenario.snapshot).into_iter().take(places_on) {
            for setting in SETTINGS {
                if let Some(next) = with_setting(&mutated, &place, setting, State::On) {
                    mutated = next;
                }
            }
        }
        let Some(after) = verdict(&mutated, &scenario.request) else {
            return Ok(());
        };
        prop_assert!(
            after >= before,
            "{}: every setting on made {:?} into {:?}", scenario.name, before, after
        );
    }
}

/// An access point field that was not read (its policy, its network origin)
/// never turns a verdict that is not `allowed` into `allowed`, whatever the
/// field held (S3 User Guide, "Configuring IAM policies for using access
/// points": both the access point and the bucket must permit the request).
#[test]
fn an_unread_access_point_field_never_allows() {
    let mut checked = 0;
    for scenario in judgeable() {
        let points = scenario.snapshot["access_points"]
            .as_array()
            .map_or(0, Vec::len);
        let Some(before) = verdict(&scenario.snapshot, &scenario.request) else {
            continue;
        };
        for index in 0..points {
            for field in ["policy", "network_origin", "public_access_block"] {
                let mut mutated = scenario.snapshot.clone();
                let Some(point) = mutated
                    .pointer_mut(&format!("/access_points/{index}"))
                    .and_then(Value::as_object_mut)
                else {
                    continue;
                };
                point.remove(field);
                let Some(after) = verdict(&mutated, &scenario.request) else {
                    continue;
                };
                checked += 1;
                assert!(
                    before == Verdict::Allowed || after != Verdict::Allowed,
                    "{}: access point {index}'s {field} unread turned {before:?} into allowed",
                    scenario.name
                );
            }
        }
    }
    assert!(
        checked >= 12,
        "only {checked} access point fields were judged"
    );
}
