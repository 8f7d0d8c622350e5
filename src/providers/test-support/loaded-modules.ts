/**
 * Which modules a program loads, seen from a separate process: `loadedModules(module, ...actions)`
 * runs this file under tsx, which imports `module` (a path relative to this file), then, for each
 * `create:<provider>` action, `createAdapter(provider)`, and for each `open:<target>` action,
 * `openStore(target)` (closing the store); it prints the URL of every module resolved, as JSON.
 *
 *   node --import tsx loaded-modules.ts ../registry.ts create:shell
 *
 * A resolve hook (on the loader thread) reports each resolved URL over a MessagePort. Test-only.
 */
import { execFile } from "node:child_process";
import { register } from "node:module";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { MessageChannel } from "node:worker_threads";
import { workerArgs } from "../../stores/test-support/workers.js";

/** The URLs of the modules loaded by importing `module` and doing `actions`, in a fresh process. */
export async function loadedModules(module: string, ...actions: string[]): Promise<string[]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    workerArgs(new URL(import.meta.url), [module, ...actions]),
    { timeout: 60_000 },
  );
  return JSON.parse(stdout) as string[];
}

const HOOK = `
let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  port.postMessage(result.url);
  return result;
}`;

async function main([target, ...actions]: string[]): Promise<void> {
  /** Imported last, once: its resolution is the end marker. */
  const sentinel = `data:text/javascript,export {}; // end of ${process.pid}`;
  const { port1, port2 } = new MessageChannel();
  const loaded: string[] = [];
  let onSentinel: (() => void) | undefined;
  port1.on("message", (url: string) => {
    if (url === sentinel && onSentinel) onSentinel();
    else loaded.push(url);
  });
  register(`data:text/javascript,${encodeURIComponent(HOOK)}`, {
    data: { port: port2 },
    transferList: [port2],
  });
  if (target === undefined)
    throw new Error("usage: loaded-modules.ts <module> [create:<provider>|open:<target>…]");
  const imported = (await import(new URL(target, import.meta.url).href)) as {
    createAdapter?: (name: string, options?: object) => Promise<unknown>;
    openStore?: (target: string) => Promise<{ close(): Promise<void> }>;
  };
  for (const action of actions) {
    const [verb, ...rest] = action.split(":");
    const argument = rest.join(":");
    if (verb === "create" && imported.createAdapter) await imported.createAdapter(argument, {});
    else if (verb === "open" && imported.openStore) await (await imported.openStore(argument)).close();
    else throw new Error(`${target} cannot ${action}`);
  }
  // Messages arrive in order: once a resolution made now is reported, every earlier one was.
  const drained = new Promise<void>((resolve) => {
    onSentinel = resolve;
  });
  await import(sentinel);
  await drained;
  port1.close();
  process.stdout.write(`${JSON.stringify(loaded)}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
