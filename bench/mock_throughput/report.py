"""The verdict on a run against the targets, and the table a person reads."""

from __future__ import annotations

from typing import Any

from bench.common import MIB
from bench.mock_throughput.profiling import LAYERS, NO_LAYER
from bench.mock_throughput.wrk import WRK_TIMEOUT_S

STARTUP_TARGET_S = 2.0
SCENARIO_TARGET_S = 2.0
BUSY_PCT = 20.0  # CPU of other processes, % of one core, above which the table warns


def ratio(
    result: dict[str, Any], a: str, b: str, what: str = "rps", phase: str = "throughput"
) -> float | None:
    tp = result.get(phase, {})
    if a not in tp or b not in tp:
        return None
    return tp[a]["median"][what] / tp[b]["median"][what]


def at_most(result: dict[str, Any], what: str, phase: str = "throughput") -> bool | None:
    """spacegate INFO's median `what` no more than Prism silent's, in `phase` (issue 11)."""
    found = ratio(result, "spacegate_info", "prism_silent", what, phase)
    return None if found is None else found <= 1.0


def verdict(result: dict[str, Any]) -> dict[str, Any]:
    tp = result["throughput"]
    found: dict[str, Any] = {
        "ratios": {
            "spacegate_info/prism_default": ratio(result, "spacegate_info", "prism_default"),
            "spacegate_info/prism_silent": ratio(result, "spacegate_info", "prism_silent"),
            "spacegate_info/minimal": ratio(result, "spacegate_info", "minimal"),
            "spacegate_warning/prism_default": ratio(result, "spacegate_warning", "prism_default"),
            "spacegate_warning/prism_silent": ratio(result, "spacegate_warning", "prism_silent"),
            "spacegate_warning/minimal": ratio(result, "spacegate_warning", "minimal"),
            # how far the yardstick itself is from the target
            "minimal/prism_default": ratio(result, "minimal", "prism_default"),
            "minimal/prism_silent": ratio(result, "minimal", "prism_silent"),
            # --compare-with: this checkout against the other one
            "spacegate_info/spacegate_before": ratio(result, "spacegate_info", "spacegate_before"),
            "cpu us/req spacegate_info/spacegate_before": ratio(
                result, "spacegate_info", "spacegate_before", "cpu_us_per_request"
            ),
            "p99 spacegate_info/spacegate_before": ratio(
                result, "spacegate_info", "spacegate_before", "p99_ms"
            ),
            "c=1 p50 spacegate_info/spacegate_before": ratio(
                result, "spacegate_info", "spacegate_before", "p50_ms", "single"
            ),
        },
        "cpu_us_per_request_over_minimal": {
            k: tp[k]["median"]["cpu_us_per_request"] - tp["minimal"]["median"]["cpu_us_per_request"]
            for k in ("spacegate_info", "spacegate_warning")
        },
    }
    for key in tp:
        # --workers: scaling against one worker; --python: another interpreter against this one
        if key.startswith(("spacegate_info_w", "spacegate_info_py")):
            found["ratios"][f"{key}/spacegate_info"] = ratio(result, key, "spacegate_info")
    vs_prism = found["ratios"]["spacegate_info/prism_default"]
    found["throughput_at_least_prism_default"] = None if vs_prism is None else vs_prism >= 1.0
    vs_silent = found["ratios"]["spacegate_info/prism_silent"]
    found["next_goal_beats_prism_silent"] = None if vs_silent is None else vs_silent >= 1.0
    # Issue 11's targets, against Prism's best (-v silent)
    found["cpu_per_request_at_most_prism_silent"] = at_most(result, "cpu_us_per_request")
    found["p99_at_most_prism_silent"] = at_most(result, "p99_ms")
    found["single_p50_at_most_prism_silent"] = at_most(result, "p50_ms", "single")
    found["layers"] = layer_costs(result)
    memory = result.get("memory")
    found["memory_flat"] = memory["flat"] if isinstance(memory, dict) else None
    startup = result["startup_s"]["spacegate_info"]
    found["startup_under_2s"] = startup["median"] < STARTUP_TARGET_S
    found["startup_max_under_2s"] = startup["max"] < STARTUP_TARGET_S
    worst = max(result["scenarios"], key=lambda s: s["max_s"])
    found["scenarios_max_s"] = worst["max_s"]
    found["scenarios_slowest"] = worst["name"]
    found["scenarios_within_2s"] = worst["max_s"] < SCENARIO_TARGET_S
    found["scenarios_status_as_declared"] = all(s["ok"] for s in result["scenarios"])
    found["only_2xx_under_load"] = all(v["median"]["non_2xx"] == 0 for v in tp.values())
    found["timeouts_under_load"] = {
        k: v["median"]["timeouts"] for k, v in tp.items() if v["median"]["timeouts"]
    }
    found["socket_errors_under_load"] = {
        k: v["median"]["socket_errors"] for k, v in tp.items() if v["median"]["socket_errors"]
    }
    return found


