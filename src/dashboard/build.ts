/**
 * Builds the web dashboard into a folder `asm serve` serves from memory: `index.html`, `app.js`
 * (the Preact UI and the typed client, one minified ES module) and `app.css`. Run by
 * `npm run build` (into dist/dashboard) and by the browser tests (into a temporary folder).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const uiDir = fileURLToPath(new URL("./ui/", import.meta.url));

const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>asm dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/app.css">
<script type="module" src="/app.js"></script>
</head>
<body>
<div id="app"><p>Loading…</p></div>
<noscript>The dashboard needs JavaScript.</noscript>
</body>
</html>
`;

/** Bundles the UI into `outDir` (created if missing). */
export async function buildDashboard(outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [join(uiDir, "main.tsx")],
    outfile: join(outDir, "app.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    minify: true,
    jsx: "automatic",
    jsxImportSource: "preact",
    legalComments: "none",
    logLevel: "warning",
  });
  await writeFile(join(outDir, "app.css"), await readFile(join(uiDir, "styles.css")));
  await writeFile(join(outDir, "index.html"), INDEX_HTML);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2] ?? fileURLToPath(new URL("../../dist/dashboard/", import.meta.url));
  await buildDashboard(outDir);
  console.log(`dashboard built into ${outDir}`);
}
