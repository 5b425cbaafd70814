//! Renders a [`Diagnosis`] for people (text, Markdown) and for scripts (the
//! frozen JSON report `kms-s3-doctor/report@1`). Renderers only format: every fact they
//! print is already in the diagnosis.

mod aws_evaluation;
pub mod can_access;
pub mod diff;
mod escape;
mod explain_json;
mod explain_markdown;
mod explain_text;
mod json;
mod junit;
mod markdown;
mod shorten;
mod test_json;
mod test_run;
mod text;

pub use aws_evaluation::{AwsActionV1, AwsEvaluationV1, AwsSideV1, MatchedStatementV1, ToolSideV1};
pub use escape::{escape_control, escaped_diagnosis, shell_word};

use std::io::IsTerminal;

use crate::diagnosis::{
    ActionResult, AssumptionUse, Diagnosis, EvidenceRole, Fix, FixChange, LinkResult, LinkStatus,
    OperationResult, Verdict,
};

pub use explain_json::{EXPLAIN_FORMAT, ExplanationV1};
pub use json::{
    ActionV1, AssumptionV1, ChangeV1, EvidenceV1, FixV1, LinkV1, OperationV1, REPORT_FORMAT,
    ReportV1, RequestV1, RequestsV1, RoleV1, StatusV1, VerdictV1,
};
pub use test_json::{OutcomeV1, SummaryV1, TEST_REPORT_FORMAT, TestCaseV1, TestReportV1};

/// Whether to colour the text report (`--color auto|always|never`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorChoice {
    /// Only when stdout is a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    /// Always, unless `NO_COLOR` is set.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether to colour the text report: never when `NO_COLOR` is set to a
    /// non-empty value, never for `auto` when stdout is not a terminal.
    pub fn resolve(self) -> bool {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
        self.resolve_with(no_color, std::io::stdout().is_terminal())
    }

    fn resolve_with(self, no_color: bool, stdout_is_terminal: bool) -> bool {
        if no_color {
            return false;
        }
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stdout_is_terminal,
        }
    }
}

/// The human text report, for a terminal. `color` adds ANSI styling; without
/// it the output holds no escape codes.
pub fn render_text(
    diagnosis: &Diagnosis,
    out: &mut dyn std::io::Write,
    color: bool,
) -> std::io::Result<()> {
    text::render(&escaped_diagnosis(diagnosis), out, color)
}

/// The same content as a Markdown document, for pasting into a ticket.
pub fn render_markdown(diagnosis: &Diagnosis, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    markdown::render(&escaped_diagnosis(diagnosis), out)
}

/// The JSON report (`kms-s3-doctor/report@1`), pretty-printed.
pub fn render_json(diagnosis: &Diagnosis) -> String {
    json::render(diagnosis, None)
}

/// The JSON report with `--expect`'s verdict and whether it was met.
pub fn render_json_expecting(diagnosis: &Diagnosis, expect: Option<Verdict>) -> String {
    json::render(diagnosis, expect)
}

/// `check --event`: each request a CloudTrail record named, with its
/// report; one alone is a plain report with `request`.
pub fn render_json_requests(
    judged: &[(&Diagnosis, json::RequestV1)],
    expect: Option<Verdict>,
) -> String {
    json::render_requests(judged, expect)
}

/// `check --authorization-id`: the report with its `request` and AWS's
/// evaluation beside the tool's (`aws_evaluation`).
pub fn render_json_evaluated(
    diagnosis: &Diagnosis,
    request: json::RequestV1,
    comparison: &crate::event::authorization::Comparison,
    expect: Option<Verdict>,
) -> String {
    json::render_evaluated(diagnosis, request, comparison.into(), expect)
}

/// The text section laying AWS's evaluation beside the tool's.
pub fn render_aws_evaluation_text(
    comparison: &crate::event::authorization::Comparison,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    aws_evaluation::render_text(comparison, out)
}

/// The Markdown section laying AWS's evaluation beside the tool's.
pub fn render_aws_evaluation_markdown(
    comparison: &crate::event::authorization::Comparison,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    aws_evaluation::render_markdown(comparison, out)
}

/// `kms-s3-doctor test`: the table, with unmet expectations expanded.
pub fn render_test_text(
    run: &crate::access_tests::TestRun,
    out: &mut dyn std::io::Write,
    color: bool,
) -> std::io::Result<()> {
    test_run::render_text(&escaped_run(run), out, color)
}

