import { statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** A Codex CLI executable, and the directories the SDK puts first on its PATH. */
export interface CodexBinary {
  executablePath: string;
  /** The platform package's `codex-path` directory (its bundled `rg`), when it has one. */
  pathDirs: string[];
}

/** Rust target triple and npm package of the Codex CLI build for each POSIX platform. */
const PLATFORM_BUILDS: Readonly<Record<string, { triple: string; packageName: string }>> = {
  "linux-x64": { triple: "x86_64-unknown-linux-musl", packageName: "@openai/codex-linux-x64" },
  "linux-arm64": { triple: "aarch64-unknown-linux-musl", packageName: "@openai/codex-linux-arm64" },
  "android-x64": { triple: "x86_64-unknown-linux-musl", packageName: "@openai/codex-linux-x64" },
  "android-arm64": { triple: "aarch64-unknown-linux-musl", packageName: "@openai/codex-linux-arm64" },
  "darwin-x64": { triple: "x86_64-apple-darwin", packageName: "@openai/codex-darwin-x64" },
  "darwin-arm64": { triple: "aarch64-apple-darwin", packageName: "@openai/codex-darwin-arm64" },
};

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The directory of package `name` as Node would find it from `fromDir`: in `node_modules` of
 * `fromDir` or of the nearest ancestor that has it. (Resolving `name/package.json` does not work
 * for packages whose `exports` leave it out, as the Codex SDK's does.)
 */
function findPackageDir(name: string, fromDir: string): string | undefined {
  for (let dir = path.resolve(fromDir); ; ) {
    const candidate = path.join(dir, "node_modules", name);
    if (isFile(path.join(candidate, "package.json"))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * The Codex CLI that `@openai/codex-sdk` would run when given no `codexPathOverride`: the
 * platform package of `@openai/codex` (the SDK's dependency), found the way the SDK finds it
 * (dist/index.js `findCodexPath`), including the older `vendor/<triple>/codex/codex` layout.
 * The adapter needs the path itself because it gives the SDK the guard's path instead.
 * Undefined when the SDK, the CLI package or this platform's build is not installed.
 */
export function findBundledCodex(
  fromDir: string = path.dirname(fileURLToPath(import.meta.url)),
): CodexBinary | undefined {
  const build = PLATFORM_BUILDS[`${process.platform}-${process.arch}`];
  if (build === undefined) return undefined;
  const sdkDir = findPackageDir("@openai/codex-sdk", fromDir);
  const cliDir = findPackageDir("@openai/codex", sdkDir ?? fromDir);
  const platformDir = cliDir && findPackageDir(build.packageName, cliDir);
  if (platformDir === undefined) return undefined;
  const root = path.join(platformDir, "vendor", build.triple);
  const binary = path.join(root, "bin", "codex");
  if (isFile(binary) && isFile(path.join(root, "codex-package.json"))) {
    const pathDir = path.join(root, "codex-path");
    return { executablePath: binary, pathDirs: isDirectory(pathDir) ? [pathDir] : [] };
  }
  const legacy = path.join(root, "codex", "codex");
  if (isFile(legacy)) {
    const pathDir = path.join(root, "path");
    return { executablePath: legacy, pathDirs: isDirectory(pathDir) ? [pathDir] : [] };
  }
  return undefined;
}
