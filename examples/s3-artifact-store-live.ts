// The S3 artifact store against a loopback S3 server (s3rver, started here on 127.0.0.1 — no AWS
// account needed; point `clientConfig` at S3 or MinIO to use a real one). Each artifact is one
// object under the store's prefix, its SHA-256 in the object's metadata; large bodies go up as
// multipart uploads.
//
// Checks: a run's event log put as an artifact reads back byte for byte, with its size and
// SHA-256 from `head`; a missing key is `not_found` from `get` and `null` from `head`; `delete`
// removes it and is idempotent; a store with another prefix never sees it; a 6 MiB body above
// the multipart threshold is uploaded in parts (the server saw a multipart completion, where the
// small one was a PutObject) and reads back intact.
//
//   npx tsx examples/s3-artifact-store-live.ts                   # a scripted Claude CLI
//   npx tsx examples/s3-artifact-store-live.ts --provider claude # the real claude CLI
import { createHash } from "node:crypto";
import { AsmError, MemorySessionStore, SessionManager } from "agent-session-manager";
import { S3ArtifactStore } from "agent-session-manager/artifacts/s3";
import S3rver from "s3rver";
import { check, createMainAgent, runExample, tempDir } from "./support.js";

const BUCKET = "asm-artifacts";
const MiB = 1024 * 1024;

runExample(async () => {
  const server = await startLoopbackS3();
  const store = new S3ArtifactStore({
    bucket: BUCKET,
    prefix: "team-a/artifacts",
    clientConfig: server.clientConfig,
    multipartThresholdBytes: 5 * MiB,
    partSizeBytes: 5 * MiB,
  });
  try {
    const agent = createMainAgent({ answer: "Patched." });
    const manager = new SessionManager({ store: new MemorySessionStore(), adapter: agent.adapter });
    const result = await manager.runOnce("Say patched.");
    const key = `runs/${result.runId}/events.jsonl`;
    const body = result.events.map((event) => JSON.stringify(event)).join("\n");

    const info = await store.put(key, body, { contentType: "application/x-ndjson" });
    const sha256 = createHash("sha256").update(body).digest("hex");
    check(info.sha256 === sha256, "put reports the body's SHA-256");
    check(Buffer.from(await store.get(key)).toString() === body, "get returns the body byte for byte");
    const head = await store.head(key);
    check(
      head?.size === Buffer.byteLength(body) && head.sha256 === sha256,
      "head from the object's metadata",
    );
    console.log(`put ${key}: ${head.size} bytes, sha256 ${head.sha256.slice(0, 12)}…, ${head.contentType}`);
    const small = server.created.find((object) => object.key === `${store.prefix}/${key}`)?.via;
    check(small === "Put", "a small body is one PutObject");
    console.log(`object: s3://${BUCKET}/${store.prefix}/${key} (ObjectCreated:${small})`);

    const other = new S3ArtifactStore({
      bucket: BUCKET,
      prefix: "team-b",
      clientConfig: server.clientConfig,
    });
    check((await other.head(key)) === null, "another prefix never sees it");
    await other.close();

    const missing = await store.get("runs/none/events.jsonl").catch((error: unknown) => error);
    check(AsmError.is(missing, "not_found"), "a missing key is not_found");
    check((await store.head("runs/none/events.jsonl")) === null, "head of a missing key is null");
    console.log(`missing key: get -> ${missing.code}, head -> null`);

    await store.delete(key);
    await store.delete(key);
    check((await store.head(key)) === null, "deleted");
    console.log("delete: gone, and a second delete is a no-op");

    const large = Buffer.alloc(6 * MiB, "asm-");
    const largeInfo = await store.put("patches/large.bin", large);
    const via = server.created.find((object) => object.key.endsWith("patches/large.bin"))?.via;
    // s3rver names a multipart completion "Post" (ObjectCreated:Post), a single PutObject "Put".
    check(via === "Post", `a 6 MiB body went up in parts (server saw ObjectCreated:${via})`);
    const back = await store.get("patches/large.bin");
    check(
      Buffer.compare(Buffer.from(back), large) === 0 && largeInfo.size === large.length,
      "read back intact",
    );
    console.log(`large: ${largeInfo.size} bytes, uploaded in parts (ObjectCreated:${via}), read back intact`);
  } finally {
    await store.close();
    await server.stop();
  }
});

/** s3rver on 127.0.0.1 (a port the OS picks) with one bucket, and the objects it saw created. */
async function startLoopbackS3() {
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory: tempDir("s3rver"),
    vhostBuckets: false,
    configureBuckets: [{ name: BUCKET }],
  });
  const created: { key: string; via: string }[] = [];
  server.on("event", (event: { Records: { eventName: string; s3: { object: { key: string } } }[] }) => {
    for (const record of event.Records) {
      const [kind, via] = record.eventName.split(":");
      if (kind === "ObjectCreated" && via !== undefined) created.push({ key: record.s3.object.key, via });
    }
  });
  const { port } = await server.run();
  return {
    created,
    clientConfig: {
      endpoint: `http://127.0.0.1:${port}`,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
      // s3rver predates S3's flexible checksums: send and check them only where S3 requires.
      requestChecksumCalculation: "WHEN_REQUIRED" as const,
      responseChecksumValidation: "WHEN_REQUIRED" as const,
    },
    stop: () => server.close(),
  };
}
