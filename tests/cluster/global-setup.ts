// The cluster tests run the production build. In `npm test` the Playwright
// run before them has just built it (npm start builds when stale), so this
// is a stat of a few folders; run alone on a fresh clone, it builds once.
import { ensureBuild } from "../bench/lib/processes.js";

export default function setup(): void {
  ensureBuild((line) => process.stdout.write(`cluster tests: ${line}\n`), true);
}