/// A test run whose own strings (file name, test names, reasons) cannot put
/// terminal escape sequences on a screen; each embedded diagnosis is escaped
/// by `check`'s renderers. The run is copied only when one of those strings
/// needs escaping: a run holds every test's whole diagnosis.
fn escaped_run(
    run: &crate::access_tests::TestRun,
) -> std::borrow::Cow<'_, crate::access_tests::TestRun> {
    let needs_escaping = |text: &str| matches!(escape_control(text), std::borrow::Cow::Owned(_));
    let clean = !needs_escaping(&run.file)
        && run.results.iter().all(|result| {
            !needs_escaping(&result.expectation.name) && !needs_escaping(&result.reason)
        });
    if clean {
        return std::borrow::Cow::Borrowed(run);
    }
    let mut run = run.clone();
    run.file = escape_control(&run.file).into_owned();
    for result in &mut run.results {
        result.expectation.name = escape_control(&result.expectation.name).into_owned();
        result.reason = escape_control(&result.reason).into_owned();
    }
    std::borrow::Cow::Owned(run)
}

/// `kms-s3-doctor test` as Markdown (a CI job summary).
pub fn render_test_markdown(
    run: &crate::access_tests::TestRun,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    test_run::render_markdown(&escaped_run(run), out)
}

/// `kms-s3-doctor test` as JUnit XML.
pub fn render_test_junit(
    run: &crate::access_tests::TestRun,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    junit::render(run, out)
}

/// `kms-s3-doctor test --format junit` that failed before judging: a JUnit
/// file with one error test case named after the file, of type `kind`.
pub fn render_test_junit_error(
    file: &str,
    kind: &str,
    message: &str,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    junit::render_error(file, kind, message, out)
}

/// `kms-s3-doctor test` as JSON (`kms-s3-doctor/test-report@1`).
pub fn render_test_json(run: &crate::access_tests::TestRun) -> String {
    test_json::render(run)
}

/// GitHub Actions `::error` annotations for the expectations not met.
pub fn render_test_annotations(
    run: &crate::access_tests::TestRun,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    test_run::render_annotations(run, out)
}

// ---------------------------------------------------------------------------
// Wording shared by the text and Markdown renderers.

/// `✓`, `✗` or `?`.
pub(crate) fn status_mark(status: LinkStatus) -> &'static str {
    match status {
        LinkStatus::Pass => "✓",
        LinkStatus::Fail => "✗",
        LinkStatus::Unknown => "?",
    }
}

/// The mark of a link in a chain path: [`status_mark`], or `≈` for a link
/// that passed only because the user assumed it.
pub(crate) fn link_mark(link: &LinkResult) -> &'static str {
    if link.assumed.is_some() {
        ASSUMED_MARK
    } else {
        status_mark(link.status)
    }
}

/// The mark of a link passed by an `--assume`.
pub(crate) const ASSUMED_MARK: &str = "≈";

/// `scp=allow, rcp=allow (unused)`: the assumptions of the run, or `None`.
pub(crate) fn assumptions_text(diagnosis: &Diagnosis) -> Option<String> {
    if diagnosis.assumptions.is_empty() {
        return None;
    }
    let items: Vec<String> = diagnosis
        .assumptions
        .iter()
        .map(|used| {
            if used.used {
                used.assumption.clone()
            } else {
                format!("{} (unused)", used.assumption)
            }
        })
        .collect();
    Some(items.join(", "))
}

pub(crate) fn verdict_mark(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Allowed => "✓",
        Verdict::Denied => "✗",
        Verdict::Inconclusive => "?",
    }
}

/// What a piece of evidence did, as the verb that opens its line.
pub(crate) fn role_words(role: EvidenceRole) -> &'static str {
    match role {
        EvidenceRole::Allows => "allowed by",
        EvidenceRole::Denies => "denied by",
        EvidenceRole::MayApply => "may apply",
        EvidenceRole::Context => "see",
    }
}

/// `key policy of `arn`, statement 1, Sid `Allow use`, incident.json:24:9`.
pub(crate) fn evidence_location(evidence: &crate::diagnosis::Evidence) -> String {
    let position = evidence_position(evidence);
    if position.is_empty() {
        evidence.document.clone()
    } else {
        format!("{}, {position}", evidence.document)
    }
}

