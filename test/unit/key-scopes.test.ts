// `checkout keys create` without --scope: every scope but the operator's (currencies are shared by
// every merchant, so adding or disabling one is not a merchant key's to do unless it is named).
import { expect, it } from "vitest";
import { OPERATOR_SCOPES, SCOPES } from "../../api/caller.ts";
import { scopesOf } from "../../cli/keys.ts";

it("gives a new key every scope but the operator's, unless they are named", () => {
  const defaults = scopesOf({});
  expect(defaults).toContain("ledger:write");
  expect(defaults).not.toContain("currencies:write");
  expect(defaults).toEqual(SCOPES.filter((s) => !OPERATOR_SCOPES.includes(s)));
  expect(scopesOf({ scope: "currencies:write,ledger:read" })).toEqual(["currencies:write", "ledger:read"]);
});
