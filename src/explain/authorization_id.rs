//! The authorization ID of IAM Access Troubleshooter in a pasted message:
//! AWS's own record of the denied request, which `check --authorization-id`
//! (and `explain --fetch`) reads. The forms are the IAM User Guide's
//! ("Troubleshoot access denied error messages with authorization ID"):
//! the message ends "Go to
//! https://us-east-1.console.aws.amazon.com/iam/home?region=us-east-1#/authorization-details/ID
//! for complete details, or call the GetRequestAuthorizationDetails API
//! with the following authorization id: ID"; the console link alone is
//! read too.

use super::{Explanation, MessageKind};
use crate::event::authorization::check_authorization_id;
use crate::report::escape_control;

/// An authorization ID found in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundId {
    pub id: String,
    /// The console link's `region=` (AWS keeps the details in the region
    /// of the denial).
    pub region: Option<String>,
}

const CONSOLE_FRAGMENT: &str = "#/authorization-details/";
const API_PHRASE: &str = "authorization id:";

fn id_at(text: &str) -> Option<String> {
    let id: String = text
        .trim_start()
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    (!id.is_empty()).then_some(id)
}

/// The `region=` of the console link ending at `fragment_at`.
fn region_before(message: &str, fragment_at: usize) -> Option<String> {
    let start = message[..fragment_at]
        .rfind(|c: char| c.is_whitespace())
        .map_or(0, |at| at + 1);
    let link = &message[start..fragment_at];
    let query = link.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let value = pair.strip_prefix("region=")?;
        let region: String = value
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
            .collect();
        (!region.is_empty()).then_some(region)
    })
}

/// The authorization ID of `message`, from the API sentence or the console
/// link (the same ID in both where both are given).
pub fn find(message: &str) -> Option<FoundId> {
    let lowered = message.to_ascii_lowercase();
    let from_link = lowered.find(CONSOLE_FRAGMENT).and_then(|at| {
        let id = id_at(&message[at + CONSOLE_FRAGMENT.len()..])?;
        Some(FoundId {
            id,
            region: region_before(message, at),
        })
    });
    let from_sentence = lowered
        .find(API_PHRASE)
        .and_then(|at| id_at(&message[at + API_PHRASE.len()..]));
    match (from_sentence, from_link) {
        (Some(id), Some(link)) => Some(FoundId {
            id,
            region: link.region,
        }),
        (Some(id), None) => Some(FoundId { id, region: None }),
        (None, link) => link,
    }
}

/// The command that judges the request from AWS's record.
pub fn command(found: &FoundId) -> String {
    let region = found
        .region
        .as_deref()
        .map(|region| format!(" --region {region}"))
        .unwrap_or_default();
    format!(
        "kms-s3-doctor check --authorization-id {}{region}",
        escape_control(&found.id)
    )
}

