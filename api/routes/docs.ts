// The OpenAPI document and a Swagger UI page served from the swagger-ui-dist package, so the
// docs work with no network.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { Hono } from "hono";

const assetsDir = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const assetTypes: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
};

const page = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Checkout API</title>
  <link rel="icon" href="/docs/assets/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout" });
  </script>
</body>
</html>`;

export function docsRoutes() {
  return new Hono()
    .get("/docs", (c) => c.html(page))
    .get("/docs/assets/:file", async (c) => {
      const file = c.req.param("file");
      const type = assetTypes[file];
      if (!type) return c.json({ error: { code: "not_found", message: `No asset ${file}.` } }, 404);
      const body = await readFile(path.join(assetsDir, file));
      return c.body(body, 200, { "content-type": type, "cache-control": "public, max-age=86400" });
    });
}
