use rampart_intel::pattern::{self, Comparison, Literal, Op, Pattern, Qualifier, Step};

#[test]
fn the_specification_s_example_patterns_parse() {
    let good = [
        "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
        "[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']",
        "[ipv4-addr:value = '203.0.113.1' OR ipv4-addr:value = '203.0.113.2']",
        "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES WITHIN 180 SECONDS",
        "([file:name = 'foo.dll'] AND [win-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) OR [process:name = 'fooproc' OR process:name = 'procfoo']",
        "[file:mime_type = 'application/x-pdf' AND file:size > 100000] FOLLOWEDBY [network-traffic:dst_port IN (80, 443, 8080)]",
        "[user-account:account_type = 'unix' AND user-account:user_id = '1007' AND user-account:account_login = 'Peter'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
        "[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=' AND artifact:mime_type NOT = 'text/plain']",
        "[file:magic_number_hex = h'ffd8ffe000104a464946']",
        "[x509-certificate:issuer = 'CN=WEBMAIL' AND x509-certificate:serial_number = '4c:0b:1d:19:74:86:a7:66:b4:1a:bf:40:27:21:76:28']",
        "[domain-name:value LIKE '%.example.com']",
        "[process:extensions.'windows-process-ext'.integrity_level = 'high' AND NOT EXISTS process:parent_ref]",
        "[file:size >= 0.5 AND file:size <= -1]",
    ];
    for text in good {
        pattern::parse(text).unwrap_or_else(|err| panic!("{text}: {err}"));
    }
}

#[test]
fn the_tree_keeps_precedence_qualifiers_and_paths() {
    let parsed = pattern::parse("[abc-def:c = 1] FOLLOWEDBY [ddd:e = 2] OR [ddd:f = 3] AND [ddd:g = 4] WITHIN 10 SECONDS").unwrap();
    let Pattern::FollowedBy(_, right) = parsed else { panic!("FOLLOWEDBY binds loosest: {parsed:?}") };
    let Pattern::Or(_, and) = *right else { panic!("then OR: {right:?}") };
    let Pattern::And(_, qualified) = *and else { panic!("then AND: {and:?}") };
    assert!(matches!(*qualified, Pattern::Qualified(_, Qualifier::Within(w)) if w == 10.0), "a qualifier binds to its observation");
    let Pattern::Observation(Comparison::Test { path, negated, op, value }) =
        pattern::parse("[email-message:body_multipart[*].'content-type' NOT IN ('a', 'b')]").unwrap()
    else {
        panic!("one test")
    };
    assert_eq!(path.object_type, "email-message");
    assert_eq!(path.steps, [Step::Key("body_multipart".into()), Step::Any, Step::Key("content-type".into())]);
    assert!(negated);
    assert_eq!(op, Op::In);
    assert_eq!(value, Literal::Set(vec![Literal::String("a".into()), Literal::String("b".into())]));
    let Pattern::Observation(Comparison::Test { value, .. }) = pattern::parse(r"[file:name = 'it\'s a \\ test']").unwrap() else {
        panic!()
    };
    assert_eq!(value, Literal::String(r"it's a \ test".into()));
}

#[test]
fn bad_patterns_are_refused_with_their_column() {
    let cases = [
        ("[ipv4-addr:value = '1.2.3.4'", 29, "expected \"]\""),
        ("[ipv4-addr:value == '1.2.3.4']", 19, "expected a literal"),
        ("[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'x']", 2, "different object types"),
        ("[file:size > true]", 14, "not ordered"),
        ("[file:name LIKE 5]", 17, "takes a string"),
        ("[aaa:b = 1] START t'2016-07-01T00:00:00Z' STOP t'2016-06-01T00:00:00Z'", 48, "STOP must be after START"),
        ("[aaa:b = 1] WITHIN 0 SECONDS", 20, "positive"),
        ("[aaa:b = h'abc']", 10, "hex"),
        ("[aaa:b = b'abc']", 10, "base64"),
        ("[aaa:b = t'2016-13-01T00:00:00Z']", 10, "timestamp"),
        ("[aaa:b = 'open]", 10, "not closed"),
        ("[aaa:b = 007]", 10, "leading zeros"),
        ("[aaa:b = 1] extra", 13, "after the pattern"),
        ("[aaa:b = 1] & [aaa:c = 2]", 13, "unexpected character"),
    ];
    for (text, column, needle) in cases {
        match pattern::parse(text) {
            Err(err) => {
                assert!(err.message.contains(needle), "{text}: {err}");
                assert_eq!(err.column, column, "{text}: {err}");
            }
            Ok(parsed) => panic!("{text} parsed: {parsed:?}"),
        }
    }
    let deep = format!("{}[aaa:b = 1]{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(pattern::parse(&deep).unwrap_err().message.contains("nested"), "deep nesting is refused, not a stack overflow");
}
