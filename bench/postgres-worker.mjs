// A writer or appender process for the PostgreSQL benchmark (bench/postgres.mjs):
//
//   node bench/postgres-worker.mjs store <url> <schema> <sessionId> <count> <batch>
//   node bench/postgres-worker.mjs raw   <url> <schema> <sessionId> <count> <batch>
//   node bench/postgres-worker.mjs timed <url> <schema> <sessionId> <count> <gapMs>
//
// Each connects first, prints "ready", waits for a line on stdin, then works and prints
// "done <ms>" (its own working time) before it disconnects, so connection set-up and process
// start are not measured.
//
// - store: `count` message_streamed events through the store's appendEvents, `batch` per call.
// - raw:   the same rows with plain pg on one connection: per batch BEGIN, reserve the sequences
//          with UPDATE sessions … RETURNING last_sequence, one INSERT … SELECT FROM unnest(…), COMMIT.
// - timed: `count` single appends through the store, `gapMs` apart, each carrying its send time
//          (ms since the epoch, sub-ms precision) for the follower-latency measurement.
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { newId } from "../dist/core/index.js";
import { openPostgresStore } from "../dist/stores/postgres/index.js";
import { streamDeltas } from "./stream-adapter.mjs";

const [mode, connectionString, schema, sessionId, countText, parameterText] = process.argv.slice(2);
const count = Number(countText);
const parameter = Number(parameterText);
const deltas = streamDeltas(200);

const now = () => performance.timeOrigin + performance.now();

async function startSignal() {
  process.stdout.write("ready\n");
  await once(process.stdin, "data");
  process.stdin.pause();
}

function draft(index) {
  return {
    id: newId("evt"),
    type: "message_streamed",
    sessionId,
    timestamp: new Date().toISOString(),
    provider: "bench",
    data: { delta: deltas[index % deltas.length] },
    metadata: {},
  };
}

if (mode === "store" || mode === "timed") {
  // recover: false: runs of other processes are none of this writer's business.
  const store = await openPostgresStore({ connectionString, schema, poolSize: 1, recover: false });
  // The first statements of a connection are prepared and planned; keep that out of the measurement.
  await store.getLatestSequence(sessionId);
  await startSignal();
  const started = performance.now();
  if (mode === "store") {
    for (let written = 0; written < count; written += parameter) {
      const size = Math.min(parameter, count - written);
      await store.appendEvents(Array.from({ length: size }, (_, offset) => draft(written + offset)));
    }
  } else {
    for (let index = 0; index < count; index++) {
      await store.appendEvent({ ...draft(index), data: { sentAt: now() } });
      await sleep(parameter);
    }
  }
  process.stdout.write(`done ${performance.now() - started}\n`);
  await store.close();
} else if (mode === "raw") {
  const client = new pg.Client({ connectionString });
  await client.connect();
  await client.query(`SET search_path TO ${pg.escapeIdentifier(schema)}`);
  await startSignal();
  const started = performance.now();
  for (let written = 0; written < count; written += parameter) {
    const size = Math.min(parameter, count - written);
    await client.query("BEGIN");
    const { rows } = await client.query({
      name: "reserve",
      text: "UPDATE sessions SET last_sequence = last_sequence + $1 WHERE id = $2 RETURNING last_sequence",
      values: [size, sessionId],
    });
    const first = Number(rows[0].last_sequence) - size + 1;
    const ids = [];
    const sequences = [];
    const timestamps = [];
    const data = [];
    for (let offset = 0; offset < size; offset++) {
      ids.push(newId("evt"));
      sequences.push(first + offset);
      timestamps.push(new Date().toISOString());
      data.push(JSON.stringify({ delta: deltas[(written + offset) % deltas.length] }));
    }
    await client.query({
      name: "insert",
      text: `INSERT INTO events (id, session_id, sequence, type, run_id, "timestamp", provider, data, metadata)
             SELECT id, $2, sequence, 'message_streamed', NULL, ts, 'bench', data::jsonb, '{}'::jsonb
             FROM unnest($1::text[], $3::bigint[], $4::timestamptz[], $5::text[]) AS batch (id, sequence, ts, data)`,
      values: [ids, sessionId, sequences, timestamps, data],
    });
    await client.query("COMMIT");
  }
  process.stdout.write(`done ${performance.now() - started}\n`);
  await client.end();
} else {
  process.stderr.write(
    "usage: postgres-worker.mjs store|raw|timed <url> <schema> <sessionId> <count> <batch|gapMs>\n",
  );
  process.exit(2);
}
