// bench.mjs - the LangGraph.js side of cairn's peer comparison.
//
// The same workloads as bench/cairn_bench_store.c, written the idiomatic
// LangGraph way (StateGraph + Annotation state, plain function nodes, a
// conditional edge for the loop, checkpointers passed to compile()):
//
//   langgraphjs_text_chain_runs_per_s        upper -> reverse -> lower on
//                                            "hello world" (no checkpointer);
//                                            every run must return
//                                            "dlrow olleh"
//   langgraphjs_cycle_<saver>_supersteps_per_s
//                                            nodes a and b each add one to
//                                            state.count, a -> b, b -> a while
//                                            count < N: N supersteps, like
//                                            cairn's cycle. <saver> is
//                                            no_checkpointer, memorysaver,
//                                            sqlite_normal (WAL, synchronous
//                                            NORMAL) and sqlite_full (WAL,
//                                            synchronous FULL: fsync at every
//                                            commit, like cairn's `machine`)
//   langgraphjs_incremental_1mib_sqlite_normal_*
//                                            the cycle with a 1 MiB string in
//                                            the state that no node changes;
//                                            supersteps/s and bytes written to
//                                            SQLite per checkpoint
//   langgraphjs_resume_*                     a thread with H checkpoints in
//                                            SQLite (WAL, NORMAL); each rep
//                                            continues it by exactly one
//                                            superstep with
//                                            invoke(null, {thread_id}) and
//                                            interruptAfter. _invoke_ms: warm
//                                            (saver and graph already open in
//                                            this process); _latency_ms: a new
//                                            better-sqlite3 connection +
//                                            SqliteSaver + compile + invoke
//
// Output: one JSON object a line on stdout, shaped like cairn's
// {name, params, median, p99, min, max, units, machine}. Every scenario
// does one unmeasured warm-up run, then --reps repetitions (default 3).
// Every run's output is checked (final counter, chain text, number of
// checkpoints); a mismatch is reported on stderr and the exit code is 1.
//
// usage: node bench.mjs [--quick] [--reps N] [--big-steps N] [--versions]
// (--versions prints the versions in use as one JSON object and exits)

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";

import Database from "better-sqlite3";
import {
  Annotation,
  END,
  GraphRecursionError,
  MemorySaver,
  START,
  StateGraph,
} from "@langchain/langgraph";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";

// ---- configuration ---------------------------------------------------------

function parseArgs(argv) {
  const cfg = {
    quick: false,
    reps: 3,
    cycleSteps: 10000, // cairn: durable_cycle_* (no_store, none, process)
    fullSteps: 1000, // cairn: durable_cycle_machine runs cycle_steps / 10
    bigSteps: 500, // cairn runs 10,000; 1 MiB a checkpoint makes SQLite slow
    bigBytes: 1 << 20,
    history: 10000, // cairn: resume after 10,000 supersteps
    resumeReps: 10,
    chainRuns: 2000,
  };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") {
      Object.assign(cfg, {
        quick: true,
        reps: 2,
        cycleSteps: 100,
        fullSteps: 20,
        bigSteps: 10,
        history: 50,
        resumeReps: 3,
        chainRuns: 20,
      });
    } else if (a === "--versions") {
      cfg.versionsOnly = true;
    } else if (a === "--reps" && i + 1 < argv.length) {
      cfg.reps = Number(argv[++i]);
    } else if (a === "--big-steps" && i + 1 < argv.length) {
      cfg.bigSteps = Number(argv[++i]);
    } else {
      console.error("usage: node bench.mjs [--quick] [--reps N] [--big-steps N] [--versions]");
      process.exit(2);
    }
  }
  if (!(cfg.reps >= 1) || !(cfg.bigSteps >= 2) || cfg.bigSteps % 2)
    throw new Error("--reps must be >= 1 and --big-steps even and >= 2");
  return cfg;
}

const cfg = parseArgs(process.argv);
const require = createRequire(import.meta.url);
const versionOf = (pkg) => require(`${pkg}/package.json`).version;

// "<cpu model>, <n> cores", like cairn's benches.
function machine() {
  let model = cpus()[0]?.model ?? "unknown cpu";
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m) model = m[1];
  } catch {}
  return `${model.trim()}, ${cpus().length} cores`;
}
const MACHINE = machine();
const VERSIONS = {
  node: process.versions.node,
  "@langchain/langgraph": versionOf("@langchain/langgraph"),
  "@langchain/langgraph-checkpoint-sqlite": versionOf(
    "@langchain/langgraph-checkpoint-sqlite",
  ),
  "better-sqlite3": versionOf("better-sqlite3"),
  sqlite: new Database(":memory:").prepare("select sqlite_version() v").get().v,
};

// ---- timing, statistics, output --------------------------------------------

const now = () => Number(process.hrtime.bigint()) / 1e9; // monotonic seconds

function stats(values) {
  const v = [...values].sort((x, y) => x - y);
  const n = v.length;
  return {
    median: n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2,
    p99: v[Math.ceil(0.99 * n) - 1], // nearest rank
    min: v[0],
    max: v[n - 1],
  };
}

