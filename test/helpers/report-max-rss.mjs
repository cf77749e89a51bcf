// Preloaded with `node --import` by the big-file test: prints the process's peak resident set
// size (kilobytes) as the last line on stderr when it exits.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  writeSync(2, `\nKMS_MAX_RSS_KB=${process.resourceUsage().maxRSS}\n`);
});
