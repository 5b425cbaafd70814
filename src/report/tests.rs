//! Snapshot tests of the three renderers over hand-built diagnoses, and a
//! read-back of the JSON through its frozen types.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;

use super::*;
use crate::diagnosis::{
    ActionResult, Diagnosis, Evidence, EvidenceRole, Fix, FixChange, LinkId, LinkResult,
    LinkStatus, Operation, OperationResult, Verdict,
};

const USER: &str = "arn:aws:iam::222222222222:user/dilip";
const KEY: &str = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const BUCKET: &str = "account-a-bucket";

fn evidence(
    document: &str,
    statement: Option<usize>,
    sid: Option<&str>,
    line: Option<usize>,
    role: EvidenceRole,
) -> Evidence {
    Evidence {
        document: document.to_string(),
        doc: None,
        statement,
        sid: sid.map(str::to_string),
        line,
        role,
        file_position: None,
        note: None,
    }
}

fn pass(link: LinkId, reason: &str, evidence: Vec<Evidence>) -> LinkResult {
    LinkResult {
        link,
        status: LinkStatus::Pass,
        reason: reason.to_string(),
        evidence,
        fix: None,
        unknown_keys: Vec::new(),
        help: None,
        change: None,
        assumed: None,
        layers: None,
    }
}

fn action(action: &str, resource: &str, links: Vec<LinkResult>) -> ActionResult {
    ActionResult {
        action: action.to_string(),
        resource: resource.to_string(),
        verdict: ActionResult::verdict_of(&links),
        links,
    }
}

fn operation(operation: Operation, actions: Vec<ActionResult>) -> OperationResult {
    OperationResult {
        operation,
        verdict: actions
            .iter()
            .map(|action| action.verdict)
            .max()
            .unwrap_or(Verdict::Allowed),
        actions,
    }
}

fn diagnosis(
    principal: &str,
    via_role: Option<&str>,
    object: Option<&str>,
    operations: Vec<OperationResult>,
    notes: Vec<&str>,
) -> Diagnosis {
    let mut operations = operations;
    let changes = crate::fixes::merge_changes(&mut operations);
    Diagnosis {
        principal: principal.to_string(),
        via_role: via_role.map(str::to_string),
        bucket: BUCKET.to_string(),
        object: object.unwrap_or("kms-s3-doctor-probe").to_string(),
        object_is_placeholder: object.is_none(),
        verdict: operations
            .iter()
            .map(|operation| operation.verdict)
            .max()
            .unwrap_or(Verdict::Allowed),
        operations,
        notes: notes.into_iter().map(str::to_string).collect(),
        changes,
        assumptions: Vec::new(),
        recheck: None,
    }
}

fn identity_allows() -> LinkResult {
    pass(
        LinkId::IdentityPolicy,
        "inline policy `access-account-a-bucket` of `arn:aws:iam::222222222222:user/dilip` allows it",
        vec![evidence(
            "inline policy `access-account-a-bucket` of `arn:aws:iam::222222222222:user/dilip`",
            Some(0),
            Some("ReadWriteAccountABucket"),
            Some(4),
            EvidenceRole::Allows,
        )],
    )
}

fn bucket_allows() -> LinkResult {
    pass(
        LinkId::BucketPolicy,
        "the bucket policy allows account 222222222222",
        vec![evidence(
            "bucket policy of `account-a-bucket`",
            Some(0),
            Some("AccountBReadWrite"),
            Some(5),
            EvidenceRole::Allows,
        )],
    )
}

