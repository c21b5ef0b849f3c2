//! IODEF v2: a peer CIRT's document becomes incidents with their
//! observables and TLP; an incident goes out as IODEF and reads back the
//! same; malformed, hostile and foreign documents are refused by place and
//! store nothing.

use crate::support::{actor, assert_forbidden, each_backend};
use rampart_cirt::observables::Kind;
use rampart_cirt::{CirtError, DeskError, iodef};
use rampart_core::Tlp;

/// What a peer CIRT sends: two incidents, one with network and hash data.
const PEER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<IODEF-Document version="2.00" lang="en" xmlns="urn:ietf:params:xml:ns:iodef-2.0" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
  <Incident purpose="mitigation" restriction="green">
    <IncidentID name="csirt.gh.example">GH-2026-0042</IncidentID>
    <GenerationTime>2026-11-20T08:30:00Z</GenerationTime>
    <Description>Botnet C2 hosted in your constituency
Seen beaconing from 40 hosts.</Description>
    <Contact role="creator" type="organization">
      <ContactName>GH-CIRT</ContactName>
      <Email><EmailTo>incidents@csirt.gh.example</EmailTo></Email>
    </Contact>
    <EventData>
      <Flow>
        <System category="source">
          <Node>
            <Address category="ipv4-addr">198.51.100.23</Address>
            <Address category="ipv4-net">203.0.113.0/24</Address>
            <DomainData><Name>C2-Panel.example</Name></DomainData>
          </Node>
        </System>
      </Flow>
      <Record><RecordData>
        <URL>http://c2-panel.example/gate.php</URL>
        <FileData><File><HashData scope="file-contents"><Hash>
          <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
          <ds:DigestValue>n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=</ds:DigestValue>
        </Hash></HashData></File></FileData>
      </RecordData></Record>
    </EventData>
  </Incident>
  <Incident purpose="reporting">
    <IncidentID name="csirt.gh.example">GH-2026-0043</IncidentID>
    <GenerationTime>2026-11-21T09:00:00+00:00</GenerationTime>
    <Contact role="creator" type="organization"><ContactName>GH-CIRT</ContactName></Contact>
  </Incident>
</IODEF-Document>
"#;

