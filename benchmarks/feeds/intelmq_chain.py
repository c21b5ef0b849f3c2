#!/usr/bin/env python3
"""IntelMQ 3.5 reference chain for the Rampart feed benchmark.

Runs IntelMQ's own bots in-process (library mode, one process, one core):

    file (as the file collector would: extra.file_name + raw, optional chunking)
      -> Shadowserver parser  (schema: benchmarks/feeds/shadowserver-schema.json)
      -> taxonomy expert
      -> MaxMind GeoIP expert (GeoIP2-City test database)
      -> deduplicator expert  (Redis, dedicated db, flushed first)

and prints per-stage and whole-chain throughput; the last stdout line is JSON.

Run it with the interpreter of the IntelMQ virtualenv, e.g.

    /var/tmp/intelmq-venv/bin/python benchmarks/feeds/intelmq_chain.py \\
        /var/tmp/intelmq-venv/data/2026-11-29-scan_telnet-bench.csv

Timing covers every event going through every stage (collector chunking,
parsing, taxonomy, GeoIP, dedup); bot start-up and the optional event dump
are excluded and reported separately.
"""

import argparse
import json
import os
import re
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCHEMA = os.path.join(HERE, "shadowserver-schema.json")
DEFAULT_MMDB = "/work/shared/corpora/mmdb/test-data/GeoIP2-City-Test.mmdb"
DEFAULT_ROOT = "/var/tmp/intelmq-venv/root"
# Same pattern IntelMQ's Shadowserver parser uses to take the report name
# from a file name: optional "YYYY-MM-DD-" prefix, then the first
# "-"-separated word, then anything, then ".csv".
FILE_NAME_RE = re.compile(r"^(?:\d{4}-\d{2}-\d{2}-)?(\w+)(-\w+)*\.csv$")


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Run the IntelMQ 3.5 reference chain on a Shadowserver CSV.")
    ap.add_argument("csv", help="input CSV (e.g. from generate.py)")
    ap.add_argument("--report", help="report name (e.g. scan_telnet) if the file name does not carry it")
    ap.add_argument("--file-name", help="value for the report's extra.file_name (default: derived)")
    ap.add_argument("--schema", default=DEFAULT_SCHEMA, help="Shadowserver schema JSON")
    ap.add_argument("--intelmq-root", default=DEFAULT_ROOT,
                    help="INTELMQ_ROOT_DIR; the schema is copied to <root>/var/lib/bots/")
    ap.add_argument("--mmdb", default=DEFAULT_MMDB, help="MaxMind City database")
    ap.add_argument("--redis-host", default="127.0.0.1")
    ap.add_argument("--redis-port", type=int, default=6379)
    ap.add_argument("--redis-db", type=int, default=13, help="dedicated Redis db, flushed first")
    ap.add_argument("--dedup-ttl", type=int, default=86400)
    ap.add_argument("--dedup-keys",
                    default="classification.identifier,source.ip,source.port,destination.ip,destination.port",
                    help="deduplicator filter_keys")
    ap.add_argument("--dedup-filter-type", default="whitelist", choices=["whitelist", "blacklist"])
    ap.add_argument("--chunk-size", type=int, default=1048576,
                    help="collector chunk_size in bytes (header replicated); 0 = whole file in one report")
    ap.add_argument("--batch", type=int, default=1000,
                    help="events handed to an expert per process_message call")
    ap.add_argument("--log-level", default="WARNING")
    ap.add_argument("--dump", help="write the chain's output events as JSON lines (untimed)")
    return ap.parse_args(argv)


def prepare_root(root, schema):
    """Lay out the IntelMQ root so the parser finds our schema; no network."""
    state = os.path.join(root, "var", "lib", "bots")
    os.makedirs(state, exist_ok=True)
    os.makedirs(os.path.join(root, "var", "log"), exist_ok=True)
    os.makedirs(os.path.join(root, "etc"), exist_ok=True)
    with open(schema) as fh:
        json.load(fh)  # fail early on invalid JSON
    shutil.copyfile(schema, os.path.join(state, "shadowserver-schema.json"))


def pick_file_name(args):
    if args.file_name:
        return args.file_name
    base = os.path.basename(args.csv)
    m = FILE_NAME_RE.search(base)
    if m and (not args.report or m.group(1) == args.report):
        return base
    if not args.report:
        sys.exit(f"cannot derive the report from {base!r}; pass --report")
    return f"2026-11-29-{args.report}-bench.csv"


