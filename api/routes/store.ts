// The storefront at /store: a merchant's page as a newcomer would write one (store/, plain HTML,
// CSS and browser JavaScript), calling only the public API with a publishable key. It exists only
// when the app is handed a publishable key for it (npm start's development merchant's, or a test
// stack's own): there is no setting that serves it, so a deployed API has no /store at all.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Hono } from "hono";
import { projectRoot } from "../../config.ts";

export interface StoreSettings {
  /** The key the page calls the API with: a publishable one (pk_…), never a secret one. */
  publishableKey: string;
}

const storeDir = path.join(projectRoot, "store");

/** The page's files, by path: nothing else under /store is read from disk. */
const FILES: Record<string, { file: string; type: string }> = {
  "/store": { file: "index.html", type: "text/html; charset=utf-8" },
  "/store/store.js": { file: "store.js", type: "text/javascript; charset=utf-8" },
  "/store/store.css": { file: "store.css", type: "text/css; charset=utf-8" },
};

/**
 * Only the page's own files, no inline script or style, calls to this origin only; the sandbox's
 * 3-D Secure page opens in a tab of its own (it may be on another origin than the page).
 */
export const STORE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** The paths anyone may GET without a key (api/auth.ts): the page's files and its config. */
export const STORE_PATHS = /^\/store(\/|\/(store\.js|store\.css|config\.json))?$/;

export function storeRoutes({ publishableKey }: StoreSettings) {
  // A secret key in a page is a secret key given to everyone who opens it.
  if (!publishableKey.startsWith("pk_")) throw new Error("The store takes a publishable key (pk_…), never a secret one.");
  const headers = (type: string) => ({ "content-type": type, "cache-control": "no-cache", "content-security-policy": STORE_CSP });
  const router = new Hono()
    .get("/store/config.json", (c) =>
      c.json({ publishableKey }, 200, { "cache-control": "no-store", "content-security-policy": STORE_CSP }),
    )
    .get("/store/", (c) => c.redirect("/store")); // the page's links are absolute: one address for it
  for (const [route, { file, type }] of Object.entries(FILES)) {
    router.get(route, async (c) => c.body(await readFile(path.join(storeDir, file)), 200, headers(type)));
  }
  return router;
}
