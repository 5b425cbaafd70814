use super::*;
use crate::diagnosis::{ActionResult, LinkResult, OperationResult};

fn denied(link: LinkId) -> Edge {
    Edge {
        verdict: Verdict::Denied,
        link: Some(link),
        operations: vec![Operation::Get],
    }
}

/// Reads a Mermaid label back: `#NUMBER;` is the character of that code.
fn unescape_mermaid(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('#') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find(';').unwrap() + start;
        let code: u32 = rest[start + 1..end].parse().unwrap();
        out.push(char::from_u32(code).unwrap());
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

const HOSTILE: [&str; 8] = [
    "arn:aws:iam::111111111111:user/a\"]-->evil[\"x",
    "arn:aws:iam::111111111111:user/<img src=x onerror=alert(1)>",
    "bucket`\n```\n# injected heading",
    "name\nflowchart TD\n  z-->y",
    "100% %% comment ; click n0 call alert()",
    "a|b|c {{x}} ((y)) [(z)] #35; &amp;",
    "line\u{2028}separator\u{0}nul",
    "back\\slash\\N \"quoted\"",
];

#[test]
fn hostile_names_stay_inside_their_mermaid_labels() {
    let safe = regex::Regex::new(r"^([A-Za-z0-9 :/._@+=,-]|#[0-9]+;)*$").unwrap();
    for (index, name) in HOSTILE.iter().enumerate() {
        let path = AccessPath::from(name)
            .then(NodeKind::Role, name, Edge::allowed())
            .then(NodeKind::Bucket, name, denied(LinkId::BucketPolicy));
        let text = mermaid(&[path]);
        let lines: Vec<&str> = text.lines().collect();
        // The header, three nodes, two edges and two styles: a newline in a
        // name started no statement of its own.
        assert_eq!(lines.len(), 8, "case {index}:\n{text}");
        assert_eq!(lines[0], "flowchart LR");
        for line in &lines[1..] {
            assert!(
                line.starts_with("  n") || line.starts_with("  linkStyle"),
                "{line}"
            );
            // Nothing that could end a label, open markup, end the fence or
            // start a comment is left raw inside a label.
            if !line.starts_with("  linkStyle") {
                assert_eq!(line.matches('"').count(), 2, "case {index}: {line}");
                let label = line.split('"').nth(1).unwrap();
                assert!(safe.is_match(label), "case {index}: {label}");
            }
        }
        // Each node label holds exactly two quotes, its own.
        for line in &lines[1..4] {
            let label = line.split('"').nth(1).unwrap();
            let word = if line.starts_with("  n0") {
                "principal"
            } else {
                ""
            };
            let shown = unescape_mermaid(label);
            assert!(shown.ends_with(name), "case {index}: {shown:?}");
            assert!(shown.starts_with(word));
        }
    }
}

#[test]
fn hostile_names_stay_inside_their_dot_strings() {
    for name in HOSTILE {
        let path = AccessPath::from(name).then(NodeKind::Bucket, name, Edge::allowed());
        let text = dot(&[path]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 6, "{text}");
        for line in &lines[2..5] {
            // Outside `\"`, the only quotes are those that open and close
            // the strings: an even number, none escaped away.
            let bare = line.replace("\\\\", "").replace("\\\"", "");
            assert_eq!(bare.matches('"').count() % 2, 0, "{line}");
            assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
        }
    }
}

#[test]
fn a_bucket_is_shared_only_by_paths_that_go_on_alike() {
    let allowed = |principal: &str| {
        AccessPath::from(principal)
            .then(NodeKind::Bucket, "b", Edge::allowed())
            .then(NodeKind::Key, "k", Edge::allowed())
    };
    let key_denied = AccessPath::from("carol")
        .then(NodeKind::Bucket, "b", Edge::allowed())
        .then(NodeKind::Key, "k", denied(LinkId::KeyPolicy));
    let graph = Graph::of(&[allowed("alice"), allowed("bob"), key_denied]);
    let buckets = graph
        .nodes
        .iter()
        .filter(|node| node.kind == NodeKind::Bucket)
        .count();
    // alice and bob share one bucket node; carol, whose key step is
    // denied, has her own, or the picture would show her a way to the key.
    assert_eq!(buckets, 2);
    // The key ends every path: one node, reached by two edges.
    assert_eq!(graph.nodes.len(), 3 + 2 + 1);
    assert_eq!(graph.edges.len(), 3 + 2);
    let text = mermaid(&[allowed("alice"), allowed("bob")]);
    assert!(text.contains("n0 -->|\"allowed\"| n1"), "{text}");
}

#[test]
fn edges_say_their_verdict_link_and_operations() {
    let path = AccessPath::from("p")
        .then(
            NodeKind::Bucket,
            "b",
            Edge {
                verdict: Verdict::Inconclusive,
                link: Some(LinkId::Scp),
                operations: vec![Operation::Put, Operation::Multipart],
            },
        )
        .then(NodeKind::Key, "k", denied(LinkId::KeyPolicy));
    let text = mermaid(std::slice::from_ref(&path));
    assert!(
        text.contains("n0 -.->|\"put, multipart inconclusive: scp\"| n1"),
        "{text}"
    );
    assert!(
        text.contains("n1 --x|\"get denied: key-policy\"| n2"),
        "{text}"
    );
    assert!(text.contains("linkStyle 1 stroke:#cf222e"), "{text}");
    let text = dot(&[path]);
    assert!(
        text.contains("n1 -> n2 [label=\"get denied: key-policy\""),
        "{text}"
    );
}

fn link(link: LinkId, status: LinkStatus) -> LinkResult {
    LinkResult {
        link,
        status,
        reason: String::new(),
        evidence: Vec::new(),
        fix: None,
        unknown_keys: Vec::new(),
        help: None,
        change: None,
        assumed: None,
        layers: None,
    }
}

fn action(name: &str, resource: &str, links: Vec<LinkResult>) -> ActionResult {
    ActionResult {
        action: name.into(),
        resource: resource.into(),
        verdict: ActionResult::verdict_of(&links),
        links,
    }
}

#[test]
fn a_diagnosis_becomes_its_role_bucket_and_key_steps() {
    const KEY: &str = "arn:aws:kms:eu-west-1:111111111111:key/k";
    let operations = vec![
        OperationResult {
            operation: Operation::List,
            verdict: Verdict::Allowed,
            actions: vec![
                action(
                    "sts:AssumeRole",
                    "arn:aws:iam::111111111111:role/r",
                    vec![link(LinkId::TrustPolicy, LinkStatus::Pass)],
                ),
                action(
                    "s3:ListBucket",
                    "arn:aws:s3:::b",
                    vec![link(LinkId::BucketPolicy, LinkStatus::Pass)],
                ),
            ],
        },
        OperationResult {
            operation: Operation::Get,
            verdict: Verdict::Denied,
            actions: vec![
                action(
                    "sts:AssumeRole",
                    "arn:aws:iam::111111111111:role/r",
                    vec![link(LinkId::TrustPolicy, LinkStatus::Pass)],
                ),
                action(
                    "s3:GetObject",
                    "arn:aws:s3:::b/k",
                    vec![
                        link(LinkId::IdentityPolicy, LinkStatus::Unknown),
                        link(LinkId::BucketPolicy, LinkStatus::Pass),
                    ],
                ),
                action(
                    "kms:Decrypt",
                    KEY,
                    vec![
                        link(LinkId::IdentityPolicy, LinkStatus::Pass),
                        link(LinkId::KeyPolicy, LinkStatus::Fail),
                    ],
                ),
            ],
        },
    ];
    let diagnosis = Diagnosis {
        principal: "arn:aws:iam::111111111111:user/u".into(),
        via_role: Some("arn:aws:iam::111111111111:role/r".into()),
        bucket: "b".into(),
        object: "k".into(),
        object_is_placeholder: false,
        verdict: Verdict::Denied,
        operations,
        notes: Vec::new(),
        changes: Vec::new(),
        recheck: None,
        assumptions: Vec::new(),
    };
    let paths = AccessPath::from_diagnosis(&diagnosis);
    assert_eq!(paths.len(), 1);
    let path = &paths[0];
    let kinds: Vec<NodeKind> = path.nodes.iter().map(|node| node.kind).collect();
    assert_eq!(
        kinds,
        [
            NodeKind::Principal,
            NodeKind::Role,
            NodeKind::Bucket,
            NodeKind::Key
        ]
    );
    assert_eq!(
        path.edges[0],
        Edge {
            verdict: Verdict::Allowed,
            link: None,
            operations: vec![Operation::List, Operation::Get],
        }
    );
    assert_eq!(path.edges[1].verdict, Verdict::Inconclusive);
    assert_eq!(path.edges[1].link, Some(LinkId::IdentityPolicy));
    assert_eq!(path.edges[1].operations, [Operation::Get]);
    assert_eq!(path.edges[2], denied(LinkId::KeyPolicy));
    assert_eq!(path.nodes[3].name, KEY);
}

#[test]
fn access_point_resources_name_the_access_point_and_the_request_bucket() {
    let place = s3_place(
        "s3:GetObject",
        "arn:aws:s3:eu-west-1:111111111111:accesspoint/ap/object/a/b",
    )
    .unwrap();
    assert_eq!(
        place.access_point.as_deref(),
        Some("arn:aws:s3:eu-west-1:111111111111:accesspoint/ap")
    );
    assert_eq!(
        s3_place("s3:GetObject", "arn:aws:s3:::b/a/b")
            .unwrap()
            .bucket,
        "b"
    );
    assert_eq!(
        s3_place(
            "s3express:CreateSession",
            "arn:aws:s3express:us-east-1:111111111111:bucket/d--use1-az4--x-s3"
        )
        .unwrap()
        .bucket,
        "d--use1-az4--x-s3"
    );
    assert!(s3_place("kms:Decrypt", "arn:aws:s3:::b").is_none());
}