/// Cross-account GetObject denied at the key policy, with a fix.
fn cross_account_denied() -> Diagnosis {
    let object_arn = "arn:aws:s3:::account-a-bucket/reports/data.csv";
    let key_policy = "key policy of `arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab`";
    let key_state = pass(
        LinkId::KeyState,
        "the key is `Enabled` and customer managed",
        vec![],
    );
    let key_policy_fail = LinkResult {
        link: LinkId::KeyPolicy,
        status: LinkStatus::Fail,
        reason: "no statement of the key policy allows `arn:aws:iam::222222222222:user/dilip` or account 222222222222 to use `kms:Decrypt`".to_string(),
        evidence: vec![
            evidence(key_policy, Some(0), Some("Enable IAM User Permissions"), Some(4), EvidenceRole::Context),
            evidence(key_policy, Some(1), Some("Allow use of the key"), Some(10), EvidenceRole::Context),
        ],
        fix: Some(Box::new(Fix {
            account: "111111111111".to_string(),
            change: FixChange::AddStatement,
            document: "key-policy".to_string(),
            statement: Some(json!({
                "Sid": "AllowAccount222222222222Decrypt",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::222222222222:root"},
                "Action": ["kms:Decrypt"],
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}
            })),
            note: Some("account 222222222222 must also allow `kms:Decrypt` on the key in the caller's identity policy".to_string()),
            ..Default::default()
        })),
        unknown_keys: Vec::new(),
        help: None,
        change: None,
        assumed: None,
        layers: None,
    };
    let key_identity = pass(
        LinkId::IdentityPolicy,
        "inline policy `use-account-a-key` allows it",
        vec![evidence(
            "inline policy `use-account-a-key` of `arn:aws:iam::222222222222:user/dilip`",
            Some(0),
            None,
            Some(3),
            EvidenceRole::Allows,
        )],
    );
    let key_policy_pass = pass(
        LinkId::KeyPolicy,
        "statement `Allow use of the key` allows account 222222222222",
        vec![evidence(
            key_policy,
            Some(1),
            Some("Allow use of the key"),
            Some(10),
            EvidenceRole::Allows,
        )],
    );
    let ownership = pass(
        LinkId::ObjectOwnership,
        "the bucket owner enforces object ownership",
        vec![],
    );
    diagnosis(
        USER,
        None,
        Some("reports/data.csv"),
        vec![
            operation(
                Operation::List,
                vec![action(
                    "s3:ListBucket",
                    "arn:aws:s3:::account-a-bucket",
                    vec![identity_allows(), bucket_allows()],
                )],
            ),
            operation(
                Operation::Get,
                vec![
                    action(
                        "s3:GetObject",
                        object_arn,
                        vec![identity_allows(), bucket_allows(), ownership],
                    ),
                    action(
                        "kms:Decrypt",
                        KEY,
                        vec![key_identity.clone(), key_policy_fail, key_state.clone()],
                    ),
                ],
            ),
            operation(
                Operation::Put,
                vec![
                    action(
                        "s3:PutObject",
                        object_arn,
                        vec![identity_allows(), bucket_allows()],
                    ),
                    action(
                        "kms:GenerateDataKey",
                        KEY,
                        vec![
                            key_identity,
                            key_policy_pass,
                            pass(
                                LinkId::BucketEncryption,
                                "the default encryption names the key by its ARN",
                                vec![],
                            ),
                            key_state,
                        ],
                    ),
                ],
            ),
        ],
        vec![],
    )
}

/// Nothing denied for sure: the principal's IAM documents were unreadable
/// and the bucket policy hangs on `aws:SourceVpce`.
fn inconclusive() -> Diagnosis {
    let principal = "arn:aws:sts::222222222222:assumed-role/etl/i-0abc123";
    let identity_unknown = LinkResult {
        link: LinkId::IdentityPolicy,
        status: LinkStatus::Unknown,
        reason: "the identity policies of `arn:aws:iam::222222222222:role/etl` could not be read (AccessDenied on iam:ListRolePolicies)".to_string(),
        evidence: vec![],
        fix: None,
        unknown_keys: Vec::new(),
        help: Some("read them with `--principal-profile` for account 222222222222".to_string()),
        change: None,
        assumed: None,
        layers: None,
    };
    let bucket_unknown = LinkResult {
        link: LinkId::BucketPolicy,
        status: LinkStatus::Unknown,
        reason: "statement `DenyOutsideVpce` denies unless the request comes through a listed VPC endpoint, which is not known".to_string(),
        evidence: vec![evidence(
            "bucket policy of `account-a-bucket`",
            Some(2),
            Some("DenyOutsideVpce"),
            Some(21),
            EvidenceRole::MayApply,
        )],
        fix: None,
        unknown_keys: vec!["aws:SourceVpce".to_string()],
        help: Some("pass `--context aws:SourceVpce=vpce-...` with the endpoint the caller uses".to_string()),
        change: None,
        assumed: None,
        layers: None,
    };
    diagnosis(
        principal,
        None,
        None,
        vec![
            operation(
                Operation::List,
                vec![action(
                    "s3:ListBucket",
                    "arn:aws:s3:::account-a-bucket",
                    vec![identity_unknown.clone(), bucket_allows()],
                )],
            ),
            operation(
                Operation::Get,
                vec![action(
                    "s3:GetObject",
                    "arn:aws:s3:::account-a-bucket/kms-s3-doctor-probe",
                    vec![identity_unknown, bucket_unknown],
                )],
            ),
        ],
        vec![
            "no `--object` given: object-level actions were checked for the placeholder key `kms-s3-doctor-probe`; policies scoped to a prefix can judge the real object differently",
        ],
    )
}

