// Debian's Chromium, for the tests that drive a real browser with playwright-core (which downloads
// none of its own here). A file whose browser is missing says so once and skips.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/** The flags a headless Chromium needs in this sandbox, and no background traffic of its own. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Where Chromium is, or undefined with a warning naming the test file that will skip. */
export function findChromium(testFile: string): string | undefined {
  const found = existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : onPath();
  if (!found) {
    console.warn(
      `${testFile} SKIPPED: no Chromium at /usr/bin/chromium nor on PATH (install it with \`apt-get install -y chromium\`).`,
    );
  }
  return found;
}

function onPath(): string | undefined {
  try {
    return execFileSync("which", ["chromium"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}
