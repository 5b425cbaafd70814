use serde_json::json;

use super::*;

/// Parses `text` as an HCL body, as Terraform would read the file.
fn parses(text: &str) -> hcl::Body {
    hcl::parse(text).unwrap_or_else(|error| panic!("not HCL: {error}\n{text}"))
}

fn written(data_source: Option<&str>) -> WrittenBy {
    WrittenBy {
        address: "aws_s3_bucket_policy.data".into(),
        attribute: "policy".into(),
        data_source: data_source.map(str::to_string),
        plan: "plan.json".into(),
        policy_name: None,
    }
}

fn document() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Read", "Effect": "Allow",
             "Principal": {"AWS": ["arn:aws:iam::222222222222:root"]},
             "Action": ["s3:GetObject"],
             "Resource": "arn:aws:s3:::b/home/${aws:username}/*",
             "Condition": {"Bool": {"aws:SecureTransport": true},
                           "StringEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}},
            {"Effect": "Deny", "Principal": "*", "NotAction": "s3:*",
             "Resource": "*", "Condition": {"StringLike": {"aws:userid": ["a\"b\\c", "%{x}", "line\nbreak", "x$${y}", "$", "50%"]}}}
        ]
    })
}

fn change() -> Fix {
    Fix {
        change: FixChange::AddStatement,
        statement: Some(json!({"Sid": "Read"})),
        with_changes: vec![0],
        ..Default::default()
    }
}

/// The string values of every `jsonencode` argument, read back through the
/// HCL parser: the snippet must say exactly the document.
fn read_back(body: &hcl::Body, attribute: &str) -> Value {
    let attribute = body
        .attributes()
        .find(|a| a.key() == attribute)
        .unwrap_or_else(|| panic!("no `{attribute}` in {body:?}"));
    let hcl::Expression::FuncCall(call) = attribute.expr() else {
        panic!("not a function call: {:?}", attribute.expr());
    };
    assert_eq!(call.name.to_string(), "jsonencode");
    let argument = call.args.first().expect("one argument").clone();
    let evaluated: hcl::Value =
        hcl::eval::Evaluate::evaluate(&argument, &hcl::eval::Context::new())
            .expect("a literal value");
    serde_json::to_value(evaluated).expect("JSON")
}

#[test]
fn a_jsonencode_edit_parses_and_says_the_whole_document() {
    // Terraform language, "Strings and Templates": `$${` is a literal
    // `${`, `%%{` a literal `%{`; quotes, backslashes and newlines escaped.
    let change = change();
    let edit = edit_for(
        &written(None),
        &document(),
        std::slice::from_ref(&change),
        &change,
    );
    let body = parses(&edit.hcl);
    assert_eq!(read_back(&body, "policy"), document(), "{}", edit.hcl);
    assert!(edit.hcl.contains("$${aws:username}"), "{}", edit.hcl);
    assert!(
        edit.hcl.contains("# change 1: adds the statement `Read`"),
        "{}",
        edit.hcl
    );
    assert_eq!(edit.address, "aws_s3_bucket_policy.data");
}

#[test]
fn a_data_source_edit_is_its_block_with_statement_blocks() {
    let change = change();
    let edit = edit_for(
        &written(Some("module.m.data.aws_iam_policy_document.bucket[0]")),
        &document(),
        std::slice::from_ref(&change),
        &change,
    );
    let body = parses(&edit.hcl);
    let block = body.blocks().next().expect("a data block");
    assert_eq!(block.identifier(), "data");
    let labels: Vec<&str> = block.labels().iter().map(|l| l.as_str()).collect();
    assert_eq!(labels, ["aws_iam_policy_document", "bucket"]);
    let statements: Vec<&hcl::Block> = block
        .body()
        .blocks()
        .filter(|b| b.identifier() == "statement")
        .collect();
    assert_eq!(statements.len(), 2);
    // `"Principal": "*"` is the provider's `type = "*"`, `identifiers = ["*"]`.
    let deny = statements[1].body();
    let principals = deny
        .blocks()
        .find(|b| b.identifier() == "principals")
        .unwrap();
    let kind = principals
        .body()
        .attributes()
        .find(|a| a.key() == "type")
        .unwrap();
    assert_eq!(kind.expr(), &hcl::Expression::String("*".into()));
    // A JSON `true` condition value becomes the string the data source takes.
    let read = statements[0].body();
    let conditions: Vec<&hcl::Block> = read
        .blocks()
        .filter(|b| b.identifier() == "condition")
        .collect();
    assert_eq!(conditions.len(), 2);
    assert!(edit.hcl.contains("values = [\"true\"]"), "{}", edit.hcl);
    assert!(edit.hcl.contains("several instances"), "{}", edit.hcl);
}

#[test]
fn a_document_a_statement_block_cannot_hold_is_set_as_jsonencode() {
    let document = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Unknown": 1}]});
    let change = change();
    let edit = edit_for(
        &written(Some("data.aws_iam_policy_document.bucket")),
        &document,
        std::slice::from_ref(&change),
        &change,
    );
    let body = parses(&edit.hcl);
    assert_eq!(read_back(&body, "policy"), document);
}

#[test]
fn nothing_in_a_name_escapes_its_comment_or_string() {
    let mut hostile = written(None);
    hostile.plan = "p.json\nrm -rf /\u{202e}".into();
    let document = json!({"Statement": [{"Sid": "x\u{1b}[2J\"\n = 1", "Effect": "Allow",
        "Action": "s3:*", "Resource": "*"}]});
    let mut change = change();
    change.statement = Some(document["Statement"][0].clone());
    let edit = edit_for(&hostile, &document, std::slice::from_ref(&change), &change);
    let body = parses(&edit.hcl);
    assert_eq!(read_back(&body, "policy"), document);
    assert!(!edit.hcl.contains('\u{1b}'), "{}", edit.hcl);
    assert!(!edit.hcl.contains('\u{202e}'), "{}", edit.hcl);
    assert!(
        edit.hcl.lines().all(|line| !line.starts_with("rm ")),
        "{}",
        edit.hcl
    );
}

#[test]
fn keys_are_bare_only_when_they_are_identifiers() {
    assert_eq!(key("Statement"), "Statement");
    assert_eq!(key("aws:SourceArn"), "\"aws:SourceArn\"");
    assert_eq!(key("true"), "\"true\"");
    assert_eq!(key("9x"), "\"9x\"");
}
