"""A peer CIRT consumes Rampart's MISP feed of a collection with PyMISP.

    misp_feed.py BASE COLLECTION TOKEN

Fetches manifest.json, every <uuid>.json it lists and hashes.csv the way
a MISP instance does (with an Authorization header), loads each event
with PyMISP, checks the manifest agrees with the events and every line of
hashes.csv is the MD5 of an attribute value of the event it names. Prints
what the consumer got as JSON: per event its info and tags, and each
attribute as "type value to_ids tags".
"""

import hashlib
import json
import sys

import requests
from pymisp import MISPEvent


def expect(condition, message):
    if not condition:
        raise SystemExit(f"expectation failed: {message}")


def main():
    base, collection, token = sys.argv[1:4]
    feed = f"{base}/misp/feeds/{collection}/"
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    manifest = session.get(feed + "manifest.json", timeout=30)
    manifest.raise_for_status()
    manifest = manifest.json()
    events = {}
    for uuid, summary in manifest.items():
        answer = session.get(f"{feed}{uuid}.json", timeout=30)
        answer.raise_for_status()
        event = MISPEvent()
        event.load(answer.json())
        expect(event.uuid == uuid, f"{uuid}.json holds {event.uuid}")
        expect(event.info == summary["info"], f"manifest info {summary['info']} vs {event.info}")
        expect(str(event.Orgc.name) == summary["Orgc"]["name"], "manifest Orgc")
        events[uuid] = event
    values = {}
    for uuid, event in events.items():
        for attribute in event.attributes:
            values.setdefault(hashlib.md5(attribute.value.encode()).hexdigest(), set()).add(uuid)
    lines = session.get(feed + "hashes.csv", timeout=30)
    lines.raise_for_status()
    rows = [line.split(",") for line in lines.text.splitlines() if line]
    for digest, uuid in rows:
        expect(uuid in values.get(digest, set()), f"hashes.csv line {digest},{uuid} matches no attribute")
    expect(len(rows) == sum(len(e.attributes) for e in events.values()), "one hashes.csv line per attribute")
    out = {
        "events": sorted(
            [
                {
                    "info": e.info,
                    "tags": sorted(t.name for t in e.tags),
                    "attributes": sorted(
                        f"{a.type} {a.value} {a.to_ids} {','.join(sorted(t.name for t in a.tags))}" for a in e.attributes
                    ),
                }
                for e in events.values()
            ],
            key=lambda e: e["info"],
        )
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
