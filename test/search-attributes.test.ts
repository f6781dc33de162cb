// The search attributes are defined once (workflows/definitions.ts); the worker registers them on
// servers that lack them, and the real `temporal` CLI then sees them.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { Connection } from "@temporalio/client";
import { expect, inject, it } from "vitest";
import { ensureSearchAttributes } from "../infra/search-attributes.ts";
import { searchAttributes } from "../workflows/definitions.ts";

const run = promisify(execFile);

it("registers missing search attributes once, visible to the temporal CLI", async () => {
  const address = inject("temporalAddress");
  const namespace = `ns-${randomBytes(4).toString("hex")}`;
  await run(inject("temporalCli"), ["operator", "namespace", "create", "--namespace", namespace, "--address", address]);
  const connection = await Connection.connect({ address });
  try {
    const names = Object.values(searchAttributes).map((k) => k.name);
    expect((await ensureSearchAttributes(connection, namespace)).sort()).toEqual([...names].sort());
    expect(await ensureSearchAttributes(connection, namespace)).toEqual([]);

    const { stdout } = await run(inject("temporalCli"), [
      "operator",
      "search-attribute",
      "list",
      "--namespace",
      namespace,
      "--address",
      address,
      "-o",
      "json",
    ]);
    const expected = Object.fromEntries(Object.values(searchAttributes).map((k) => [k.name, `INDEXED_VALUE_TYPE_${k.type}`]));
    expect(JSON.parse(stdout).customAttributes).toEqual(expected);
  } finally {
    await connection.close();
  }
});