/// `: does not apply: its `Resource` uses ...` after an evidence line, or
/// nothing when the evidence has no note.
pub(crate) fn evidence_note(evidence: &crate::diagnosis::Evidence) -> String {
    evidence
        .note
        .as_deref()
        .map(|note| format!(": {note}"))
        .unwrap_or_default()
}

/// `statement 1, Sid `Allow use`, line 12 as jq prints it`, without the
/// document; empty
/// when the evidence is not a located statement.
pub(crate) fn evidence_position(evidence: &crate::diagnosis::Evidence) -> String {
    let mut parts = Vec::new();
    if let Some(index) = evidence.statement {
        parts.push(format!("statement {index}"));
    }
    if let Some(sid) = evidence.sid.as_deref().filter(|sid| !sid.is_empty()) {
        parts.push(format!("Sid `{sid}`"));
    }
    // Point into what the user has: the snapshot file they gave, else the
    // document as `jq` prints it (AWS returns some documents on one line).
    match (&evidence.file_position, evidence.line) {
        (Some(at), _) => parts.push(format!("{}:{}:{}", at.file, at.line, at.column)),
        (None, Some(line)) => parts.push(format!("line {line} as jq prints it")),
        (None, None) => {}
    }
    parts.join(", ")
}

/// The context keys an unknown link hangs on: `` `aws:SourceIp`, `aws:SourceVpce` ``.
pub(crate) fn unknown_keys_text(link: &crate::diagnosis::LinkResult) -> String {
    let keys: Vec<String> = link
        .unknown_keys
        .iter()
        .map(|key| format!("`{key}`"))
        .collect();
    keys.join(", ")
}

/// `add to key-policy`, `remove from bucket-policy`, ...
pub(crate) fn fix_action(fix: &Fix) -> String {
    match fix.change {
        FixChange::AddStatement => format!("add to {}", fix.document),
        FixChange::RemoveStatement => format!("remove from {}", fix.document),
        FixChange::EditStatement => format!("edit in {}", fix.document),
        FixChange::Request => format!("make the request with {}", shell_words(&fix.flags)),
        FixChange::Other => format!("change {}", fix.document),
    }
}

/// Flags as a person types them: a word with a space or a shell character
/// in single quotes.
pub(crate) fn shell_words(flags: &[String]) -> String {
    let quoted: Vec<String> = flags
        .iter()
        .map(|flag| {
            let plain = !flag.is_empty()
                && flag
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_:=./,@+".contains(c));
            if plain {
                flag.clone()
            } else {
                format!("'{}'", flag.replace('\'', "'\\''"))
            }
        })
        .collect();
    escape::escape_json_text(&quoted.join(" ")).into_owned()
}

/// ` (widens: aws:PrincipalOrgID)` for a change that gets around a guard,
/// else nothing: said on the change's first line, where a reader at 3 a.m.
/// cannot miss it.
pub(crate) fn widens_text(fix: &Fix) -> String {
    if fix.widens.is_empty() {
        String::new()
    } else {
        format!(" (widens: {})", fix.widens.join(", "))
    }
}

/// `account 111111111111 admin`, or the account text as given when it is not
/// an account id (`the bucket owner`).
pub(crate) fn fix_owner(fix: &Fix) -> String {
    if fix.change == FixChange::Request {
        return "the caller".to_string();
    }
    let organization = matches!(fix.document.as_str(), "scp" | "rcp");
    if organization && crate::policy::arn::is_account_id(&fix.account) {
        // SCPs and RCPs are changed in the management account, which the
        // reader may not recognise by its id alone.
        format!("management account {} admin", fix.account)
    } else if crate::policy::arn::is_account_id(&fix.account) {
        format!("account {} admin", fix.account)
    } else {
        format!("{} admin", fix.account)
    }
}

/// Pretty JSON of a statement; falls back to compact JSON, which cannot fail
/// for a `Value` either.
pub(crate) fn pretty_statement(statement: &serde_json::Value) -> String {
    let text = serde_json::to_string_pretty(statement).unwrap_or_else(|_| statement.to_string());
    escape::escape_json_text(&text).into_owned()
}

