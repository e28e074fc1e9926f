// Faults of node processes: kill -9 and restart, pause (SIGSTOP/SIGCONT), and a graceful stop
// (SIGTERM: the app hands its role and leadership over) and restart.
import { liveNodes, type Nemesis, type NemesisContext, restart, shuffle } from "./nemesis.js";

/** Up to `most` live nodes, the leader among them half of the time, claimed for `owner`. */
async function targets(context: NemesisContext, most: number, owner: string): Promise<number[]> {
  const live = liveNodes(context.cluster);
  const count = Math.min(most, live.length, 1 + Math.floor(context.random() * most));
  const chosen = shuffle(context.random, live).slice(0, count);
  if (context.random() < 0.5) {
    const leader = await context.cluster.leader(2000);
    if (leader !== undefined && live.includes(leader) && !chosen.includes(leader))
      chosen[0] = leader;
  }
  return chosen.filter((index) => context.cluster.claim(index, owner));
}

export function killNemesis(): Nemesis {
  let killed: number[] = [];
  return {
    name: "kill",
    async start(context) {
      killed = await targets(context, 2, "kill");
      await Promise.all(killed.map((i) => context.cluster.kill(i)));
      return killed.length > 0 ? `killed ${killed.map((i) => `n${i}`).join(" ")}` : undefined;
    },
    async stop(context) {
      const done = [];
      for (const index of killed) {
        done.push(await restart(context, index, "kill -9"));
        context.cluster.release(index, "kill");
      }
      killed = [];
      return done.join(", ");
    },
  };
}

export function pauseNemesis(): Nemesis {
  let paused: number[] = [];
  return {
    name: "pause",
    async start(context) {
      paused = await targets(context, 2, "pause");
      for (const index of paused) context.cluster.pause(index);
      return paused.length > 0 ? `paused ${paused.map((i) => `n${i}`).join(" ")}` : undefined;
    },
    async stop(context) {
      for (const index of paused) {
        context.cluster.resume(index);
        context.cluster.release(index, "pause");
      }
      const text = `resumed ${paused.map((i) => `n${i}`).join(" ")}`;
      paused = [];
      return text;
    },
  };
}

export function stopNemesis(): Nemesis {
  let stopped: number[] = [];
  return {
    name: "stop",
    async start(context) {
      stopped = await targets(context, 1, "stop");
      const results = [];
      for (const index of stopped) {
        const started = Date.now();
        const code = await context.cluster.stopGracefully(index, 30_000);
        if (code !== 0) context.finding(`graceful stop of n${index} ended with ${code}`);
        results.push(`stopped n${index} (exit ${code} after ${Date.now() - started} ms)`);
      }
      return results.length > 0 ? results.join(", ") : undefined;
    },
    async stop(context) {
      const done = [];
      for (const index of stopped) {
        done.push(await restart(context, index, "graceful stop"));
        context.cluster.release(index, "stop");
      }
      stopped = [];
      return done.join(", ");
    },
  };
}
