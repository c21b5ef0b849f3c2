#!/usr/bin/env python3
"""Synthetic Shadowserver-style CSV reports for the Rampart feed benchmark.

Writes one report (header plus N rows) in the column layout of the chosen
Shadowserver report type, so that both Rampart's pipeline and the IntelMQ
reference chain (intelmq_chain.py) parse the very same bytes.

Data properties the benchmark relies on:

* Addresses come from three pools: ranges present in the MaxMind
  GeoIP2-City test database (GeoIP lookups hit), documentation and
  benchmarking ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
  198.18.0.0/15; handy as a test constituency), and random public-looking
  addresses (lookups mostly miss). Pool weights are options.
* Every "fresh" row has a report key (ip+port for scans, src_ip+src_port
  for events, ip for blocklist/sandbox_url) that no earlier fresh row has.
* A fraction R of rows (--duplicate-ratio) repeat an earlier row from the
  last --window rows with only the timestamp changed, so any deduplication
  keyed on addresses/ports drops exactly those rows.
* Timestamps rise monotonically across one day from --start
  (format ``2026-11-29 10:00:00``, UTC implied as in Shadowserver CSVs).

Standard library only; writes 1,000,000 rows in a few seconds.
"""

import argparse
import csv
import json
import random
import sys
import time
from bisect import bisect_right
from itertools import accumulate
from datetime import datetime, timezone

# --------------------------------------------------------------------------
# Column layouts (header order) per report.

GEO_COLS = ["asn", "geo", "region", "city"]
SCAN_HEAD = ["timestamp", "ip", "protocol", "port", "hostname", "tag"] + GEO_COLS + ["naics", "sic"]
CERT_COLS = ["cert_length", "subject_common_name", "issuer_common_name", "cert_issue_date",
             "cert_expiration_date", "sha1_fingerprint", "cert_serial_number"]
EVENT_HEAD = (["timestamp", "protocol",
               "src_ip", "src_port", "src_asn", "src_geo", "src_region", "src_city",
               "src_hostname", "src_naics", "src_sic",
               "dst_ip", "dst_port", "dst_asn", "dst_geo", "dst_region", "dst_city",
               "dst_hostname", "dst_naics", "dst_sic",
               "severity", "tag", "public_source"])

REPORTS = {
    "scan_telnet": {
        "columns": SCAN_HEAD + ["banner"],
        "key": ("ip", "port"),
        "ports": [(23, 80), (2323, 20)],
    },
    "scan_rdp": {
        "columns": SCAN_HEAD + ["sector", "rdp_protocol"] + CERT_COLS[:] + [
            "ssl_version", "signature_algorithm", "key_algorithm", "sha256_fingerprint",
            "bluekeep_vulnerable"],
        "key": ("ip", "port"),
        "ports": [(3389, 95), (3390, 5)],
    },
    "scan_smb": {
        "columns": SCAN_HEAD + ["sector", "smb_implant", "arch", "key", "smb_major_number",
                                "smb_minor_number", "smb_revision", "smb_version_string",
                                "smb_os_string", "smb_native_lan_manager", "smb_native_os"],
        "key": ("ip", "port"),
        "ports": [(445, 100)],
    },
    "scan_http": {
        "columns": SCAN_HEAD + ["sector", "http", "http_code", "http_reason", "content_type",
                                "connection", "www_authenticate", "set_cookie", "server",
                                "content_length", "transfer_encoding", "http_date"],
        "key": ("ip", "port"),
        "ports": [(80, 70), (8080, 20), (8000, 5), (8888, 5)],
    },
    "scan_ssl_poodle": {
        "columns": SCAN_HEAD + ["sector", "handshake", "cipher_suite", "ssl_poodle"] + CERT_COLS + [
            "signature_algorithm", "key_algorithm"],
        "key": ("ip", "port"),
        "ports": [(443, 85), (8443, 10), (993, 5)],
    },
    "event4_sinkhole": {
        "columns": EVENT_HEAD + ["infection", "family", "application", "version", "event_id"],
        "key": ("src_ip", "src_port"),
        "ports": [(80, 60), (443, 30), (8080, 10)],
    },
    "event4_honeypot_brute_force": {
        "columns": EVENT_HEAD + ["application", "version", "event_id", "start_time", "end_time",
                                 "client_version", "username", "password", "payload_url",
                                 "payload_md5"],
        "key": ("src_ip", "src_port"),
        "ports": [(22, 60), (23, 30), (2222, 10)],
    },
    "blocklist": {
        "columns": ["timestamp", "ip"] + GEO_COLS + ["hostname", "naics", "sic", "sector",
                                                     "source", "reason", "tag"],
        "key": ("ip",),
        "ports": [],
    },
    "compromised_website": {
        "columns": ["timestamp", "ip", "port", "hostname", "tag", "application"] + GEO_COLS + [
            "naics", "sic", "sector", "http_url", "http_host", "category", "system",
            "detected_since", "server", "redirect_target", "detail"],
        "key": ("ip", "port"),
        "ports": [(80, 70), (443, 30)],
    },
    "sandbox_url": {
        "columns": ["timestamp", "ip"] + GEO_COLS + ["naics", "sic", "sector", "md5", "url",
                                                     "user_agent", "host", "method"],
        "key": ("ip",),
        "ports": [],
    },
}

