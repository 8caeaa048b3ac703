// Builds the explorer bundle into clientzone/web/explorer_assets (committed, so
// installing the package needs no Node). Run through `make explorer-assets`.
//
// The page's Content-Security-Policy allows nothing but 'self': the fonts and
// images that GraphiQL's stylesheet inlines as data: URLs are written out as
// files, and every package that ends up in the bundle has its licence copied
// into THIRD_PARTY_LICENSES.txt.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, "../clientzone/web/explorer_assets");

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "files"), { recursive: true });

const result = await esbuild.build({
  entryPoints: { explorer: join(here, "src/main.jsx") },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  jsx: "automatic",
  legalComments: "none",
  define: { "process.env.NODE_ENV": '"production"' },
  loader: { ".woff2": "file", ".woff": "file", ".ttf": "file", ".png": "file", ".svg": "file" },
  assetNames: "files/[name]-[hash]",
  outdir: out,
  metafile: true,
  logLevel: "warning",
});

// data: URLs in the stylesheet become files next to it.
const cssPath = join(out, "explorer.css");
const css = readFileSync(cssPath, "utf8").replace(
  /url\(\s*["']?data:([a-z0-9.+/-]+);base64,([A-Za-z0-9+/=]+)["']?\s*\)/g,
  (_, mime, data) => {
    const bytes = Buffer.from(data, "base64");
    const extension = { "font/woff2": "woff2", "font/woff": "woff", "image/png": "png", "image/svg+xml": "svg" }[mime];
    if (!extension) throw new Error(`unexpected data: URL of type ${mime}`);
    const name = `${createHash("sha256").update(bytes).digest("hex").slice(0, 16)}.${extension}`;
    writeFileSync(join(out, "files", name), bytes);
    return `url(files/${name})`;
  },
);
if (/url\(\s*["']?(https?:|\/\/|data:)/.test(css)) throw new Error("the stylesheet still points elsewhere");
writeFileSync(cssPath, css);
const js = readFileSync(join(out, "explorer.js"), "utf8");
for (const forbidden of ["unpkg.com", "jsdelivr", "esm.sh", "fonts.googleapis"]) {
  if (js.includes(forbidden)) throw new Error(`the bundle mentions ${forbidden}`);
}

// One licence section per package that contributed code to the bundle.
const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g);
  if (!match) continue;
  const path = input.slice(0, input.lastIndexOf(match[match.length - 1]) + match[match.length - 1].length);
  const manifest = JSON.parse(readFileSync(resolve(here, path, "package.json"), "utf8"));
  packages.set(`${manifest.name}@${manifest.version}`, { dir: resolve(here, path), manifest });
}
const sections = [...packages.keys()].sort().map((key) => {
  const { dir, manifest } = packages.get(key);
  const file = readdirSync(dir).find((name) => /^(licen[cs]e|copying)(\.|$)/i.test(name));
  const licence = typeof manifest.license === "string" ? manifest.license : JSON.stringify(manifest.license);
  const text = file ? readFileSync(join(dir, file), "utf8").trim() : `(no licence file shipped; package.json says ${licence})`;
  return `${key} (${licence})\n${"-".repeat(key.length)}\n${text}\n`;
});
writeFileSync(
  join(out, "THIRD_PARTY_LICENSES.txt"),
  "The explorer bundle (explorer.js, explorer.css, files/) is built from these npm packages\n" +
    "(explorer/package-lock.json pins them). Their licences follow.\n\n" +
    sections.join("\n"),
);
console.log(`explorer assets: ${packages.size} packages -> ${out}`);
if (!existsSync(join(out, "explorer.js"))) process.exit(1);
