"""lib.report.provenance: environments, data checks and benchmarks from the loaded frame alone."""

from __future__ import annotations

import json
import shutil

from lib.core.dataset import FILES
from lib.core.records import read_record
from lib.report import provenance
from lib.report.results import load


def test_environments_are_the_records_provenance(smoke):
    table = provenance.environments_table(smoke)
    expected: dict[tuple, int] = {}
    for path in smoke.frame["path"]:
        record = read_record(path)
        p = record["provenance"]
        key = (
            p["python"],
            p["torch"],
            p["torchvision"],
            p["cuda"],
            p["device_name"],
            p["torch_threads"],
            p["host"],
            p["platform"],
            record["precision"],
        )
        expected[key] = expected.get(key, 0) + 1
    rows = {tuple(r[:-1]): r[-1] for r in table.itertuples(index=False, name=None)}
    assert rows == expected


def test_data_checks_and_runs(smoke):
    checksums, checks = provenance.data_checks(smoke)
    assert len(checksums) == len(FILES)
    assert checks["checked"] == checks["agree"] == 10
    assert len(checks["normalisations"]) == 1
    assert len(provenance.runs_table(smoke)) == 10
    assert provenance.problems_table(smoke).empty
    throughput = provenance.throughput_table(smoke)
    assert len(throughput) == 5 and set(throughput["Runs"]) == {2}


def test_a_malformed_record_is_a_problem_not_an_environment(fixtures, tmp_path):
    shutil.copytree(fixtures, tmp_path, dirs_exist_ok=True)
    (tmp_path / "smoke" / "improved" / "seed-1" / "record.json").write_text("{")
    broken = load("smoke", tmp_path)
    assert list(provenance.problems_table(broken)["Status"]) == ["malformed"]
    environments = provenance.environments_table(broken)
    assert environments["Runs"].sum() == 9
    assert [str(n) for n in environments["Threads"]] == ["2"]  # an integer, as recorded


def test_benchmark_files_as_tables(tmp_path):
    bench = {
        "machine": {"device": "cpu", "device_name": "EPYC"},
        "git_commit": "abcdef0123456789",
        "results": [{"arm": "resnet34", "engine": "lib", "images_per_s": [10.0, 12.0]}],
        "ratios": [{"arm": "resnet34", "numerator": "lib", "denominator": "naive", "median": 2}],
    }
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "cpu.json").write_text(json.dumps(bench))
    html = provenance.benches_html(load("smoke", tmp_path))
    assert "<h3>cpu.json</h3>" in html and "Speed-ups" in html and "2.00×" in html
    assert "GPU utilisation" not in html
    assert provenance.benches_html(load("smoke", tmp_path / "none")) == "<p></p>"
