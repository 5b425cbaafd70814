//! `aws_evaluation`: AWS's own evaluation of a denied request (IAM Access
//! Troubleshooter) beside the tool's, action by action — the frozen JSON
//! types of the report's field and the short side-by-side section of the
//! text and Markdown reports. Every string AWS sent is escaped before it
//! reaches a terminal.

use std::io::Write;

use serde::{Deserialize, Serialize};

use super::escape::escape_control;
use super::json::VerdictV1;
use crate::event::authorization::{ActionComparison, Comparison, MatchedView, ToolSide};

/// The report's `aws_evaluation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AwsEvaluationV1 {
    pub authorization_id: String,
    /// One entry per action AWS evaluated.
    pub actions: Vec<AwsActionV1>,
    /// Actions the tool judged that AWS's details do not evaluate (S3's
    /// call to KMS is authorized as a separate request), tool side only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_evaluated_by_aws: Vec<ToolSideV1>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AwsActionV1 {
    pub action: String,
    pub resource: String,
    pub aws: AwsSideV1,
    /// `null`: the tool judged no such action for the operations checked.
    pub tool: Option<ToolSideV1>,
    /// `agree` or `differ`.
    pub agreement: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AwsSideV1 {
    /// `ALLOW`, `EXPLICIT_DENY` or `IMPLICIT_DENY`, as AWS wrote it.
    pub effect: String,
    pub matched_statements: Vec<MatchedStatementV1>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchedStatementV1 {
    /// The policy's URI: a managed policy's ARN, else AWS's identifier.
    pub policy: String,
    pub policy_type: Option<String>,
    pub sid: Option<String>,
    /// `ALLOW` or `DENY`.
    pub effect: String,
    /// The link of the tool's chain the policy belongs to; `null` for a
    /// policy the tool does not judge.
    pub link: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSideV1 {
    pub action: String,
    pub resource: String,
    pub verdict: VerdictV1,
    /// The failing link (an unknown one when inconclusive); `null` when
    /// allowed.
    pub link: Option<String>,
}

impl From<&ToolSide> for ToolSideV1 {
    fn from(side: &ToolSide) -> Self {
        Self {
            action: side.action.clone(),
            resource: side.resource.clone(),
            verdict: side.verdict.into(),
            link: side.link.map(|link| link.as_str().to_string()),
        }
    }
}

impl From<&MatchedView> for MatchedStatementV1 {
    fn from(view: &MatchedView) -> Self {
        Self {
            policy: view.policy.clone(),
            policy_type: view.policy_type.clone(),
            sid: view.sid.clone(),
            effect: view.effect.clone(),
            link: view.link.map(|link| link.as_str().to_string()),
        }
    }
}

impl From<&ActionComparison> for AwsActionV1 {
    fn from(compared: &ActionComparison) -> Self {
        Self {
            action: compared.action.clone(),
            resource: compared.resource.clone(),
            aws: AwsSideV1 {
                effect: compared.aws_effect.clone(),
                matched_statements: compared.matched.iter().map(Into::into).collect(),
            },
            tool: compared.tool.as_ref().map(Into::into),
            agreement: compared.agreement.as_str().to_string(),
            note: compared.note.clone(),
        }
    }
}

impl From<&Comparison> for AwsEvaluationV1 {
    fn from(comparison: &Comparison) -> Self {
        Self {
            authorization_id: comparison.authorization_id.clone(),
            actions: comparison.actions.iter().map(Into::into).collect(),
            not_evaluated_by_aws: comparison.not_covered.iter().map(Into::into).collect(),
            note: comparison.not_covered_note.clone(),
        }
    }
}

fn aws_words(effect: &str) -> &str {
    match effect {
        "ALLOW" => "allowed",
        "EXPLICIT_DENY" => "denied (explicit deny)",
        "IMPLICIT_DENY" => "denied (no statement allows)",
        other => other,
    }
}

fn statement_words(view: &MatchedView) -> String {
    let sid = view
        .sid
        .as_deref()
        .map(|sid| format!("statement `{}`", escape_control(sid)))
        .unwrap_or_else(|| "a statement without Sid".to_string());
    let kind = view
        .policy_type
        .as_deref()
        .map(|kind| format!("{} ", escape_control(kind)))
        .unwrap_or_default();
    let link = view
        .link
        .map(|link| format!(" [{}]", link.as_str()))
        .unwrap_or_default();
    format!(
        "{} {sid} of {kind}`{}`{link}",
        escape_control(&view.effect),
        escape_control(&view.policy)
    )
}

fn tool_words(side: Option<&ToolSide>) -> String {
    match side {
        None => "not judged".to_string(),
        Some(side) => match side.link {
            Some(link) => format!("{} ({})", side.verdict.as_str(), link.as_str()),
            None => side.verdict.as_str().to_string(),
        },
    }
}

/// The text section, after the report.
pub(super) fn render_text(comparison: &Comparison, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "AWS's evaluation (authorization ID {}) beside the tool's:",
        escape_control(&comparison.authorization_id)
    )?;
    for compared in &comparison.actions {
        writeln!(
            out,
            "  {} on {}: {}",
            escape_control(&compared.action),
            escape_control(&compared.resource),
            compared.agreement.as_str()
        )?;
        writeln!(out, "    AWS:  {}", aws_words(&compared.aws_effect))?;
        for view in &compared.matched {
            writeln!(out, "          {}", statement_words(view))?;
        }
        writeln!(out, "    tool: {}", tool_words(compared.tool.as_ref()))?;
        if let Some(note) = &compared.note {
            writeln!(out, "    note: {note}")?;
        }
    }
    if !comparison.not_covered.is_empty() {
        if let Some(note) = &comparison.not_covered_note {
            writeln!(out, "  {note}:")?;
        } else {
            writeln!(out, "  not in AWS's details:")?;
        }
        for side in &comparison.not_covered {
            writeln!(
                out,
                "    {} on {}: tool {}",
                side.action,
                side.resource,
                tool_words(Some(side))
            )?;
        }
    }
    Ok(())
}

/// The Markdown section, after the report.
pub(super) fn render_markdown(comparison: &Comparison, out: &mut dyn Write) -> std::io::Result<()> {
    let cell = |text: &str| escape_control(text).replace('|', "\\|");
    writeln!(out)?;
    writeln!(
        out,
        "## AWS's evaluation (authorization ID `{}`)\n",
        cell(&comparison.authorization_id)
    )?;
    writeln!(
        out,
        "| action | resource | AWS | matched statements | tool | |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|")?;
    for compared in &comparison.actions {
        let statements: Vec<String> = compared
            .matched
            .iter()
            .map(|view| cell(&statement_words(view)))
            .collect();
        writeln!(
            out,
            "| `{}` | `{}` | {} | {} | {} | {} |",
            cell(&compared.action),
            cell(&compared.resource),
            aws_words(&compared.aws_effect),
            if statements.is_empty() {
                "—".to_string()
            } else {
                statements.join("<br>")
            },
            tool_words(compared.tool.as_ref()),
            match &compared.note {
                Some(note) => format!("{} — {}", compared.agreement.as_str(), cell(note)),
                None => compared.agreement.as_str().to_string(),
            }
        )?;
    }
    if !comparison.not_covered.is_empty() {
        writeln!(out)?;
        if let Some(note) = &comparison.not_covered_note {
            writeln!(out, "{note}:\n")?;
        }
        for side in &comparison.not_covered {
            writeln!(
                out,
                "- `{}` on `{}`: tool {}",
                cell(&side.action),
                cell(&side.resource),
                tool_words(Some(side))
            )?;
        }
    }
    Ok(())
}