/// The first failing link of the report, else the first unknown one, in
/// report order, with the action it belongs to.
pub(crate) fn first_broken(diagnosis: &Diagnosis) -> Option<(&ActionResult, &LinkResult)> {
    for wanted in [LinkStatus::Fail, LinkStatus::Unknown] {
        for operation in &diagnosis.operations {
            for action in &operation.actions {
                if let Some(link) = action.links.iter().find(|link| link.status == wanted) {
                    return Some((action, link));
                }
            }
        }
    }
    None
}

/// The one-line summary that ends the report, without the `verdict: ` label:
/// the report's verdict, then every operation's verdict with, for a denied
/// one, its first broken link and whose admin mends it, and for an
/// inconclusive one, what is unknown and how to supply it:
/// `inconclusive — get inconclusive (aws:SourceVpce unknown: --context
/// aws:SourceVpce=…) · put allowed`.
pub(crate) fn summary(diagnosis: &Diagnosis) -> String {
    let mut text = format!(
        "{}{} — ",
        diagnosis.verdict,
        verdict_clause(diagnosis.verdict, &diagnosis.assumptions)
    );
    if diagnosis.operations.is_empty() {
        text.push_str("no operation was checked");
        return text;
    }
    let parts: Vec<String> = diagnosis.operations.iter().map(operation_summary).collect();
    text.push_str(&parts.join(" · "));
    text
}

/// `, assuming the SCPs of account 222222222222 allow` for the verdict
/// line, or nothing when no assumption was used or the verdict is denied
/// (a denial does not rest on an assumption: assumptions only pass links).
fn verdict_clause(verdict: Verdict, uses: &[AssumptionUse]) -> String {
    if verdict == Verdict::Denied {
        return String::new();
    }
    let statements: Vec<&str> = uses
        .iter()
        .flat_map(|used| used.statements.iter().map(String::as_str))
        .collect();
    match statements.as_slice() {
        [] => String::new(),
        [one] => format!(", assuming {one}"),
        [first @ .., last] => format!(", assuming {} and {last}", first.join(", ")),
    }
}

/// `put denied (identity-policy for s3:PutObject)`, `list allowed`, ...
pub(crate) fn operation_summary(operation: &OperationResult) -> String {
    let head = format!("{} {}", operation.operation, operation.verdict);
    match operation.verdict {
        Verdict::Allowed => head,
        Verdict::Denied => {
            let failing = operation.actions.iter().find_map(|action| {
                action
                    .links
                    .iter()
                    .find(|link| link.status == LinkStatus::Fail)
                    .map(|link| (action, link))
            });
            match failing {
                Some((action, link)) => format!("{head} ({})", broken_words(action, link)),
                None => head,
            }
        }
        Verdict::Inconclusive => {
            let missing = missing_inputs(operation);
            if missing.is_empty() {
                head
            } else {
                format!("{head} ({})", missing.join("; "))
            }
        }
    }
}

/// `key-policy for kms:Decrypt, account 111111111111`: a failing link, the
/// action it fails for and, when the fix names one, the account that mends it.
fn broken_words(action: &ActionResult, link: &LinkResult) -> String {
    let mut text = format!("{} for {}", link.link, action.action);
    if let Some(words) = link
        .fix
        .as_ref()
        .and_then(|fix| account_words(&fix.account))
    {
        text.push_str(&format!(", {words}"));
    }
    text
}

/// `account 111111111111`, or `the organization's management account` for
/// an SCP or RCP whose management account the snapshot does not name; `None`
/// for other descriptions (`the bucket owner`), which the sentence around
/// them already says.
pub(crate) fn account_words(account: &str) -> Option<String> {
    if crate::policy::arn::is_account_id(account) {
        Some(format!("account {account}"))
    } else if account == crate::chain::proposal::MANAGEMENT_ACCOUNT {
        Some(account.to_string())
    } else {
        None
    }
}

/// What an inconclusive operation is waiting for, each once, in report
/// order: `aws:SourceVpce unknown: --context aws:SourceVpce=…` for a context
/// key, `identity-policy unknown: --principal-profile` for a document that
/// was not read (the flag is the first one its help names, if any).
fn missing_inputs(operation: &OperationResult) -> Vec<String> {
    let mut missing: Vec<String> = Vec::new();
    let mut push = |item: String| {
        if !missing.contains(&item) {
            missing.push(item);
        }
    };
    for link in operation
        .actions
        .iter()
        .flat_map(|action| action.links.iter())
        .filter(|link| link.status == LinkStatus::Unknown)
    {
        if link.unknown_keys.is_empty() {
            match link.help_text().as_deref().and_then(first_flag) {
                Some(flag) => push(format!("{} unknown: {flag}", link.link)),
                // AWS never shows a session's policies: the remedy is the
                // person's word on them, either way.
                None if link.link == crate::diagnosis::LinkId::SessionPolicy => push(format!(
                    "{} unknown: --assume session-policy=none or --session-policy FILE",
                    link.link
                )),
                None => push(format!("{} unknown", link.link)),
            }
        }
        for key in &link.unknown_keys {
            push(format!("{key} unknown: --context {key}=…"));
        }
    }
    missing
}

