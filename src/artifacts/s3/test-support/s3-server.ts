import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { S3ClientConfig } from "@aws-sdk/client-s3";
import S3rver from "s3rver";

/** A loopback s3rver with one bucket, for one test file. */
export interface TestS3Server {
  bucket: string;
  endpoint: string;
  /** Client settings for this server; see dependency-notes §0.4 for the checksum settings. */
  clientConfig: S3ClientConfig;
  /** Object keys created, in order, with how: `"Put"` (PutObject) or `"Post"` (multipart complete). */
  readonly created: { key: string; via: string }[];
  stop(): Promise<void>;
}

/** Starts s3rver on 127.0.0.1 with an OS-assigned port and its own temp directory. */
export async function startS3Server(bucket: string): Promise<TestS3Server> {
  const directory = await mkdtemp(join(tmpdir(), "asm-s3rver-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    vhostBuckets: false,
    configureBuckets: [{ name: bucket }],
  });
  const created: { key: string; via: string }[] = [];
  server.on("event", (event) => {
    for (const record of event.Records) {
      const [kind, via] = record.eventName.split(":");
      if (kind === "ObjectCreated" && via !== undefined) {
        created.push({ key: record.s3.object.key, via });
      }
    }
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    bucket,
    endpoint,
    clientConfig: {
      endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
      // Without these the SDK frames streamed bodies as aws-chunked, which s3rver stores verbatim.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      // A loopback server answers at once or not at all: fail fast instead of backing off.
      maxAttempts: 1,
    },
    created,
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