# --------------------------------------------------------------------------
# Address pools.

# Networks present in MaxMind's GeoIP2-City-Test.mmdb, with the attributes a
# Shadowserver row would carry for them: (network, prefix, asn, cc, region, city).
GEO_NETS = [
    ("81.2.69.142", 31, 20712, "GB", "ENGLAND", "LONDON"),
    ("81.2.69.144", 28, 20712, "GB", "ENGLAND", "LONDON"),
    ("81.2.69.160", 27, 20712, "GB", "ENGLAND", "LONDON"),
    ("81.2.69.192", 28, 20712, "GB", "ENGLAND", "LONDON"),
    ("2.125.160.216", 29, 5607, "GB", "ENGLAND", "BOXFORD"),
    ("2.2.3.0", 24, 5607, "GB", "ENGLAND", "BOXFORD"),
    ("89.160.20.112", 28, 29518, "SE", "OSTERGOTLAND", "LINKOPING"),
    ("89.160.20.128", 25, 29518, "SE", "OSTERGOTLAND", "LINKOPING"),
    ("67.43.156.0", 24, 35908, "BT", "THIMPHU", "THIMPHU"),
    ("175.16.199.0", 24, 4837, "CN", "JILIN", "CHANGCHUN"),
    ("202.196.224.0", 20, 9299, "PH", "METRO MANILA", "MANILA"),
    ("214.0.0.0", 24, 721, "SG", "SINGAPORE", "SINGAPORE"),
    ("214.0.1.0", 24, 721, "AU", "VICTORIA", "MELBOURNE"),
    ("214.78.120.0", 22, 721, "US", "CALIFORNIA", "SAN DIEGO"),
    ("216.160.83.56", 29, 209, "US", "WASHINGTON", "MILTON"),
    ("216.160.83.64", 29, 209, "US", "WASHINGTON", "SEATTLE"),
    ("149.101.100.0", 28, 1226, "US", "", ""),
]

# Documentation / benchmarking ranges (RFC 5737, RFC 2544): a synthetic
# constituency. Attributes as if they belonged to a national network.
DOC_NETS = [
    ("192.0.2.0", 24, 64500, "ZZ", "CAPITAL", "CAPITAL CITY"),
    ("198.51.100.0", 24, 64501, "ZZ", "NORTH", "PORT NORTH"),
    ("203.0.113.0", 24, 64502, "ZZ", "SOUTH", "SOUTHTOWN"),
    ("198.18.0.0", 15, 64503, "ZZ", "EAST", "EASTVILLE"),
]

