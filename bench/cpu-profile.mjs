// Preloaded into the service process when BENCH_PROFILE is set (`node --import tsx --import
// ./bench/cpu-profile.mjs start.ts`): V8's sampling profiler of the main thread from the process's
// start to its exit, written to BENCH_PROFILE_FILE as a .cpuprofile (Chrome DevTools and VS Code
// open it). Plain JavaScript: the worker's workflow thread inherits the flags and loads it before
// any loader would. An in-process session answers synchronously, so 'exit' can write the profile.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { isMainThread } from "node:worker_threads";

const file = process.env.BENCH_PROFILE_FILE;
if (file && isMainThread) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 500 }); // µs
  session.post("Profiler.start");
  process.on("exit", () => {
    session.post("Profiler.stop", (err, result) => {
      if (!err) writeFileSync(file, JSON.stringify(result.profile));
    });
  });
}