/// The first `` `--flag` `` a help sentence names.
fn first_flag(help: &str) -> Option<&str> {
    help.split('`')
        .skip(1)
        .step_by(2)
        .find(|quoted| quoted.starts_with("--"))
        .map(|quoted| quoted.split([' ', '=']).next().unwrap_or(quoted))
}

/// The first failing (else unknown) link of the report, as `key-policy
/// (kms:Decrypt)`, for one-line messages.
pub fn first_broken_words(diagnosis: &Diagnosis) -> Option<String> {
    first_broken(diagnosis).map(|(action, link)| {
        let mut text = format!("{} ({})", link.link, action.action);
        if link.status == LinkStatus::Unknown {
            text.push_str(" unknown");
            if !link.unknown_keys.is_empty() {
                text.push_str(&format!(": {}", link.unknown_keys.join(", ")));
            }
        }
        text
    })
}

/// The one line `--expect` prints on stderr when the verdict is not the
/// expected one (`expected allowed, got denied: key-policy (kms:Decrypt)`);
/// `None` when it is.
pub fn expect_mismatch(diagnosis: &Diagnosis, expected: Verdict) -> Option<String> {
    if diagnosis.verdict == expected {
        return None;
    }
    let mut line = format!("expected {expected}, got {}", diagnosis.verdict);
    if let Some(broken) = first_broken_words(diagnosis) {
        line.push_str(&format!(": {broken}"));
    }
    Some(line)
}

#[cfg(test)]
mod tests;

/// Where a change is made: `key-policy of `arn...``, with the principal,
/// the inline policy, the group or the attachment point, and the statement
/// for removals and edits.
pub(crate) fn target_text(target: &crate::diagnosis::FixTarget) -> String {
    let mut text = format!("{} of `{}`", target.kind, target.resource);
    if let Some(group) = &target.group {
        text = format!("{} of group `{group}`", target.kind);
    }
    if let Some(name) = &target.policy_name {
        text.push_str(&format!(", policy `{name}`"));
    }
    if let Some(principal) = &target.principal
        && *principal != target.resource
    {
        text.push_str(&format!(", of `{principal}`"));
    }
    if let Some(attached) = &target.attached_to {
        text.push_str(&format!(", attached to {attached}"));
    }
    if let Some(statement) = target.statement {
        text.push_str(&format!(", statement {statement}"));
        if let Some(sid) = &target.sid {
            text.push_str(&format!(" (`{sid}`)"));
        }
    }
    match account_words(&target.account) {
        Some(words) => text.push_str(&format!(", {words}")),
        None => text.push_str(&format!(", account {}", target.account)),
    }
    text
}

/// Before a change's first line: `either this or change 2: ` for a change
/// with an alternative, `or, instead of change 1: ` for the alternative,
/// else nothing. Either one mends what it is for; the re-check and
/// `apply.sh` take the first.
pub(crate) fn alternative_lead(diagnosis: &Diagnosis, index: usize) -> String {
    if let Some(first) = diagnosis
        .changes
        .get(index)
        .and_then(|fix| fix.alternative_to)
    {
        return format!("or, instead of change {}: ", first + 1);
    }
    let others: Vec<usize> = diagnosis
        .changes
        .iter()
        .enumerate()
        .filter(|(_, fix)| fix.alternative_to == Some(index))
        .map(|(other, _)| other)
        .collect();
    if others.is_empty() {
        String::new()
    } else {
        format!("either this or {}: ", change_numbers(&others))
    }
}

/// The re-check of the alternatives: `alternatively, after changes 2, 4:
/// allowed`.
pub(crate) fn alternative_headline(recheck: &crate::diagnosis::Recheck) -> String {
    format!("alternatively, {}", recheck_headline(recheck))
}