# Attribute tuples for random public-looking addresses.
RANDOM_ATTRS = [
    (3320, "DE", "HESSEN", "FRANKFURT AM MAIN"),
    (3215, "FR", "ILE-DE-FRANCE", "PARIS"),
    (1136, "NL", "NOORD-HOLLAND", "AMSTERDAM"),
    (7922, "US", "PENNSYLVANIA", "PHILADELPHIA"),
    (4134, "CN", "BEIJING", "BEIJING"),
    (9829, "IN", "MAHARASHTRA", "MUMBAI"),
    (28573, "BR", "SAO PAULO", "SAO PAULO"),
    (12389, "RU", "MOSKVA", "MOSCOW"),
    (4766, "KR", "SEOUL", "SEOUL"),
    (2516, "JP", "TOKYO", "TOKYO"),
    (8151, "MX", "CIUDAD DE MEXICO", "MEXICO CITY"),
    (6830, "AT", "WIEN", "VIENNA"),
    (0, "", "", ""),
]

NAICS = [0, 0, 0, 517311, 517312, 518210, 541512, 611310, 921190]
SIC = [0, 0, 0, 481, 4813, 7374, 8221, 9199]
SECTORS = ["", "", "Communications, Service Provider, and Hosting", "Education",
           "Government", "Healthcare", "Manufacturing"]


def ip_to_str(n):
    return "%d.%d.%d.%d" % (n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255)


