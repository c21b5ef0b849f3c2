//! `cop match`: images and hashes against a hash list.

use crate::support::Sandbox;
use std::path::PathBuf;

fn corpus(relative: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/pdq/data").join(relative).display().to_string()
}

/// The reference PDQ hash of the bridge photo (both the C++ and Java references give it).
const BRIDGE: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";

#[test]
fn images_and_hashes_match_a_list_and_bad_lists_are_refused() {
    let sandbox = Sandbox::new();
    let md5 = {
        use md5::Digest as _;
        let bytes = std::fs::read(corpus("reg-test-input/pen-and-coaster.png")).unwrap();
        data_encoding::HEXLOWER.encode(&md5::Md5::digest(&bytes))
    };
    let list = sandbox.path("list.csv");
    std::fs::write(&list, format!("hash,type,tags\n{BRIDGE},pdq,series-a;known\n{md5},md5,exact-file\n{},pdq,unrelated\n", "0".repeat(64)))
        .unwrap();
    let junk = sandbox.path("junk.jpg");
    std::fs::write(&junk, b"not an image").unwrap();
    let hashes = sandbox.path("hashes.txt");
    // The bridge hash with four bits changed (2 → d): within the radius.
    std::fs::write(&hashes, "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b2d\n").unwrap();

    let rotated = corpus("reg-test-input/dih/bridge-2-rotate-90.jpg");
    let pen = corpus("reg-test-input/pen-and-coaster.png");
    let run = sandbox.run(&[
        "cop",
        "match",
        "--list",
        list.to_str().unwrap(),
        "--hashes",
        hashes.to_str().unwrap(),
        &rotated,
        &pen,
        junk.to_str().unwrap(),
    ]);
    run.ok();
    let lines = run.stdout_lines();
    assert_eq!(lines[0], "input,hash,type,distance,tags");
    let rotated_hit = lines.iter().find(|l| l.starts_with(&rotated)).expect("the rotated photo matches through its dihedral hashes");
    assert!(rotated_hit.contains(&format!("{BRIDGE},pdq,")) && rotated_hit.ends_with(",series-a;known"), "{rotated_hit}");
    let distance: u32 = rotated_hit.split(',').nth(3).unwrap().parse().unwrap();
    assert!(distance <= 10, "{rotated_hit}");
    assert!(lines.contains(&format!("{pen},{md5},md5,0,exact-file").as_str()), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.starts_with("f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b2d,") && l.contains(",pdq,4,")),
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l.contains("unrelated")), "{lines:?}");
    assert!(run.stderr.contains("junk.jpg: image:") && run.stderr.contains("4 checked, 3 matched, 1 could not be read"), "{}", run.stderr);

    // A list with a bad row loads nothing and names the line.
    std::fs::write(&list, format!("hash,type,tags\n{BRIDGE},pdq,\nnot-a-hash,md5,\n")).unwrap();
    let run = sandbox.run(&["cop", "match", "--list", list.to_str().unwrap(), &pen]);
    run.expect_code(7);
    assert!(run.stderr.contains("line 3 hash:"), "{}", run.stderr);
}
