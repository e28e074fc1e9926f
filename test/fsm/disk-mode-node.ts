// One disk-mode Node in its own process, for the slow tests:
//   disk-mode-node.ts <id> <address> <data dir>
// Prints "ready" once serving, then "rss <bytes>" every 100 ms (its resident memory); SIGTERM
// closes it.
import { Node } from "../../src/server/node.js";

const [idText, address, dataDir] = process.argv.slice(2);
const node = new Node({
  id: BigInt(idText),
  address,
  dataDir,
  networkLatencyMs: 50,
  diskMode: true,
  diskCacheSizeBytes: 16 * 1024 * 1024,
});
setInterval(() => process.stdout.write(`rss ${process.memoryUsage().rss}\n`), 100).unref();
await node.start();
process.stdout.write("ready\n");
process.on("SIGTERM", async () => {
  await node.close();
  process.exit(0);
});
