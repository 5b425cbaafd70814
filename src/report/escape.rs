//! Control characters out of human-facing reports. `Sid`s, policy names,
//! object keys and ARNs come from documents anyone with write access can
//! edit; printed verbatim, an escape sequence in one could recolour,
//! rewrite or hide lines of the report in the reader's terminal (a fake
//! "allowed"), and a newline could add lines that look like the tool's. The
//! JSON report already escapes them; the text and Markdown reports go through
//! [`escaped_diagnosis`] first. Also the two other escapes of text the tool
//! writes for something else to read: a word of a shell command (the
//! commands fixes print and `apply.sh` runs, the `check` that `explain`
//! suggests) and a Markdown table cell.

use std::borrow::Cow;

use crate::diagnosis::{Diagnosis, Evidence, Fix, LinkResult};

/// Characters a terminal or editor acts on rather than shows: every Unicode
/// control character (C0 with newline and tab, DEL, C1 such as the one-byte
/// CSI U+009B) and the bidirectional overrides and isolates, which reorder
/// what is shown ("Trojan Source").
fn is_hostile(character: char) -> bool {
    character.is_control() || matches!(character, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// One word for a POSIX shell, quoted when it needs it. `&&` between
/// commands stays bare.
pub fn shell_word(word: &str) -> String {
    if word == "&&" {
        return word.to_string();
    }
    shlex::try_quote(word)
        .map(|quoted| quoted.into_owned())
        // A NUL byte cannot be passed to a command at all; say so in place.
        .unwrap_or_else(|_| "<word with a NUL byte>".to_string())
}

/// Text safe inside a Markdown table cell: no line breaks, pipes escaped.
pub(crate) fn markdown_cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// `text` with every hostile character written as `\u{1b}`; borrowed when
/// there is none (the common case).
pub fn escape_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hostile) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for character in text.chars() {
        if is_hostile(character) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(character)));
        } else {
            out.push(character);
        }
    }
    Cow::Owned(out)
}

fn escape_in_place(text: &mut String) {
    if let Cow::Owned(escaped) = escape_control(text) {
        *text = escaped;
    }
}

/// JSON text (a statement to paste) with the hostile characters serde_json
/// leaves raw (DEL, C1, bidi controls; it escapes only C0) written as JSON
/// `\uXXXX` escapes: they can only occur inside strings, so the document
/// means the same, and its structural newlines stay.
pub fn escape_json_text(text: &str) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| is_hostile(c) && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for character in text.chars() {
        if is_hostile(character) && !matches!(character, '\n' | '\r' | '\t') {
            out.push_str(&format!("\\u{:04x}", u32::from(character)));
        } else {
            out.push(character);
        }
    }
    Cow::Owned(out)
}

/// A copy of the diagnosis with every string that can carry user input
/// escaped. A new string field of the diagnosis must be added here.
pub fn escaped_diagnosis(diagnosis: &Diagnosis) -> Diagnosis {
    let mut copy = diagnosis.clone();
    escape_in_place(&mut copy.principal);
    if let Some(role) = &mut copy.via_role {
        escape_in_place(role);
    }
    escape_in_place(&mut copy.bucket);
    escape_in_place(&mut copy.object);
    copy.notes.iter_mut().for_each(escape_in_place);
    copy.changes.iter_mut().for_each(escape_fix);
    for assumption in &mut copy.assumptions {
        escape_in_place(&mut assumption.assumption);
        assumption.statements.iter_mut().for_each(escape_in_place);
    }
    if let Some(recheck) = &mut copy.recheck {
        for remaining in &mut recheck.remaining {
            escape_in_place(&mut remaining.action);
            escape_in_place(&mut remaining.reason);
        }
    }
    for operation in &mut copy.operations {
        for action in &mut operation.actions {
            escape_in_place(&mut action.action);
            escape_in_place(&mut action.resource);
            action.links.iter_mut().for_each(escape_link);
        }
    }
    copy
}

fn escape_link(link: &mut LinkResult) {
    escape_in_place(&mut link.reason);
    link.evidence.iter_mut().for_each(escape_evidence);
    if let Some(fix) = &mut link.fix {
        escape_fix(fix);
    }
    link.unknown_keys.iter_mut().for_each(escape_in_place);
    if let Some(help) = &mut link.help {
        escape_in_place(help);
    }
    if let Some(assumed) = &mut link.assumed {
        escape_in_place(assumed);
    }
    if let Some(layers) = &mut link.layers {
        layers.origins.iter_mut().for_each(escape_in_place);
        layers.pending_apply.iter_mut().for_each(escape_in_place);
    }
}

fn escape_evidence(evidence: &mut Evidence) {
    escape_in_place(&mut evidence.document);
    if let Some(sid) = &mut evidence.sid {
        escape_in_place(sid);
    }
    if let Some(at) = &mut evidence.file_position {
        escape_in_place(&mut at.file);
    }
    if let Some(note) = &mut evidence.note {
        escape_in_place(note);
    }
}

fn escape_fix(fix: &mut Fix) {
    escape_in_place(&mut fix.account);
    fix.edit_layers.iter_mut().for_each(escape_in_place);
    // Deny Sids come from documents anyone with write access can edit.
    fix.widens.iter_mut().for_each(escape_in_place);
    fix.flags.iter_mut().for_each(escape_in_place);
    escape_in_place(&mut fix.document);
    for text in [
        &mut fix.note,
        &mut fix.command,
        &mut fix.file,
        &mut fix.warning,
    ]
    .into_iter()
    .flatten()
    {
        escape_in_place(text);
    }
    if let Some(edit) = &mut fix.terraform {
        for text in [&mut edit.address, &mut edit.attribute, &mut edit.plan] {
            escape_in_place(text);
        }
        if let Some(data) = &mut edit.data_source {
            escape_in_place(data);
        }
        // Its own strings escape what they hold; the lines stay lines.
        if let Cow::Owned(escaped) = escape_json_text(&edit.hcl) {
            edit.hcl = escaped;
        }
    }
    if let Some(target) = &mut fix.target {
        escape_in_place(&mut target.resource);
        escape_in_place(&mut target.account);
        for text in [
            &mut target.principal,
            &mut target.policy_name,
            &mut target.group,
            &mut target.attached_to,
            &mut target.sid,
        ]
        .into_iter()
        .flatten()
        {
            escape_in_place(text);
        }
    }
    // The statement is printed as JSON through `escape_json_text`.
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_characters_are_shown_not_acted_on() {
        assert_eq!(escape_control("plain Sid"), "plain Sid");
        assert!(matches!(escape_control("plain"), Cow::Borrowed(_)));
        assert_eq!(escape_control("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(
            escape_control("line\nfake: allowed"),
            "line\\u{a}fake: allowed"
        );
        assert_eq!(escape_control("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(escape_control("x\u{7f}"), "x\\u{7f}");
        assert_eq!(escape_control("\u{202e}dilav"), "\\u{202e}dilav");
        assert_eq!(escape_control("é ü ✓"), "é ü ✓");
    }

    #[test]
    fn json_text_keeps_its_meaning() {
        let value = serde_json::json!({"Sid": "a\u{9b}b\u{1b}c"});
        let pretty = serde_json::to_string_pretty(&value).unwrap_or_default();
        let escaped = escape_json_text(&pretty);
        assert!(!escaped.chars().any(|c| c == '\u{9b}' || c == '\u{1b}'));
        let back: serde_json::Value = serde_json::from_str(&escaped).unwrap_or_default();
        assert_eq!(back, value);
    }
}
