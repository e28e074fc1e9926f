// The App's background loop (go-dqlite's App.run): first iteration at once, then every roles
// adjustment period. Each iteration finds the leader; a new node adds itself as a spare; the
// member list goes to cluster.yaml; before the App is ready the node may take a role it finds
// missing (Assume); afterwards the leader's node adjusts roles until nothing is left to change.
import { type Client, type NodeInfo, roleName } from "../client/index.js";
import { Role } from "../wire/index.js";
import { ADMIN_TIMEOUT_MS, type AppContext, describeError, pause } from "./app-context.js";
import { removeJoinMarker } from "./files.js";
import { adjustRoles, assumeRole } from "./roles.js";

/** Retry delay after a failed iteration before the App is ready (go-dqlite: 1 s). */
const RETRY_DELAY_MS = 1000;
/** Role changes in one adjustment round at most; each changes one node, so a few per node. */
const MAX_CHANGES_PER_ROUND = 64;

export interface LoopOptions {
  joining: boolean;
  rolesAdjustmentFrequencyMs: number;
  onRolesAdjustment: (leader: NodeInfo, cluster: NodeInfo[]) => void | Promise<void>;
  /** Called once, when the first iteration has joined and assumed. */
  onReady: () => void;
}

/** Runs until `signal` aborts; never rejects. */
export async function runBackgroundLoop(
  context: AppContext,
  options: LoopOptions,
  signal: AbortSignal,
): Promise<void> {
  let joining = options.joining;
  let ready = false;
  let delayMs = 0;
  // Bounded by the signal: the loop lives as long as the App.
  while (await pause(delayMs, signal)) {
    let client: Client | undefined;
    try {
      client = await context.findLeader(signal);
      if (joining) {
        await join(context, client, signal);
        joining = false;
      }
      const members = await client.cluster({ signal });
      if (members.length === 0) {
        context.logger.warn({}, "server list empty");
        delayMs = ready ? options.rolesAdjustmentFrequencyMs : RETRY_DELAY_MS;
        continue;
      }
      await context.store.set(members);
      if (!ready) {
        await assume(context, client, members, signal);
        ready = true;
        delayMs = options.rolesAdjustmentFrequencyMs;
        options.onReady();
        continue;
      }
      delayMs = options.rolesAdjustmentFrequencyMs;
      let cluster = members;
      try {
        cluster = (await adjust(context, client, signal)) ?? members;
      } catch (error) {
        if (signal.aborted) break;
        context.logger.warn({ error: describeError(error) }, "adjust roles failed");
      }
      const leader = await client.leader({ signal });
      if (leader !== undefined) {
        const leaderInfo = cluster.find((node) => node.id === leader.id) ?? {
          ...leader,
          role: Role.Voter,
        };
        try {
          await options.onRolesAdjustment(leaderInfo, cluster);
        } catch (error) {
          context.logger.warn({ error: describeError(error) }, "roles adjustment hook failed");
        }
      }
    } catch (error) {
      if (signal.aborted) break;
      context.logger.warn({ error: describeError(error) }, "background round failed");
      delayMs = ready ? options.rolesAdjustmentFrequencyMs : RETRY_DELAY_MS;
    } finally {
      client?.close();
    }
  }
}

/** Adds this node as a spare, then drops the join marker. */
async function join(context: AppContext, client: Client, signal: AbortSignal): Promise<void> {
  try {
    await client.add({ id: context.id, address: context.address, role: Role.Spare }, { signal });
  } catch (error) {
    // An earlier start may have added us and stopped before removing the marker: the Add is then
    // refused, but we are a member and must not retry forever (go-dqlite would).
    const members = await client.cluster({ signal });
    if (!members.some((node) => node.id === context.id)) {
      throw new Error(`join cluster: ${describeError(error)}`, { cause: error });
    }
  }
  context.logger.info({ id: String(context.id), address: context.address }, "joined the cluster");
  await removeJoinMarker(context.dir);
}

/** Takes a voter or stand-by role the cluster lacks, and maybe promotes a third voter. */
async function assume(
  context: AppContext,
  client: Client,
  members: NodeInfo[],
  signal: AbortSignal,
): Promise<void> {
  const probed = await context.probe(members, signal);
  const decision = assumeRole(context.rolesInput(probed), context.id);
  if (decision === null) return;
  try {
    await client.assign(context.id, decision.role, { signal, timeoutMs: ADMIN_TIMEOUT_MS });
  } catch (error) {
    throw new Error(
      `assign ${roleName(decision.role)} role to ourselves: ${describeError(error)}`,
      {
        cause: error,
      },
    );
  }
  context.logger.info({ role: roleName(decision.role) }, "assumed a role");
  // Failures here are left to the leader's adjustment rounds, which will see too few voters.
  for (const node of decision.alsoPromote) {
    try {
      await client.assign(node.id, Role.Voter, { signal, timeoutMs: ADMIN_TIMEOUT_MS });
      context.logger.info({ address: node.address }, "promoted to voter");
      break;
    } catch (error) {
      context.logger.warn(
        { address: node.address, role: roleName(node.role), error: describeError(error) },
        "promote to voter failed",
      );
    }
  }
}

/**
 * On the leader's node only: applies the roles algorithm's changes one at a time until it has
 * none left. Returns the last member list it read, or null when this node is not the leader.
 */
async function adjust(
  context: AppContext,
  client: Client,
  signal: AbortSignal,
): Promise<NodeInfo[] | null> {
  for (let round = 0; round < MAX_CHANGES_PER_ROUND; round++) {
    const leader = await client.leader({ signal });
    if (leader === undefined || leader.id !== context.id) return null;
    const members = await client.cluster({ signal });
    const probed = await context.probe(members, signal);
    const change = adjustRoles(context.rolesInput(probed), context.id);
    if (change === null) {
      await context.store.set(members);
      return members;
    }
    let changed = false;
    for (const node of change.candidates) {
      try {
        await client.assign(node.id, change.role, { signal, timeoutMs: ADMIN_TIMEOUT_MS });
        context.logger.info(
          { address: node.address, from: roleName(node.role), to: roleName(change.role) },
          "changed role",
        );
        changed = true;
        break;
      } catch (error) {
        if (signal.aborted) throw error;
        context.logger.warn(
          {
            address: node.address,
            from: roleName(node.role),
            to: roleName(change.role),
            error: describeError(error),
          },
          "change role failed",
        );
      }
    }
    if (!changed) throw new Error(`could not assign role ${roleName(change.role)} to any node`);
  }
  context.logger.warn({ rounds: MAX_CHANGES_PER_ROUND }, "roles still changing after many rounds");
  return null;
}
