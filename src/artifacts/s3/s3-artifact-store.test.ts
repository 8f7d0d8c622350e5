import { createHash } from "node:crypto";
import { createServer } from "node:net";
import {
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineArtifactStoreConformance } from "../../testing/index.js";
import { rejection, sha256 } from "../test-support/assertions.js";
import { S3ArtifactStore, type S3ArtifactStoreOptions } from "./index.js";
import { startS3Server, type TestS3Server } from "./test-support/s3-server.js";

const MiB = 1024 * 1024;
let server: TestS3Server;
let prefixes = 0;

beforeAll(async () => {
  server = await startS3Server("asm-artifacts-test");
});

afterAll(async () => {
  await server?.stop();
});

/** A store on this file's server, in a prefix no other store uses, with 5 MiB multipart parts. */
function openStore(options: Partial<S3ArtifactStoreOptions> = {}): S3ArtifactStore {
  return new S3ArtifactStore({
    bucket: server.bucket,
    prefix: `case-${++prefixes}`,
    ...(options.client === undefined ? { clientConfig: server.clientConfig } : {}),
    multipartThresholdBytes: 5 * MiB,
    partSizeBytes: 5 * MiB,
    ...options,
  });
}

/** A client of our own, recording the name of every command it sends. */
function recordingClient(config: S3ClientConfig = server.clientConfig): {
  client: S3Client;
  commands: string[];
} {
  const client = new S3Client(config);
  const commands: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      commands.push(String(context.commandName));
      return next(args);
    },
    { step: "initialize", name: "recordCommands" },
  );
  return { client, commands };
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

defineArtifactStoreConformance(
  {
    name: "S3ArtifactStore (s3rver)",
    open: async () => openStore(),
    close: async (store) => (store as S3ArtifactStore).close(),
    // s3rver rewrites an object's file in place, so its own GETs can see a torn body; S3 cannot.
    skipSameKeyRace: true,
  },
  { describe, it },
);

describe("S3ArtifactStore uploads", () => {
  it("uploads a body over the threshold in parts, and a small one with one PutObject", async () => {
    const { client, commands } = recordingClient();
    const store = openStore({ client });
    try {
      const large = new Uint8Array(12 * MiB).map((_, index) => (index * 31) % 251);
      const info = await store.put("big.bin", large);
      expect(commands.filter((name) => name === "UploadPartCommand")).toHaveLength(3);
      expect(commands).toContain("CreateMultipartUploadCommand");
      expect(commands).toContain("CompleteMultipartUploadCommand");
      expect(commands).not.toContain("PutObjectCommand");
      // The server assembled it from parts: S3 reports a multipart completion as ObjectCreated:Post.
      expect(server.created.at(-1)).toEqual({ key: store.objectKey("big.bin"), via: "Post" });

      // The hash was recorded at creation, so HEAD answers without reading the body.
      const raw = await client.send(
        new HeadObjectCommand({ Bucket: server.bucket, Key: store.objectKey("big.bin") }),
      );
      expect(raw.Metadata?.sha256).toBe(sha256(large));
      expect(raw.ContentLength).toBe(12 * MiB);
      commands.length = 0;
      expect(await store.head("big.bin")).toEqual(info);
      expect(commands).toEqual(["HeadObjectCommand"]);

      commands.length = 0;
      await store.put("small.txt", "small");
      expect(commands).toEqual(["PutObjectCommand"]);
      expect(server.created.at(-1)).toEqual({ key: store.objectKey("small.txt"), via: "Put" });
    } finally {
      await store.close();
      client.destroy();
    }
  });

  it("puts a body exactly at the threshold in one request", async () => {
    const { client, commands } = recordingClient();
    const store = openStore({ client });
    try {
      await store.put("edge.bin", new Uint8Array(5 * MiB).fill(1));
      expect(commands).toEqual(["PutObjectCommand"]);
    } finally {
      client.destroy();
    }
  });
});

describe("S3ArtifactStore prefixes", () => {
  it("keeps stores with different prefixes apart in one bucket", async () => {
    const { client } = recordingClient();
    const teamA = new S3ArtifactStore({ bucket: server.bucket, prefix: "iso/team-a", client });
    const teamB = new S3ArtifactStore({ bucket: server.bucket, prefix: "iso/team-b/", client });
    const unprefixed = new S3ArtifactStore({ bucket: server.bucket, client });
    try {
      expect(teamB.prefix).toBe("iso/team-b");
      await teamA.put("shared/name.txt", "from a");
      await teamB.put("shared/name.txt", "from b");
      expect(Buffer.from(await teamA.get("shared/name.txt")).toString()).toBe("from a");
      expect(Buffer.from(await teamB.get("shared/name.txt")).toString()).toBe("from b");

      const listed = await client.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: "iso/" }));
      expect((listed.Contents ?? []).map(({ Key }) => Key).sort()).toEqual([
        "iso/team-a/shared/name.txt",
        "iso/team-b/shared/name.txt",
      ]);
      expect(Buffer.from(await unprefixed.get("iso/team-a/shared/name.txt")).toString()).toBe("from a");

      await teamA.delete("shared/name.txt");
      expect(await teamA.head("shared/name.txt")).toBeNull();
      expect(await teamB.head("shared/name.txt")).toMatchObject({ sha256: sha256("from b") });
    } finally {
      client.destroy();
    }
  });

  it("rejects a prefix that breaks the key rules", () => {
    for (const prefix of ["../up", "/abs", "a//b", "a/./b"]) {
      expect(() => new S3ArtifactStore({ bucket: "b", prefix })).toThrow(
        expect.objectContaining({
          code: "validation_error",
          details: expect.objectContaining({ field: "prefix" }),
        }),
      );
    }
  });

  it("rejects a key that the prefix pushes past S3's 1024 bytes", async () => {
    const store = new S3ArtifactStore({
      bucket: server.bucket,
      prefix: "p".repeat(100),
      clientConfig: server.clientConfig,
    });
    // 999 bytes: a valid key alone, 1100 with the prefix.
    const key = `${"k/".repeat(499)}k`;
    expect((await rejection(store.put(key, "x"))).code).toBe("validation_error");
    expect((await rejection(store.head(key))).code).toBe("validation_error");
    await store.close();
  });
});