function report(name, params, values, units) {
  const st = stats(values);
  const r3 = (x) => Math.round(x * 1000) / 1000;
  console.log(
    JSON.stringify({
      name: `langgraphjs_${name}`,
      params,
      median: r3(st.median),
      p99: r3(st.p99),
      min: r3(st.min),
      max: r3(st.max),
      units,
      machine: MACHINE,
    }),
  );
}

let failures = 0;
function check(ok, what) {
  if (!ok) {
    failures++;
    throw new Error(`check failed: ${what}`);
  }
}

// ---- graphs ----------------------------------------------------------------

// upper -> reverse -> lower, one superstep each.
function textChain() {
  const State = Annotation.Root({ text: Annotation() });
  return new StateGraph(State)
    .addNode("upper", (s) => ({ text: s.text.toUpperCase() }))
    .addNode("reverse", (s) => ({ text: [...s.text].reverse().join("") }))
    .addNode("lower", (s) => ({ text: s.text.toLowerCase() }))
    .addEdge(START, "upper")
    .addEdge("upper", "reverse")
    .addEdge("reverse", "lower")
    .addEdge("lower", END);
}

// a -> b -> a ... while count < limit: `limit` supersteps from count 0.
// With big, the state also has a `blob` channel the nodes never write.
function counterCycle(limit, big = false) {
  const State = Annotation.Root(
    big ? { count: Annotation(), blob: Annotation() } : { count: Annotation() },
  );
  const inc = (s) => ({ count: s.count + 1 });
  return new StateGraph(State)
    .addNode("a", inc)
    .addNode("b", inc)
    .addEdge(START, "a")
    .addEdge("a", "b")
    .addConditionalEdges("b", (s) => (s.count < limit ? "a" : END), ["a", END]);
}

