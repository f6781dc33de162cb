#!/usr/bin/env -S node --import tsx
// The operator CLI: `npx checkout <command>` (bin/checkout.mjs), `npm run checkout -- <command>`,
// or `node --import tsx cli/checkout.ts <command>`. `checkout help` lists the commands.
import { main } from "./main.ts";

process.exitCode = await main(process.argv.slice(2));