def layer_costs(result: dict[str, Any]) -> list[dict[str, Any]]:
    """--layers: CPU per request of mock mode and of each variant with a layer less, and so
    what each layer costs under load (the difference), in the order they are taken away."""
    from bench.mock_throughput.layers import VARIANTS, layer_key

    tp = result["throughput"]
    keys = [layer_key(variant) for variant in VARIANTS]
    if "spacegate_info" not in tp or any(key not in tp for key in keys):
        return []
    found = []
    before = tp["spacegate_info"]["median"]["cpu_us_per_request"]
    for variant, key in zip(VARIANTS.values(), keys, strict=True):
        cpu = tp[key]["median"]["cpu_us_per_request"]
        found.append({"removed": variant.removed, "layer_us": before - cpu, "left_us": cpu})
        before = cpu
    return found


def layer_lines(result: dict[str, Any]) -> list[str]:
    costs = result["verdict"]["layers"]
    if not costs:
        return []
    tp = result["throughput"]
    full = tp["spacegate_info"]["median"]["cpu_us_per_request"]
    lines = ["", "layers by removal (CPU per request at c=50, medians of this run):"]
    lines.append(f"  {'spacegate mock, INFO, as served':<72}{full:7.0f} us")
    for cost in costs:
        lines.append(
            f"  - {cost['removed']:<70}{-cost['layer_us']:+7.0f} us -> {cost['left_us']:5.0f} us"
        )
    if "prism_silent" in tp:
        silent = tp["prism_silent"]["median"]["cpu_us_per_request"]
        lines.append(f"  {'Prism -v silent, its whole request':<72}{silent:7.0f} us")
    return lines


def yes_no(value: bool | None) -> str:
    return "n/a" if value is None else ("MET" if value else "NOT MET")


