#!/usr/bin/env node
// The package's `checkout` bin: runs the TypeScript CLI (cli/checkout.ts) through tsx.
import { register } from "tsx/esm/api";

register();
await import("../cli/checkout.ts");
