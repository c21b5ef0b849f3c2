//! Stored hash lists: import all-or-nothing, TLP and sharing, matching an
//! uploaded image (and its rotations) and a given hash, export, and hashes
//! added from an assessed item.

use crate::support::{actor, corpora, each_backend, public_report};
use rampart_cop::CopError;
use rampart_cop::lists::{DEFAULT_RADIUS, NewList};
use rampart_store::PageRequest;

const BRIDGE: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
const EMPTY_MD5: &str = "d41d8cd98f00b204e9800998ecf8427e";

fn image(name: &str) -> Vec<u8> {
    std::fs::read(corpora().join("pdq/data").join(name)).expect("corpus image")
}

fn new_list(org_id: &str, name: &str, tlp: &str) -> NewList {
    NewList { org_id: org_id.into(), name: name.into(), source: "test".into(), tlp: tlp.into(), description: String::new() }
}

#[tokio::test]
async fn lists_import_whole_or_not_at_all_and_match_images_and_hashes_within_tlp() {
    each_backend(|env| async move {
        let ke = actor(&env.w.ke_analyst);
        let list = env.lists.create(&ke, &new_list(&env.w.ke_hotline.id, "Known series", "AMBER")).await.expect("create");
        assert!(matches!(env.lists.create(&ke, &new_list(&env.w.ke_hotline.id, "Known series", "AMBER")).await, Err(CopError::Store(_))));
        assert!(matches!(
            env.lists.create(&ke, &new_list(&env.w.ke_hotline.id, "Other", "BLUE")).await,
            Err(CopError::Invalid { field: "tlp", .. })
        ));
        assert!(matches!(
            env.lists.create(&actor(&env.w.se_analyst), &new_list(&env.w.ke_hotline.id, "Theirs", "RED")).await,
            Err(CopError::Forbidden)
        ));

        let bad = format!("hash,type,tags\n{BRIDGE},pdq,series-a\nzz,md5,\n{EMPTY_MD5},sha1,\n");
        match env.lists.import(&ke, &list.id, &bad, false).await {
            Err(CopError::Rows(rows)) => {
                assert_eq!(rows.len(), 2, "{rows:?}");
                assert!(rows[0].starts_with("line 3: hash") && rows[1].starts_with("line 4: type"), "{rows:?}");
            }
            other => panic!("expected bad rows, got {other:?}"),
        }
        assert!(env.store.hash_entries_of(&list.id).await.expect("entries").is_empty(), "nothing imported from a bad file");
        let good = format!("hash,type,tags\n{BRIDGE},pdq,series-a;bridge\n{EMPTY_MD5},md5,empty-file\n");
        assert_eq!(env.lists.import(&ke, &list.id, &good, false).await.expect("import"), 2);
        assert_eq!(env.lists.import(&ke, &list.id, &good, false).await.expect("again"), 0, "hashes a list holds are not added twice");

        // The original image and a rotated copy both match, at small distances.
        for name in ["bridge-mods/aaa-orig.jpg", "reg-test-input/dih/bridge-2-rotate-90.jpg", "bridge-mods/blur-a-little.jpg"] {
            let found = env.lists.match_image(&env.w.ke_analyst, image(name), DEFAULT_RADIUS).await.expect("match");
            assert_eq!(found.hits.len(), 1, "{name}: {:?}", found.hits);
            assert!(found.hits[0].distance <= 10, "{name}: distance {}", found.hits[0].distance);
            assert_eq!(found.hits[0].tags, ["series-a", "bridge"]);
            assert!(found.quality >= 50);
        }
        let other = env.lists.match_image(&env.w.ke_analyst, image("misc-images/c.png"), DEFAULT_RADIUS).await;
        if let Ok(other) = other {
            assert!(other.hits.is_empty(), "an unrelated photo does not match: {:?}", other.hits);
        }
        assert!(matches!(env.lists.match_image(&env.w.ke_analyst, b"GIF89a broken".to_vec(), 31).await, Err(CopError::Image(_))));
        let exact = env.lists.match_hash(&env.w.ke_analyst, EMPTY_MD5, DEFAULT_RADIUS).await.expect("md5");
        assert_eq!(exact.len(), 1);
        assert_eq!(exact[0].distance, 0);
        assert!(matches!(env.lists.match_hash(&env.w.ke_analyst, "xyz", 31).await, Err(CopError::Invalid { field: "hash", .. })));

        // AMBER: another organisation's matcher sees nothing until shared.
        assert!(env.lists.match_hash(&env.w.matcher, BRIDGE, 31).await.expect("match").is_empty());
        assert!(env.lists.visible(&env.w.matcher).await.expect("visible").is_empty());
        assert!(matches!(env.lists.export(&actor(&env.w.matcher), &list.id, false).await, Err(CopError::NotFound(_))));
        env.lists.share(&ke, &list.id, &env.w.platform.id, true).await.expect("share");
        assert_eq!(env.lists.match_hash(&env.w.matcher, BRIDGE, 31).await.expect("match").len(), 1);
        let (_, csv) = env.lists.export(&actor(&env.w.matcher), &list.id, false).await.expect("export");
        assert_eq!(csv, format!("hash,type,tags\n{EMPTY_MD5},md5,empty-file\n{BRIDGE},pdq,series-a;bridge\n"));
        let (_, json) = env.lists.export(&actor(&env.w.matcher), &list.id, true).await.expect("export json");
        assert_eq!(rampart_cop::hashlist::parse_json(&json).expect("valid JSON list").len(), 2);
        assert_eq!(env.audit("cop.hashlist.export").await.len(), 2);
        assert!(
            matches!(env.lists.import(&actor(&env.w.matcher), &list.id, &good, false).await, Err(CopError::Forbidden)),
            "sharing is not managing"
        );
        env.lists.share(&ke, &list.id, &env.w.platform.id, false).await.expect("unshare");
        assert!(env.lists.match_hash(&env.w.matcher, BRIDGE, 31).await.expect("match").is_empty());
        // Those without matching permission cannot probe the lists.
        assert!(matches!(env.lists.match_hash(&env.w.cirt_analyst, BRIDGE, 31).await, Err(CopError::Forbidden)));
    })
    .await;
}