/// Everything allowed, through `--via-role`.
fn all_allowed() -> Diagnosis {
    let role = "arn:aws:iam::111111111111:role/reader";
    let trust = pass(
        LinkId::TrustPolicy,
        "the trust policy allows account 222222222222 with the external id",
        vec![evidence(
            "trust policy of `arn:aws:iam::111111111111:role/reader`",
            Some(0),
            None,
            Some(3),
            EvidenceRole::Allows,
        )],
    );
    let assume_identity = pass(
        LinkId::IdentityPolicy,
        "inline policy `assume-reader` allows it",
        vec![evidence(
            "inline policy `assume-reader` of `arn:aws:iam::222222222222:user/dilip`",
            Some(0),
            None,
            Some(3),
            EvidenceRole::Allows,
        )],
    );
    let role_identity = pass(
        LinkId::IdentityPolicy,
        "managed policy `reader-s3` allows it",
        vec![
            evidence(
                "managed policy `arn:aws:iam::111111111111:policy/reader-s3`",
                Some(0),
                Some("S3"),
                Some(4),
                EvidenceRole::Allows,
            ),
            evidence(
                "managed policy `arn:aws:iam::111111111111:policy/reader-s3`",
                Some(1),
                Some("Kms"),
                Some(9),
                EvidenceRole::Allows,
            ),
        ],
    );
    let assume = action("sts:AssumeRole", role, vec![assume_identity, trust]);
    diagnosis(
        USER,
        Some(role),
        Some("reports/data.csv"),
        vec![operation(
            Operation::Get,
            vec![
                assume,
                action(
                    "s3:GetObject",
                    "arn:aws:s3:::account-a-bucket/reports/data.csv",
                    vec![role_identity.clone()],
                ),
                action(
                    "kms:Decrypt",
                    KEY,
                    vec![
                        pass(
                            LinkId::KeyPolicy,
                            "the key policy allows the account, and IAM policies decide",
                            vec![],
                        ),
                        pass(
                            LinkId::KeyState,
                            "the key is `Enabled` and customer managed",
                            vec![],
                        ),
                    ],
                ),
            ],
        )],
        vec![],
    )
}

fn text(diagnosis: &Diagnosis) -> String {
    let mut out = Vec::new();
    render_text(diagnosis, &mut out, false).unwrap();
    String::from_utf8(out).unwrap()
}