/// Adds what an authorization ID in the message offers: the first next
/// step, and the command when the message gave none. A text that is only
/// the ID or the console link is recognised for it.
pub(super) fn annotate(message: &str, explanation: &mut Explanation) {
    let Some(found) = find(message) else {
        return;
    };
    let command = command(&found);
    let shown = escape_control(&found.id).into_owned();
    let judged_here = explanation.action.as_deref().is_none_or(|action| {
        let lowered = action.to_ascii_lowercase();
        lowered.starts_with("s3:") || lowered.starts_with("kms:")
    });
    let step = if !judged_here {
        format!(
            "AWS recorded its own evaluation of this request (authorization ID `{shown}`): open the console link, or call GetRequestAuthorizationDetails; the tool judges S3 requests and S3's calls to KMS only"
        )
    } else if let Err(problem) = check_authorization_id(&found.id) {
        format!(
            "the text names authorization ID `{shown}`, but {}: AWS's IDs are lowercase letters and digits (the documentation's `EXAMPLE...` is a placeholder)",
            problem.trim_start_matches("--authorization-id: ")
        )
    } else {
        format!(
            "AWS recorded its own evaluation of this request (IAM Access Troubleshooter, authorization ID `{shown}`, kept at least 24 hours): run `{command}` to judge the chain with AWS's request context and compare, or `kms-s3-doctor explain --fetch` with this message"
        )
    };
    explanation.next_steps.insert(0, step);
    if !explanation.recognised {
        explanation.recognised = true;
        explanation.kind = MessageKind::AuthorizationId;
        explanation.summary = "the text carries an IAM Access Troubleshooter authorization ID: AWS's own record of the denied request, with its request context and the policies it evaluated".to_string();
    }
    if judged_here && check_authorization_id(&found.id).is_ok() && explanation.command.is_none() {
        explanation.command = Some(command);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// IAM User Guide, "Troubleshoot access denied error messages with
    /// authorization ID": the example message, with its console link and
    /// API sentence (the ID here in the documented lowercase form).
    const DOCUMENTED: &str = "User: arn:aws:iam::123456789012:user/janedoe is not authorized to perform: iam:CreateInstanceProfile on resource: arn:aws:iam::123456789012:instance-profile/my-instance-profile with an explicit deny in an identity-based policy: arn:aws:iam::123456789012:policy/ExampleDenyPolicy. Go to https://us-east-1.console.aws.amazon.com/iam/home?region=us-east-1#/authorization-details/3kq9x0b7c2d4e6f8g1h5 for complete details, or call the GetRequestAuthorizationDetails API with the following authorization id: 3kq9x0b7c2d4e6f8g1h5";

    #[test]
    fn the_documented_message_gives_the_id_and_region() {
        assert_eq!(
            find(DOCUMENTED),
            Some(FoundId {
                id: "3kq9x0b7c2d4e6f8g1h5".to_string(),
                region: Some("us-east-1".to_string()),
            })
        );
    }

    #[test]
    fn the_console_link_alone_gives_the_id() {
        let found = find(
            "https://eu-west-1.console.aws.amazon.com/iam/home?region=eu-west-1#/authorization-details/abc123",
        )
        .unwrap();
        assert_eq!(found.id, "abc123");
        assert_eq!(found.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            command(&found),
            "kms-s3-doctor check --authorization-id abc123 --region eu-west-1"
        );
    }

    #[test]
    fn the_api_sentence_alone_gives_the_id_across_a_line_break() {
        let found = find(
            "Access Denied. Call the GetRequestAuthorizationDetails API with the following authorization id:\n  zz9a0",
        )
        .unwrap();
        assert_eq!(found.id, "zz9a0");
        assert_eq!(found.region, None);
    }

    #[test]
    fn a_message_without_an_id_gives_none() {
        assert_eq!(
            find(
                "An error occurred (AccessDenied) when calling the GetObject operation: Access Denied"
            ),
            None
        );
        assert_eq!(find("authorization id: "), None);
        assert_eq!(find("#/authorization-details/"), None);
    }

    #[test]
    fn an_s3_message_with_an_id_suggests_the_authorization_check() {
        let message = "User: arn:aws:iam::222222222222:user/dilip is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::b/k\" because no identity-based policy allows the s3:GetObject action. Go to https://us-east-1.console.aws.amazon.com/iam/home?region=us-east-1#/authorization-details/a1b2c3 for complete details, or call the GetRequestAuthorizationDetails API with the following authorization id: a1b2c3";
        let explanation = crate::explain::explain(message);
        assert!(explanation.recognised);
        assert!(
            explanation.next_steps[0]
                .contains("kms-s3-doctor check --authorization-id a1b2c3 --region us-east-1"),
            "{:?}",
            explanation.next_steps
        );
    }

    #[test]
    fn a_link_alone_is_recognised_for_its_id() {
        let explanation = crate::explain::explain(
            "https://us-east-1.console.aws.amazon.com/iam/home?region=us-east-1#/authorization-details/a1b2c3",
        );
        assert!(explanation.recognised);
        assert_eq!(explanation.kind, MessageKind::AuthorizationId);
        assert_eq!(
            explanation.command.as_deref(),
            Some("kms-s3-doctor check --authorization-id a1b2c3 --region us-east-1")
        );
    }

    #[test]
    fn the_documentations_placeholder_is_flagged_not_suggested() {
        let explanation = crate::explain::explain(
            "Go to https://us-east-1.console.aws.amazon.com/iam/home?region=us-east-1#/authorization-details/EXAMPLE1a2b3c4d5e6f7g8h9i0j for complete details",
        );
        assert!(explanation.next_steps[0].contains("placeholder"));
    }

    #[test]
    fn a_non_s3_action_is_not_sent_to_check() {
        let explanation = crate::explain::explain(DOCUMENTED);
        assert!(explanation.next_steps[0].contains("S3 requests"));
        assert!(
            !explanation
                .command
                .as_deref()
                .unwrap_or_default()
                .contains("--authorization-id")
        );
    }
}