def str_to_ip(s):
    a, b, c, d = (int(x) for x in s.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def prepare_nets(nets):
    """Expand (net, prefix, attrs...) into (base, size, attrs) with usable hosts."""
    out = []
    for net, prefix, asn, cc, region, city in nets:
        base = str_to_ip(net)
        size = 1 << (32 - prefix)
        out.append((base, size, (asn, cc, region, city)))
    return out


def is_public_looking(n):
    a = n >> 24
    b = (n >> 16) & 255
    if a in (0, 10, 127) or a >= 224:
        return False
    if a == 100 and 64 <= b <= 127:
        return False
    if a == 169 and b == 254:
        return False
    if a == 172 and 16 <= b <= 31:
        return False
    if a == 192 and b in (0, 168):
        return False
    if a == 198 and b in (18, 19, 51):
        return False
    if a == 203 and b == 0 and ((n >> 8) & 255) == 113:
        return False
    if (n & 255) in (0, 255):
        return False
    return True


class Gen:
    """Per-report row factory."""

    def __init__(self, report, rng, geo_weight, doc_weight, rand_weight):
        self.report = report
        self.spec = REPORTS[report]
        self.rng = rng
        self.geo = prepare_nets(GEO_NETS)
        self.geo_cum = list(accumulate(min(size, 256) for _, size, _ in self.geo))
        self.doc = prepare_nets(DOC_NETS)
        self.doc_cum = list(accumulate(min(size, 1024) for _, size, _ in self.doc))
        self.rnd = rng.random
        total = geo_weight + doc_weight + rand_weight
        self.p_geo = geo_weight / total
        self.p_doc = (geo_weight + doc_weight) / total
        ports = self.spec["ports"]
        self.port_list = [p for p, _ in ports] if ports else [0]
        self.port_weights = [w for _, w in ports] if ports else [1]
        # fixed-size sample pools keep per-row cost low
        self.hexpool = ["%040x" % rng.getrandbits(160) for _ in range(4096)]
        self.md5pool = ["%032x" % rng.getrandbits(128) for _ in range(4096)]

    # -- addresses -------------------------------------------------------
    def draw_ip(self, pool=None):
        """Return (ip_str, (asn, cc, region, city)); pool 'geo'|'doc'|'rand'."""
        rnd = self.rnd
        if pool is None:
            r = rnd()
            pool = "geo" if r < self.p_geo else ("doc" if r < self.p_doc else "rand")
        if pool == "rand":
            getrandbits = self.rng.getrandbits
            while True:
                n = getrandbits(32)
                if is_public_looking(n):
                    return ip_to_str(n), RANDOM_ATTRS[n % len(RANDOM_ATTRS)]
        if pool == "geo":
            nets, cum = self.geo, self.geo_cum
        else:
            nets, cum = self.doc, self.doc_cum
        base, size, attrs = nets[bisect_right(cum, rnd() * cum[-1])]
        n = base + int(rnd() * size)
        if (n & 255) in (0, 255) and size > 2:
            n = base + 1
        return ip_to_str(n), attrs

    def draw_port(self):
        return self.rng.choices(self.port_list, self.port_weights)[0]

    def hostname(self, ip):
        r = self.rnd()
        if r < 0.45:
            return ""
        if r < 0.8:
            return "host-%s.dyn.example.net" % ip.replace(".", "-")
        return "mail%d.customer-%d.example.com" % (1 + int(r * 1000) % 8, int(r * 1e7) % 5000 + 1)

    # -- rows --------------------------------------------------------------
    def row(self, ts, ip, attrs, port):
        """Build one fresh row as a dict column->str, for the given primary ip/port."""
        rng = self.rng
        asn, cc, region, city = attrs
        c = {"timestamp": ts}
        rep = self.report
        naics = str(rng.choice(NAICS))
        sic = str(rng.choice(SIC))
        sector = rng.choice(SECTORS)
        if rep.startswith("event4_"):
            dst_ip, dattrs = self.draw_ip("doc")
            src_port = port
            c.update({
                "protocol": "tcp", "src_ip": ip, "src_port": str(src_port),
                "src_asn": str(asn), "src_geo": cc, "src_region": region, "src_city": city,
                "src_hostname": self.hostname(ip), "src_naics": naics, "src_sic": sic,
                "dst_ip": dst_ip, "dst_asn": str(dattrs[0]), "dst_geo": dattrs[1],
                "dst_region": dattrs[2], "dst_city": dattrs[3], "dst_hostname": "",
                "dst_naics": "0", "dst_sic": "0", "public_source": rng.choice(["", "CWG", "SIDN"]),
                "event_id": "", "version": "",
            })
            if rep == "event4_sinkhole":
                fam, inf = rng.choice(INFECTIONS)
                c.update({
                    "dst_port": str(self.draw_port()), "severity": "high", "tag": inf,
                    "infection": inf, "family": fam,
                    "application": rng.choice(["http", "http", "https", ""]),
                    "dst_hostname": rng.choice(["", "sinkhole.example.org", "c2.example.net"]),
                })
            else:
                dport = self.draw_port()
                app = {22: "ssh", 2222: "ssh", 23: "telnet"}[dport]
                h = rng.randrange(24)
                m = rng.randrange(60)
                bad = rng.random() < 0.2
                c.update({
                    "dst_port": str(dport), "severity": "medium", "tag": app + "-brute-force",
                    "application": app,
                    "start_time": "2026-11-29 %02d:%02d:00" % (h, m),
                    "end_time": "2026-11-29 %02d:%02d:59" % (h, m),
                    "client_version": "SSH-2.0-Go" if app == "ssh" else "",
                    "username": rng.choice(["root", "admin", "user", "ubuntu", "pi", "support"]),
                    "password": rng.choice(["123456", "admin", "password", "root", "1234", "raspberry"]),
                    "payload_url": ("http://%s/bins/x86" % self.draw_ip("rand")[0]) if bad else "",
                    "payload_md5": rng.choice(self.md5pool) if bad else "",
                })
            return c
        c.update({"ip": ip, "asn": str(asn), "geo": cc, "region": region, "city": city,
                  "naics": naics, "sic": sic, "sector": sector})
        if "port" in self.spec["columns"]:
            c["port"] = str(port)
        if "hostname" in self.spec["columns"]:
            c["hostname"] = self.hostname(ip)
        c["protocol"] = "tcp"
        if rep == "scan_telnet":
            c["tag"] = "telnet" if port == 23 else "telnet-alt"
            c["banner"] = rng.choice(TELNET_BANNERS)
        elif rep == "scan_rdp":
            c["tag"] = "rdp"
            c.update(self.cert(ip))
            c.update({"rdp_protocol": rng.choice(["RDP", "CredSSP", "HYBRID_EX"]),
                      "ssl_version": str(rng.choice([2, 3])),
                      "sha256_fingerprint": rng.choice(self.hexpool) + "0" * 24,
                      "bluekeep_vulnerable": rng.choice(["N", "N", "N", "Y"])})
        elif rep == "scan_smb":
            major = rng.choice([1, 2, 3])
            c.update({"tag": "smb", "smb_implant": rng.choice(["N"] * 20 + ["Y"]),
                      "arch": rng.choice(["", "x86", "x64"]), "key": "",
                      "smb_major_number": str(major), "smb_minor_number": str(rng.choice([0, 1, 2])),
                      "smb_revision": str(rng.choice([0, 1])),
                      "smb_version_string": "SMB %d" % major,
                      "smb_os_string": rng.choice(["Windows Server 2012 R2 Standard 9600",
                                                   "Windows 10 Pro 19045", "Unix", ""]),
                      "smb_native_lan_manager": rng.choice(["Samba 4.15.13", "Windows Server 2012 R2 Standard 6.3", ""]),
                      "smb_native_os": rng.choice(["Windows 6.1", "Unix", ""])})
        elif rep == "scan_http":
            code, reason = rng.choice([(200, "OK"), (200, "OK"), (401, "Unauthorized"),
                                       (403, "Forbidden"), (404, "Not Found"), (302, "Found")])
            c.update({"tag": "http" if port == 80 else "http-alt", "http": "HTTP/1.1",
                      "http_code": str(code), "http_reason": reason,
                      "content_type": rng.choice(["text/html", "text/html; charset=UTF-8", "application/json"]),
                      "connection": rng.choice(["close", "keep-alive"]),
                      "www_authenticate": 'Basic realm="router"' if code == 401 else "",
                      "set_cookie": rng.choice(["", "", "SESSIONID=abc123; Path=/; HttpOnly"]),
                      "server": rng.choice(["nginx", "Apache/2.4.41 (Ubuntu)", "lighttpd/1.4.59",
                                            "Microsoft-IIS/10.0", "mini_httpd/1.19 19dec2003"]),
                      "content_length": str(rng.randrange(0, 20000)),
                      "transfer_encoding": rng.choice(["", "", "chunked"]),
                      "http_date": "Sun, 29 Nov 2026 %02d:%02d:%02d GMT" % (
                          rng.randrange(24), rng.randrange(60), rng.randrange(60))})
        elif rep == "scan_ssl_poodle":
            c.update({"tag": "ssl-poodle", "handshake": "SSLv3",
                      "cipher_suite": rng.choice(["TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA",
                                                  "TLS_RSA_WITH_3DES_EDE_CBC_SHA"]),
                      "ssl_poodle": "Y"})
            c.update(self.cert(ip))
        elif rep == "blocklist":
            c.update({"source": rng.choice(["spamhaus-drop", "abuse-ch-feodo", "dshield-top"]),
                      "reason": rng.choice(["spam source", "botnet c2", "scanning host", "malware distribution"]),
                      "tag": "blocklist"})
        elif rep == "compromised_website":
            host = "www.site%d.example.com" % rng.randrange(1, 100000)
            c.update({"tag": rng.choice(["defacement", "webshell", "backdoor", "malicious-redirect"]),
                      "application": "http" if port == 80 else "https",
                      "http_url": rng.choice(["/", "/index.php", "/wp-content/plugins/xx/up.php",
                                              "/administrator/index.php", "/shell.php?cmd=id"]),
                      "http_host": host, "category": rng.choice(["phishing", "malware", "defacement"]),
                      "system": rng.choice(["WordPress 5.8", "Joomla 3.9", "Drupal 7", ""]),
                      "detected_since": "2026-11-%02d 00:00:00" % rng.randrange(1, 29),
                      "server": rng.choice(["Apache", "nginx", "LiteSpeed"]),
                      "redirect_target": rng.choice(["", "", "http://redirect.example.net/"]),
                      "detail": rng.choice(["", "injected iframe", "obfuscated javascript"])})
        elif rep == "sandbox_url":
            host = "cdn%d.example.org" % rng.randrange(1, 50000)
            c.update({"md5": rng.choice(self.md5pool),
                      "url": "http://%s/%s" % (host, rng.choice(["gate.php", "load/bin.exe", "a/b/c.js", "upd"])),
                      "user_agent": rng.choice(["Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)",
                                                "curl/7.68.0", "Wget/1.20.3 (linux-gnu)"]),
                      "host": host, "method": rng.choice(["GET", "GET", "POST"])})
        return c

    def cert(self, ip):
        rng = self.rng
        y = rng.randrange(2018, 2027)
        return {"cert_length": rng.choice(["1024", "2048", "4096"]),
                "subject_common_name": rng.choice(["localhost", "WIN-%06X" % rng.getrandbits(24), "remote.example.com"]),
                "issuer_common_name": rng.choice(["localhost", "Example CA", "WIN-SERVER"]),
                "cert_issue_date": "%d-%02d-01 00:00:00" % (y, rng.randrange(1, 13)),
                "cert_expiration_date": "%d-%02d-01 00:00:00" % (y + rng.choice([1, 2, 10]), rng.randrange(1, 13)),
                "sha1_fingerprint": rng.choice(self.hexpool),
                "cert_serial_number": "%016X" % rng.getrandbits(64),
                "signature_algorithm": rng.choice(["sha256WithRSAEncryption", "sha1WithRSAEncryption"]),
                "key_algorithm": "rsaEncryption"}


TELNET_BANNERS = [
    "", "", "",
    "Login:",
    "\\r\\nUser Access Verification\\r\\n\\r\\nUsername:",
    "|MikroTik v6.49.7 (stable)|Login:",
    "BusyBox on localhost login:",
    "Welcome to Microsoft Telnet Service \\r\\n\\r\\nlogin:",
    "ZTE router, Model F660 login:",
    "Password:",
    "Debian GNU/Linux 9, \"stretch\" login:",
]

INFECTIONS = [
    ("mirai", "mirai"), ("andromeda", "andromeda"), ("avalanche", "avalanche-dropper"),
    ("conficker", "conficker"), ("emotet", "emotet"), ("qsnatch", "qsnatch"),
    ("necurs", "necurs"), ("sality", "sality-p2p"), ("ramnit", "ramnit"), ("gozi", "gozi"),
]


def parse_start(s):
    dt = datetime.strptime(s, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    return int(dt.timestamp())


# Columns that are drawn per row; all others come from a pre-generated pool of
# row "tails" (certificate, banner, HTTP header, malware ... attributes).
PER_ROW = {
    "ip": "ip", "src_ip": "ip",
    "hostname": "host", "src_hostname": "host",
    "asn": 0, "src_asn": 0, "geo": 1, "src_geo": 1,
    "region": 2, "src_region": 2, "city": 3, "src_city": 3,
}


def generate(report, rows, out, seed=1, duplicate_ratio=0.1, window=10000, start="2026-11-29 00:00:00",
             span=86399, geo_weight=35, doc_weight=25, rand_weight=40, tail_pool=8192):
    rng = random.Random(seed)
    rnd = rng.random
    gen = Gen(report, rng, geo_weight, doc_weight, rand_weight)
    cols = gen.spec["columns"]
    is_event = report.startswith("event4_")
    has_port = len(gen.spec["key"]) == 2
    port_col = "src_port" if is_event else "port"
    port_i = cols.index(port_col) if has_port else None

    # Pool of complete rows; fresh rows copy one and overwrite the per-row fields.
    tails = []
    for _ in range(tail_pool):
        port = rng.randrange(1024, 65536) if is_event else (gen.draw_port() if has_port else 0)
        d = gen.row("", "192.0.2.1", (0, "", "", ""), port)
        tails.append([d.get(c, "") for c in cols])
    ip_i = [i for i, c in enumerate(cols) if PER_ROW.get(c) == "ip"][0]
    host_i = [i for i, c in enumerate(cols) if PER_ROW.get(c) == "host"]
    geo_i = [(i, PER_ROW[c]) for i, c in enumerate(cols) if isinstance(PER_ROW.get(c), int)]
    ts_i = cols.index("timestamp")
    hostname = gen.hostname
    draw_ip = gen.draw_ip
    randrange = rng.randrange

    t0 = parse_start(start)
    recent = []          # ring buffer of recent rows, source of duplicates
    rpos = 0
    seen = set()
    dups = 0
    last_sec = None
    last_ts = ""
    with open(out, "w", newline="") as fh:
        w = csv.writer(fh, dialect="unix")  # quote every field, LF line ends
        w.writerow(cols)
        buf = []
        for i in range(rows):
            sec = t0 + (i * span) // rows
            if sec != last_sec:
                last_sec = sec
                last_ts = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(sec))
            if recent and rnd() < duplicate_ratio:
                row = recent[int(rnd() * len(recent))][:]
                row[ts_i] = last_ts
                dups += 1
            else:
                row = tails[int(rnd() * tail_pool)][:]
                for attempt in range(16):
                    ip, attrs = draw_ip(None if attempt < 3 else "rand")
                    if has_port:
                        if is_event:
                            # events: key on the infected host's ephemeral source port
                            row[port_i] = str(randrange(1024, 65536))
                        key = (ip, row[port_i])
                    else:
                        key = ip
                    if key not in seen:
                        break
                else:
                    raise RuntimeError("could not find a fresh key")
                seen.add(key)
                row[ts_i] = last_ts
                row[ip_i] = ip
                for j in host_i:
                    row[j] = hostname(ip)
                for j, a in geo_i:
                    row[j] = str(attrs[a])
            if len(recent) < window:
                recent.append(row)
            else:
                recent[rpos] = row
                rpos = (rpos + 1) % window
            buf.append(row)
            if len(buf) >= 20000:
                w.writerows(buf)
                buf.clear()
        w.writerows(buf)
    return {"report": report, "rows": rows, "duplicates": dups, "unique": rows - dups, "out": out}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--report", required=True, choices=sorted(REPORTS))
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--out", required=True,
                    help="output CSV; name it like 2026-11-29-<report>-bench.csv so IntelMQ can pick the report")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--duplicate-ratio", type=float, default=0.1,
                    help="fraction of rows repeating an earlier row's key (default 0.1)")
    ap.add_argument("--window", type=int, default=10000,
                    help="duplicates repeat one of the last WINDOW rows (default 10000)")
    ap.add_argument("--start", default="2026-11-29 00:00:00", help="first timestamp (UTC)")
    ap.add_argument("--span", type=int, default=86399, help="seconds covered by the timestamps")
    ap.add_argument("--pool-weights", default="35,25,40",
                    help="weights geo-test-ranges,doc-ranges,random-public (default 35,25,40)")
    a = ap.parse_args(argv)
    if not 0 <= a.duplicate_ratio < 1:
        ap.error("--duplicate-ratio must be in [0, 1)")
    gw, dw, rw = (float(x) for x in a.pool_weights.split(","))
    t = time.perf_counter()
    res = generate(a.report, a.rows, a.out, a.seed, a.duplicate_ratio, a.window, a.start, a.span, gw, dw, rw)
    res["seconds"] = round(time.perf_counter() - t, 3)
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