describe("S3ArtifactStore reads", () => {
  it("getStream streams a large body", async () => {
    const store = openStore();
    try {
      const body = new Uint8Array(7 * MiB).map((_, index) => index % 253);
      await store.put("stream/big.bin", body);
      const hash = createHash("sha256");
      let size = 0;
      for await (const chunk of await store.getStream("stream/big.bin")) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).byteLength;
      }
      expect(size).toBe(body.byteLength);
      expect(hash.digest("hex")).toBe(sha256(body));
      expect((await rejection(store.getStream("stream/absent"))).code).toBe("not_found");
    } finally {
      await store.close();
    }
  });

  it("head hashes an object written by another tool without the sha256 metadata", async () => {
    const { client } = recordingClient();
    const store = openStore({ client });
    try {
      await client.send(
        new PutObjectCommand({
          Bucket: server.bucket,
          Key: store.objectKey("foreign.csv"),
          Body: "a,b\n1,2\n",
          ContentType: "text/csv",
        }),
      );
      expect(await store.head("foreign.csv")).toEqual({
        key: "foreign.csv",
        size: 8,
        sha256: sha256("a,b\n1,2\n"),
        contentType: "text/csv",
      });
    } finally {
      client.destroy();
    }
  });
});

describe("S3ArtifactStore errors", () => {
  it("an unreachable endpoint is storage_connection_failed", async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const store = new S3ArtifactStore({
      bucket: server.bucket,
      clientConfig: { ...server.clientConfig, endpoint },
    });
    try {
      for (const attempt of [
        () => store.put("k", "v"),
        () => store.get("k"),
        () => store.head("k"),
        () => store.delete("k"),
      ]) {
        const error = await rejection(attempt());
        expect(error.code).toBe("storage_connection_failed");
        expect(error.retryable).toBe(true);
        expect(error.details).toMatchObject({ bucket: server.bucket, key: "k", errno: "ECONNREFUSED" });
      }
    } finally {
      await store.close();
    }
  });

  it("unknown credentials are storage_error with a hint", async () => {
    // s3rver does not check V4 signatures, only whether it knows the access key.
    const store = new S3ArtifactStore({
      bucket: server.bucket,
      clientConfig: {
        ...server.clientConfig,
        credentials: { accessKeyId: "NOBODY", secretAccessKey: "wrong" },
      },
    });
    try {
      const error = await rejection(store.put("k", "v"));
      expect(error.code).toBe("storage_error");
      expect(error.details).toMatchObject({ s3Error: "InvalidAccessKeyId", httpStatus: 403 });
      expect(error.hint).toMatch(/credentials/);
    } finally {
      await store.close();
    }
  });

  it("a missing bucket is storage_error with a hint", async () => {
    const store = new S3ArtifactStore({ bucket: "no-such-bucket", clientConfig: server.clientConfig });
    try {
      const error = await rejection(store.put("k", "v"));
      expect(error.code).toBe("storage_error");
      expect(error.details).toMatchObject({ s3Error: "NoSuchBucket", bucket: "no-such-bucket" });
      expect(error.hint).toMatch(/no-such-bucket/);
    } finally {
      await store.close();
    }
  });

  it("checks its options", () => {
    const invalid: S3ArtifactStoreOptions[] = [
      { bucket: "" },
      { bucket: "b", partSizeBytes: 5 * MiB - 1 },
      { bucket: "b", multipartThresholdBytes: -1 },
      { bucket: "b", uploadConcurrency: 0 },
      { bucket: "b", client: new S3Client({}), clientConfig: {} },
    ];
    for (const options of invalid) {
      expect(() => new S3ArtifactStore(options)).toThrow(
        expect.objectContaining({ code: "validation_error" }),
      );
    }
  });
});

describe("S3ArtifactStore close", () => {
  it("rejects calls after close, and leaves a client it was given open", async () => {
    const { client } = recordingClient();
    const borrowed = openStore({ client });
    await borrowed.put("k", "v");
    await borrowed.close();
    await borrowed.close();
    for (const attempt of [() => borrowed.put("k", "v"), () => borrowed.get("k"), () => borrowed.head("k")]) {
      expect((await rejection(attempt())).code).toBe("storage_connection_failed");
    }
    // The caller's client still works.
    const listed = await client.send(
      new ListObjectsV2Command({ Bucket: server.bucket, Prefix: borrowed.prefix }),
    );
    expect(listed.KeyCount).toBe(1);
    client.destroy();

    const owning = openStore();
    await owning.put("k", "v");
    await owning.close();
    expect((await rejection(owning.get("k"))).code).toBe("storage_connection_failed");
  });
});