def main(argv=None):
    args = parse_args(argv)
    if not os.path.isfile(args.mmdb):
        sys.exit(f"MaxMind database not found: {args.mmdb}")
    root = os.path.abspath(args.intelmq_root)
    prepare_root(root, args.schema)
    # Must be set before intelmq is imported: VAR_STATE_PATH is computed at import.
    os.environ["INTELMQ_ROOT_DIR"] = root + "/"

    import redis
    import intelmq
    from intelmq.lib.bot import BotLibSettings
    from intelmq.lib.message import Report
    from intelmq.lib.splitreports import generate_reports
    from intelmq.bots.parsers.shadowserver.parser import ShadowserverParserBot
    from intelmq.bots.experts.taxonomy.expert import TaxonomyExpertBot
    from intelmq.bots.experts.maxmind_geoip.expert import GeoIPExpertBot
    from intelmq.bots.experts.deduplicator.expert import DeduplicatorExpertBot

    file_name = pick_file_name(args)
    rconn = redis.Redis(host=args.redis_host, port=args.redis_port, db=args.redis_db)
    rconn.flushdb()

    common = dict(BotLibSettings)
    common.update({
        "logging_level": args.log_level,
        # bot statistics go to the same dedicated db, not IntelMQ's default db 3
        "statistics_host": args.redis_host,
        "statistics_port": args.redis_port,
        "statistics_database": args.redis_db,
    })

    t_init = time.perf_counter()
    parser = ShadowserverParserBot("shadowserver-parser", settings={
        **common, "auto_update": False, "test_mode": False})
    taxonomy = TaxonomyExpertBot("taxonomy-expert", settings=common)
    geoip = GeoIPExpertBot("geoip-expert", settings={
        **common, "database": args.mmdb, "overwrite": False, "use_registered": False,
        "autoupdate_cached_database": False})
    dedup = DeduplicatorExpertBot("deduplicator-expert", settings={
        **common, "redis_cache_host": args.redis_host, "redis_cache_port": args.redis_port,
        "redis_cache_db": args.redis_db, "redis_cache_ttl": args.dedup_ttl,
        "filter_type": args.dedup_filter_type, "filter_keys": args.dedup_keys})
    init_seconds = time.perf_counter() - t_init

    template = Report(harmonization=parser.harmonization)
    template.add("feed.url", "file://localhost" + os.path.abspath(args.csv))
    template.add("feed.provider", "Shadowserver")
    template.add("feed.accuracy", 100)
    template.add("extra.file_name", file_name)

    batch = max(1, args.batch)
    secs = {"collect": 0.0, "parser": 0.0, "taxonomy": 0.0, "geoip": 0.0, "dedup": 0.0}
    counts = {"reports": 0, "parser_out": 0, "parser_errors": 0, "taxonomy_out": 0, "geoip_out": 0,
              "dedup_out": 0}
    dump = open(args.dump, "w") if args.dump else None
    geo_hits = 0
    dump_seconds = 0.0

    def run_expert(bot, name, events):
        out = []
        t = time.perf_counter()
        for i in range(0, len(events), batch):
            out.extend(bot.process_message(*events[i:i + batch]).get("output", ()))
        secs[name] += time.perf_counter() - t
        counts[name + "_out"] += len(out)
        return out

    t_chain = time.perf_counter()
    with open(args.csv, "rb") as fh:
        reports = generate_reports(template, fh, args.chunk_size or None, True)
        while True:
            t = time.perf_counter()
            report = next(reports, None)
            secs["collect"] += time.perf_counter() - t
            if report is None:
                break
            counts["reports"] += 1

            t = time.perf_counter()
            state = parser.process_message(report)
            secs["parser"] += time.perf_counter() - t
            events = state.get("output", [])
            counts["parser_out"] += len(events)
            counts["parser_errors"] += len(state.get("error", ()))
            del state, report

            events = run_expert(taxonomy, "taxonomy", events)
            events = run_expert(geoip, "geoip", events)
            events = run_expert(dedup, "dedup", events)

            t = time.perf_counter()
            for ev in events:
                if "source.geolocation.latitude" in ev or "destination.geolocation.latitude" in ev:
                    geo_hits += 1
                if dump:
                    dump.write(ev.to_json(hierarchical=False, with_type=False) + "\n")
            dump_seconds += time.perf_counter() - t
    chain_seconds = time.perf_counter() - t_chain - dump_seconds
    if dump:
        dump.close()

    rows = counts["parser_out"] + counts["parser_errors"]
    parsed = counts["parser_out"]

    def eps(n, s):
        return round(n / s, 1) if s > 0 else None

    result = {
        "intelmq_version": intelmq.__version__,
        "report": FILE_NAME_RE.search(file_name).group(1),
        "file_name": file_name,
        "rows": rows,
        "parser_errors": counts["parser_errors"],
        "reports": counts["reports"],
        "events": counts["dedup_out"],
        "duplicates_dropped": counts["geoip_out"] - counts["dedup_out"],
        "geoip_hits": geo_hits,
        "collect_eps": eps(parsed, secs["collect"]),
        "parser_eps": eps(parsed, secs["parser"]),
        "taxonomy_eps": eps(parsed, secs["taxonomy"]),
        "geoip_eps": eps(counts["taxonomy_out"], secs["geoip"]),
        "dedup_eps": eps(counts["geoip_out"], secs["dedup"]),
        "chain_eps": eps(parsed, chain_seconds),
        "chain_seconds": round(chain_seconds, 3),
        "stage_seconds": {k: round(v, 3) for k, v in secs.items()},
        "init_seconds": round(init_seconds, 3),
        "chunk_size": args.chunk_size,
        "batch": batch,
        "dedup_keys": args.dedup_keys,
        "dedup_filter_type": args.dedup_filter_type,
        "mmdb": os.path.basename(args.mmdb),
    }
    print(f"IntelMQ {intelmq.__version__}: {rows} rows -> {counts['dedup_out']} events in "
          f"{chain_seconds:.2f}s ({result['chain_eps']} events/s)", file=sys.stderr)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