fn markdown(diagnosis: &Diagnosis) -> String {
    let mut out = Vec::new();
    render_markdown(diagnosis, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn text_cross_account_denied() {
    insta::assert_snapshot!(text(&cross_account_denied()));
}

#[test]
fn text_inconclusive() {
    insta::assert_snapshot!(text(&inconclusive()));
}

#[test]
fn text_all_allowed() {
    insta::assert_snapshot!(text(&all_allowed()));
}

#[test]
fn markdown_cross_account_denied() {
    insta::assert_snapshot!(markdown(&cross_account_denied()));
}

#[test]
fn markdown_inconclusive() {
    insta::assert_snapshot!(markdown(&inconclusive()));
}

#[test]
fn markdown_all_allowed() {
    insta::assert_snapshot!(markdown(&all_allowed()));
}

#[test]
fn json_cross_account_denied() {
    insta::assert_snapshot!(render_json(&cross_account_denied()));
}

#[test]
fn json_inconclusive() {
    insta::assert_snapshot!(render_json(&inconclusive()));
}

#[test]
fn json_all_allowed() {
    insta::assert_snapshot!(render_json(&all_allowed()));
}

#[test]
fn text_without_color_has_no_escape_codes() {
    for diagnosis in [cross_account_denied(), inconclusive(), all_allowed()] {
        assert!(!text(&diagnosis).contains('\x1b'));
        assert!(!markdown(&diagnosis).contains('\x1b'));
    }
}

#[test]
fn text_with_color_styles_marks() {
    let mut out = Vec::new();
    render_text(&cross_account_denied(), &mut out, true).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("\x1b[31m"), "red for the failing link");
    assert!(text.contains("\x1b[32m"), "green for passing links");
}

#[test]
fn color_choice_resolution() {
    assert!(
        !ColorChoice::Always.resolve_with(true, true),
        "NO_COLOR wins"
    );
    assert!(ColorChoice::Always.resolve_with(false, false));
    assert!(!ColorChoice::Never.resolve_with(false, true));
    assert!(ColorChoice::Auto.resolve_with(false, true));
    assert!(!ColorChoice::Auto.resolve_with(false, false));
}

#[test]
fn summary_names_every_operation_and_its_first_broken_link() {
    assert_eq!(
        summary(&cross_account_denied()),
        "denied — list allowed · get denied (key-policy for kms:Decrypt, account 111111111111) · put allowed"
    );
    // An unreadable document names the flag its help gives; a context key
    // names the `--context` to pass.
    assert_eq!(
        summary(&inconclusive()),
        "inconclusive — list inconclusive (identity-policy unknown: --principal-profile) · get inconclusive (identity-policy unknown: --principal-profile; aws:SourceVpce unknown: --context aws:SourceVpce=…)"
    );
    assert_eq!(summary(&all_allowed()), "allowed — get allowed");
}

#[test]
fn an_unmet_expectation_is_one_line_naming_the_first_broken_link() {
    assert_eq!(
        expect_mismatch(&cross_account_denied(), Verdict::Allowed).as_deref(),
        Some("expected allowed, got denied: key-policy (kms:Decrypt)")
    );
    assert_eq!(
        expect_mismatch(&cross_account_denied(), Verdict::Denied),
        None
    );
    assert_eq!(
        expect_mismatch(&all_allowed(), Verdict::Denied).as_deref(),
        Some("expected denied, got allowed")
    );
    assert_eq!(
        expect_mismatch(&inconclusive(), Verdict::Denied).as_deref(),
        Some("expected denied, got inconclusive: identity-policy (s3:ListBucket) unknown")
    );
    let json: serde_json::Value = serde_json::from_str(&render_json_expecting(
        &inconclusive(),
        Some(Verdict::Denied),
    ))
    .unwrap();
    assert_eq!(json["expect"], "denied");
    assert_eq!(json["expect_met"], false);
}

/// The JSON reads back through the frozen types, and the first version's
/// field names are where docs/report-format.md puts them.
#[test]
fn json_reads_back_with_documented_field_names() {
    let rendered = render_json(&cross_account_denied());
    let report: ReportV1 = serde_json::from_str(&rendered).unwrap();
    assert_eq!(report, ReportV1::from(&cross_account_denied()));
    assert_eq!(report.format, REPORT_FORMAT);

    let value: serde_json::Value = serde_json::from_str(&rendered).unwrap();
    for field in [
        "format",
        "principal",
        "bucket",
        "object",
        "verdict",
        "operations",
    ] {
        assert!(value.get(field).is_some(), "top-level `{field}`");
    }
    assert_eq!(value["format"], "kms-s3-doctor/report@1");
    assert_eq!(value["verdict"], "denied");
    let get = &value["operations"][1];
    for field in ["operation", "verdict", "actions"] {
        assert!(get.get(field).is_some(), "operation `{field}`");
    }
    assert_eq!(get["operation"], "get");
    let decrypt = &get["actions"][1];
    for field in ["action", "resource", "verdict", "links"] {
        assert!(decrypt.get(field).is_some(), "action `{field}`");
    }
    assert_eq!(decrypt["action"], "kms:Decrypt");
    let link = &decrypt["links"][1];
    for field in ["link", "status", "reason", "evidence", "fix"] {
        assert!(link.get(field).is_some(), "link `{field}`");
    }
    assert_eq!(link["link"], "key-policy");
    assert_eq!(link["status"], "fail");
    let evidence = &link["evidence"][1];
    for field in ["document", "statement", "sid"] {
        assert!(evidence.get(field).is_some(), "evidence `{field}`");
    }
    assert_eq!(evidence["statement"], 1);
    let fix = &link["fix"];
    for field in ["account", "change", "document", "statement"] {
        assert!(fix.get(field).is_some(), "fix `{field}`");
    }
    assert_eq!(fix["account"], "111111111111");
    assert_eq!(fix["change"], "add-statement");
    assert_eq!(fix["document"], "key-policy");
    assert_eq!(fix["statement"]["Effect"], "Allow");

    // Passing links carry no `fix`; empty extras are left out.
    let passing = &decrypt["links"][0];
    assert!(passing.get("fix").is_none());
    assert!(passing.get("unknown_keys").is_none());
    assert!(passing.get("help").is_none());
}

#[test]
fn json_carries_unknown_keys_help_and_placeholder() {
    let value: serde_json::Value = serde_json::from_str(&render_json(&inconclusive())).unwrap();
    assert_eq!(value["object_placeholder"], true);
    assert_eq!(value["verdict"], "inconclusive");
    let link = &value["operations"][1]["actions"][0]["links"][1];
    assert_eq!(link["unknown_keys"], json!(["aws:SourceVpce"]));
    assert!(link["help"].as_str().unwrap().contains("--context"));
    assert_eq!(link["evidence"][0]["role"], "may-apply");
    assert_eq!(link["evidence"][0]["line"], 21);
    assert_eq!(value["notes"].as_array().unwrap().len(), 1);
}

#[test]
fn evidence_notes_show_in_every_format() {
    // A statement kept from applying by a policy variable with no value is
    // shown with why, on a failing link and on a passing one.
    let note = "does not apply: its `Resource` uses `${aws:PrincipalTag/team}`, and the request has no `aws:PrincipalTag/team`";
    let mut kept_out = evidence(
        "inline policy `team` of `arn:aws:iam::222222222222:user/dilip`",
        Some(2),
        Some("TeamPrefix"),
        Some(14),
        EvidenceRole::Context,
    );
    kept_out.note = Some(note.to_string());
    let mut diagnosis = cross_account_denied();
    for operation in &mut diagnosis.operations {
        for action in &mut operation.actions {
            for link in &mut action.links {
                if link.link == LinkId::KeyPolicy || link.link == LinkId::IdentityPolicy {
                    link.evidence.push(kept_out.clone());
                }
            }
        }
    }
    let expected = format!("statement 2, Sid `TeamPrefix`, line 14 as jq prints it: {note}");
    let text = text(&diagnosis);
    // Under the failing key policy and the two passing identity policies of
    // the denied operation; the allowed operations stay one line each.
    assert_eq!(text.matches(&expected).count(), 3, "{text}");
    let markdown = markdown(&diagnosis);
    assert!(markdown.contains(&expected), "{markdown}");
    let json: serde_json::Value = serde_json::from_str(&render_json(&diagnosis)).unwrap();
    let notes = json["operations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|operation| operation["actions"].as_array().unwrap())
        .flat_map(|action| action["links"].as_array().unwrap())
        .flat_map(|link| link["evidence"].as_array().unwrap())
        .filter(|evidence| evidence["note"] == note)
        .count();
    // Five identity links and two key-policy links.
    assert_eq!(notes, 7);
}

#[test]
fn the_verdict_clause_lists_what_was_assumed() {
    let uses = vec![
        AssumptionUse {
            assumption: "scp=allow".to_string(),
            used: true,
            statements: vec!["the SCPs of account 222222222222 allow".to_string()],
        },
        AssumptionUse {
            assumption: "rcp=allow".to_string(),
            used: false,
            statements: Vec::new(),
        },
    ];
    assert_eq!(
        verdict_clause(Verdict::Allowed, &uses),
        ", assuming the SCPs of account 222222222222 allow"
    );
    assert_eq!(verdict_clause(Verdict::Denied, &uses), "");
}
