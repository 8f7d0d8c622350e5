// s3rver ships no types; this covers the part the tests use.
declare module "s3rver" {
  import type { EventEmitter } from "node:events";

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }

  /** One S3 event notification, as S3 would send it. */
  interface S3rverEvent {
    Records: {
      eventName: string;
      s3: { bucket: { name: string }; object: { key: string; size?: number } };
    }[];
  }

  class S3rver extends EventEmitter {
    constructor(options?: S3rverOptions);
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
    on(event: "event", listener: (event: S3rverEvent) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }

  export default S3rver;
  export type { S3rverEvent, S3rverOptions };
}