/// 1-based change numbers as a person writes them: `1`, `1–3`, `1, 3`.
pub(crate) fn change_numbers(indexes: &[usize]) -> String {
    let mut numbers: Vec<usize> = indexes.iter().map(|index| index + 1).collect();
    numbers.sort_unstable();
    numbers.dedup();
    let contiguous = numbers.windows(2).all(|pair| pair[1] == pair[0] + 1);
    match numbers.as_slice() {
        [] => String::new(),
        [one] => format!("change {one}"),
        [first, .., last] if contiguous => format!("changes {first}–{last}"),
        many => format!(
            "changes {}",
            many.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The re-check in one line: `after change 1: allowed`.
pub(crate) fn recheck_headline(recheck: &crate::diagnosis::Recheck) -> String {
    if recheck.applied.is_empty() {
        return format!(
            "no change is a document the tool can apply; judged again as is: {}",
            recheck.verdict
        );
    }
    format!(
        "after {}: {}",
        change_numbers(&recheck.applied),
        recheck.verdict
    )
}

/// Why a link is still not passing after the re-check, in one line.
pub(crate) fn remaining_text(
    diagnosis: &Diagnosis,
    remaining: &crate::diagnosis::Remaining,
) -> String {
    let why = match remaining.change {
        Some(index)
            if diagnosis
                .recheck
                .as_ref()
                .is_some_and(|recheck| recheck.not_applied.contains(&index)) =>
        {
            format!(
                " (change {} is not a document change: make it by hand)",
                index + 1
            )
        }
        Some(index) => format!(" (change {} did not mend it)", index + 1),
        None => String::new(),
    };
    format!(
        "{} {} {} {}: {}{why}",
        remaining.operation,
        remaining.action,
        remaining.link,
        remaining.status.as_str(),
        remaining.reason
    )
}

// ---------------------------------------------------------------------------
// `explain`, rendered beside the check report.

/// `explain` for a terminal; `color` adds ANSI styling.
pub fn render_explanation_text(
    explanation: &crate::explain::Explanation,
    out: &mut dyn std::io::Write,
    color: bool,
) -> std::io::Result<()> {
    explain_text::render(explanation, out, color)
}

/// `explain` as a Markdown document, for a ticket.
pub fn render_explanation_markdown(
    explanation: &crate::explain::Explanation,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    explain_markdown::render(explanation, out)
}

/// `explain` as JSON (`kms-s3-doctor/explain@1`), pretty-printed.
pub fn render_explanation_json(explanation: &crate::explain::Explanation) -> String {
    explain_json::render(explanation)
}

/// The facts a message gave, labelled, in the order both human renderers
/// show them.
fn explain_fields(explanation: &crate::explain::Explanation) -> Vec<(&'static str, String)> {
    let deny = explanation
        .deny
        .map(|deny| explain_text::deny_words(deny).to_string());
    let policy = explanation
        .policy_type
        .map(|policy| policy.as_str().to_string());
    [
        ("principal", explanation.principal.clone()),
        ("role", explanation.role.clone()),
        ("action", explanation.action.clone()),
        ("resource", explanation.resource.clone()),
        ("bucket", explanation.bucket.clone()),
        ("object", explanation.object.clone()),
        ("operation", explanation.api_operation.clone()),
        ("code", explanation.error_code.clone()),
        ("policy", policy),
        ("deny", deny),
        ("named", explanation.policy_arn.clone()),
        ("request id", explanation.request_id.clone()),
        ("printed by", explanation.printed_by.clone()),
    ]
    .into_iter()
    .filter_map(|(label, value)| value.map(|value| (label, value)))
    .collect()
}

/// Where a Terraform edit is made, as the text and Markdown reports say it.
fn terraform_place(edit: &crate::diagnosis::TerraformEdit) -> String {
    match &edit.data_source {
        Some(data) => format!(
            "edit `{data}` (read by `{}` as `{}`)",
            edit.address, edit.attribute
        ),
        None => format!("edit `{}`, argument `{}`", edit.address, edit.attribute),
    }
}

mod who_can;
pub use who_can::{
    WHO_CAN_FORMAT, WhoCanRowV1, WhoCanV1, listing_order, render_who_can_csv, render_who_can_dot,
    render_who_can_json, render_who_can_markdown, render_who_can_text, standing, who_can_v1,
};
