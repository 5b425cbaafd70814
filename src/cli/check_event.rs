//! `check --event`: each request a CloudTrail record names, with the flags
//! beside it laid over the record, judged and reported one after another.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;

use chrono::{DateTime, Utc};

use kms_s3_doctor::diagnosis::{Diagnosis, Operation, Verdict};
use kms_s3_doctor::event::{self, EventRequest};
use kms_s3_doctor::pipeline;
use kms_s3_doctor::report::{self, RequestV1};

use super::args::{Format, selection, source};
use super::check::{CheckArgs, Expect, parse_operations, write_fixes};
use super::exit::{ExitCode, Failure, exit_code, finish_output};

/// Reads the record file, `-` being standard input.
fn read_event_file(path: &Path) -> Result<(String, String), Failure> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|error| {
                Failure::bad_input(format!("--event: cannot read standard input: {error}"))
            })?;
        return Ok(("standard input".to_string(), text));
    }
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|error| Failure::bad_input(format!("--event: cannot read `{name}`: {error}")))?;
    Ok((name, text))
}

/// One record's request as the flags leave it.
pub(super) struct Resolved {
    pub(super) selection: pipeline::Selection,
    /// The `request` of the report.
    pub(super) shown: RequestV1,
    pub(super) operations: Vec<Operation>,
    pub(super) time: Option<DateTime<Utc>>,
    pub(super) notes: Vec<String>,
}

/// The selection, operations and time of one record's request, with every
/// flag given taking the place of what the record says.
pub(super) fn resolve(args: &CheckArgs, request: &EventRequest) -> Result<Resolved, Failure> {
    let mut chosen = selection(&args.selection);
    chosen.bucket = match (&args.selection.bucket, &request.bucket) {
        (Some(bucket), _) | (None, Some(bucket)) => bucket.clone(),
        (None, None) => {
            return Err(Failure::bad_input(format!(
                "{}: the record names no bucket: give --bucket",
                request.source
            )));
        }
    };
    chosen.object = args
        .selection
        .object
        .clone()
        .or_else(|| request.object.clone());
    chosen.principal = match (&args.selection.principal, &request.principal) {
        (Some(principal), _) | (None, Some(principal)) => Some(principal.clone()),
        (None, None) => {
            let why = request
                .missing_principal
                .as_deref()
                .unwrap_or("it names no principal");
            return Err(Failure::bad_input(format!(
                "{}: {why}: give --principal ARN",
                request.source
            )));
        }
    };
    let operations = match &args.op {
        Some(text) => parse_operations(text).map_err(Failure::bad_input)?,
        None => request.operations.clone(),
    };
    // The record's values first, then --context over them.
    let mut shown: BTreeMap<String, String> = request.context.clone();
    let given = |key: &str| {
        args.selection
            .context
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case(key))
    };
    shown.retain(|key, _| !given(key));
    // The record's time is the judging time (`now`), from which the judge
    // derives aws:CurrentTime and aws:EpochTime alike.
    let mut context: Vec<(String, String)> = shown
        .iter()
        .filter(|(key, _)| key.as_str() != "aws:CurrentTime")
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    for (key, value) in &args.selection.context {
        context.push((key.clone(), value.clone()));
        shown.insert(key.clone(), value.clone());
    }
    chosen.context = context;
    chosen.unknown_context = request.unknown.clone();
    let provenance = provenance(args, request, &shown, chosen.object.is_some());
    let shown_request = RequestV1 {
        source: request.source.clone(),
        principal: chosen.principal.clone().unwrap_or_default(),
        bucket: chosen.bucket.clone(),
        object: chosen.object.clone(),
        operations: operations
            .iter()
            .map(|operation| operation.as_str().to_string())
            .collect(),
        context: shown,
        provenance,
    };
    Ok(Resolved {
        selection: chosen,
        shown: shown_request,
        operations,
        time: request.time,
        notes: request.notes.clone(),
    })
}

/// Where each value of the request came from: `record:FIELD` (the
/// record's field), `flag:--NAME`, `default` (the tool's own: an object
/// key at the bucket's root) or `unknown` (a key the record leaves open).
fn provenance(
    args: &CheckArgs,
    request: &EventRequest,
    context: &BTreeMap<String, String>,
    has_object: bool,
) -> BTreeMap<String, String> {
    let record = |field: &str| {
        let from = request
            .provenance
            .get(field)
            .map_or("record", String::as_str);
        format!("record:{from}")
    };
    let mut provenance = BTreeMap::new();
    let mut put = |field: &str, flag: Option<&str>| {
        let source = match flag {
            Some(flag) => format!("flag:{flag}"),
            None => record(field),
        };
        provenance.insert(field.to_string(), source);
    };
    put(
        "principal",
        args.selection.principal.is_some().then_some("--principal"),
    );
    put(
        "bucket",
        args.selection.bucket.is_some().then_some("--bucket"),
    );
    if args.selection.object.is_some() {
        put("object", Some("--object"));
    } else if has_object {
        put("object", None);
    }
    put("operations", args.op.is_some().then_some("--op"));
    for key in context.keys() {
        let given = args
            .selection
            .context
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case(key));
        put(key, given.then_some("--context"));
    }
    if !has_object {
        provenance.insert("object".to_string(), "default".to_string());
    }
    for key in &request.unknown {
        provenance
            .entry(key.clone())
            .or_insert_with(|| "unknown".to_string());
    }
    provenance
}