#[tokio::test]
async fn an_assessed_item_is_hashed_without_keeping_the_image_and_its_hashes_join_a_list() {
    each_backend(|env| async move {
        let ke = actor(&env.w.ke_analyst);
        env.hotline.submit(None, &public_report("http://bad.example/x.jpg", "child_sexual_abuse", "en")).await.expect("submit");
        let item = env.hotline.queue(&env.w.ke_analyst, None, &PageRequest::first(5)).await.expect("queue").items.remove(0);
        let list = env.lists.create(&ke, &new_list(&env.w.ke_hotline.id, "From reports", "RED")).await.expect("list");

        let found = env.lists.match_image(&env.w.ke_analyst, image("bridge-mods/aaa-orig.jpg"), DEFAULT_RADIUS).await.expect("hash");
        assert_eq!(found.pdq, BRIDGE, "the corpus image hashes to its reference hash");
        env.hotline.set_item_hashes(&ke, &item.id, Some(&found.pdq), &found.md5, &found.sha256, None).await.expect("hashes");
        assert!(
            matches!(
                env.lists.add_item(&ke, &list.id, &env.store.hotline_item_get(&item.id).await.expect("item")).await,
                Err(CopError::Invalid { field: "item", .. })
            ),
            "not yet assessed"
        );
        env.hotline.assess(&ke, &item.id, "illegal_interpol", "").await.expect("assess");
        let item = env.store.hotline_item_get(&item.id).await.expect("item");
        assert_eq!(env.lists.add_item(&ke, &list.id, &item).await.expect("add"), 3, "PDQ, MD5 and SHA-256");
        let entries = env.store.hash_entries_of(&list.id).await.expect("entries");
        assert!(entries.iter().all(|e| e.item_id.as_deref() == Some(item.id.as_str())));
        // Now the same picture, arriving again, is recognised as known.
        let again =
            env.lists.match_image(&env.w.ke_analyst, image("reg-test-input/dih/bridge-5-flipx.jpg"), DEFAULT_RADIUS).await.expect("match");
        assert!(again.hits.iter().any(|h| h.list_id == list.id && h.kind == "pdq"), "{:?}", again.hits);
        // The same file reported again at another address is recognised from
        // the item, even before any list holds it.
        env.hotline.submit(None, &public_report("http://mirror.example/y.jpg", "child_sexual_abuse", "en")).await.expect("submit");
        let mirror = env.hotline.queue(&env.w.ke_analyst, Some("new"), &PageRequest::first(5)).await.expect("queue").items.remove(0);
        let known = env.hotline.set_item_hashes(&ke, &mirror.id, Some(&found.pdq), &found.md5, &found.sha256, None).await.expect("hashes");
        assert_eq!(known.known_match, Some(format!("the same file as item {} (illegal_interpol)", item.id)));
        // RED: nobody outside the owning hotline reads it.
        assert!(env.lists.visible(&env.w.se_analyst).await.expect("visible").is_empty());
    })
    .await;
}
