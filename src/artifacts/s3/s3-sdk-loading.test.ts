import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it, vi } from "vitest";
import { sdkLoadError } from "./s3-sdk.js";

const SDK_PACKAGES = ["@aws-sdk/client-s3", "@aws-sdk/lib-storage"];
const srcDir = fileURLToPath(new URL("../../", import.meta.url));
/** Nothing listens on port 9 (discard) here: a call that gets as far as the network fails at once. */
const unreachable = {
  region: "us-east-1",
  endpoint: "http://127.0.0.1:9",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  maxAttempts: 1,
};

afterEach(() => {
  for (const name of SDK_PACKAGES) vi.doUnmock(name);
  vi.resetModules();
});

describe("loading the AWS SDK", () => {
  it("importing the package root or the S3 store module does not load the SDK; the first call does", async () => {
    const loaded: string[] = [];
    for (const name of SDK_PACKAGES) {
      vi.doMock(name, async (importOriginal) => {
        loaded.push(name);
        return importOriginal();
      });
    }
    await import("../../index.js");
    const { S3ArtifactStore } = await import("./index.js");
    const store = new S3ArtifactStore({ bucket: "b", clientConfig: unreachable });
    expect(loaded).toEqual([]);

    await store.head("k").catch(() => undefined);
    expect(loaded.sort()).toEqual(SDK_PACKAGES);
    await store.close();
  });

  it("a missing SDK is dependency_not_available with an install hint, and a later call tries again", async () => {
    let installed = false;
    vi.doMock("@aws-sdk/client-s3", async (importOriginal) => {
      if (!installed) {
        throw Object.assign(new Error("Cannot find package '@aws-sdk/client-s3' imported from s3-sdk.ts"), {
          code: "ERR_MODULE_NOT_FOUND",
        });
      }
      return importOriginal();
    });
    const { S3ArtifactStore } = await import("./index.js");
    const store = new S3ArtifactStore({ bucket: "b", clientConfig: unreachable });
    await expect(store.put("k", "v")).rejects.toMatchObject({
      code: "dependency_not_available",
      hint: "Install the AWS SDK: npm install @aws-sdk/client-s3 @aws-sdk/lib-storage",
    });

    installed = true;
    // Now it loads and gets as far as the network (nothing listens on port 9).
    await expect(store.put("k", "v")).rejects.toMatchObject({ code: "storage_connection_failed" });
    await store.close();
  });

  it("maps a real module-not-found error", async () => {
    const specifier = "@aws-sdk/package-that-is-not-installed";
    const error: unknown = await import(specifier).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    const mapped = sdkLoadError(error);
    expect(mapped.code).toBe("dependency_not_available");
    expect(mapped.hint).toContain("npm install @aws-sdk/client-s3 @aws-sdk/lib-storage");
    expect(sdkLoadError(new Error("boom")).hint).toMatch(/Reinstall/);
  });

  it("only the S3 store's loader imports the SDK at run time", async () => {
    const offenders: string[] = [];
    for (const file of await sourceFiles(srcDir)) {
      const text = await readFile(file, "utf8");
      const path = relative(srcDir, file);
      for (const match of text.matchAll(/^\s*import\s+(type\s+)?[^;]*?from\s+"(@aws-sdk\/[^"]+)"/gm)) {
        if (match[1] === undefined) offenders.push(`${path}: static import of ${match[2]}`);
      }
      if (/import\(\s*"@aws-sdk\//.test(text) && path !== join("artifacts", "s3", "s3-sdk.ts")) {
        offenders.push(`${path}: dynamic import of the SDK`);
      }
    }
    expect(offenders).toEqual([]);
  });
});

/** The library's own source files: no tests, no test support. */
async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts"))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => !path.includes(`${join("test-support")}`) && !path.endsWith(".d.ts"));
}
