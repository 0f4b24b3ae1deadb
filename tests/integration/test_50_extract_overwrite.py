"""sluice extract --mode overwrite under a concurrent reader: the reader must
see the old table or the new one, never a mix or half of one."""
import json
import subprocess
import time

from conftest import NODE_DIR, SLUICE, run


def write_events(path, n, tag):
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps({"event_type": "default", "tag": tag, "i": i,
                                "Host": "user1.comcast.com", "pad": "x" * 200}) + "\n")


def test_extract_overwrite_is_atomic_for_a_concurrent_reader(tmp_path):
    small, big = tmp_path / "small.ndjson", tmp_path / "big.ndjson"
    write_events(small, 5000, "small")
    write_events(big, 20000, "big")
    out = tmp_path / "lake" / "t"
    args = [SLUICE, "extract", "--no-progress", "-o", str(out), "--mode", "overwrite",
            "--mem-max", "1"]
    run(args + ["--input", str(small)])
    reader = subprocess.Popen(["node", str(NODE_DIR / "extract_reader.mjs"), str(out), "12"],
                              stdout=subprocess.PIPE, text=True, cwd=NODE_DIR)
    time.sleep(1.5)  # let the reader start querying
    swaps = 0
    deadline = time.time() + 8
    while time.time() < deadline:
        run(args + ["--input", str(big if swaps % 2 == 0 else small)])
        # every version is complete and made of several parts
        assert (out / "_SUCCESS").exists()
        assert len(list(out.glob("*.parquet"))) > 1
        swaps += 1
    stdout, _ = reader.communicate(timeout=60)
    result = json.loads(stdout)
    counts = {int(k): v for k, v in result["counts"].items()}
    assert swaps >= 4
    assert set(counts) <= {5000, 20000}, f"reader saw a partial table: {counts}"
    assert sum(counts.values()) >= 5, counts
    # A reader that opened the old version's directory just before the swap
    # and read it after the old version was dropped (GRACE_MS later, which a
    # loaded machine can exceed) finds a file gone, or no files at all; it
    # then retries. It never reads a mix.
    for e in result["errors"]:
        assert ("No such file" in e or "does not exist" in e or "not found" in e.lower()
                or "No files found" in e), e
    assert not list((tmp_path / "lake").glob(".t.v-*"))