def table(result: dict[str, Any]) -> str:
    m, v, cfg = result["machine"], result["versions"], result["config"]
    lines = [
        "spacegate mock-mode throughput (issue 3)",
        f"date {m['date']}  git {m['git']}  {m['cpu_model']}, {m['cpus_usable']} cpus usable, "
        f"load at start {m['loadavg_at_start']}",
        f"python {m['python']}  {m['platform']}",
        "versions: " + ", ".join(f"{k} {val}" for k, val in v.items()),
        f"wrk -t{cfg['wrk_threads']} -c{cfg['connections']} -d{cfg['duration_s']}s --latency "
        f"--timeout {cfg['wrk_timeout_s']}s, POST {cfg['request']['path']} (default scenario), "
        f"{cfg['repeats']} interleaved rounds after {cfg['warmup_s']} s warm-up each; "
        "one worker each unless named, 127.0.0.1",
        f"Prism: {result['prism']}",
        "",
    ]
    lines += rows(result["throughput"], cfg)
    if "single" in result:
        lines += ["", "one connection (wrk -t1 -c1), the same servers and rounds:"]
        lines += rows(result["single"], cfg)
    verdict_ = result["verdict"]
    busy = max(e["median"]["others_pct"] for e in result["throughput"].values())
    if "bare" in result["throughput"]:
        lines.append(
            f"calibration: bare uvicorn {result['throughput']['bare']['median']['rps']:.0f} req/s "
            "(the design notes quote ~29,000 on a quiet machine of this size)"
        )
    if busy > BUSY_PCT:
        lines.append(
            f"NOTE: other processes used up to {busy:.0f}% of a core during some runs (median per "
            "server): absolute figures are depressed; compare the ratios of this run."
        )
    lines.append("")
    lines.append("ratios of medians (req/s unless named):")
    for name, value in verdict_["ratios"].items():
        if value is not None:
            lines.append(f"  {name:<44}{value:6.2f}")
    for key, extra in verdict_["cpu_us_per_request_over_minimal"].items():
        lines.append(f"  CPU over the minimal app, {key:<17}{extra:+7.0f} us/request")
    lines.append("")
    lines.append("start-up, spawn -> first 200 of the operation (s):")
    for key, s in result["startup_s"].items():
        runs = " ".join(f"{x:.2f}" for x in s["runs"])
        lines.append(f"  {key:<18} median {s['median']:.2f}  max {s['max']:.2f}   [{runs}]")
    lines.append(
        f"  (spacegate wrote {result['spacegate_startup_log_bytes']} bytes of log before "
        "its first request)"
    )
    lines.append("")
    lines.append("scenarios (Prefer: example=<name>; first request, then max of 3):")
    for s in result["scenarios"]:
        extra = f", {s['spaces']} spaces" if s["spaces"] is not None else ""
        mark = "" if s["ok"] else f"  WRONG STATUS, expected {s['expected_status']}"
        lines.append(
            f"  {s['name']:<24}{s['statuses'][0]:>4}  first {s['first_s'] * 1000:7.1f} ms  "
            f"max {s['max_s'] * 1000:7.1f} ms{extra}{mark}"
        )
    lines += layer_lines(result)
    lines += memory_lines(result.get("memory"))
    profile = result.get("profile")
    if isinstance(profile, dict):
        lines += profile_table(profile, cfg)
    elif profile:
        lines += ["", f"profile: {profile}"]
    lines += [
        "",
        "targets:",
        f"  spacegate INFO >= Prism default req/s: "
        f"{yes_no(verdict_['throughput_at_least_prism_default'])}",
        f"  (next goal) spacegate INFO >= Prism silent: "
        f"{yes_no(verdict_['next_goal_beats_prism_silent'])}",
        f"  start-up to first answer < 2 s (median): {yes_no(verdict_['startup_under_2s'])}"
        f" (every spawn: {yes_no(verdict_['startup_max_under_2s'])})",
        f"  every scenario within 2 s: {yes_no(verdict_['scenarios_within_2s'])} "
        f"(slowest {verdict_['scenarios_slowest']}, {verdict_['scenarios_max_s'] * 1000:.0f} ms)"
        f"; statuses as declared: {yes_no(verdict_['scenarios_status_as_declared'])}",
        f"  only 2xx answers under load: {yes_no(verdict_['only_2xx_under_load'])}"
        f"; wrk timeouts (no answer in {WRK_TIMEOUT_S} s): "
        f"{verdict_['timeouts_under_load'] or 'none'}"
        f"; socket errors: {verdict_['socket_errors_under_load'] or 'none'}",
        "issue 11 (against Prism -v silent, this run):",
        f"  req/s at c=50 >= Prism silent: {yes_no(verdict_['next_goal_beats_prism_silent'])}",
        f"  CPU per request <= Prism silent: "
        f"{yes_no(verdict_['cpu_per_request_at_most_prism_silent'])}",
        f"  p99 at c=50 <= Prism silent: {yes_no(verdict_['p99_at_most_prism_silent'])}",
        f"  p50 at c=1 <= Prism silent: {yes_no(verdict_['single_p50_at_most_prism_silent'])}",
        f"  start-up to the first answer < 2 s: {yes_no(verdict_['startup_max_under_2s'])}",
        f"  memory flat over the memory run: {yes_no(verdict_['memory_flat'])}",
    ]
    return "\n".join(lines)


