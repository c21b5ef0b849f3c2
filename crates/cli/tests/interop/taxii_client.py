"""A peer CIRT's view of Rampart through the OASIS TAXII client.

Run by the `interop` integration tests against a live `rampart serve`:

    taxii_client.py BASE COLLECTION ANALYST TOKEN PARTNER TOKEN OUTSIDER TOKEN

Kenya's analyst shares indicators at TLP GREEN, AMBER and RED through
taxii2-client; Ghana's analyst (a reader of the collection) pages through
them with the same client and must get exactly GREEN and AMBER; every
object served is checked with stix2-validator; Brazil's analyst, who is
not a reader, must not see the collection. Prints a JSON summary; any
broken expectation raises, so the exit status is non-zero.
"""

import json
import sys
import uuid

from requests.exceptions import HTTPError
from stix2validator import ValidationOptions, validate_string
from taxii2client.exceptions import AccessError, TAXIIServiceException
from taxii2client.v21 import Collection, Server, as_pages

MARKINGS = {  # the TLP 1.0 marking definitions STIX 2.1 defines
    "GREEN": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "AMBER": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    "RED": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}


def indicator(n, tlp, modified="2026-11-02T00:00:00.000Z"):
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=n, version=4)}",
        "created": "2026-11-01T00:00:00.000Z",
        "modified": modified,
        "name": f"C2 server {n}",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[ipv4-addr:value = '198.51.100.{n}']",
        "pattern_type": "stix",
        "valid_from": "2026-11-01T00:00:00Z",
        "object_marking_refs": [MARKINGS[tlp]],
    }


def expect(condition, message):
    if not condition:
        raise SystemExit(f"expectation failed: {message}")


def main():
    base, collection_id, analyst, analyst_token, partner, partner_token, outsider, outsider_token = sys.argv[1:9]
    discovery = base + "/taxii2/"

    # Kenya's analyst: discovery, API root, the collection, then an envelope.
    server = Server(discovery, user=analyst, password=analyst_token)
    expect(server.title, "discovery has a title")
    root = server.api_roots[0]
    expect("application/taxii+json;version=2.1" in root.versions, f"API root versions {root.versions}")
    mine = next(c for c in root.collections if c.id == collection_id)
    expect(mine.can_read and mine.can_write, "the analyst may read and write")
    objects = [indicator(n, tlp) for n, tlp in enumerate(["GREEN"] * 4 + ["AMBER"] * 3 + ["RED"] * 2, start=1)]
    objects.append(indicator(1, "GREEN", modified="2026-11-03T00:00:00.000Z"))  # a second version
    status = mine.add_objects({"objects": objects})
    expect(status.status == "complete", f"status {status.status}")
    expect(status.success_count == len(objects), f"{status.success_count} of {len(objects)} added")

    # Ghana's analyst pages through with the client's own pagination.
    theirs = Collection(f"{root.url}collections/{collection_id}/", user=partner, password=partner_token)
    seen = []
    pages = 0
    for envelope in as_pages(theirs.get_objects, per_request=3):
        pages += 1
        seen.extend(envelope.get("objects", []))
    markings = sorted({ref for o in seen for ref in o.get("object_marking_refs", [])})
    expect(markings == sorted([MARKINGS["GREEN"], MARKINGS["AMBER"]]), f"partner saw markings {markings}")
    expect(len(seen) == 7, f"partner saw {len(seen)} objects (the latest version of each GREEN and AMBER one)")
    expect(pages >= 3, f"{pages} pages of at most 3")
    latest = theirs.get_object(objects[0]["id"])["objects"][0]
    expect(latest["modified"] == "2026-11-03T00:00:00.000Z", f"latest version {latest['modified']}")
    versions = theirs.object_versions(objects[0]["id"])["versions"]
    expect(versions == ["2026-11-02T00:00:00.000Z", "2026-11-03T00:00:00.000Z"], f"versions {versions}")
    manifest = [record for page in as_pages(theirs.get_manifest, per_request=5) for record in page.get("objects", [])]
    expect(len(manifest) == 7, f"manifest of {len(manifest)}")
    red = objects[7]["id"]
    try:
        theirs.get_object(red)
        expect(False, "a TLP:RED object was served")
    except HTTPError as error:
        expect(error.response.status_code == 404, f"TLP:RED answered {error.response.status_code}")

    # Everything served validates with the OASIS validator.
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": seen}
    result = validate_string(json.dumps(bundle), ValidationOptions(version="2.1"))
    expect(result.is_valid, "stix2-validator: " + "; ".join(str(e) for e in result.errors))

    # Brazil is no reader: the collection is not listed and cannot be read.
    outsider_root = Server(discovery, user=outsider, password=outsider_token).api_roots[0]
    expect(all(c.id != collection_id for c in outsider_root.collections), "the outsider sees the collection")
    try:
        Collection(f"{root.url}collections/{collection_id}/", user=outsider, password=outsider_token).get_objects()
        expect(False, "the outsider read the collection")
    except (AccessError, TAXIIServiceException, HTTPError):
        pass

    # The analyst deletes an object; the partner no longer gets it.
    mine.delete_object(objects[1]["id"])
    after = [o["id"] for page in as_pages(theirs.get_objects, per_request=100) for o in page.get("objects", [])]
    expect(objects[1]["id"] not in after and len(after) == 6, f"after deletion the partner sees {len(after)}")

    print(json.dumps({"added": status.success_count, "partner_saw": len(seen), "pages": pages, "valid": result.is_valid}))


if __name__ == "__main__":
    main()