#[test]
fn a_peer_document_reads_with_its_observables_and_tlp() {
    let incidents = iodef::parse(PEER).unwrap();
    assert_eq!(incidents.len(), 2);
    let first = &incidents[0];
    assert_eq!((first.id.as_str(), first.issuer.as_str(), first.purpose.as_str()), ("GH-2026-0042", "csirt.gh.example", "mitigation"));
    assert_eq!(first.tlp, Tlp::Green);
    assert_eq!(first.contacts, ["incidents@csirt.gh.example"]);
    let found: Vec<(Kind, &str)> = first.observables.iter().map(|o| (o.kind, o.value.as_str())).collect();
    assert_eq!(
        found,
        [
            (Kind::Ipv4, "198.51.100.23"),
            (Kind::Cidr, "203.0.113.0/24"),
            (Kind::Domain, "c2-panel.example"),
            (Kind::Url, "http://c2-panel.example/gate.php"),
            // SHA-256("test"), from its base64 DigestValue.
            (Kind::Sha256, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
        ]
    );
    // No restriction: the cautious reading.
    assert_eq!(incidents[1].tlp, Tlp::Amber);
}

fn refused(xml: &str) -> String {
    match iodef::parse(xml) {
        Err(CirtError::Field { path, message }) => format!("{path}: {message}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn hostile_malformed_and_foreign_documents_are_refused_by_place() {
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<IODEF-Document version="2.00" xmlns="urn:ietf:params:xml:ns:iodef-2.0"><Incident purpose="reporting">&lol2;</Incident></IODEF-Document>"#;
    let message = refused(laughs);
    assert!(message.starts_with("line ") && message.contains("DTD"), "{message}");
    let external = r#"<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><IODEF-Document/>"#;
    assert!(refused(external).contains("DTD"));
    assert!(refused("<IODEF-Document version=\"2.00\" xmlns=\"urn:ietf:params:xml:ns:iodef-2.0\"><Incident>").starts_with("line 1"));
    let v1 = r#"<IODEF-Document version="1.00" xmlns="urn:ietf:params:xml:ns:iodef-1.0"><Incident purpose="reporting"/></IODEF-Document>"#;
    assert!(refused(v1).contains("IODEF v1 is not read"));
    let wrong_root = r#"<Report xmlns="urn:ietf:params:xml:ns:iodef-2.0"/>"#;
    assert!(refused(wrong_root).starts_with("Report: "));
    let no_purpose = PEER.replacen(" purpose=\"mitigation\"", "", 1);
    assert_eq!(refused(&no_purpose), "Incident[0]@purpose: is required");
    let bad_time = PEER.replacen("2026-11-20T08:30:00Z", "yesterday", 1);
    assert!(refused(&bad_time).starts_with("Incident[0].GenerationTime: "));
    let bad_address = PEER.replacen("198.51.100.23", "not-an-address", 1);
    assert!(refused(&bad_address).starts_with("Incident[0]//Address["), "{}", refused(&bad_address));
    let bad_tlp = PEER.replacen("restriction=\"green\"", "restriction=\"purple\"", 1);
    assert!(refused(&bad_tlp).starts_with("Incident[0]@restriction"));
    let huge = format!("{}{}", PEER, " ".repeat(iodef::MAX_DOCUMENT_BYTES));
    assert!(refused(&huge).starts_with("document: "));
    let wide =
        format!(r#"<IODEF-Document version="2.00" xmlns="urn:ietf:params:xml:ns:iodef-2.0">{}</IODEF-Document>"#, "<a/>".repeat(600_000));
    assert!(refused(&wide).contains("nodes"));
}

#[tokio::test]
async fn a_document_opens_incidents_and_an_incident_goes_back_out_the_same() {
    each_backend(|env| async move {
        let w = &env.w;
        let created = env.desk.import_iodef(&actor(&w.analyst), &w.ke_cirt.id, PEER).await.unwrap();
        assert_eq!(created.len(), 2);
        let first = &created[0];
        assert_eq!(first.title, "Botnet C2 hosted in your constituency");
        assert_eq!((first.tlp.as_str(), first.source.as_str(), first.rsit_type.as_str()), ("GREEN", "iodef", "undetermined"));
        assert!(first.description.contains("IncidentID GH-2026-0042 issued by csirt.gh.example"), "{}", first.description);
        assert_eq!(created[1].title, "IODEF incident GH-2026-0043 from csirt.gh.example");
        let view = env.desk.view(&w.analyst, &first.id).await.unwrap();
        assert_eq!(view.observables.len(), 5);

        // A bad document stores nothing; a constituent may not import.
        let before = env.store.audit_verify().await.unwrap().entries;
        let broken = PEER.replacen("GH-2026-0043", "", 1);
        assert!(matches!(
            env.desk.import_iodef(&actor(&w.analyst), &w.ke_cirt.id, &broken).await,
            Err(DeskError::Rule(CirtError::Field { .. }))
        ));
        assert_eq!(env.store.audit_verify().await.unwrap().entries, before, "nothing stored");
        assert_forbidden(env.desk.import_iodef(&actor(&w.isp_user), &w.ke_cirt.id, PEER).await);

        // Out as IODEF and back: the same observables and TLP.
        let xml = env.desk.export_iodef(&w.analyst, &first.id).await.unwrap();
        let back = iodef::parse(&xml).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!((back[0].id.as_str(), back[0].tlp), (first.reference.as_str(), Tlp::Green));
        let mut sent: Vec<String> = view.observables.iter().map(|o| format!("{}:{}", o.kind, o.value)).collect();
        let mut got: Vec<String> = back[0].observables.iter().map(|o| format!("{}:{}", o.kind.as_str(), o.value)).collect();
        sent.sort();
        got.sort();
        assert_eq!(got, sent);
        // Whoever may not see the incident gets no document.
        assert!(env.desk.export_iodef(&w.br_analyst, &first.id).await.is_err());
    })
    .await;
}
