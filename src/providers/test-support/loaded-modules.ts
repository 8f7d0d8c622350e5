/**
 * Prints, as one JSON line, the URL of every module a program loads: imports `module` (a path
 * relative to this file), then, for each `create:<provider>` argument, `createAdapter(provider)`.
 *
 *   node --import tsx loaded-modules.ts ../registry.ts create:shell
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
};
for (const action of actions) {
  const provider = action.replace(/^create:/, "");
  if (!imported.createAdapter) throw new Error(`${target} exports no createAdapter`);
  await imported.createAdapter(provider, {});
}
// Messages arrive in order: once a resolution made now is reported, every earlier one was.
const drained = new Promise<void>((resolve) => {
  onSentinel = resolve;
});
await import(SENTINEL);
await drained;
port1.close();
process.stdout.write(`${JSON.stringify(loaded)}\n`);