pub fn run(args: CheckArgs) -> Result<ExitCode, Failure> {
    let Some(path) = &args.event else {
        return Err(Failure::bad_input("--event: no file given"));
    };
    let (name, text) = read_event_file(path)?;
    run_records(args, &name, &text)
}

/// Judges the records of `text` (named `name` in messages and reports), as
/// `--event` does; `explain` hands a pasted record here.
pub fn run_records(args: CheckArgs, name: &str, text: &str) -> Result<ExitCode, Failure> {
    let name = name.to_string();
    let requests = event::read(&name, text).map_err(|error| Failure::bad_input(error.0))?;
    if requests.len() > 1 && args.write_fixes.is_some() {
        return Err(Failure::bad_input(format!(
            "--write-fixes takes one request, and `{name}` holds {}: keep the record to mend in a file of its own",
            requests.len()
        )));
    }
    // Every request is resolved before any is judged: a record that cannot
    // name its request stops the run before a report is half written.
    let mut resolved = Vec::new();
    for request in &requests {
        resolved.push(resolve(&args, request)?);
    }
    let progress = args.format == Format::Text && std::io::stderr().is_terminal();
    let mut judged = Vec::new();
    for Resolved {
        selection: chosen,
        shown,
        operations,
        time,
        notes,
    } in resolved
    {
        let checked = pipeline::check(&pipeline::Check {
            source: source(
                args.snapshot.clone(),
                args.max_snapshot_size,
                &args.aws,
                progress,
            ),
            selection: chosen,
            operations,
            assumptions: args.assume.assume.clone(),
            session_policy: args.session_policy.session_policy.clone(),
            save_snapshot: args.save_snapshot.clone(),
            layers: args.layers.order.clone(),
            now: time,
        })?;
        if let Some(failure) = checked.save_failure {
            return Err(failure.into());
        }
        // The process ends soon: the system takes the memory back whole.
        std::mem::forget(checked.judged_from);
        let mut diagnosis = checked.diagnosis;
        diagnosis.notes.extend(notes);
        judged.push((diagnosis, shown));
    }
    if let (Some(dir), [(diagnosis, _)]) = (&args.write_fixes, judged.as_slice()) {
        write_fixes(
            dir,
            diagnosis,
            kms_s3_doctor::fixes::WriteOptions {
                force: args.force,
                include_widening: args.include_widening,
            },
        )?;
    }
    let expected = args.expect.map(Expect::verdict);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = render(&args, &judged, expected, &mut out);
    finish_output(written.and_then(|()| out.flush()))?;
    let worst = judged
        .iter()
        .map(|(diagnosis, _)| diagnosis.verdict)
        .max()
        .unwrap_or(Verdict::Inconclusive);
    for (diagnosis, _) in &judged {
        if let Some(line) =
            expected.and_then(|expected| report::expect_mismatch(diagnosis, expected))
        {
            eprintln!("{line}");
        }
    }
    Ok(exit_code(worst, args.expect))
}

fn render(
    args: &CheckArgs,
    judged: &[(Diagnosis, RequestV1)],
    expected: Option<Verdict>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match args.format {
        Format::Json => {
            let pairs: Vec<_> = judged
                .iter()
                .map(|(diagnosis, shown)| (diagnosis, shown.clone()))
                .collect();
            writeln!(out, "{}", report::render_json_requests(&pairs, expected))
        }
        Format::Text | Format::Markdown => {
            for (index, (diagnosis, shown)) in judged.iter().enumerate() {
                if index > 0 {
                    writeln!(out)?;
                }
                let line = report::escape_control(&shown.source);
                if args.format == Format::Text {
                    writeln!(out, "request from {line}")?;
                    for (label, fields) in provenance_groups(&shown.provenance) {
                        writeln!(
                            out,
                            "  {label:<8} {}",
                            report::escape_control(&fields.join(", "))
                        )?;
                    }
                    report::render_text(diagnosis, out, args.color.resolve())?;
                } else {
                    writeln!(out, "Request from {line}\n")?;
                    for (label, fields) in provenance_groups(&shown.provenance) {
                        writeln!(
                            out,
                            "- {label}: {}",
                            report::escape_control(&fields.join(", "))
                        )?;
                    }
                    if !shown.provenance.is_empty() {
                        writeln!(out)?;
                    }
                    report::render_markdown(diagnosis, out)?;
                }
            }
            Ok(())
        }
    }
}

/// The request's fields grouped by where they came from, for the text and
/// Markdown reports: `record` (each with its field), `flags`, `default`,
/// `unknown`.
fn provenance_groups(provenance: &BTreeMap<String, String>) -> Vec<(&'static str, Vec<String>)> {
    let mut record = Vec::new();
    let mut flags = Vec::new();
    let mut defaults = Vec::new();
    let mut unknown = Vec::new();
    for (field, source) in provenance {
        if let Some(from) = source.strip_prefix("record:") {
            record.push(format!("{field} ({from})"));
        } else if let Some(flag) = source.strip_prefix("flag:") {
            flags.push(format!("{field} ({flag})"));
        } else if source == "default" {
            defaults.push(field.clone());
        } else {
            unknown.push(field.clone());
        }
    }
    [
        ("record", record),
        ("flags", flags),
        ("default", defaults),
        ("unknown", unknown),
    ]
    .into_iter()
    .filter(|(_, fields)| !fields.is_empty())
    .collect()
}