// A SqliteSaver on a file DB in dir, journal WAL and the given synchronous.
function sqliteSaver(dir, synchronous) {
  const db = new Database(join(dir, "checkpoints.sqlite"));
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${synchronous}`);
  const saver = new SqliteSaver(db);
  saver.setup(); // creates the tables (and sets WAL again)
  const mode = db.pragma("journal_mode", { simple: true });
  const sync = db.pragma("synchronous", { simple: true });
  check(mode === "wal", `journal_mode is ${mode}`);
  check(sync === { NORMAL: 1, FULL: 2 }[synchronous], `synchronous is ${sync}`);
  return { db, saver };
}

const tempDir = () => mkdtempSync(join(tmpdir(), "cairn-peer-lgjs-"));

// ---- scenarios -------------------------------------------------------------

let threadSeq = 0;

// One run of the cycle with a fresh checkpointer of the given kind.
// Returns { seconds, bytesPerCheckpoint }.
async function runCycle(kind, steps, big) {
  const limit = steps;
  const graph = counterCycle(limit, big);
  let dir = null;
  let sql = null;
  let checkpointer;
  if (kind === "memorysaver") checkpointer = new MemorySaver();
  else if (kind === "sqlite_normal" || kind === "sqlite_full") {
    dir = tempDir();
    sql = sqliteSaver(dir, kind === "sqlite_full" ? "FULL" : "NORMAL");
    checkpointer = sql.saver;
  }
  try {
    const app = graph.compile(checkpointer ? { checkpointer } : {});
    const input = big ? { count: 0, blob: "x".repeat(cfg.bigBytes) } : { count: 0 };
    const config = {
      recursionLimit: steps + 10,
      configurable: { thread_id: `cycle-${++threadSeq}` },
    };
    const t0 = now();
    const out = await app.invoke(input, config);
    const seconds = now() - t0;
    check(out.count === limit, `${kind}: count ${out.count}, want ${limit}`);
    if (big) check(out.blob.length === cfg.bigBytes, `${kind}: blob changed`);
    let bytesPerCheckpoint = null;
    if (sql) {
      // The input checkpoint (step -1), the input applied (step 0) and one
      // a superstep.
      const { n } = sql.db.prepare("select count(*) n from checkpoints").get();
      check(n === steps + 2, `${kind}: ${n} checkpoints, want ${steps + 2}`);
      const cp = sql.db
        .prepare(
          "select coalesce(sum(length(checkpoint) + length(metadata)), 0) b from checkpoints",
        )
        .get().b;
      const wr = sql.db
        .prepare("select coalesce(sum(length(value)), 0) b from writes")
        .get().b;
      bytesPerCheckpoint = (cp + wr) / n;
    }
    return { seconds, bytesPerCheckpoint };
  } finally {
    sql?.db.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

async function benchCycle(name, kind, steps, big = false) {
  await runCycle(kind, Math.min(steps, big ? 50 : 1000), big); // warm-up
  const rates = [];
  const sizes = [];
  for (let r = 0; r < cfg.reps; r++) {
    const { seconds, bytesPerCheckpoint } = await runCycle(kind, steps, big);
    rates.push(steps / seconds);
    if (bytesPerCheckpoint != null) sizes.push(bytesPerCheckpoint);
  }
  const params = {
    supersteps: steps,
    checkpointer: kind,
    ...(kind.startsWith("sqlite")
      ? { journal_mode: "WAL", synchronous: kind === "sqlite_full" ? "FULL" : "NORMAL" }
      : {}),
    durability: kind === "no_checkpointer" ? null : "async (default)",
    ...(big ? { state_bytes: cfg.bigBytes } : {}),
    reps: cfg.reps,
  };
  report(`${name}_supersteps_per_s`, params, rates, "supersteps/s");
  if (big) report(`${name}_bytes_per_checkpoint`, params, sizes, "bytes");
}

async function benchTextChain() {
  const app = textChain().compile();
  const once = async () => {
    const out = await app.invoke({ text: "hello world" });
    check(out.text === "dlrow olleh", `text chain returned ${JSON.stringify(out.text)}`);
  };
  for (let i = 0; i < Math.min(cfg.chainRuns, 200); i++) await once(); // warm-up
  const rates = [];
  for (let r = 0; r < cfg.reps; r++) {
    const t0 = now();
    for (let i = 0; i < cfg.chainRuns; i++) await once();
    rates.push(cfg.chainRuns / (now() - t0));
  }
  report(
    "text_chain_runs_per_s",
    { nodes: 3, supersteps_per_run: 3, runs: cfg.chainRuns, checkpointer: null, reps: cfg.reps },
    rates,
    "runs/s",
  );
}

// A thread stopped after `history` supersteps (recursion limit, like cairn's
// max_supersteps), then resumed one superstep at a time.
async function benchResume() {
  const dir = tempDir();
  const dbPath = join(dir, "checkpoints.sqlite");
  const limit = 2 * cfg.history + 10; // the loop itself would go on
  const graph = counterCycle(limit);
  const thread = { configurable: { thread_id: "history" } };
  try {
    let sql = sqliteSaver(dir, "NORMAL");
    let app = graph.compile({ checkpointer: sql.saver });
    try {
      await app.invoke({ count: 0 }, { ...thread, recursionLimit: cfg.history });
      check(false, "history run was not stopped by the recursion limit");
    } catch (e) {
      if (!(e instanceof GraphRecursionError)) throw e;
    }
    let count = (await app.getState(thread)).values.count;
    check(count === cfg.history, `history ended at ${count}, want ${cfg.history}`);
    const { n: checkpoints } = sql.db.prepare("select count(*) n from checkpoints").get();
    sql.db.close();

    // One superstep more: interruptAfter every node stops after it.
    const step = async (a) => {
      const out = await a.invoke(null, { ...thread, interruptAfter: ["a", "b"] });
      count++;
      check(out.count === count, `resume returned ${out.count}, want ${count}`);
    };
    // Warm: a saver (connection) and compiled graph kept open in this process.
    sql = sqliteSaver(dir, "NORMAL");
    app = graph.compile({ checkpointer: sql.saver });
    await step(app); // warm-up
    const warm = [];
    for (let r = 0; r < cfg.resumeReps; r++) {
      const t0 = now();
      await step(app);
      warm.push((now() - t0) * 1e3);
    }
    sql.db.close();
    // Open: a new connection, saver and compiled graph each time.
    const open = [];
    for (let r = 0; r < cfg.resumeReps; r++) {
      const t0 = now();
      const s = sqliteSaver(dir, "NORMAL");
      await step(graph.compile({ checkpointer: s.saver }));
      open.push((now() - t0) * 1e3);
      s.db.close();
    }
    const params = {
      history_supersteps: cfg.history,
      checkpoints,
      resumed_supersteps: 1,
      checkpointer: "sqlite_normal",
      journal_mode: "WAL",
      synchronous: "NORMAL",
      reps: cfg.resumeReps,
    };
    report("resume_invoke_ms", { ...params, opens_db: false }, warm, "ms");
    report("resume_latency_ms", { ...params, opens_db: true }, open, "ms");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- main ------------------------------------------------------------------

async function main() {
  if (cfg.versionsOnly) {
    console.log(JSON.stringify(VERSIONS));
    return;
  }
  console.error(`langgraphjs bench: ${JSON.stringify(VERSIONS)}`);
  const t0 = now();
  await benchTextChain();
  await benchCycle("cycle_no_checkpointer", "no_checkpointer", cfg.cycleSteps);
  await benchCycle("cycle_memorysaver", "memorysaver", cfg.cycleSteps);
  await benchCycle("cycle_sqlite_normal", "sqlite_normal", cfg.cycleSteps);
  await benchCycle("cycle_sqlite_full", "sqlite_full", cfg.fullSteps);
  await benchCycle("incremental_1mib_sqlite_normal", "sqlite_normal", cfg.bigSteps, true);
  await benchResume();
  console.error(`langgraphjs bench: done in ${(now() - t0).toFixed(1)} s`);
}

main().then(
  () => process.exit(failures ? 1 : 0),
  (e) => {
    console.error(`langgraphjs bench: ${e.stack ?? e}`);
    process.exit(1);
  },
);