def rows(phase: dict[str, Any], cfg: dict[str, Any]) -> list[str]:
    lines = [
        f"{'server':<26}{'req/s':>8}{'(min..max)':>15}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'cpu us/req':>11}{'cpu %':>7}{'others %':>9}{'log B/req':>10}"
        f"{'non-2xx':>8}{'t/o':>5}{'sock':>5}  logging"
    ]
    for key, entry in phase.items():
        s = entry["median"]
        spread = f"{s['rps_min']:.0f}..{s['rps_max']:.0f}"
        lines.append(
            f"{cfg['targets'][key]['label']:<26}{s['rps']:>8.0f}{spread:>15}{s['p50_ms']:>8.2f}"
            f"{s['p99_ms']:>8.2f}{s['cpu_us_per_request']:>11.0f}{s['cpu_pct']:>7.0f}"
            f"{s['others_pct']:>9.0f}"
            f"{s['log_bytes_per_request']:>10.0f}{s['non_2xx']:>8}{s['timeouts']:>5}"
            f"{s['socket_errors']:>5}  "
            f"{cfg['targets'][key]['logging']}"
        )
    return lines


def memory_lines(memory: dict[str, Any] | str | None) -> list[str]:
    if memory is None:
        return []
    if isinstance(memory, str):
        return ["", f"memory: {memory}"]
    return [
        "",
        f"memory of a fresh spacegate's worker over {memory['requests']} requests (c=50): "
        f"{memory['rss_at_start_bytes'] / MIB:.1f} MiB at start, "
        f"{memory['rss_settled_bytes'] / MIB:.1f} MiB after {memory['settled_after_requests']}, "
        f"{memory['rss_last_bytes'] / MIB:.1f} MiB at the end "
        f"({memory['growth_bytes'] / MIB:+.1f} MiB, flat if <= "
        f"{memory['allowed_growth_bytes'] / MIB:.1f}: {yes_no(memory['flat'])}); "
        f"trend {memory['trend_bytes_per_10k_requests'] / MIB:+.2f} MiB per 10,000 requests; "
        f"peak {memory['peak_hwm_bytes'] / MIB:.1f} MiB",
    ]


def profile_table(profile: dict[str, Any], cfg: dict[str, Any]) -> list[str]:
    keys = list(profile)
    labels = [cfg["targets"][k]["label"] for k in keys]
    lines = [
        "",
        "profile (py-spy record during one more wrk run; us = share of the samples x the",
        "median CPU us/request of the rounds above):",
    ]
    for key, label in zip(keys, labels, strict=True):
        p = profile[key]
        lines.append(
            f"  {label}: {p['samples']} busy samples of {p['expected_samples_if_always_busy']}"
            f" ({p['samples_dropped_torn']} torn dropped); "
            f"profiled run {p['run']['rps']:.0f} req/s, {p['run']['cpu_us_per_request']:.0f} CPU "
            f"us/request; scaled by {p['scaled_by_cpu_us_per_request']:.0f}"
        )
    head = "".join(f"{label[:22]:>24}" for label in labels)
    for title, section in (("layer (its own work)", "layers"), ("owner (self time)", "owners")):
        lines.append("")
        lines.append(f"  {title:<66}{head}")
        names: list[str] = []
        if section == "layers":
            names = [name for name, _ in LAYERS] + [NO_LAYER]
        else:
            for key in keys:
                names += [n for n in profile[key][section] if n not in names]
        for name in names:
            cells = ""
            for key in keys:
                cell = profile[key][section].get(name)
                cells += (
                    f"{cell['us_per_request']:>10.0f} us {cell['pct']:>5.1f}%    "
                    if cell
                    else f"{'-':>24}"
                )
            lines.append(f"  {name[:66]:<66}{cells}")
    for key, label in zip(keys, labels, strict=True):
        lines.append("")
        lines.append(f"  hottest leaf files, {label}:")
        for name, cell in list(profile[key]["leaf_files"].items())[:10]:
            lines.append(f"    {cell['pct']:5.1f}%  {cell['us_per_request']:5.0f} us  {name}")
    return lines
