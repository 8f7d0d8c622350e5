/**
 * Prints, as one JSON line, the URL of every module a program loads: imports `module` (a path
 * relative to this file), then, for each `create:<provider>` argument, `createAdapter(provider)`,
 * and for each `open:<target>` argument, `openStore(target)` (closing the store).
 *
 *   node --import tsx loaded-modules.ts ../registry.ts create:shell
 *   node --import tsx loaded-modules.ts ../../stores/open-store.ts open:memory:
 *
 * A resolve hook (on the loader thread) reports each resolved URL over a MessagePort. Test-only.
 */
import { register } from "node:module";
import { MessageChannel } from "node:worker_threads";

const HOOK = `
let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  port.postMessage(result.url);
  return result;
}`;

/** Imported last, once: its resolution is the end marker. */
const SENTINEL = `data:text/javascript,export {}; // end of ${process.pid}`;
const { port1, port2 } = new MessageChannel();
const loaded: string[] = [];
let onSentinel: (() => void) | undefined;
port1.on("message", (url: string) => {
  if (url === SENTINEL && onSentinel) onSentinel();
  else loaded.push(url);
});
register(`data:text/javascript,${encodeURIComponent(HOOK)}`, {
  data: { port: port2 },
  transferList: [port2],
});

const [target, ...actions] = process.argv.slice(2);
if (target === undefined) throw new Error("usage: loaded-modules.ts <module> [create:<provider>…]");
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
await import(SENTINEL);
await drained;
port1.close();
process.stdout.write(`${JSON.stringify(loaded)}\n`);
